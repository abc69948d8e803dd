// Sampler benchmark: decoding speed of the fast modes against autoregressive decoding (b = 1, one
// forward per token, the anchor) on the same prompts, in the same rounds of the same run, at prompt
// lengths 64 and 1024; the relative forward time T(b)/T(1) (Seed Diffusion fig. 2b); and the quality
// of the greedy continuations against the true ones.
//
// The rule (BENCHMARKS.md): the reported configurations are fixed here, before the run — the
// library's defaults, by name — never the best of several; every configuration decodes the same
// windows in every round, interleaved with the anchor, and each ratio is printed as the median of
// its per-round ratios with their min and max; the prompts are 64 per length, one document per
// window, from the reporting set (bench/lib/held-out.mjs), disjoint from the set the verify mode's
// constants were tuned on. Caches: every decode starts from an empty KV cache on both sides; each
// configuration decodes one window untimed before the rounds (JIT and weights warm alike).
//
//   tools/pnpm bench sampler [--model DIR] [--set reporting|tuning] [--prompts FILE|DIR] [--count 64]
//                            [--gen 128] [--rounds 3] [--part-count 16]
//                            [--nocache-count 2] [--sweep] [--threads N]
//                            [--f32-weights] [--random-init PRESET] [--deadline-min M]
//
// --sweep adds other block sizes as a sweep table (measured the same way, never a headline).
// --deadline-min M: stop after the last whole round that ends within M minutes (the JSON says how many ran).
// Ends on one JSON line.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { promptSet, someTexts } from './lib/held-out.mjs';
import { machine, spread } from './lib/report.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { backend } = require(path.join(root, 'native/dist'));
const { Model, PRESETS } = require(path.join(root, 'packages/model/dist'));
const { decode, DEFAULT_OPTIONS, VERIFY_BLOCK } = require(path.join(root, 'packages/sampler/dist'));
const { Tokenizer, SPECIAL_TOKENS } = require(path.join(root, 'packages/tokenizer/dist'));

// ------------------------------------------------------------------ arguments
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
/** A usage or data problem: one line naming it, exit status 2. */
function fail(msg) {
  console.error(`bench sampler: ${msg}`);
  process.exit(2);
}
const posInt = (name, dflt) => {
  const v = Number(opt(name, dflt));
  if (!Number.isInteger(v) || v < 1) fail(`--${name} must be a positive integer, got ${opt(name, dflt)}`);
  return v;
};
for (const gone of ['samples', 'shard', 'threshold', 'all-nocache']) {
  if (flag(gone)) fail(`--${gone} is gone: the prompt set and the configurations are fixed (see BENCHMARKS.md)`);
}
const embedded = path.join(root, 'models/seed-diffusion-tiny');
const modelDir = opt('model', embedded);
const GEN = posInt('gen', 128);
const COUNT = posInt('count', 64);
const ROUNDS = posInt('rounds', 3);
const PART_COUNT = posInt('part-count', 16);
const NOCACHE_COUNT = posInt('nocache-count', 2);
const SET = opt('set', 'reporting');
const DEADLINE = opt('deadline-min', null) === null ? 0 : Number(opt('deadline-min', null));
if (!(DEADLINE >= 0)) fail(`--deadline-min must be a number of minutes, got ${opt('deadline-min', null)}`);
const PROMPTS = [64, 1024];
const randomInit = opt('random-init', null);
if (opt('threads', null)) backend().numThreads = posInt('threads', 2);

