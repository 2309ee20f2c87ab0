// Two projects: `unit` (jsdom + testing-library, real openpgp.js in-process) and `e2e` (real
// Chromium via playwright-core against the real server and database, serving apps/web/dist;
// `pnpm test` builds the app first).
module.exports = {
  // Jest takes the timeout from the top level when there are projects.
  testTimeout: require('@medseal/jest-presets/node').testTimeout,
  projects: [
    {
      displayName: 'unit',
      ...require('@medseal/jest-presets/jsdom'),
      testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}', '<rootDir>/test/**/*.test.{ts,tsx}'],
      setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
    },
    {
      displayName: 'e2e',
      ...require('@medseal/jest-presets/node'),
      testEnvironment: '<rootDir>/e2e/support/environment.cjs',
      testMatch: ['<rootDir>/e2e/**/*.e2e.test.ts'],
      globalSetup: require.resolve('@medseal/devdb/jest-global-setup'),
      globalTeardown: require.resolve('@medseal/devdb/jest-global-teardown'),
      setupFilesAfterEnv: ['<rootDir>/e2e/support/setup.ts'],
    },
  ],
};
