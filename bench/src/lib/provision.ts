import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { migrate, openRelationalStore } from '@ninjait/server';
import { makeInventory, machineShape } from '../fleet/sample.ts';

const INSERT_CHUNK_DEVICES = 2_000;

export interface ProvisionedFleet {
  organizationId: string;
  /** By agent index, for the fleet's `credentials`. */
  credentials: { deviceId: string; deviceSecret: string }[];
}

/**
 * Writes an organization and `agents` enrolled devices (the rows `agent.enroll` leaves: device,
 * credential hash, ingest state) straight into a store before its server starts, so a benchmark
 * about something else connects thousands of agents without waiting on enrollment.
 * `dataDir` is the server's DATA_DIR (PGlite under `pglite/`) when `databaseUrl` is unset.
 */
export async function provisionFleet(target: { databaseUrl?: string | undefined; dataDir: string }, agents: number, runId: string): Promise<ProvisionedFleet> {
  const db = await openRelationalStore({ databaseUrl: target.databaseUrl, dataDir: join(target.dataDir, 'pglite') });
  try {
    await migrate(db);
    const { rows: [org] } = await db.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', [`bench-${runId}-provisioned`]);
    const credentials = Array.from({ length: agents }, () => ({ deviceId: randomUUID(), deviceSecret: `nds_${randomBytes(32).toString('base64url')}` }));
    for (let from = 0; from < agents; from += INSERT_CHUNK_DEVICES) {
      const slice = credentials.slice(from, from + INSERT_CHUNK_DEVICES);
      const inventories = slice.map((_, i) => makeInventory(machineShape(from + i), runId));
      // The server keeps sha256(secret) (server/src/platform/secrets.ts): a wrong guess here fails every connection loudly.
      const hashes = slice.map((c) => createHash('sha256').update(c.deviceSecret).digest('hex'));
      await db.query(
        `INSERT INTO devices (id, name, organization_id, status, os_type, os_version, machine_key, inventory, agent_version)
         SELECT d.id, d.inv->>'hostname', $1, 'pending', d.inv->'os'->>'platform',
           d.inv->'os'->>'distro' || ' ' || (d.inv->'os'->>'release'), d.inv->>'machineKey', d.inv, d.inv->>'agentVersion'
         FROM unnest($2::uuid[], $3::jsonb[]) AS d(id, inv)`,
        [org!.id, slice.map((c) => c.deviceId), inventories.map((inv) => JSON.stringify(inv))],
      );
      await db.query('INSERT INTO device_credentials (device_id, secret_hash) SELECT * FROM unnest($1::uuid[], $2::text[])',
        [slice.map((c) => c.deviceId), hashes]);
      await db.query('INSERT INTO device_ingest_state (device_id) SELECT unnest($1::uuid[])', [slice.map((c) => c.deviceId)]);
    }
    return { organizationId: org!.id, credentials };
  } finally {
    await db.close();
  }
}