// ------------------------------------------------------------------ configurations, fixed before the run
// Which windows a configuration decodes: 'all' (COUNT per length), 'part' (PART_COUNT of them, spread
// evenly: the slow block modes and sampling, to fit a run on 2 shared cores), 'nocache' (NOCACHE_COUNT
// of the part windows). A ratio always compares two configurations on the same windows.
const SAMPLE_T = 0.7;
const sampled = { temperature: SAMPLE_T, seed: 1 };
const AR = 'ar';
const CACHE = `cache (default b=${DEFAULT_OPTIONS.blockSize}, tau ${DEFAULT_OPTIONS.threshold})`;
const SAR = `sampled ar T=${SAMPLE_T}`;
/** The anchor and the named defaults that are reported (DEFAULT_OPTIONS: mode cache, b 32, τ 0.9). */
const HEADLINE = [
  { label: AR, opts: { mode: 'ar' }, on: 'all' },
  { label: `verify (default b=${VERIFY_BLOCK})`, opts: { mode: 'verify' }, on: 'all', anchor: AR, ref: AR },
  { label: CACHE, opts: {}, on: 'part', anchor: AR },
  { label: SAR, opts: { ...sampled, mode: 'ar' }, on: 'part' },
  { label: `sampled verify T=${SAMPLE_T}`, opts: { ...sampled, mode: 'verify' }, on: 'part', anchor: SAR, ref: SAR },
  // Its row carries the cached default's speed over it on the same windows.
  { label: `nocache b=${DEFAULT_OPTIONS.blockSize}`, opts: { mode: 'nocache' }, on: 'nocache', over: CACHE },
];
const SWEEP = flag('sweep')
  ? [
      ...[4, 8, 16].map((b) => ({ label: `verify b=${b}`, opts: { mode: 'verify', blockSize: b }, ref: AR })),
      { label: 'verify b=32 draft 4', opts: { mode: 'verify', draftRows: 4 }, ref: AR },
      ...[4, 8, 16, 64].map((b) => ({ label: `cache b=${b}`, opts: { blockSize: b } })),
      { label: 'cache b=32 fused', opts: { fuseCommit: true } },
    ].map((c) => ({ ...c, on: 'part', anchor: AR }))
  : [];
const CONFIGS = [...HEADLINE, ...SWEEP];

function finish(obj) {
  console.log(JSON.stringify(obj));
  process.exit(0);
}

// ------------------------------------------------------------------ model + tokenizer
let model;
let tokenizer = null;
let modelName;
if (existsSync(path.join(modelDir, 'config.json'))) {
  model = Model.load(modelDir);
  // Decode through the exact 16-bit copy of an f16/bf16 checkpoint's matrices (same tokens, fewer
  // bytes per forward), as `seed-diffusion generate` does; --f32-weights measures without it.
  if (!flag('f32-weights')) model.useHalfWeights();
  const tj = path.join(modelDir, 'tokenizer.json');
  if (!existsSync(tj)) fail(`${modelDir} has no tokenizer.json: the prompt set is text`);
  tokenizer = Tokenizer.load(tj);
  modelName = path.relative(root, modelDir) || modelDir;
} else if (randomInit) {
  // Speed only: a randomly initialised model of a preset, context widened so 1024-token prompts fit.
  if (!PRESETS[randomInit]) fail(`--random-init: unknown preset ${randomInit}; known: ${Object.keys(PRESETS)}`);
  tokenizer = Tokenizer.train(someTexts(root, opt('prompts', null)), { vocabSize: 2048 });
  model = Model.init(
    {
      ...PRESETS[randomInit],
      vocabSize: tokenizer.vocabSize,
      maskTokenId: tokenizer.tokenToId(SPECIAL_TOKENS.mask),
      eosTokenId: tokenizer.tokenToId(SPECIAL_TOKENS.eos),
      maxSeqLen: 1024 + GEN + 64,
    },
    0,
  );
  modelName = `random-init ${randomInit} (speed only; quality meaningless)`;
} else {
  fail(
    `no model at ${modelDir} (config.json missing). Pass --model DIR (a folder with config.json, ` +
      'model.safetensors, tokenizer.json), or --random-init small for speed figures.',
  );
}
const cfg = model.config;
if (cfg.maxSeqLen < GEN + 16) {
  fail(`--gen ${GEN} leaves no room for a prompt in the model's context of ${cfg.maxSeqLen}; pass a smaller --gen`);
}
// Prompts longer than the context allows are shortened (the JSON line reports the lengths used).
const promptLens = [...new Set(PROMPTS.map((p) => Math.min(p, cfg.maxSeqLen - GEN - 1)))];
const sets = new Map();
for (const P of promptLens) {
  try {
    sets.set(
      P,
      promptSet(root, tokenizer, {
        P,
        gen: GEN,
        count: COUNT,
        which: SET,
        prompts: opt('prompts', null),
        eosId: cfg.eosTokenId,
        maskId: cfg.maskTokenId,
      }),
    );
  } catch (e) {
    fail(e.message);
  }
}

