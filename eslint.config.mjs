// Lint: TypeScript rules plus Nx module boundaries (DESIGN.md §2):
// apps → plugins → packages; plugins import only contract packages (core, dataset, policy),
// never another plugin, an app or an engine package (trainer, evaluator).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/files/**', '.nx/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.cjs', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:app', 'type:plugin', 'type:package'] },
            { sourceTag: 'type:plugin', onlyDependOnLibsWithTags: ['scope:contract'] },
            { sourceTag: 'type:package', onlyDependOnLibsWithTags: ['type:package'] },
            { sourceTag: 'scope:contract', onlyDependOnLibsWithTags: ['scope:contract'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:app', 'type:plugin', 'type:package'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', console: 'readonly' } },
  },
];
