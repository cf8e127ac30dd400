/**
 * Second factors and the sessions page. A person's TOTP secret is kept once confirmed (a pending
 * one while they scan it); `totp_last_step` is the last 30-second step accepted, so a code is
 * spent once seen. Recovery codes are kept as SHA-256 (80 random bits each), spent once.
 * An organization may require a second factor: its people without one sign in to a session that
 * can only set one up (`restricted`). Sessions remember the address they were opened from.
 */
export const twoFactor = `
ALTER TABLE users ADD COLUMN totp_secret VARCHAR(64);
ALTER TABLE users ADD COLUMN totp_pending_secret VARCHAR(64);
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
CREATE TABLE recovery_codes (
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash CHAR(64) NOT NULL,
  used_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE organizations ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN ip VARCHAR(64);
ALTER TABLE sessions ADD COLUMN restricted VARCHAR(32);
`;