// ------------------------------------------------------------------ decoding runs
/** Decodes windows[i] for i in idx with `opts`; per-window results at their window index. */
function decodeAll(windows, idx, opts) {
  const out = new Array(windows.length);
  for (const i of idx) {
    const w = windows[i];
    const r = decode(model, w.prompt, { maxNewTokens: GEN, stopAtEos: false, ...opts });
    let match = 0;
    for (let j = 0; j < r.tokens.length; j++) if (r.tokens[j] === w.truth[j]) match++;
    out[i] = {
      tokens: r.tokens,
      forwards: r.stats.forwards,
      wall: r.stats.wallSeconds,
      prefill: r.stats.prefillSeconds,
      match,
    };
  }
  return out;
}
const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);
/** Totals of per-window results over the windows idx. */
function totals(res, idx) {
  const xs = idx.map((i) => res[i]);
  const tokens = sum(xs, (x) => x.tokens.length);
  const wall = sum(xs, (x) => x.wall);
  const prefill = sum(xs, (x) => x.prefill);
  return {
    tokens_per_s: tokens / wall,
    // The decoding phase alone: the prompt's one prefill forward is the same for every cached mode.
    decode_tokens_per_s: tokens / (wall - prefill),
    tokens_per_forward: tokens / sum(xs, (x) => x.forwards),
    quality: sum(xs, (x) => x.match) / tokens,
    wall_s: wall,
  };
}
const sameTokens = (a, b, idx) =>
  idx.every((i) => a[i].tokens.length === b[i].tokens.length && a[i].tokens.every((t, j) => t === b[i].tokens[j]));
/** n indices spread evenly over the list `of`. */
const spreadIdx = (of, n) =>
  Array.from(
    { length: Math.min(n, of.length) },
    (_, s) => of[Math.floor(((s + 0.5) * of.length) / Math.min(n, of.length))],
  );

/** T(b)/T(1): one forward of b masked rows against a cache of P prompt rows (fig. 2b). */
function relativeForwardTime(P, prompt) {
  const b = backend();
  const cache = model.newCache(P + 128);
  model.prefill(cache, prompt, 1);
  const out = {};
  let t1 = 0;
  for (const n of [1, 2, 4, 8, 16, 32, 64, 128]) {
    if (P + n > cfg.maxSeqLen) break;
    const ids = new Int32Array(n).fill(cfg.maskTokenId);
    b.free(model.forwardBlock(cache, ids)); // warm-up
    let reps = 0;
    const t0 = performance.now();
    while (reps < 3 || performance.now() - t0 < 300) {
      b.free(model.forwardBlock(cache, ids));
      reps++;
    }
    const ms = (performance.now() - t0) / reps;
    if (n === 1) t1 = ms;
    out[n] = Number((ms / t1).toFixed(3));
    console.log(
      `P=${String(P).padStart(4)}  T(${n})/T(1) = ${(ms / t1).toFixed(2)}  (${ms.toFixed(2)} ms per forward)`,
    );
  }
  return out;
}

const b0 = backend();
const startLoad = os.loadavg()[0];
console.log(
  `model ${modelName}: d ${cfg.hiddenSize}, ${cfg.numLayers} layers, vocab ${cfg.vocabSize}, context ${cfg.maxSeqLen}; ` +
    `backend ${b0.name} (${b0.buildInfo}), ${b0.numThreads} threads; weights ${model.halfWeights ?? 'f32'}; ${machine()}`,
);
const idxOf = {}; // idxOf[P][on]: the windows decoded by configurations on 'all', 'part', 'nocache'
for (const [P, s] of sets) {
  const all = s.windows.map((_, i) => i);
  const part = spreadIdx(all, PART_COUNT);
  idxOf[P] = { all, part, nocache: spreadIdx(part, NOCACHE_COUNT) };
  console.log(
    `P=${String(P).padStart(4)}  ${s.windows.length} windows (${s.set} set, digest ${s.digest}) from ${s.documents} ` +
      `eligible documents of ${s.source}; ${idxOf[P].part.length} of them for the part configurations, ` +
      `${idxOf[P].nocache.length} for no cache`,
  );
}
console.log(
  `${GEN} new tokens, ${ROUNDS} interleaved rounds; configurations fixed before the run: ` +
    CONFIGS.map((c) => `${c.label} [${c.on}]`).join(', '),
);

