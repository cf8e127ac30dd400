import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSchema, SCHEMA_FILE } from './generate.ts';

const USAGE = `Usage: npm run db:types
Applies the relational migrations to an empty in-memory PGlite and writes the tables' types
for the typed queries (Kysely) to ${SCHEMA_FILE}. Run it after adding or changing a migration.`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
} else {
  const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
  await writeFile(join(root, SCHEMA_FILE), await generateSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
