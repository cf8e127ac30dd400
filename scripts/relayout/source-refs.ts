import ts from 'typescript';

/** A string literal naming a file: a module specifier, a mocked module or a `new URL(…, import.meta.url)`. */
export interface SourceRef {
  /** Offsets of the literal's text, quotes excluded. */
  start: number;
  end: number;
  text: string;
  /** `module` refs are imports (they count for the import rules); `url` refs are files read at run time. */
  kind: 'module' | 'url';
  typeOnly: boolean;
}

export interface SourceScan {
  refs: SourceRef[];
  /** Comment ranges, where prose names files. */
  comments: Array<{ start: number; end: number }>;
}

/** Calls whose first argument is a module path (vitest's and Node's). */
const MODULE_CALLS = new Set([
  'require', 'require.resolve', 'import.meta.resolve',
  'vi.mock', 'vi.doMock', 'vi.unmock', 'vi.doUnmock', 'vi.importActual', 'vi.importMock',
]);

const SCRIPT_KINDS: Record<string, ts.ScriptKind> = {
  '.ts': ts.ScriptKind.TS, '.mts': ts.ScriptKind.TS, '.cts': ts.ScriptKind.TS, '.tsx': ts.ScriptKind.TSX,
  '.js': ts.ScriptKind.JS, '.mjs': ts.ScriptKind.JS, '.cjs': ts.ScriptKind.JS, '.jsx': ts.ScriptKind.JSX,
};

/** The script kind for a file name, or null when the file is not source code. */
export function scriptKindOf(path: string): ts.ScriptKind | null {
  const ext = /\.[cm]?[jt]sx?$/.exec(path)?.[0];
  return ext ? (SCRIPT_KINDS[ext] ?? null) : null;
}

const isImportMetaUrl = (node: ts.Node) =>
  ts.isPropertyAccessExpression(node) && node.name.text === 'url' && ts.isMetaProperty(node.expression) && node.expression.name.text === 'meta';

function literalOf(node: ts.Node | undefined): ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | null {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node : null;
}

function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function exportIsTypeOnly(node: ts.ExportDeclaration): boolean {
  const clause = node.exportClause;
  return node.isTypeOnly || (!!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
}

/** Finds every file-naming literal and every comment in one source file, from its syntax tree. */
export function scanSource(fileName: string, text: string, kind: ts.ScriptKind): SourceScan {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const refs: SourceRef[] = [];
  const comments = new Map<number, number>();
  const add = (node: ts.Node | undefined, refKind: SourceRef['kind'], typeOnly = false) => {
    const literal = literalOf(node);
    if (literal) refs.push({ start: literal.getStart(source) + 1, end: literal.end - 1, text: literal.text, kind: refKind, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    for (const range of [...(ts.getLeadingCommentRanges(text, node.pos) ?? []), ...(ts.getTrailingCommentRanges(text, node.end) ?? [])]) {
      comments.set(range.pos, range.end);
    }
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, 'module', importIsTypeOnly(node));
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, 'module', exportIsTypeOnly(node));
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, 'module', node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, 'module', true);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression.kind === ts.SyntaxKind.ImportKeyword ? 'import' : node.expression.getText(source);
      if (callee === 'import' || MODULE_CALLS.has(callee)) add(node.arguments[0], 'module');
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
      const [path, base] = node.arguments ?? [];
      if (base && isImportMetaUrl(base)) add(path, 'url');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { refs, comments: [...comments].map(([start, end]) => ({ start, end })).sort((a, b) => a.start - b.start) };
}
