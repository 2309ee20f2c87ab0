// The e2e suites' environment: Node's, plus a look at every open page when a test fails
// (support/browser.ts registers `describeOpenPages` on the test global when it loads).
const { TestEnvironment } = require('jest-environment-node');

class E2eEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    const describe = this.global.__describeOpenPages;
    if (event.name === 'test_fn_failure' && typeof describe === 'function')
      await describe(event.test.name);
  }
}

module.exports = E2eEnvironment;
