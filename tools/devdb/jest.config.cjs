module.exports = {
  ...require('@medseal/jest-presets/node'),
  testTimeout: 180_000,
};
