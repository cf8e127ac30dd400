/**
 * People leave an organization without erasing who did what: a removed account keeps its row
 * (tickets, comments, tokens and the audit log still name it) but can no longer log in and is not
 * listed. Its email is free again, so the uniqueness covers only accounts that are not removed.
 * The install's own organization is the first one created (`npm start` puts its first owner there);
 * the index finds it without sorting every organization.
 */
export const people = `
ALTER TABLE users ADD COLUMN removed_at TIMESTAMPTZ;
ALTER TABLE users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_active_email_key ON users (email) WHERE removed_at IS NULL;
CREATE INDEX organizations_created_idx ON organizations (created_at, id);
`;
