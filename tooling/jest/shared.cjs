// Settings both presets share: swc for speed (type checking is its own `typecheck` task),
// and ESM-only dependencies (openpgp's browser build, @noble/@scure, hash-wasm, comlink)
// let through the transform. Under pnpm the real path is
// node_modules/.pnpm/<name>@<version>/node_modules/<name>/..., hence the optional middle part.
const esmDeps = ['openpgp', '@openpgp', '@noble', '@scure', 'hash-wasm', 'comlink'];

module.exports = {
  transform: {
    '^.+\\.(t|j|mj)sx?$': [
      require.resolve('@swc/jest'),
      {
        jsc: {
          parser: { syntax: 'typescript', tsx: true },
          transform: { react: { runtime: 'automatic' } },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [
    `/node_modules/(?!(\\.pnpm/[^/]+/node_modules/)?(${esmDeps.join('|')})/)`,
  ],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // A hang detector, not a speed check (speed is measured by the benchmarks). The tests run real
  // crypto (Argon2id, 16 MiB messages), a real database and Chromium, all at once under the test
  // command, on a 2-core machine the whole team shares: a test that takes 5 s alone took over
  // 60 s there (load average 35). One value for every package; no test sets its own.
  testTimeout: 300_000,
};
