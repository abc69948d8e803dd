// Training throughput of @seed-diffusion/model on the CPU against PyTorch (the anchor) on the
// same config, batch, block-diffusion step and thread count, measured in the same run.
//   tools/pnpm bench train [--config small] [--batch 8] [--seq 256] [--block 16] [--steps 3] [--threads 2]
// Ends on one JSON line: tokens_per_s, tokens_per_s_torch, ratio_vs_torch, ...
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

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
const steps = +(args.steps ?? 3);
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
trainer.trainStep(); // warm-up
const t0 = performance.now();
for (let i = 0; i < steps; i++) trainer.trainStep();
const sec = (performance.now() - t0) / 1000 / steps;
const ours = (B * L) / sec;
console.log(`seed-diffusion: ${sec.toFixed(2)} s/step, ${ours.toFixed(0)} loss tokens/s`);

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
  steps,
  threads,
};
// OpenBLAS 0.3.21 misdetects newer CPUs (Zen as Prescott, Emerald Rapids below SkylakeX) unless
// told: its best sgemm kernels for this CPU's flags, set for the child only.
const avx512 = /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
const coretype = avx512 ? 'SKYLAKEX' : 'HASWELL';
console.log(`anchor OpenBLAS core: OPENBLAS_CORETYPE=${coretype}`);
const env = { ...process.env, OPENBLAS_CORETYPE: coretype, OMP_NUM_THREADS: String(threads) };
const py = spawnSync('/usr/bin/python3', [path.join(root, 'bench/train_torch.py'), JSON.stringify(torchCfg)], {
  env,
  encoding: 'utf8',
  timeout: 30 * 60 * 1000,
});
let torch = null;
if (py.status === 0) {
  torch = JSON.parse(py.stdout.trim().split('\n').pop());
  console.log(
    `pytorch ${torch.torch} (${torch.threads} threads): ${torch.step_s.toFixed(2)} s/step, ${torch.tokens_per_s.toFixed(0)} loss tokens/s; ` +
      `anchor matmul 512^3: ${torch.matmul_gflops.toFixed(1)} GFLOP/s`,
  );
} else {
  console.log(`pytorch anchor unavailable: ${(py.stderr || py.error?.message || '').trim().split('\n').pop()}`);
}
const ratio = torch ? ours / torch.tokens_per_s : null;
if (ratio !== null) console.log(`ratio vs torch: ${ratio.toFixed(2)}x`);
console.log(
  JSON.stringify({
    bench: 'train',
    config: preset,
    batch: B,
    seq: L,
    block,
    threads,
    tokens_per_s: +ours.toFixed(1),
    tokens_per_s_torch: torch ? +torch.tokens_per_s.toFixed(1) : null,
    ratio_vs_torch: ratio === null ? null : +ratio.toFixed(3),
    torch_matmul_gflops: torch ? +torch.matmul_gflops.toFixed(1) : null,
  }),
);
