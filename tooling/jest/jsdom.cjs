/** Jest preset for the web app: jsdom that can run real openpgp.js (see jsdom-environment.cjs). */
const shared = require('./shared.cjs');

module.exports = {
  ...shared,
  testEnvironment: require.resolve('./jsdom-environment.cjs'),
  moduleNameMapper: { '\\.(css|svg|png)$': require.resolve('./file-stub.cjs') },
};
