import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, fakeInventory, relationalEngines } from '../../../test-support/index.ts';
import { migrate, openRelationalStore, typed, type RelationalStore } from '../../stores/relational/index.ts';
import { createDeviceEnrollment, createEnrollmentToken } from '../enrollment/index.ts';
import { createEventPublisher } from '../webhooks/publisher.ts';
import { effectiveDeviceSettings, effectiveSettingsOfDevices, setDeviceSettings, setOrganizationSettings } from './settings.ts';

/** What applies to devices read many at once (the heartbeats' batched reads) is what one read of each gives. */
describe.each(relationalEngines())('effective settings of many devices on %s', (engine) => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  const devices: { organizationId: string; deviceId: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-settings-'));
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, 'pglite') });
    await migrate(db);
    const enrollment = createDeviceEnrollment(db, createEventPublisher());
    for (const name of ['first', 'second']) {
      const { id: organizationId } = await typed(db).insertInto('organizations').values({ name }).returning('id').executeTakeFirstOrThrow();
      const { token } = await createEnrollmentToken(db, { organizationId, name, expiresInSec: 600, maxUses: 2, createdBy: null });
      for (const machine of ['a', 'b']) {
        const enrolled = await enrollment.enroll({ token, inventory: fakeInventory(`${name}-${machine}`), sourceIp: null });
        devices.push({ organizationId, deviceId: enrolled.deviceId });
      }
    }
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('layers each device\'s own settings over its organization\'s, and leaves out a device named with another organization', async () => {
    const [a1, b1, a2, b2] = devices as [typeof devices[0], typeof devices[0], typeof devices[0], typeof devices[0]];
    await setOrganizationSettings(db, a1.organizationId, { agentIntervalSeconds: 60, timezone: 'UTC' }, null);
    await setDeviceSettings(db, a1.organizationId, b1.deviceId, { agentIntervalSeconds: 15 }, null);
    await setDeviceSettings(db, a2.organizationId, b2.deviceId, { offlineThresholdMinutes: 5 }, null);
    const wrongOrganization = { organizationId: a1.organizationId, deviceId: a2.deviceId };
    const read = await effectiveSettingsOfDevices(db, [a1, b1, a2, b2, wrongOrganization]);
    expect(read).toEqual([
      { agentIntervalSeconds: 60, timezone: 'UTC' },
      { agentIntervalSeconds: 15, timezone: 'UTC' },
      {},
      { offlineThresholdMinutes: 5 },
      undefined,
    ]);
    expect(await effectiveSettingsOfDevices(db, [wrongOrganization, a2])).toEqual([undefined, {}]);
    // One device at a time answers the same, and a device of another organization is not found.
    for (const [i, device] of [a1, b1, a2, b2].entries()) expect(await effectiveDeviceSettings(db, device.organizationId, device.deviceId)).toEqual(read[i]);
    await expect(effectiveDeviceSettings(db, wrongOrganization.organizationId, wrongOrganization.deviceId)).rejects.toThrow('not found');
  });
});
