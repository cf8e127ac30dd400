import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_PACKAGE = '@ninjait/server';

/**
 * The folder holding the server package and its siblings (web/, installers/): found by walking up
 * to the server's package.json, so the answer is the same from the TypeScript sources
 * (server/src/...), the built bundle (server/dist/cli/main.mjs) and the Docker image, whatever
 * depth the calling module sits at.
 */
export function checkoutRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readName(manifest) === SERVER_PACKAGE) return dirname(dir);
    if (dirname(dir) === dir) throw new Error(`no ${SERVER_PACKAGE} package.json above ${from}`);
  }
}

function readName(manifest: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/** A path inside the checkout, e.g. `inCheckout('web', 'dist')`. */
export const inCheckout = (...parts: string[]) => join(checkoutRoot(), ...parts);
