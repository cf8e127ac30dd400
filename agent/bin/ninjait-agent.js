#!/usr/bin/env node
// The `ninjait-agent` command runs the built agent (agent/dist, from `npm run build`; `npm ci`
// and `npm start` build it in a checkout): the same bundle the installers ship. Importing it
// works wherever this file is started from (npm bin symlink, service unit, `node bin/...`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.mjs', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('ninjait-agent: the agent is not built (no agent/dist). In the checkout, run: npm run build\n');
  process.exit(1);
}
await import(entry.href);
