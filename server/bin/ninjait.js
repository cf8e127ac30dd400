#!/usr/bin/env node
// The `ninjait` command runs the built server (server/dist, from `npm run build`; `npm ci` and
// `npm start` build it in a checkout), never the TypeScript sources: what ships is what runs.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.mjs', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('ninjait: the server is not built (no server/dist). In the checkout, run: npm run build\n');
  process.exit(1);
}
// The bundle's source maps carry no sources, only positions: stack traces name the .ts lines.
process.setSourceMapsEnabled(true);
await import(entry.href);
