import tseslint from 'typescript-eslint';

/** How a statement starts: upper-case keywords and what follows them, so 'DELETE' (an HTTP method) is not one. */
const SQL_START = String.raw`/^\s*(SELECT|INSERT\s+INTO|DELETE\s+FROM|ALTER\s+TABLE|TRUNCATE\s+TABLE|UPDATE\s+\w+\s+SET|WITH\s+\w+\s+AS)\s/`;
const SQL_MESSAGE = 'SQL text belongs in a repository (typed Kysely) or the feature\'s clickhouse-queries.ts, not here (docs/ARCHITECTURE.md, "Typed SQL")';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', 'web/dist/**', 'test/artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    // Issue #15: a renamed column touches one file per feature. PostgreSQL queries are typed Kysely
    // in repositories (its `sql` fragments are tagged templates, let through); SQL text is written
    // only by the stores (adapters, migrations) and each feature's clickhouse-queries.ts. A heuristic:
    // a string or untagged template that starts like a statement, or text handed to `.query`/`.exec`.
    files: ['server/src/**/*.ts'],
    ignores: [
      'server/src/stores/**',
      'server/src/features/*/clickhouse-queries.ts',
      '**/*.test.ts',
      '**/*.suite.ts',
    ],
    rules: {
      'no-restricted-syntax': ['error', ...[
        `Literal[value=${SQL_START}]`,
        `TemplateLiteral:not(TaggedTemplateExpression > TemplateLiteral) > TemplateElement:first-child[value.raw=${SQL_START}]`,
        'CallExpression[callee.property.name=/^(query|exec)$/] > :matches(Literal, TemplateLiteral).arguments:first-child',
      ].map((selector) => ({ selector, message: SQL_MESSAGE }))],
    },
  },
);
