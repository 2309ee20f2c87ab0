/** Jest preset for Node packages (server, crypto, contract, devdb). */
const shared = require('./shared.cjs');

module.exports = {
  ...shared,
  testEnvironment: 'node',
};
