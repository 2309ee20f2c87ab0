// jsdom lacks WebCrypto and web streams, and its TextEncoder (when present) returns arrays from
// Node's realm, which fail openpgp.js's `instanceof Uint8Array` checks inside the jsdom realm.
// This environment installs Node's webcrypto and streams, and a TextEncoder/TextDecoder whose
// output belongs to the test realm, so real openpgp.js runs under jsdom.
const { webcrypto } = require('node:crypto');
const { TextEncoder: NodeTextEncoder, TextDecoder: NodeTextDecoder } = require('node:util');
const streams = require('node:stream/web');
const JsdomEnvironment = require('jest-environment-jsdom').default;

class MedsealJsdomEnvironment extends JsdomEnvironment {
  async setup() {
    await super.setup();
    const g = this.global;
    const encoder = new NodeTextEncoder();

    class TextEncoder {
      get encoding() {
        return 'utf-8';
      }
      encode(input = '') {
        return new g.Uint8Array(encoder.encode(input));
      }
      encodeInto(input, dest) {
        return encoder.encodeInto(input, dest);
      }
    }

    Object.defineProperty(g, 'crypto', { value: webcrypto, configurable: true });
    g.TextEncoder = TextEncoder;
    g.TextDecoder = NodeTextDecoder;
    for (const name of ['ReadableStream', 'WritableStream', 'TransformStream']) {
      if (!g[name]) g[name] = streams[name];
    }
    if (!g.structuredClone) g.structuredClone = structuredClone;
  }
}

module.exports = MedsealJsdomEnvironment;
