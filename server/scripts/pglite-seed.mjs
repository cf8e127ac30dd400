import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/**
 * Writes `<outdir>/pglite.tar.gz`: a freshly initialized PGlite cluster, which an empty data
 * folder is unpacked from (server/src/stores/relational/pglite/seed.ts). initdb in WebAssembly
 * costs 7-9 s of CPU, paid here once instead of at every first start. Here, in the server
 * package, because PGlite is the server's dependency (scripts/build.mjs calls it).
 * @param {string} outdir
 */
export async function writePgliteSeed(outdir) {
  const db = await PGlite.create({ dataDir: 'memory://' });
  try {
    const packed = await db.dumpDataDir('gzip');
    mkdirSync(outdir, { recursive: true });
    writeFileSync(join(outdir, 'pglite.tar.gz'), Buffer.from(await packed.arrayBuffer()));
  } finally {
    await db.close();
  }
}
