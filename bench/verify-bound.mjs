// How far verified decoding can go on a model: replays the model's own greedy (AR) continuations
// of the sampler bench's prompts and measures, without timing noise, the tokens per forward of
//   - mode 'verify' as built (the real decoder, b = 32),
//   - an oracle that picks, at every forward, the better of the context lookup and a greedy
//     4-gram continuation from the model's training split,
//   - an oracle over every earlier occurrence of the last token in the context plus the 4-gram,
//     with rows for free (an upper bound for any context / corpus guess source),
// the model's own parallel draft (a block of 8 masks after the confirmed tokens: how many of them
// match its b = 1 chain), and the tokens per forward that 3x AR end to end would need, from the
// measured prefill share and the measured cost of a verify forward relative to an AR one.
//
//   tools/pnpm bench verify-bound [--model DIR] [--data DIR] [--set reporting|tuning] [--count 64] [--gen 128] [--threads N]
//
// The prompts are the sampler bench's (bench/lib/held-out.mjs): 64 windows per length, one document
// each, from the reporting set unless --set tuning.
//
// --data: a `seed-diffusion data build` folder whose train shards the 4-gram table is built from
// (default data/stdlib when present); without one, the embedded model's training split is rebuilt
// from /usr/lib/python3.11 as `data build` builds it (a temporary folder). Ends on one JSON line.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { promptSet } from './lib/held-out.mjs';
import { machine } from './lib/report.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { backend } = require(path.join(root, 'native/dist'));
const { Model, buildDataset, readShard } = require(path.join(root, 'packages/model/dist'));
const { decode, contextLookup } = require(path.join(root, 'packages/sampler/dist'));
const { Tokenizer } = require(path.join(root, 'packages/tokenizer/dist'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
function fail(msg) {
  console.error(`bench verify-bound: ${msg}`);
  process.exit(2);
}
const modelDir = opt('model', path.join(root, 'models/seed-diffusion-tiny'));
if (!existsSync(path.join(modelDir, 'config.json'))) fail(`no model at ${modelDir} (config.json missing)`);
if (!existsSync(path.join(modelDir, 'tokenizer.json'))) fail(`${modelDir} has no tokenizer.json`);
if (args.includes('--samples')) fail('--samples is gone: --count N windows per length (default 64)');
const SAMPLES = Number(opt('count', 64));
if (!Number.isInteger(SAMPLES) || SAMPLES < 1) fail(`--count must be a positive integer, got ${opt('count', 64)}`);
const SET = opt('set', 'reporting');
const GEN = Number(opt('gen', 128));
const BLOCK = 32;
const DRAFT = 8;
const N = 4; // n-gram order of the corpus continuation

const model = Model.load(modelDir);
model.useHalfWeights();
const tokenizer = Tokenizer.load(path.join(modelDir, 'tokenizer.json'));
const cfg = model.config;
const V = cfg.vocabSize;
const b = backend();
if (opt('threads', null)) {
  const t = Number(opt('threads', null));
  if (!Number.isInteger(t) || t < 1) fail(`--threads must be a positive integer, got ${opt('threads', null)}`);
  b.numThreads = t;
}

// ------------------------------------------------------------------ corpus 4-gram table
function readTrain(dir) {
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const parts = meta.shards.train.map((f) => readShard(path.join(dir, f), V).tokens);
  const tokens = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    tokens.set(p, o);
    o += p.length;
  }
  return { tokens };
}

function corpusTokens() {
  const dir = opt('data', existsSync(path.join(root, 'data/stdlib/meta.json')) ? path.join(root, 'data/stdlib') : null);
  if (dir) return { ...readTrain(dir), source: `${dir} (train split)` };
  // The model's training split, rebuilt as `seed-diffusion data build` builds it (same file split).
  const src = '/usr/lib/python3.11';
  if (!existsSync(src)) fail(`no --data folder and no ${src} to build the training split from`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sd-verify-bound-'));
  try {
    buildDataset({
      src,
      out: tmp,
      extensions: ['.py'],
      tokenizerFile: path.join(modelDir, 'tokenizer.json'),
      validFraction: 0.03,
    });
    return { ...readTrain(tmp), source: `${src} (train split, rebuilt as data build does)` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const corpus = corpusTokens();
const keyOf = (s, end, n) => {
  let k = 0;
  for (let j = end - n; j < end; j++) k = k * V + s[j];
  return k;
};
// best[n - 1]: context of n tokens → its most frequent next token
const best = [];
for (let n = 1; n <= N; n++) {
  const counts = new Map();
  const c = corpus.tokens;
  for (let i = n; i < c.length; i++) {
    const k = keyOf(c, i, n);
    let e = counts.get(k);
    if (!e) counts.set(k, (e = new Map()));
    e.set(c[i], (e.get(c[i]) ?? 0) + 1);
  }
  const top = new Map();
  for (const [k, e] of counts) {
    let bt = -1,
      bc = 0;
    for (const [t, n2] of e) {
      if (n2 > bc) {
        bc = n2;
        bt = t;
      }
    }
    top.set(k, bt);
  }
  best.push(top);
}
function ngramGuess(ctx, len, k) {
  const s = Array.from(ctx.subarray(Math.max(0, len - N), len));
  const out = [];
  while (out.length < k) {
    let t;
    for (let n = Math.min(N, s.length); n >= 1 && t === undefined; n--) t = best[n - 1].get(keyOf(s, s.length, n));
    if (t === undefined) break;
    out.push(t);
    s.push(t);
  }
  return out;
}

// ------------------------------------------------------------------ replay
const accepted = (g, ctx, len, end) => {
  let n = 0;
  while (n < g.length && len + n < end && g[n] === ctx[len + n]) n++;
  return n;
};
/** Tokens per forward when every forward takes the best of `sources(ctx, len)` (all confirmed guesses + 1). */
function oracle(ctx, start, sources) {
  let len = start,
    fwd = 0;
  while (len < ctx.length) {
    let bestN = 0;
    for (const g of sources(ctx, len)) bestN = Math.max(bestN, accepted(g, ctx, len, ctx.length));
    len += bestN + 1;
    fwd++;
  }
  return fwd;
}
const allOccurrences = (ctx, len, k) => {
  const res = [];
  for (let j = len - 2; j >= 0; j--)
    if (ctx[j] === ctx[len - 1]) res.push(Array.from(ctx.subarray(j + 1, Math.min(len, j + 1 + k))));
  return res;
};
/** Mean number of leading draft rows (a block of DRAFT masks after ctx[0, len)) equal to the b = 1 chain. */
function draftAgreement(ctx, start) {
  const cache = model.newCache(ctx.length + DRAFT + 2);
  let sum = 0,
    n = 0;
  for (let len = start; len + DRAFT <= ctx.length; len++) {
    if (cache.length < len - 1) model.prefill(cache, ctx.subarray(cache.length, len - 1), 1);
    const C = cache.length;
    const logits = model.forwardVerify(cache, ctx.subarray(len - 1, len), { masks: 0, draft: DRAFT });
    const x = b.read(logits);
    b.free(logits);
    cache.length = C;
    let m = 0;
    for (; m < DRAFT; m++) {
      let bt = 0,
        bv = -Infinity;
      for (let t = 0; t < V; t++) {
        if (t !== cfg.maskTokenId && x[m * V + t] > bv) {
          bv = x[m * V + t];
          bt = t;
        }
      }
      if (bt !== ctx[len + m]) break;
    }
    sum += m;
    n++;
  }
  return sum / n;
}

const promptLens = [64, 1024].map((p) => Math.min(p, cfg.maxSeqLen - GEN - 1));
const report = {};
console.log(
  `model ${path.relative(root, modelDir) || modelDir}; corpus ${corpus.source}, ${corpus.tokens.length} tokens`,
);
console.log(`${SAMPLES} prompts per length (${SET} set), ${GEN} new tokens; verify b = ${BLOCK}; ${machine()}`);
for (const P of promptLens) {
  let tokens = 0,
    arFwd = 0,
    arPrefill = 0,
    arDecode = 0,
    vFwd = 0,
    vDecode = 0,
    o1 = 0,
    o2 = 0,
    draft = 0;
  let set;
  try {
    set = promptSet(root, tokenizer, {
      P,
      gen: GEN,
      count: SAMPLES,
      which: SET,
      prompts: opt('prompts', null),
      eosId: cfg.eosTokenId,
      maskId: cfg.maskTokenId,
    });
  } catch (e) {
    fail(e.message);
  }
  console.log(`P=${String(P).padStart(4)}  ${set.windows.length} windows (digest ${set.digest}) of ${set.source}`);
  for (const w of set.windows) {
    const o = { maxNewTokens: GEN, stopAtEos: false };
    const ar = decode(model, w.prompt, { ...o, mode: 'ar' });
    const v = decode(model, w.prompt, { ...o, mode: 'verify', blockSize: BLOCK });
    if (!ar.tokens.every((t, i) => t === v.tokens[i])) fail(`verify differs from ar at P = ${P}: a bug`);
    tokens += ar.tokens.length;
    arFwd += ar.stats.forwards;
    arPrefill += ar.stats.prefillSeconds;
    arDecode += ar.stats.wallSeconds - ar.stats.prefillSeconds;
    vFwd += v.stats.forwards;
    vDecode += v.stats.wallSeconds - v.stats.prefillSeconds;
    const ctx = Int32Array.from([...w.prompt, ...ar.tokens]);
    o1 += oracle(ctx, P, (c, len) => [
      Array.from(contextLookup(c, len, BLOCK - 1).guesses),
      ngramGuess(c, len, BLOCK - 1),
    ]);
    o2 += oracle(ctx, P, (c, len) => [...allOccurrences(c, len, BLOCK - 1), ngramGuess(c, len, BLOCK - 1)]);
    draft += draftAgreement(ctx, P);
  }
  // 3x end to end: (prefill + decode_ar) / 3 = prefill + forwards · cost · (decode_ar / arFwd)
  const perArFwd = arDecode / arFwd;
  const cost = vDecode / vFwd / perArFwd; // a verify forward in AR forwards
  const budget = (arPrefill + arDecode) / 3 - arPrefill;
  const needed = budget > 0 ? tokens / (budget / (cost * perArFwd)) : Infinity;
  const r = (x, d = 2) => Number(x.toFixed(d));
  report[`prompt${P}`] = {
    verify_tokens_per_forward: r(tokens / vFwd),
    oracle_context_or_ngram: r(tokens / o1),
    oracle_every_occurrence_or_ngram: r(tokens / o2),
    draft_agreement: r(draft / set.windows.length),
    windows: set.windows.length,
    source: set.source,
    prefill_share_of_ar: r(arPrefill / (arPrefill + arDecode), 3),
    verify_forward_cost_vs_ar: r(cost),
    needed_tokens_per_forward_for_3x: r(needed),
  };
  const x = report[`prompt${P}`];
  console.log(
    `P=${String(P).padStart(4)}  tokens/forward: verify ${x.verify_tokens_per_forward}, oracle context|4-gram ` +
      `${x.oracle_context_or_ngram}, oracle every occurrence|4-gram ${x.oracle_every_occurrence_or_ngram}; ` +
      `draft agrees for ${x.draft_agreement} of ${DRAFT}; prefill ${(100 * x.prefill_share_of_ar).toFixed(1)} % of AR, ` +
      `verify forward ${x.verify_forward_cost_vs_ar}x an AR one: 3x AR end to end needs ${x.needed_tokens_per_forward_for_3x} tokens/forward`,
  );
}
console.log(
  JSON.stringify({
    bench: 'verify-bound',
    model: path.relative(root, modelDir) || modelDir,
    weights: model.halfWeights ?? 'f32',
    corpus_tokens: corpus.tokens.length,
    set: SET,
    machine: machine(),
    ...report,
  }),
);
