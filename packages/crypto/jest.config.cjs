module.exports = {
  ...require('@medseal/jest-presets/node'),
  // Real crypto (Argon2id at 64 MiB, 16 MiB messages) and the gpg/sqop/rnp processes on a shared
  // 2-core machine: the default 5 s per test is too tight under load.
  testTimeout: 30_000,
};