const results = {}; // results[P][label] = [per round: per-window results]
const rel = {};
const t0all = performance.now();
for (const P of promptLens) {
  results[P] = {};
  // Warm alike: every configuration decodes one window, untimed.
  for (const c of CONFIGS) decodeAll(sets.get(P).windows, [0], { ...c.opts, maxNewTokens: 16 });
}
// Rounds outermost, so that every completed round holds every configuration at every length; a
// --deadline-min run stops after the last round that fits and reports the rounds it completed.
let roundsDone = 0;
for (let round = 0; round < ROUNDS; round++) {
  const tr = performance.now();
  for (const P of promptLens) {
    const line = [];
    for (const c of CONFIGS) {
      const idx = idxOf[P][c.on];
      const res = decodeAll(sets.get(P).windows, idx, c.opts);
      (results[P][c.label] ??= []).push(res);
      line.push(`${c.label} ${totals(res, idx).tokens_per_s.toFixed(1)}`);
    }
    const el = (performance.now() - t0all) / 1000;
    console.log(
      `P=${String(P).padStart(4)}  round ${round + 1}/${ROUNDS} (${el.toFixed(0)} s, load ${os.loadavg()[0].toFixed(1)}): ` +
        `${line.join(', ')} tok/s`,
    );
  }
  roundsDone++;
  const roundMin = (performance.now() - tr) / 60000;
  if (DEADLINE && round + 1 < ROUNDS && (performance.now() - t0all) / 60000 + roundMin > DEADLINE) {
    console.log(`stopping after ${roundsDone} rounds: another would pass --deadline-min ${DEADLINE}`);
    break;
  }
}
for (const P of promptLens) rel[P] = relativeForwardTime(P, sets.get(P).windows[0].prompt);

// ------------------------------------------------------------------ report
const r3 = (x) => Number(x.toFixed(3));
const conf = (label) => CONFIGS.find((c) => c.label === label);
/** Per-round totals of a configuration over the windows idx. */
const perRound = (P, label, idx) => results[P][label].map((res) => totals(res, idx));
/** a / b round by round on a's windows: { median, min, max, rounds }. */
const ratio = (P, a, b, key = 'tokens_per_s') => {
  const idx = idxOf[P][conf(a).on];
  const bt = perRound(P, b, idx);
  return spread(perRound(P, a, idx).map((t, i) => t[key] / bt[i][key]));
};
const fmt = (s) => `${s.median.toFixed(2)}x (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})`;

