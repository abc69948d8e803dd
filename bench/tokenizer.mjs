// Tokenizer benchmark: encode the whole Python standard library of this machine with
// @seed-diffusion/tokenizer, js-tiktoken, tiktoken (WASM) and @huggingface/tokenizers, all on
// cl100k_base, in one run. Checks ids against js-tiktoken over the whole corpus, the round trip,
// and the tokenizer.json round trip; times training a 16k vocabulary. Ends on one JSON line.
// Usage: tools/pnpm bench tokenizer [--rounds N] [--no-train]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = path.join(root, 'packages/tokenizer');
const require = createRequire(path.join(pkg, 'package.json'));
const { Tokenizer } = require(path.join(pkg, 'dist/index.js'));
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || (args.includes('--rounds') ? 1 : 2);
const doTrain = !args.includes('--no-train');

const CORPUS = '/usr/lib/python3.11';
function walk(d, out = []) {
  for (const name of readdirSync(d).sort()) {
    const p = path.join(d, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (name.endsWith('.py')) out.push(p);
  }
  return out;
}
const files = walk(CORPUS);
const texts = files.map((f) => readFileSync(f, 'utf8'));
const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
const MB = bytes / 1e6;
console.log(
  `corpus: ${files.length} files, ${MB.toFixed(2)} MB (${CORPUS}/**/*.py); ${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}`,
);

// cl100k_base ranks as shipped by js-tiktoken (read from node_modules, never committed)
const ranks = require('js-tiktoken/ranks/cl100k_base');
const rankLines = [];
for (const line of ranks.bpe_ranks.split('\n')) {
  if (!line) continue;
  const [, off, ...toks] = line.split(' ');
  toks.forEach((t, i) => rankLines.push(`${t} ${Number(off) + i}`));
}
const timed = (f) => {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
};

const [ours, oursLoad] = timed(() =>
  Tokenizer.fromTiktoken(rankLines.join('\n'), { specialTokens: ranks.special_tokens }),
);
const { Tiktoken } = require('js-tiktoken/lite');
const [jsTik, jsLoad] = timed(() => new Tiktoken(ranks));
const { get_encoding } = require('tiktoken');
const [wasm, wasmLoad] = timed(() => get_encoding('cl100k_base'));
const { Tokenizer: HF } = require('@huggingface/tokenizers');
const hfJson = ours.toHFJson();
const [hf, hfLoad] = timed(() => new HF(JSON.parse(JSON.stringify(hfJson)), {}));
console.log(
  `load s: ours ${oursLoad.toFixed(2)}, js-tiktoken ${jsLoad.toFixed(2)}, tiktoken-wasm ${wasmLoad.toFixed(2)}, hf ${hfLoad.toFixed(2)}`,
);

const encoders = {
  ours: (t) => ours.encode(t),
  js_tiktoken: (t) => jsTik.encode(t, [], []),
  tiktoken_wasm: (t) => wasm.encode(t, [], []),
  hf_tokenizers: (t) => hf.encode(t, { add_special_tokens: false }).ids,
};
const best = {};
const outputs = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, enc] of Object.entries(encoders)) {
    const out = new Array(texts.length);
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i++) out[i] = enc(texts[i]);
    const s = (performance.now() - t0) / 1000;
    best[name] = Math.min(best[name] ?? Infinity, s);
    if (r === 0) outputs[name] = out;
    console.log(`round ${r + 1} ${name.padEnd(14)} ${(MB / s).toFixed(2).padStart(7)} MB/s`);
  }
}
const same = (a, b) => a.length === b.length && a.every((x, i) => Number(x) === Number(b[i]));
const diffFiles = (name) => texts.filter((_, i) => !same(outputs[name][i], outputs.js_tiktoken[i])).length;
const oursDiff = diffFiles('ours');
const wasmDiff = diffFiles('tiktoken_wasm');
const hfDiff = diffFiles('hf_tokenizers');
const tokens = outputs.ours.reduce((a, x) => a + x.length, 0);
let roundTrip = true;
const [, decodeS] = timed(() => {
  for (let i = 0; i < texts.length; i++) if (ours.decode(outputs.ours[i]) !== texts[i]) roundTrip = false;
});
const [back] = timed(() => Tokenizer.fromHFJson(JSON.stringify(hfJson)));
const hfJsonRoundTrip = texts.every((t, i) => same(back.encode(t), outputs.ours[i]));
const whole = texts.join('');
const [, wholeS] = timed(() => ours.encode(whole));

let train = null;
if (doTrain) {
  const [tok, s] = timed(() => Tokenizer.train(texts, { vocabSize: 16384 }));
  train = { vocab: tok.vocabSize, seconds: +s.toFixed(1), mb: +MB.toFixed(1) };
  console.log(`train 16384 on ${MB.toFixed(1)} MB: ${s.toFixed(1)} s (vocab ${tok.vocabSize})`);
}

const mbps = (n) => MB / best[n];
const res = {
  bench: 'tokenizer',
  corpus_mb: +MB.toFixed(2),
  files: files.length,
  tokens,
  mb_per_s: +mbps('ours').toFixed(2),
  js_tiktoken_mb_per_s: +mbps('js_tiktoken').toFixed(2),
  tiktoken_wasm_mb_per_s: +mbps('tiktoken_wasm').toFixed(2),
  hf_tokenizers_mb_per_s: +mbps('hf_tokenizers').toFixed(2),
  ratio_vs_js_tiktoken: +(mbps('ours') / mbps('js_tiktoken')).toFixed(2),
  ratio_vs_tiktoken_wasm: +(mbps('ours') / mbps('tiktoken_wasm')).toFixed(2),
  ratio_vs_hf_tokenizers: +(mbps('ours') / mbps('hf_tokenizers')).toFixed(2),
  single_string_mb_per_s: +(MB / wholeS).toFixed(2),
  decode_mb_per_s: +(MB / decodeS).toFixed(2),
  ids_identical: oursDiff === 0,
  files_differing_from_js_tiktoken: { ours: oursDiff, tiktoken_wasm: wasmDiff, hf_tokenizers: hfDiff },
  round_trip: roundTrip,
  hf_json_round_trip: hfJsonRoundTrip,
  load_s: {
    ours: +oursLoad.toFixed(2),
    js_tiktoken: +jsLoad.toFixed(2),
    tiktoken_wasm: +wasmLoad.toFixed(2),
    hf_tokenizers: +hfLoad.toFixed(2),
  },
  train_16k: train,
  rounds,
};
wasm.free();
console.log(JSON.stringify(res));
process.exit(res.ids_identical && res.round_trip && res.hf_json_round_trip ? 0 : 1);
