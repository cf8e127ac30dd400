/**
 * A device whose agent presents a secret the server refuses (its credentials file was restored
 * from an old backup, copied from another machine, or the device was re-enrolled elsewhere)
 * shows that state in the console: when the refusals started, the last one, and from which
 * address. Written at most once a minute per device (features/devices/credential-refusals.ts), so a flood
 * of wrong secrets cannot turn into a flood of writes.
 * A device's page lists its tickets: an index per organization and device, newest first.
 */
export const credentialRefusals = `
ALTER TABLE devices ADD COLUMN credentials_refused_since TIMESTAMPTZ;
ALTER TABLE devices ADD COLUMN credentials_refused_at TIMESTAMPTZ;
ALTER TABLE devices ADD COLUMN credentials_refused_from INET;
CREATE INDEX tickets_org_device_idx ON tickets (organization_id, device_id, created_at DESC) WHERE device_id IS NOT NULL;
`;
