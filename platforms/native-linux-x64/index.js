'use strict';
// Where the prebuilt addon lies; @seed-diffusion/native loads it when no build from source is
// present (native/lib/load.ts).
const path = require('node:path');

module.exports = { addonPath: path.join(__dirname, 'sd_native.node') };
