// Training throughput of @seed-diffusion/model on the CPU against PyTorch (the anchor) on the
// same config, batch, block-diffusion step and thread count, measured in the same run: --steps rounds,
// each one step of ours then one of the anchor (a persistent child), ratio per round, reported as
// median (min, max). The anchor's OpenBLAS core type is picked from the CPU flags and printed.
//   tools/pnpm bench train [--config small] [--batch 8] [--seq 256] [--block 16] [--steps 5] [--threads 2]
// Ends on one JSON line: tokens_per_s, tokens_per_s_torch, ratio_vs_torch (+ spreads), ...
import { spawn } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { setTimeout as pause } from 'node:timers/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { cpuFlags, machine, spread } from './lib/report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { backend } = require(path.join(root, 'native/dist'));
const m = require(path.join(root, 'packages/model/dist'));
const { Rng } = require(path.join(root, 'packages/corruption/dist'));

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const preset = args.config ?? 'small';
const B = +(args.batch ?? 8);
const L = +(args.seq ?? 256);
const block = +(args.block ?? 16);
const steps = +(args.steps ?? 5);
const threads = +(args.threads ?? 2);
const V = 8192;

const b = backend();
b.numThreads = threads;
const cfg = m.makeConfig({
  ...m.PRESETS[preset],
  vocabSize: V,
  maskTokenId: V - 1,
  eosTokenId: 0,
  maxSeqLen: Math.max(L, 512),
});
const r = new Rng(3);
const stream = Int32Array.from({ length: B * L * (steps + 2) * 2 }, () => 1 + r.int(V - 2));
const trainer = new m.Trainer(
  m.Model.init(cfg, 1, b),
  { train: stream },
  { steps: steps + 10, batch: B, seqLen: L, blockSizes: [block], warmup: 0 },
);
console.log(
  `config ${preset}: ${(m.parameterCount(cfg) / 1e6).toFixed(2)}M params (d ${cfg.hiddenSize}, ${cfg.numLayers} layers, ` +
    `${cfg.numHeads}/${cfg.numKvHeads} heads, SwiGLU ${cfg.intermediateSize}, vocab ${V}); batch ${B} x seq ${L} ` +
    `(BD3-LM rows 2L = ${2 * L}), block ${block}, ${threads} threads, backend ${b.name} [${b.buildInfo}]`,
);
// The anchor: PyTorch on the same config, batch, step and threads, its OpenBLAS core picked from this
// CPU's flags (OpenBLAS 0.3.21 misdetects some CPUs; HASWELL on an AVX-512 machine halves its GEMM).
// An OPENBLAS_CORETYPE already in the environment is kept.
function coreType() {
  if (process.env.OPENBLAS_CORETYPE) return { type: process.env.OPENBLAS_CORETYPE, why: 'from the environment' };
  const f = cpuFlags();
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((x) => f.has(x))) {
    return { type: 'SKYLAKEX', why: 'AVX-512 F/BW/VL/DQ/CD in the CPU flags' };
  }
  if (f.has('avx2') && f.has('fma')) return { type: 'HASWELL', why: 'AVX2 + FMA in the CPU flags' };
  return { type: null, why: 'no AVX2: left to OpenBLAS' };
}
const core = coreType();
console.log(`anchor OpenBLAS core type: ${core.type ?? '(auto)'} (${core.why})`);
const torchCfg = {
  vocab: V,
  d: cfg.hiddenSize,
  layers: cfg.numLayers,
  heads: cfg.numHeads,
  kv_heads: cfg.numKvHeads,
  inter: cfg.intermediateSize,
  batch: B,
  seq: L,
  block,
  threads,
};
const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
if (core.type) env.OPENBLAS_CORETYPE = core.type;
else delete env.OPENBLAS_CORETYPE;

/** The anchor as a child that runs one timed step per request, so the two sides interleave. */
function startTorch() {
  const py = spawn('/usr/bin/python3', [path.join(root, 'bench/train_torch.py'), JSON.stringify(torchCfg)], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  py.stderr.on('data', (d) => (err += d));
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`pytorch anchor exited: ${err.trim().split('\n').pop() || 'no output'}`);
    return JSON.parse(value);
  };
  return {
    ready: next(),
    step: async () => {
      py.stdin.write('step\n');
      return (await next()).step_s;
    },
    quit: () => {
      py.stdin.end('quit\n');
    },
  };
}

trainer.trainStep(); // warm-up
let torch;
let anchor = null;
try {
  anchor = startTorch();
  torch = await anchor.ready;
  console.log(
    `pytorch ${torch.torch} (${torch.threads} threads; ${torch.blas}; core ${torch.core ?? '-'}); ` +
      `anchor matmul 512^3: ${torch.matmul_gflops.toFixed(1)} GFLOP/s`,
  );
  if (!torch.core) throw new Error(`torch's BLAS is ${torch.blas}: install libopenblas0-pthread for a fair anchor`);
} catch (e) {
  console.log(`pytorch anchor unavailable: ${e.message}`);
  anchor?.quit();
  anchor = null;
  torch = null;
}
// Rounds interleave one step of ours and one of the anchor (a pause between, so the other side's
// idle threads have stopped spinning); each ratio is the round's, reported as median (min, max).
const oursS = [];
const torchS = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  trainer.trainStep();
  oursS.push((performance.now() - t0) / 1000);
  await pause(100);
  if (anchor) torchS.push(await anchor.step());
  await pause(100);
  console.log(
    `round ${i + 1}/${steps}: seed-diffusion ${oursS[i].toFixed(2)} s/step` +
      (anchor ? `, pytorch ${torchS[i].toFixed(2)} s/step, ratio ${(torchS[i] / oursS[i]).toFixed(2)}x` : ''),
  );
}
anchor?.quit();
const tps = (sec) => spread(sec.map((x) => (B * L) / x));
const ours = tps(oursS);
const theirs = anchor ? tps(torchS) : null;
const ratio = anchor ? spread(torchS.map((t, i) => t / oursS[i])) : null;
console.log(
  `seed-diffusion: ${ours.median.toFixed(0)} loss tokens/s (min ${ours.min.toFixed(0)}, max ${ours.max.toFixed(0)})`,
);
if (ratio) {
  console.log(
    `pytorch: ${theirs.median.toFixed(0)} loss tokens/s; ratio vs torch ${ratio.median.toFixed(2)}x ` +
      `(min ${ratio.min.toFixed(2)}, max ${ratio.max.toFixed(2)} over ${ratio.rounds} rounds)`,
  );
}
console.log(
  JSON.stringify({
    bench: 'train',
    machine: machine(),
    load_average: +os.loadavg()[0].toFixed(1),
    config: preset,
    batch: B,
    seq: L,
    block,
    threads,
    rounds: steps,
    tokens_per_s: ours.median,
    tokens_per_s_spread: ours,
    tokens_per_s_torch: theirs ? theirs.median : null,
    ratio_vs_torch: ratio ? ratio.median : null,
    ratio_spread: ratio,
    torch_matmul_gflops: torch ? +torch.matmul_gflops.toFixed(1) : null,
    torch_blas: torch ? torch.blas : null,
    openblas_core: torch ? torch.core : null,
    openblas_coretype_set: core.type,
  }),
);
process.exit(0);
