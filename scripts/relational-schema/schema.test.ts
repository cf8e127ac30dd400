import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSchema, SCHEMA_FILE } from './generate.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the typed-query schema', () => {
  it('matches the migrations (after changing one, run `npm run db:types`)', async () => {
    expect(await readFile(join(root, SCHEMA_FILE), 'utf8')).toBe(await generateSchema());
  }, 300_000);
});
