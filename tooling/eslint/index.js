// Shared flat config. Each package's eslint.config.js calls `medseal({ ... })`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

/** Only packages/crypto may import openpgp (STYLE.md §1: one door to the crypto). */
const onlyCryptoImportsOpenpgp = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        { name: 'openpgp', message: 'Only packages/crypto imports openpgp; use @medseal/crypto.' },
      ],
      patterns: [{ group: ['openpgp/*'], message: 'Only packages/crypto imports openpgp.' }],
    },
  ],
};

/** Only config.ts reads the environment (STYLE.md §6). */
const onlyConfigReadsEnv = {
  'no-restricted-properties': [
    'error',
    { object: 'process', property: 'env', message: 'Read settings through src/lib/config.ts.' },
  ],
  'no-restricted-syntax': [
    'error',
    {
      selector: "MemberExpression[object.meta.name='import'][property.name='env']",
      message: 'Read settings through src/config.ts.',
    },
  ],
};

/**
 * @param {{ allowOpenpgp?: boolean, react?: boolean, configFiles?: string[], ignores?: string[] }} options
 */
export function medseal(options = {}) {
  const { allowOpenpgp = false, react = false, configFiles = [], ignores = [] } = options;
  return tseslint.config(
    { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'e2e-artifacts/**', ...ignores] },
    js.configs.recommended,
    ...tseslint.configs.strict,
    {
      languageOptions: { parserOptions: { ecmaVersion: 2023, sourceType: 'module' } },
      rules: {
        '@typescript-eslint/no-explicit-any': 'error',
        '@typescript-eslint/no-non-null-assertion': 'error',
        '@typescript-eslint/ban-ts-comment': [
          'error',
          { 'ts-ignore': true, 'ts-expect-error': 'allow-with-description' },
        ],
        '@typescript-eslint/no-unused-vars': [
          'error',
          { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
        ],
        ...(allowOpenpgp ? {} : onlyCryptoImportsOpenpgp),
        ...onlyConfigReadsEnv,
      },
    },
    ...(react ? [reactHooks.configs.flat['recommended-latest']] : []),
    {
      // Config readers, tests, scripts and tool entry points may read the environment.
      files: [
        '**/*.{js,cjs,mjs}',
        '**/test/**',
        '**/*.test.{ts,tsx}',
        'bench/**',
        'e2e/**',
        ...configFiles,
      ],
      rules: { 'no-restricted-properties': 'off', 'no-restricted-syntax': 'off' },
    },
    {
      files: ['**/*.{js,cjs,mjs}'],
      languageOptions: {
        globals: {
          require: 'readonly',
          module: 'writable',
          process: 'readonly',
          __dirname: 'readonly',
          console: 'readonly',
        },
      },
      rules: { '@typescript-eslint/no-require-imports': 'off' },
    },
  );
}
