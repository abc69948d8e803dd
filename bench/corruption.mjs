// Benchmark of @seed-diffusion/corruption (imports the built dist/): mask and edit corruption throughput
// on a 32×512 batch (one core), token Levenshtein against fastest-levenshtein on equivalent strings, and
// the corruption's share of a training step. Ends on one JSON line.
//   tools/pnpm bench corruption [-- --train-step-ms X]
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'packages/corruption/package.json'));
const c = require('./dist/index.js');
const { distance: fastDistance } = require('fastest-levenshtein');

const args = process.argv.slice(2);
const stepArg = args.indexOf('--train-step-ms');
const trainStepMsArg = stepArg >= 0 ? Number(args[stepArg + 1]) : undefined;
if (stepArg >= 0 && !(trainStepMsArg > 0)) {
  console.error('--train-step-ms must be a positive number of milliseconds');
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
    const ours = time(() => {
      for (const [a, b] of pairs) c.levenshtein(a, b);
    }, 600);
    const theirs = time(() => {
      for (const [, , sa, sb] of pairs) fastDistance(sa, sb);
    }, 600);
    levRows.push({ n, kind, oursUs: (ours / 8) * 1000, theirsUs: (theirs / 8) * 1000, ratio: theirs / ours });
  }
}
console.log('levenshtein (µs per pair; ratio = speed ours/theirs):');
for (const r of levRows) {
  console.log(
    `  n=${String(r.n).padStart(4)} ${r.kind.padEnd(7)} ours ${r.oursUs.toFixed(1).padStart(8)}  fastest-levenshtein ${r.theirsUs.toFixed(1).padStart(8)}  ratio ${r.ratio.toFixed(2)}×`,
  );
}
const geo = Math.exp(levRows.reduce((s, r) => s + Math.log(r.ratio), 0) / levRows.length);
const minRatio = Math.min(...levRows.map((r) => r.ratio));
console.log(
  `levenshtein ratio vs fastest-levenshtein: geometric mean ${geo.toFixed(2)}×, worst case ${minRatio.toFixed(2)}×`,
);

// Share of a training step: per step the stage-2 worst case does one block-diffusion mask batch and one edit batch.
const corruptionMs = tBd + tEdit;
let trainStepMs = trainStepMsArg;
let estimated = false;
let gflops;
if (trainStepMs === undefined) {
  estimated = true;
  const native = require(path.join(root, 'native/dist/index.js'));
  const be = native.backend();
  const N = 512;
  const A = be.f32(N * N);
  const Bm = be.f32(N * N);
  const C = be.f32(N * N);
  const fill = new Float32Array(N * N).map((_, i) => Math.sin(i) * 0.5);
  be.write(A, fill);
  be.write(Bm, fill);
  const tm = time(() => be.matmul(A, Bm, C, N, N, N, false, false, 1, 0), 1000);
  gflops = (2 * N * N * N) / (tm * 1e6);
  const params = 10e6;
  const tokens = B * L;
  const flops = 6 * params * tokens * 2; // 6·P·T, doubled for the [x_t ; x_0] block-diffusion sequence
  trainStepMs = (flops / (gflops * 1e9)) * 1000;
  console.log(
    `training step ESTIMATE (no model yet): 6·10M params·${tokens} tokens·2 = ${(flops / 1e12).toFixed(2)} TFLOP at the measured ` +
      `${be.name ?? 'native'} matmul ${gflops.toFixed(1)} GFLOP/s (512³) → ${(trainStepMs / 1000).toFixed(1)} s per step`,
  );
}
const share = corruptionMs / trainStepMs;
console.log(
  `corruption per step (block-diffusion mask + edit): ${corruptionMs.toFixed(2)} ms = ${(share * 100).toFixed(4)}% of a ` +
    `${estimated ? 'estimated' : 'given'} ${trainStepMs.toFixed(0)} ms training step (goal < 5%)`,
);
console.log(
  JSON.stringify({
    bench: 'corruption',
    machine: `${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} cores), load ${os.loadavg()[0].toFixed(1)}`,
    mask_batches_per_s: +(1000 / tMask).toFixed(1),
    mask_clipped_block_batches_per_s: +(1000 / tMaskBlock).toFixed(1),
    block_diffusion_batches_per_s: +(1000 / tBd).toFixed(1),
    edit_batches_per_s: +(1000 / tEdit).toFixed(1),
    edit_unigram_batches_per_s: +(1000 / tEditUni).toFixed(1),
    levenshtein_ratio_vs_fastest_levenshtein: +geo.toFixed(3),
    levenshtein_worst_ratio: +minRatio.toFixed(3),
    levenshtein: levRows.map((r) => ({ n: r.n, kind: r.kind, ratio: +r.ratio.toFixed(3) })),
    matmul_gflops: gflops === undefined ? null : +gflops.toFixed(2),
    train_step_ms: +trainStepMs.toFixed(1),
    train_step_estimated: estimated,
    corruption_ms_per_step: +corruptionMs.toFixed(3),
    corruption_share_of_train_step: +share.toFixed(6),
  }),
);
