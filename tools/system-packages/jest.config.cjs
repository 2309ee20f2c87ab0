module.exports = {
  ...require('@medseal/jest-presets/node'),
  // Each test starting the task through tsx takes seconds, tens of them on a busy machine.
  testTimeout: 120_000,
};
