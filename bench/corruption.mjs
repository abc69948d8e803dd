// Benchmark of @seed-diffusion/corruption (imports the built dist/): mask and edit corruption throughput
// on a 32×512 batch (one core), token Levenshtein against fastest-levenshtein on equivalent strings, and
// the corruption's share of a training step — both measured in this run, round by round, at the
// `seed-diffusion train` defaults (config small, batch 8 × 256 tokens, stage 2: mask + edit batches).
// Ends on one JSON line.
//   tools/pnpm bench corruption [-- --rounds 3]
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { machine, spread } from './lib/report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'packages/corruption/package.json'));
const c = require('./dist/index.js');
const { distance: fastDistance } = require('fastest-levenshtein');

const args = process.argv.slice(2);
if (args.includes('--train-step-ms')) {
  console.error('--train-step-ms is gone: the training step is measured in the run (the anchor of the share)');
  process.exit(2);
}
const ri = args.indexOf('--rounds');
const ROUNDS = ri >= 0 ? Number(args[ri + 1]) : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('--rounds must be a positive integer');
  process.exit(2);
}

/** Median ms per call of fn over rounds of at least minMs each. */
function time(fn, minMs = 300, rounds = 5) {
  for (let i = 0; i < 3; i++) fn();
  const per = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs / rounds) {
      fn();
      n++;
      t = performance.now();
    }
    per.push((t - t0) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

const B = 32;
const L = 512;
const V = 32768;
const rng = new c.Rng(1234);
const x0 = new Int32Array(B * L);
for (let i = 0; i < x0.length; i++) x0[i] = 8 + rng.int(V - 8);
const maskOpts = { maskId: 1, eps: 1e-3 };
const tMask = time(() => c.maskCorrupt(x0, B, L, rng, maskOpts), 1000);
const tMaskBlock = time(
  () =>
    c.maskCorrupt(x0, B, L, rng, { ...maskOpts, schedule: { clipped: [0.3, 0.8] }, perBlock: 16, antithetic: true }),
  1000,
);
const tBd = time(() => c.blockDiffusionBatch(x0, B, L, 16, rng, maskOpts), 1000);
const unigram = new Float64Array(V);
for (let i = 8; i < V; i++) unigram[i] = 1 / (i - 7); // Zipf-like corpus counts
const editOpts = { vocabSize: V, padId: 0, forbid: [0, 1, 2, 3, 4, 5, 6, 7] };
const tEdit = time(() => c.editCorrupt(x0, B, L, rng, editOpts), 1000);
const tEditUni = time(() => c.editCorrupt(x0, B, L, rng, { ...editOpts, source: unigram }), 1000);
console.log(
  `mask corruption 32×512 (linear, per row):           ${(1000 / tMask).toFixed(0)} batches/s (${tMask.toFixed(3)} ms)`,
);
console.log(
  `mask corruption 32×512 (clipped [0.3,0.8], block 16): ${(1000 / tMaskBlock).toFixed(0)} batches/s (${tMaskBlock.toFixed(3)} ms)`,
);
console.log(
  `block-diffusion batch 32×512 → 32×1024 (block 16):   ${(1000 / tBd).toFixed(0)} batches/s (${tBd.toFixed(3)} ms)`,
);
console.log(
  `edit corruption 32×512 (α ≤ 0.1, uniform source):   ${(1000 / tEdit).toFixed(0)} batches/s (${tEdit.toFixed(3)} ms)`,
);
console.log(
  `edit corruption 32×512 (α ≤ 0.1, unigram alias):    ${(1000 / tEditUni).toFixed(0)} batches/s (${tEditUni.toFixed(3)} ms)`,
);

// Levenshtein: token ids < 65536 map one-to-one onto UTF-16 code units for fastest-levenshtein.
function randomTokens(n) {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = 1 + rng.int(5000);
  return a;
}
function similar(a) {
  const b = Array.from(a);
  const edits = Math.max(1, Math.round(a.length * 0.05));
  for (let e = 0; e < edits; e++) {
    const op = rng.int(3);
    const pos = rng.int(b.length);
    if (op === 0) b[pos] = 1 + rng.int(5000);
    else if (op === 1) b.splice(pos, 0, 1 + rng.int(5000));
    else b.splice(pos, 1);
  }
  return Int32Array.from(b);
}
const toStr = (a) => String.fromCharCode(...a);
const levRows = [];
for (const n of [64, 512, 2000]) {
  for (const kind of ['random', 'similar']) {
    const pairs = [];
    for (let p = 0; p < 8; p++) {
      const a = randomTokens(n);
      const b = kind === 'random' ? randomTokens(n) : similar(a);
      pairs.push([a, b, toStr(a), toStr(b)]);
    }
    for (const [a, b, sa, sb] of pairs) {
      if (c.levenshtein(a, b) !== fastDistance(sa, sb))
        throw new Error(`levenshtein disagrees with fastest-levenshtein at n=${n}`);
    }
    // Interleaved rounds, one of each side per round (both warm: the same pairs every round).
    const oursFn = () => {
      for (const [a, b] of pairs) c.levenshtein(a, b);
    };
    const theirsFn = () => {
      for (const [, , sa, sb] of pairs) fastDistance(sa, sb);
    };
    const oursMs = [];
    const theirsMs = [];
    for (let r = 0; r < 5; r++) {
      oursMs.push(time(oursFn, 120, 1));
      theirsMs.push(time(theirsFn, 120, 1));
    }
    const rs = spread(theirsMs.map((t, i) => t / oursMs[i]));
    levRows.push({
      n,
      kind,
      oursUs: (spread(oursMs).median / 8) * 1000,
      theirsUs: (spread(theirsMs).median / 8) * 1000,
      ratio: rs.median,
      min: rs.min,
      max: rs.max,
    });
  }
}
console.log('levenshtein (µs per pair; ratio = speed ours/theirs):');
for (const r of levRows) {
  console.log(
    `  n=${String(r.n).padStart(4)} ${r.kind.padEnd(7)} ours ${r.oursUs.toFixed(1).padStart(8)}  fastest-levenshtein ${r.theirsUs.toFixed(1).padStart(8)}  ratio ${r.ratio.toFixed(2)}× (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})`,
  );
}
const geo = Math.exp(levRows.reduce((s, r) => s + Math.log(r.ratio), 0) / levRows.length);
const minRatio = Math.min(...levRows.map((r) => r.ratio));
console.log(
  `levenshtein ratio vs fastest-levenshtein: geometric mean ${geo.toFixed(2)}×, worst case ${minRatio.toFixed(2)}×`,
);

// Share of a training step, both sides measured in this run, round by round: one training step of
// the default model at `seed-diffusion train`'s defaults (config small, batch 8 × 256, block sizes
// 1,4,8,16,32, backend threads as train uses them), in stage 2 (edit term on from step 0: the
// worst case, one mask and one edit batch per step), against the corruption of a batch of the
// same shape (block-diffusion mask batch + edit batch).
const native = require(path.join(root, 'native/dist/index.js'));
const m = require(path.join(root, 'packages/model/dist/index.js'));
const be = native.backend();
const SB = 8;
const SL = 256;
const SV = 8192;
const mcfg = m.makeConfig({ ...m.PRESETS.small, vocabSize: SV, maskTokenId: SV - 1, eosTokenId: 0, maxSeqLen: 512 });
const srng = new c.Rng(7);
const sdata = Int32Array.from({ length: SB * SL * 64 }, () => 1 + srng.int(SV - 2));
const trainer = new m.Trainer(
  m.Model.init(mcfg, 1, be),
  { train: sdata },
  { steps: 1000, batch: SB, seqLen: SL, blockSizes: [1, 4, 8, 16, 32], warmup: 0, editStart: 0 },
);
const sx0 = new Int32Array(SB * SL);
for (let i = 0; i < sx0.length; i++) sx0[i] = 8 + rng.int(SV - 8);
const sEdit = { vocabSize: SV, padId: 0, forbid: [0, SV - 1] };
trainer.trainStep(); // warm-up
const stepMs = [];
const corrMs = [];
const shares = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  const st = trainer.trainStep();
  const ms = performance.now() - t0;
  const cm =
    time(() => c.blockDiffusionBatch(sx0, SB, SL, 16, rng, maskOpts), 300) +
    time(() => c.editCorrupt(sx0, SB, SL, rng, sEdit), 300);
  stepMs.push(ms);
  corrMs.push(cm);
  shares.push(cm / ms);
  console.log(
    `round ${r + 1}: training step ${ms.toFixed(0)} ms (stage ${st.stage}, block ${st.block}); ` +
      `corruption of its batch ${cm.toFixed(3)} ms = ${((100 * cm) / ms).toFixed(4)}%`,
  );
}
const shareS = spread(
  shares.map((x) => 100 * x),
  6,
); // in percent
const stepS = spread(stepMs);
const corrS = spread(corrMs);
console.log(
  `corruption per step (block-diffusion mask + edit, ${SB}×${SL}): ${corrS.median.toFixed(3)} ms = ` +
    `${shareS.median.toFixed(4)}% (min ${shareS.min.toFixed(4)}%, max ${shareS.max.toFixed(4)}%) ` +
    `of a measured ${stepS.median.toFixed(0)} ms training step (${be.name}, ${be.numThreads} threads; goal < 5%)`,
);
console.log(
  JSON.stringify({
    bench: 'corruption',
    machine: machine(),
    load_average: +os.loadavg()[0].toFixed(1),
    mask_batches_per_s: +(1000 / tMask).toFixed(1),
    mask_clipped_block_batches_per_s: +(1000 / tMaskBlock).toFixed(1),
    block_diffusion_batches_per_s: +(1000 / tBd).toFixed(1),
    edit_batches_per_s: +(1000 / tEdit).toFixed(1),
    edit_unigram_batches_per_s: +(1000 / tEditUni).toFixed(1),
    levenshtein_ratio_vs_fastest_levenshtein: +geo.toFixed(3),
    levenshtein_worst_ratio: +minRatio.toFixed(3),
    levenshtein: levRows.map((r) => ({ n: r.n, kind: r.kind, ratio: r.ratio, min: r.min, max: r.max })),
    train_step: { config: 'small', batch: SB, seq: SL, threads: be.numThreads, stage: 2 },
    train_step_ms: stepS,
    corruption_ms_per_step: corrS,
    corruption_share_of_train_step_percent: shareS,
    rounds: ROUNDS,
  }),
);
