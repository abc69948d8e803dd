// Engine benchmark: aggregate generated tokens/s of the batched decoding engine for 1, 4, 16 and 64
// concurrent requests, in mode 'cache' (b = 32, threshold 0.9) and mode 'ar', at prompt lengths 64
// and 1024 on held-out code (HumanEval prompts + solutions), and the KV memory each sequence holds.
// The anchor is the same engine at concurrency 1 (a batch of one: what decoding one request at a
// time gets), measured in the same run on the same prompts. Tokens are checked: every request of
// every concurrency must get exactly the tokens the same request gets at concurrency 1.
//
//   tools/pnpm bench engine [--model DIR] [--gen 128] [--distinct 16] [--threads N] [--max-batch-rows 4096]
//                           [--lengths 64,1024] [--concurrency 1,4,16,64]   (the last two for quick checks only)
//
// Aggregate tokens/s of a wave = generated tokens of its c requests / wall time from submitting them
// to the last one done (prefill included, as Seed measures it); the decoding phase excludes the
// prefills (from the last request's first block to the end). The concurrencies take turns in 2
// rounds (the shared machine's load drifts): per round, one wave per distinct prompt of half the
// prompts at c = 1, one wave at c = 4 and at c = 16; one wave at c = 64 in the last round;
// the ratio c/1 is the median wave's aggregate over the median of c = 1, with its min/max from the
// waves' extremes. Configuration fixed before the run: greedy, stopAtEos off (every request makes
// --gen tokens), the engine's defaults otherwise. Ends on one JSON line.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { heldOutTexts, promptWindows } from './lib/held-out.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Engine } = require(path.join(root, 'packages/engine/dist'));
const { readConfig } = require(path.join(root, 'packages/model/dist'));
const { Tokenizer } = require(path.join(root, 'packages/tokenizer/dist'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const modelDir = opt('model', path.join(root, 'models/seed-diffusion-tiny'));
const GEN = Number(opt('gen', 128));
const DISTINCT = Number(opt('distinct', 16));
const THREADS = opt('threads', null) === null ? undefined : Number(opt('threads', null));
const MAX_BATCH_ROWS = Number(opt('max-batch-rows', 4096));
const CONCURRENCY = opt('concurrency', '1,4,16,64').split(',').map(Number);
const ROUNDS = 2;
const PROMPTS = opt('lengths', '64,1024').split(',').map(Number);
const MODES = {
  cache: { mode: 'cache', blockSize: 32, threshold: 0.9 },
  ar: { mode: 'ar' },
};

function fail(msg) {
  console.error(`bench engine: ${msg}`);
  process.exit(2);
}

const cfg = readConfig(modelDir);
const tokenizer = Tokenizer.load(path.join(modelDir, 'tokenizer.json'));
const held = heldOutTexts(root, null);
const ids = [];
for (const t of held.texts) ids.push(...tokenizer.encode(t), cfg.eosTokenId);
const stream = Int32Array.from(ids);
for (let i = 0; i < stream.length; i++) if (stream[i] === cfg.maskTokenId) stream[i] = cfg.eosTokenId;

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

const maxRows = Math.max(...PROMPTS) + GEN;
// Pool: every request of the largest wave at its longest, plus a verify-free margin of one page each.
const pageSize = 64;
const poolPages = 64 * (Math.ceil(maxRows / pageSize) + 1);
const engine = await Engine.start({
  model: { dir: modelDir },
  poolPages,
  threads: THREADS,
  maxBatchRows: MAX_BATCH_ROWS,
  maxRunning: 64,
});
const bytesPerPage = engine.info.pool.bytesPerPage;
const bytesPerRow = bytesPerPage / pageSize;
console.log(
  `engine bench: ${path.relative(root, modelDir) || modelDir} (${engine.info.model.parameters} parameters), backend ${engine.info.backend}, ` +
    `threads ${THREADS ?? 'default'}, CPU ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}; prompts: ${held.source}; ` +
    `gen ${GEN}, ${DISTINCT} distinct prompts per length, pool ${poolPages} pages of ${pageSize} rows (${(bytesPerPage / 1024).toFixed(0)} KiB each)`,
);

/** Runs c requests at once; returns their tokens, the wall seconds and the peak pages in use. */
async function wave(reqs) {
  const t0 = performance.now();
  let peak = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      peak = Math.max(peak, (await engine.stats()).pool.usedPages);
      await sleep(20);
    }
  })();
  // Decoding phase: from the moment the last request's prompt is prefilled (its first block_start
  // event) to the end, and the tokens its block_end events report in that time (a block under way
  // at that moment counts whole: a slight overstatement, alike for every concurrency).
  const prefilled = [];
  const ends = [];
  const streams = reqs.map((r) => engine.submit(r));
  await Promise.all(
    streams.map(async (s) => {
      let first = true;
      for await (const e of s) {
        if (e.type === 'block_start' && first) {
          prefilled.push(performance.now());
          first = false;
        } else if (e.type === 'block_end') ends.push([performance.now(), e.tokens.length]);
      }
    }),
  );
  const results = await Promise.all(streams.map((s) => s.result()));
  const t1 = performance.now();
  const seconds = (t1 - t0) / 1000;
  polling = false;
  await poll;
  const tp = Math.max(...prefilled);
  const decodeTokens = ends.filter(([t]) => t >= tp).reduce((a, [, n]) => a + n, 0);
  return {
    tokens: results.map((r) => Array.from(r.tokens)),
    seconds,
    peak,
    decodeRate: decodeTokens / ((t1 - tp) / 1000),
  };
}

