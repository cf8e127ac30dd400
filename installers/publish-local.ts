// Builds this machine's agent packages and publishes them, signed, into a server's releases
// folder; `ninjait start` runs it in the background so its install lines have packages to serve.
//   node --import tsx installers/publish-local.ts --releases-dir DIR --work-dir DIR [--version X.Y.Z]
// WORK-DIR keeps the release key (update-key.pem, 0600, made on first use; the packages carry
// update-key.pub, so auto-update accepts only what this key signs) and a record of what was
// published from which sources: a second run with unchanged sources builds nothing. Prints one
// JSON line per event (published, reused, skipped with the reason, failed). It runs at the
// lowest CPU priority, and stops (killing its build steps, removing its build folder) on
// SIGTERM or SIGINT, or when the process that started it is gone.
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { publishLocal } from './publish/publish-local.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** How often the parent's presence is checked. */
const ORPHAN_CHECK_MS = 500;
const LOWEST_PRIORITY = 19;

const { values } = parseArgs({ options: { 'releases-dir': { type: 'string' }, 'work-dir': { type: 'string' }, version: { type: 'string' } } });
if (!values['releases-dir'] || !values['work-dir']) {
  process.stderr.write('usage: node --import tsx installers/publish-local.ts --releases-dir DIR --work-dir DIR [--version X.Y.Z]\n');
  process.exit(2);
}
const version = values.version ?? (JSON.parse(readFileSync(join(repo, 'agent/package.json'), 'utf8')) as { version: string }).version;

try {
  // Packaging is background work: the server and the agents beside it come first.
  setPriority(LOWEST_PRIORITY);
} catch {
  // Not permitted here: build at normal priority.
}
const abort = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => abort.abort(signal));
// A parent killed outright cannot stop us; being re-parented is how we notice it.
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid !== parent) abort.abort('parent gone');
}, ORPHAN_CHECK_MS);
watch.unref();

try {
  const ok = await publishLocal({
    repo, version, signal: abort.signal,
    releasesDir: resolve(values['releases-dir']), workDir: resolve(values['work-dir']),
    emit: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
  });
  process.exitCode = ok ? 0 : 1;
} catch (err) {
  process.stderr.write(`publish-local: ${abort.signal.aborted ? `stopped (${String(abort.signal.reason)})` : (err as Error).message}\n`);
  process.exitCode = 1;
}
