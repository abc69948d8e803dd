'use strict';
// The folder that holds the model's files (config.json, model.safetensors, tokenizer.json):
// pass it to Model.load / Tokenizer.load, or to `seed-diffusion generate --model`.
const path = require('node:path');

module.exports = { modelDir: path.join(__dirname) };
