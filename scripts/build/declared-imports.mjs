import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/**
 * @typedef {{ file: string; name: string; runtime: Set<string> }} Manifest
 * @typedef {(packageName: string) => boolean} IsExternal
 */

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(/** @type {string} */ specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : /** @type {string} */ (parts[0]);
}

/** @type {Map<string, Manifest | null>} */
const manifests = new Map();

/** The workspace package.json owning `file`; null inside node_modules (third-party code is not ours to check). */
function owningManifest(/** @type {string} */ file) {
  if (file.split(sep).includes('node_modules')) return null;
  let dir = dirname(file);
  for (;;) {
    const cached = manifests.get(dir);
    if (cached !== undefined) return cached;
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const json = /** @type {{ name?: string; dependencies?: object; optionalDependencies?: object; peerDependencies?: object }} */ (JSON.parse(readFileSync(path, 'utf8')));
      const runtime = new Set([json.dependencies, json.optionalDependencies, json.peerDependencies].flatMap((deps) => Object.keys(deps ?? {})));
      const manifest = { file: path, name: json.name ?? '', runtime };
      manifests.set(dir, manifest);
      return manifest;
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * esbuild plugin: what a bundle imports at run time is declared where the importing file lives,
 * in its package's `dependencies` (devDependencies are absent from a production install, so an
 * import of one would work in a checkout and fail in the image). `import type` never reaches
 * here: esbuild drops it. Packages `isExternal` picks stay imports in the output, resolved from
 * node_modules when it runs; everything else is bundled.
 * @param {{ isExternal: IsExternal; root: string }} options
 * @returns {import('esbuild').Plugin}
 */
export function declaredImports({ isExternal, root }) {
  return {
    name: 'declared-imports',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === 'entry-point' || isAbsolute(args.path) || isBuiltin(args.path)) return undefined;
        const name = packageNameOf(args.path);
        const manifest = owningManifest(args.importer);
        if (manifest && name !== manifest.name && !manifest.runtime.has(name)) {
          return { errors: [{ text: `"${name}" is imported by ${relative(root, args.importer)} at run time but is not in the dependencies of ${relative(root, manifest.file)}` }] };
        }
        return isExternal(name) ? { path: args.path, external: true } : undefined;
      });
    },
  };
}
