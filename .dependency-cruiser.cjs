// The server's import rules (docs/ARCHITECTURE.md, "Import rules"): platform <- stores <- features <- app <- cli,
// a feature reaches another only through its index.ts, no cycles, production code never reaches test code.
// `npm run lint` runs this and fails on any violation: there is no list of known ones to let an import through.
//
// Rules apply to production files: tests sit beside their code and may reach the harness, which builds the app.
const TESTS = '\\.(test|int\\.test|suite)\\.ts$';
const SRC = '^server/src/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'platform-imports-no-layer-above',
      comment: 'platform/ is plumbing every feature uses: it knows no store, feature, app or CLI (pass what it needs in).',
      severity: 'error',
      from: { path: `${SRC}platform/`, pathNot: TESTS },
      to: { path: `${SRC}(stores|features|app|cli)/` },
    },
    {
      name: 'stores-import-only-platform',
      comment: 'A store is an engine adapter: it knows no feature, app or CLI.',
      severity: 'error',
      from: { path: `${SRC}stores/`, pathNot: TESTS },
      to: { path: `${SRC}(features|app|cli)/` },
    },
    {
      name: 'features-never-import-app-or-cli',
      comment: 'A feature gets what it needs as arguments from the composition root; it never reaches app/ or cli/.',
      severity: 'error',
      from: { path: `${SRC}features/`, pathNot: TESTS },
      to: { path: `${SRC}(app|cli)/` },
    },
    {
      name: 'app-never-imports-cli',
      severity: 'error',
      from: { path: `${SRC}app/`, pathNot: TESTS },
      to: { path: `${SRC}cli/` },
    },
    {
      name: 'feature-through-its-index',
      comment: "Another feature is reached through its index.ts only: its inner files are free to move.",
      severity: 'error',
      from: { path: `${SRC}features/([^/]+)/`, pathNot: TESTS },
      to: {
        path: `${SRC}features/[^/]+/`,
        pathNot: [`${SRC}features/$1/`, `${SRC}features/[^/]+/index\\.ts$`],
      },
    },
    {
      name: 'no-cycles',
      comment: 'A cycle (type-only ones too) forces forward references and makes start-up order fragile.',
      severity: 'error',
      from: { path: SRC, pathNot: TESTS },
      to: { circular: true },
    },
    {
      name: 'production-never-imports-test-or-bench-code',
      severity: 'error',
      from: { path: SRC, pathNot: TESTS },
      to: { path: ['^server/test-support/', '^bench/', '^test/', TESTS] },
    },
  ],
  options: {
    // Type-only imports count: a type cycle once forced a forward-reference closure in the composition root.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '/dist/'] },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
