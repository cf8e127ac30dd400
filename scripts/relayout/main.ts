import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadMapping } from './mapping.ts';
import { runRelayout } from './relayout.ts';
import { git } from './tree.ts';

const USAGE = `Usage: npm run relayout -- [--dry-run] [--auto] [--commit] [--verbose] [--allow-dirty] [--map <file>]
Moves server/src into the layout of docs/ARCHITECTURE.md and re-aims every reference (see map.json).
  --dry-run      plan and report, change nothing
  --auto         move files that map.json does not list where their folder's rule suggests
  --commit       commit the renames, then the rewrites (two commits: history follows every file)
  --verbose      list every import that breaks the layering, not only the counts
  --allow-dirty  run on a work tree with uncommitted changes
  --map <file>   another mapping (default: map.json beside this script)`;

const { values } = parseArgs({
  options: {
    'dry-run': { type: 'boolean', default: false },
    auto: { type: 'boolean', default: false },
    commit: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    'allow-dirty': { type: 'boolean', default: false },
    map: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const root = git(process.cwd(), ['rev-parse', '--show-toplevel']).trim();
const mapping = loadMapping(values.map ?? join(dirname(fileURLToPath(import.meta.url)), 'map.json'));
process.exitCode = runRelayout({
  root, mapping, auto: values.auto, commit: values.commit, dryRun: values['dry-run'], allowDirty: values['allow-dirty'], verbose: values.verbose,
});
