module.exports = require('@medseal/jest-presets/node');
