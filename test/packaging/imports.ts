import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

/** One import in a source file: what it names, and whether only the type checker sees it. */
export interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

/** A package.json as far as imports go: where it is and what it declares. */
export interface Manifest {
  dir: string;
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  bin: Record<string, string>;
  workspaces: string[];
}

const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.git', 'results', 'artifacts', 'coverage']);

/** Every source file under `dir`, skipping dependencies, build outputs and results. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIPPED_FOLDERS.has(entry.name) || entry.name.includes('.build-') ? [] : sourceFiles(join(dir, entry.name));
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [join(dir, entry.name)] : [];
  });
}

/**
 * What a file imports, read with TypeScript's parser: import and export declarations,
 * `import()`, `require()` / `require.resolve()`, `vi.mock()` / `vi.importActual()`, and
 * `typeof import()` in types. `import type` is type-only; `import { type X }` is not: under
 * verbatimModuleSyntax it stays an import at run time.
 */
export function importsOf(file: string): ImportRef[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: ImportRef[] = [];
  const literal = (node: ts.Node | undefined) => (node && ts.isStringLiteralLike(node) ? node.text : null);
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      found.push({ specifier: literal(node.moduleSpecifier)!, typeOnly: node.importClause?.isTypeOnly ?? false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      found.push({ specifier: literal(node.moduleSpecifier)!, typeOnly: node.isTypeOnly });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const specifier = literal(node.argument.literal);
      if (specifier) found.push({ specifier, typeOnly: true });
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression.getText(source);
      const specifier = literal(node.arguments[0]);
      const loads = node.expression.kind === ts.SyntaxKind.ImportKeyword || ['require', 'require.resolve', 'vi.mock', 'vi.importActual', 'import.meta.resolve'].includes(callee);
      if (loads && specifier) found.push({ specifier, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

export function readManifest(dir: string): Manifest {
  const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Partial<Manifest> & { bin?: string | Record<string, string> };
  const bin = typeof json.bin === 'string' ? { [json.name ?? '']: json.bin } : (json.bin ?? {});
  return {
    dir, name: json.name ?? '', bin, workspaces: json.workspaces ?? [],
    dependencies: json.dependencies ?? {}, devDependencies: json.devDependencies ?? {},
    peerDependencies: json.peerDependencies ?? {}, optionalDependencies: json.optionalDependencies ?? {},
  };
}

/** The nearest package.json at or above `file`'s folder, not above `root`. */
export function owningPackageDir(file: string, root: string): string {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json')) && relative(root, dir) !== '') dir = dirname(dir);
  return dir;
}