const rows = [];
for (const P of promptLens) {
  for (const c of CONFIGS) {
    const idx = idxOf[P][c.on];
    const rounds = perRound(P, c.label, idx);
    const row = {
      prompt: P,
      label: c.label,
      windows: idx.length,
      tokens_per_s: spread(rounds.map((t) => t.tokens_per_s)),
      decode_tokens_per_s: spread(rounds.map((t) => t.decode_tokens_per_s)),
      tokens_per_forward: r3(rounds[0].tokens_per_forward),
      quality: r3(rounds[0].quality),
    };
    if (c.anchor) {
      row.anchor = c.anchor;
      row.vs_anchor = ratio(P, c.label, c.anchor);
      row.vs_anchor_decode = ratio(P, c.label, c.anchor, 'decode_tokens_per_s');
    }
    if (c.over) {
      // the other configuration over this one, on this one's windows
      const o = perRound(P, c.over, idx);
      row[`${c.over} vs this`] = spread(o.map((t, i) => t.tokens_per_s / rounds[i].tokens_per_s));
    }
    // Verify must reproduce its reference's tokens (greedy or sampled) in every round and window.
    if (c.ref) row.identical_to_ar = results[P][c.label].every((r) => sameTokens(r, results[P][c.ref][0], idx));
    rows.push(row);
  }
}
for (const r of rows) {
  const overKey = Object.keys(r).find((k) => k.endsWith(' vs this'));
  const vs = r.vs_anchor
    ? `vs ${r.anchor} ${fmt(r.vs_anchor)}, decoding ${fmt(r.vs_anchor_decode)}`
    : overKey
      ? `${overKey} ${fmt(r[overKey])}`
      : '';
  console.log(
    `P=${String(r.prompt).padStart(4)}  ${r.label.padEnd(32)} [${String(r.windows).padStart(2)}] ${r.tokens_per_s.median.toFixed(1).padStart(7)} tok/s ` +
      `(${r.tokens_per_s.min.toFixed(1)}-${r.tokens_per_s.max.toFixed(1)})  ${r.tokens_per_forward.toFixed(2).padStart(5)} tok/fwd  ` +
      `match ${(100 * r.quality).toFixed(1).padStart(5)}%  ${vs}` +
      (r.identical_to_ar === undefined ? '' : r.identical_to_ar ? '  = ar tokens' : '  DIFFERS FROM ar'),
  );
}

const get = (P, label) => rows.find((r) => r.prompt === P && r.label === label);
const Plong = promptLens[promptLens.length - 1];
const headline = Object.fromEntries(
  promptLens.map((P) => {
    const v = get(P, HEADLINE[1].label);
    const c = get(P, CACHE);
    const sv = get(P, HEADLINE[4].label);
    const nc = get(P, HEADLINE[5].label);
    return [
      `prompt${P}`,
      {
        windows: sets.get(P).windows.length,
        set: sets.get(P).set,
        source: sets.get(P).source,
        digest: sets.get(P).digest,
        ar_tokens_per_s: get(P, AR).tokens_per_s,
        verify_vs_ar: v.vs_anchor,
        verify_vs_ar_decode: v.vs_anchor_decode,
        verify_tokens_per_forward: v.tokens_per_forward,
        verify_identical_to_ar: v.identical_to_ar,
        cache_vs_ar: c.vs_anchor,
        cache_tokens_per_forward: c.tokens_per_forward,
        cache_vs_nocache: nc[`${CACHE} vs this`],
        windows_part: c.windows,
        windows_nocache: nc.windows,
        sampled_verify_vs_sampled_ar: sv.vs_anchor,
        sampled_verify_identical: sv.identical_to_ar,
        quality_ar: get(P, AR).quality,
        quality_cache: c.quality,
      },
    ];
  }),
);
const wallMin = (performance.now() - t0all) / 60000;
console.log(
  `done in ${wallMin.toFixed(1)} min; load average ${startLoad.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} now`,
);
finish({
  bench: 'sampler',
  machine: machine(),
  load_average: [r3(startLoad), r3(os.loadavg()[0])],
  model: modelName,
  backend: `${b0.name} ${b0.numThreads} threads`,
  weights: model.halfWeights ?? 'f32',
  set: SET,
  prompt_lengths: promptLens,
  gen_tokens: GEN,
  rounds: roundsDone,
  rounds_asked: ROUNDS,
  configurations: Object.fromEntries(CONFIGS.map((c) => [c.label, { ...c.opts, windows: c.on }])),
  quality_measure: 'fraction of generated positions equal to the true continuation (no EOS stop)',
  ratio_statistic: 'median of per-round ratios (min, max) over interleaved rounds on the same windows',
  // The headline keys earlier sessions reported, now medians over rounds of the named defaults.
  cache_vs_nocache_prompt1024: headline[`prompt${Plong}`].cache_vs_nocache.median,
  block_vs_ar_tokens_per_s: headline[`prompt${Plong}`].cache_vs_ar.median,
  verified_vs_ar_tokens_per_s: headline[`prompt${Plong}`].verify_vs_ar.median,
  verified_vs_ar_decode_tokens_per_s: headline[`prompt${Plong}`].verify_vs_ar_decode.median,
  headline,
  relative_forward_time: rel,
  runs: rows,
  minutes: r3(wallMin),
});
