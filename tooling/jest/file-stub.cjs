// Stands in for CSS modules and images, which jsdom cannot load; class names come back as keys.
module.exports = new Proxy(
  {},
  { get: (_target, key) => (key === '__esModule' ? false : String(key)) },
);
