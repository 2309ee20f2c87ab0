module.exports = {
  ...require('@medseal/jest-presets/node'),
  // One real database server for the run (FerretDB here, or MONGODB_URI); each test file
  // takes its own fresh database through test/support.
  globalSetup: require.resolve('@medseal/devdb/jest-global-setup'),
  globalTeardown: require.resolve('@medseal/devdb/jest-global-teardown'),
};
