/** Test helpers other packages use (`@ninjait/agent/testing`): certificates, a fake server, fixtures, a memory logger, temp folders. */
export { makeCert, type TestCert } from './certs.ts';
export { startFakeServer, FAKE_DEVICE, FAKE_TOKEN, type FakeServer, type FakeServerOptions } from './fake-server.ts';
export { fakeSample, fakeRecord, fakeInventory } from './fixtures.ts';
export { memoryLogger } from './log.ts';
export { tempDir } from './temp.ts';