const rows = [];
const out = {};
let identical = true;
let mismatches = 0;
const kv = {};
for (const P of PROMPTS) {
  const windows = promptWindows(stream, P, GEN, DISTINCT, fail).map((w) => Array.from(w.prompt));
  for (const [mname, mopts] of Object.entries(MODES)) {
    const request = (i) => ({ prompt: windows[i % DISTINCT], ...mopts, maxNewTokens: GEN, stopAtEos: false });
    const alone = new Map();
    const later = []; // [prompt index, tokens] of concurrent requests, checked once every alone run is in
    const agg = {};
    const dec = {};
    const peak = {};
    for (const c of CONCURRENCY) [agg[c], dec[c], peak[c]] = [[], [], 0];
    // The machine's load drifts (shared cores): the concurrencies take turns, ROUNDS times, so that
    // every one of them, the anchor included, is measured across the same stretch of time.
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CONCURRENCY) {
        const per = DISTINCT / ROUNDS;
        const waves = c === 1 ? per : c >= 64 ? (round === ROUNDS - 1 ? 1 : 0) : 1;
        for (let w = 0; w < waves; w++) {
          const which = Array.from({ length: c }, (_, j) =>
            c === 1 ? round * per + w : (c <= DISTINCT ? round * c : 0) + j,
          );
          const r = await wave(which.map(request));
          const total = r.tokens.reduce((a, t) => a + t.length, 0);
          agg[c].push(total / r.seconds);
          dec[c].push(r.decodeRate);
          peak[c] = Math.max(peak[c], (r.peak * bytesPerPage) / c);
          which.forEach((i, j) =>
            c === 1 ? alone.set(i % DISTINCT, r.tokens[j]) : later.push([i % DISTINCT, r.tokens[j]]),
          );
        }
      }
    }
    for (const [i, t] of later) {
      if (JSON.stringify(alone.get(i)) !== JSON.stringify(t)) {
        identical = false;
        mismatches++;
      }
    }
    for (const c of CONCURRENCY) {
      const rates = agg[c];
      const row = {
        P,
        mode: mname,
        c,
        waves: rates.length,
        min: Math.min(...rates),
        median: median(rates),
        max: Math.max(...rates),
        decodingMedian: median(dec[c]),
        peakKvBytesPerSeq: peak[c],
      };
      rows.push(row);
      console.log(
        `P ${P} ${mname.padEnd(5)} c ${String(c).padStart(2)}: aggregate tok/s median ${fmt(row.median)} (min ${fmt(row.min)}, max ${fmt(row.max)}, ${rates.length} wave(s)), ` +
          `decoding phase ${fmt(row.decodingMedian)}; peak KV ${(row.peakKvBytesPerSeq / 1024).toFixed(0)} KiB/seq`,
      );
      if (P === 1024 && mname === 'ar' && c === 16) kv.paged = row.peakKvBytesPerSeq;
    }
    for (const c of CONCURRENCY.filter((x) => x > 1)) {
      const key = `${mname}_aggregate_${c}_vs_1${P === 64 ? '' : `_p${P}`}`;
      out[key] = +(median(agg[c]) / median(agg[1])).toFixed(3);
      out[`${key}_min`] = +(Math.min(...agg[c]) / Math.max(...agg[1])).toFixed(3);
      out[`${key}_max`] = +(Math.max(...agg[c]) / Math.min(...agg[1])).toFixed(3);
      out[`${key}_decoding`] = +(median(dec[c]) / median(dec[1])).toFixed(3);
      console.log(
        `P ${P} ${mname} ${c} vs 1: ${out[key]}x (min ${out[`${key}_min`]}, max ${out[`${key}_max`]}); decoding phase ${out[`${key}_decoding`]}x`,
      );
    }
  }
}
await engine.close();

// KV memory per sequence: paged = the peak pages a P = 1024 sequence held (measured above);
// unpaged = the float32 cache the sampler preallocated per request before paging (its whole
// limit, prompt + gen rows), and what a cache of the model's context (the old newCache default) takes.
const limitRows = Math.min(cfg.maxSeqLen, 1024 + GEN);
const result = {
  bench: 'engine',
  model: path.relative(root, modelDir) || modelDir,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  threads: THREADS ?? 'default',
  gen: GEN,
  distinct_prompts: DISTINCT,
  prompt_lengths: PROMPTS,
  ar_aggregate_16_vs_1: out.ar_aggregate_16_vs_1,
  cache_aggregate_16_vs_1: out.cache_aggregate_16_vs_1,
  kv_bytes_per_seq_1024: kv.paged === undefined ? null : Math.round(kv.paged),
  kv_bytes_per_seq_1024_unpaged: limitRows * bytesPerRow,
  kv_bytes_context: cfg.maxSeqLen * bytesPerRow,
  tokens_identical: identical,
  token_mismatches: mismatches,
  ...out,
  rows,
};
console.log(
  `goals: ar 16 vs 1 ${out.ar_aggregate_16_vs_1}x (goal >= 4), cache 16 vs 1 ${out.cache_aggregate_16_vs_1}x (goal >= 3); ` +
    `KV per 1024-token sequence ${((kv.paged ?? NaN) / 2 ** 20).toFixed(2)} MiB paged vs ${((limitRows * bytesPerRow) / 2 ** 20).toFixed(2)} MiB preallocated ` +
    `(${((cfg.maxSeqLen * bytesPerRow) / 2 ** 20).toFixed(2)} MiB for the model's context); tokens identical: ${identical}`,
);
console.log(JSON.stringify(result));
