// Exports a training checkpoint as a release model folder: config.json, model.safetensors in
// float16 (half the bytes of float32; the weights of a small model lose nothing measurable),
// tokenizer.json. Usage: node scripts/export-model.mjs <checkpoint dir> <out dir> [F16|BF16|F32]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Model } = require('../packages/model/dist/index.js');

const [src, out, dtype = 'F16'] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/export-model.mjs <checkpoint dir> <out dir> [F16|BF16|F32]');
  process.exit(2);
}
const model = Model.load(src);
const tokenizerJson = readFileSync(path.join(src, 'tokenizer.json'), 'utf8');
model.save(out, { dtype, tokenizerJson, metadata: { source: path.basename(path.resolve(src)) } });
console.log(`wrote ${out} (${dtype})`);
