import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { describe, it } from 'vitest';
import { migrate, openRelationalStore } from '../relational/index.ts';
import { createRelationalDocumentStore } from './index.ts';
import { createMongoDocumentStore } from './mongo/mongo-documents.ts';
import { describeDocumentStore } from './document-store.suite.ts';
import { createScratchDatabase } from '../../../test-support/databases.ts';

const { DATABASE_URL, MONGODB_URL } = process.env;

describeDocumentStore('embedded (PGlite)', async () => {
  const db = await openRelationalStore({});
  await migrate(db);
  const store = createRelationalDocumentStore(db);
  await store.init();
  return { store, cleanup: () => db.close() };
});

if (DATABASE_URL) {
  describeDocumentStore('embedded (PostgreSQL)', async () => {
    const database = (await createScratchDatabase(DATABASE_URL, 'ninjait_docs'))!;
    const db = await openRelationalStore({ databaseUrl: database.url });
    await migrate(db);
    const store = createRelationalDocumentStore(db);
    return {
      store,
      async cleanup() {
        await db.close();
        await database.drop();
      },
    };
  });
} else {
  describe('document store: embedded (PostgreSQL)', () => {
    it.skip('DATABASE_URL is not set', () => {});
  });
  console.warn('documents.int.test: skipping the PostgreSQL variant: DATABASE_URL is not set');
}

if (MONGODB_URL) {
  describeDocumentStore('MongoDB', async () => {
    const database = `ninjait_test_${randomBytes(4).toString('hex')}`;
    const store = createMongoDocumentStore({ url: MONGODB_URL, database, logRetentionSec: 30 * 24 * 3600 });
    await store.init();
    return {
      store,
      async cleanup() {
        await store.close();
        const client = await MongoClient.connect(MONGODB_URL);
        await client.db(database).dropDatabase();
        await client.close();
      },
    };
  });
} else {
  describe('document store: MongoDB', () => {
    it.skip('MONGODB_URL is not set (no MongoDB runs on this machine; see ENGINES.md)', () => {});
  });
  console.warn('documents.int.test: skipping the MongoDB variant: MONGODB_URL is not set (no MongoDB runs on this machine)');
}
