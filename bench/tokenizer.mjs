// Tokenizer benchmark: encode the whole Python standard library of this machine with
// @seed-diffusion/tokenizer, js-tiktoken, tiktoken (WASM) and @huggingface/tokenizers, all on
// cl100k_base, in one run. Checks ids against js-tiktoken over the whole corpus, the round trip,
// and the tokenizer.json round trip; times training a 16k vocabulary. Caches cold on every side: each
// round builds every encoder afresh; ratios are medians of per-round ratios (min, max beside them).
// Ends on one JSON line.
// Usage: tools/pnpm bench tokenizer [--rounds N] [--no-train]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { machine, spread } from './lib/report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = path.join(root, 'packages/tokenizer');
const require = createRequire(path.join(pkg, 'package.json'));
const { Tokenizer } = require(path.join(pkg, 'dist/index.js'));
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || (args.includes('--rounds') ? 1 : 3);
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
  `corpus: ${files.length} files, ${MB.toFixed(2)} MB (${CORPUS}/**/*.py); ${machine()}; load average ${os.loadavg()[0].toFixed(1)}`,
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

// Caches cold on every side alike: each round builds a fresh instance of every encoder (our piece
// cache and the HF BPE cache start empty; js-tiktoken and tiktoken keep none across calls) and
// encodes the corpus once with it, so what an encoder caches is built within the timed pass.
const rankText = rankLines.join('\n');
const { Tiktoken } = require('js-tiktoken/lite');
const { get_encoding } = require('tiktoken');
const { Tokenizer: HF } = require('@huggingface/tokenizers');
const hfJsonText = JSON.stringify(Tokenizer.fromTiktoken(rankText, { specialTokens: ranks.special_tokens }).toHFJson());
const makers = {
  ours: () => {
    const t = Tokenizer.fromTiktoken(rankText, { specialTokens: ranks.special_tokens });
    return { enc: (x) => t.encode(x), obj: t };
  },
  js_tiktoken: () => {
    const t = new Tiktoken(ranks);
    return { enc: (x) => t.encode(x, [], []) };
  },
  tiktoken_wasm: () => {
    const t = get_encoding('cl100k_base');
    return { enc: (x) => t.encode(x, [], []), free: () => t.free() };
  },
  hf_tokenizers: () => {
    const t = new HF(JSON.parse(hfJsonText), {});
    return { enc: (x) => t.encode(x, { add_special_tokens: false }).ids };
  },
};
const mbps = {}; // per encoder, per round
const loadS = {};
const outputs = {};
let ours = null;
for (let r = 0; r < rounds; r++) {
  for (const [name, make] of Object.entries(makers)) {
    const [e, ls] = timed(make);
    const out = new Array(texts.length);
    const t0 = performance.now();
    for (let i = 0; i < texts.length; i++) out[i] = e.enc(texts[i]);
    const s = (performance.now() - t0) / 1000;
    (mbps[name] ??= []).push(MB / s);
    (loadS[name] ??= []).push(ls);
    if (r === 0) outputs[name] = out;
    if (r === 0 && name === 'ours') ours = e.obj;
    e.free?.();
    console.log(`round ${r + 1} ${name.padEnd(14)} ${(MB / s).toFixed(2).padStart(7)} MB/s (load ${ls.toFixed(2)} s)`);
  }
}
const hfJson = JSON.parse(hfJsonText);
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
// One 11 MB string, on a fresh instance (cold cache, like the rounds).
const fresh = makers.ours().obj;
const [, wholeS] = timed(() => fresh.encode(whole));

let train = null;
if (doTrain) {
  const [tok, s] = timed(() => Tokenizer.train(texts, { vocabSize: 16384 }));
  train = { vocab: tok.vocabSize, seconds: +s.toFixed(1), mb: +MB.toFixed(1) };
  console.log(`train 16384 on ${MB.toFixed(1)} MB: ${s.toFixed(1)} s (vocab ${tok.vocabSize})`);
}

const med = (n) => spread(mbps[n]).median;
const ratioOf = (other) => spread(mbps.ours.map((v, i) => v / mbps[other][i]));
for (const o of ['js_tiktoken', 'tiktoken_wasm', 'hf_tokenizers']) {
  const r = ratioOf(o);
  console.log(
    `ours vs ${o.padEnd(14)} ${r.median.toFixed(2)}x (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)} over ${r.rounds} rounds; ` +
      `${med('ours').toFixed(2)} vs ${med(o).toFixed(2)} MB/s, medians)`,
  );
}
const res = {
  bench: 'tokenizer',
  machine: machine(),
  caches: 'cold on every side: a fresh instance of every encoder per round',
  corpus_mb: +MB.toFixed(2),
  files: files.length,
  tokens,
  mb_per_s: med('ours'),
  js_tiktoken_mb_per_s: med('js_tiktoken'),
  tiktoken_wasm_mb_per_s: med('tiktoken_wasm'),
  hf_tokenizers_mb_per_s: med('hf_tokenizers'),
  // median of the per-round ratios (min, max under *_spread)
  ratio_vs_js_tiktoken: ratioOf('js_tiktoken').median,
  ratio_vs_tiktoken_wasm: ratioOf('tiktoken_wasm').median,
  ratio_vs_hf_tokenizers: ratioOf('hf_tokenizers').median,
  ratio_spread: {
    js_tiktoken: ratioOf('js_tiktoken'),
    tiktoken_wasm: ratioOf('tiktoken_wasm'),
    hf_tokenizers: ratioOf('hf_tokenizers'),
  },
  single_string_mb_per_s: +(MB / wholeS).toFixed(2),
  decode_mb_per_s: +(MB / decodeS).toFixed(2),
  ids_identical: oursDiff === 0,
  files_differing_from_js_tiktoken: { ours: oursDiff, tiktoken_wasm: wasmDiff, hf_tokenizers: hfDiff },
  round_trip: roundTrip,
  hf_json_round_trip: hfJsonRoundTrip,
  load_s: Object.fromEntries(Object.entries(loadS).map(([k, v]) => [k, spread(v)])),
  train_16k: train,
  rounds,
};
console.log(JSON.stringify(res));
process.exit(res.ids_identical && res.round_trip && res.hf_json_round_trip ? 0 : 1);
