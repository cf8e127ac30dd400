#!/usr/bin/env node
// Launcher: the agent ships as TypeScript run by tsx (no build step). Registering tsx's ESM
// loader in-process works wherever this file is started from (npm bin symlink, service unit,
// `node bin/ninjait-agent.js`), without relying on --import flags or the working directory.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
