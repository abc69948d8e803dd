// Kernel throughput: matmul (and attention) GFLOP/s on every backend this machine runs,
// against numpy's bundled OpenBLAS on the same shapes and thread count, measured in the
// same run (bench/kernels_numpy.py). Shapes are those of a 6-layer d=512 model (SwiGLU
// 1408, vocab 8192) at sequence 512 — forward and backward — and of a decoding step
// (32 query rows against the same weights); and a decoding step's whole weight stream at 2, 8 and
// 32 rows with float32 weights vs their 16-bit copy (matmul_w16). Ends on one JSON line.
//
//   tools/pnpm bench kernels            (SD_NATIVE_PATH / SD_WASM_PATH pick other builds)
//   SD_BENCH_REPS=3 SD_BENCH_BUDGET=0.1 (minimum timed repetitions / seconds per shape and round)
//   SD_BENCH_ROUNDS=5                   (rounds; every round times every shape on every side)
//   SD_CPU_ISA=avx2                     (force a narrower kernel variant than CPUID picks)
// On a shared machine other processes steal cores: within each round ours, our next-narrower
// kernel variant and numpy alternate shape by shape (numpy runs as a line-oriented child
// process), so each round's ratios compare the sides under the same load; the ratios are
// reported as min / median / max over the rounds (fixed before the run: no best-of-several).
// Attention and the decoding step are timed in the same rounds, against the same round's matmul
// rate and copy bandwidth.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as settle } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import native from '../native/dist/index.js';

const { availableBackends, cpuFeatures, CpuBackend } = native;
const here = path.dirname(fileURLToPath(import.meta.url));
// Clock, fixed before any timing: "wall" times 2 threads by the wall clock; "cpu" times one
// thread by its CPU time (both sides), which stays meaningful when other jobs oversubscribe the
// cores (a 2-thread wall time then measures the scheduler). "auto" (default) picks "cpu" when the
// 1-minute load average at the start exceeds the core count, and says so.
const CLOCK_REQ = process.env.SD_BENCH_CLOCK ?? 'auto';
const CLOCK =
  CLOCK_REQ === 'wall' || CLOCK_REQ === 'cpu' ? CLOCK_REQ : os.loadavg()[0] > os.cpus().length ? 'cpu' : 'wall';
const THREADS = CLOCK === 'cpu' ? 1 : 2;
const clockNow =
  CLOCK === 'cpu'
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();
const MIN_REPS = Number(process.env.SD_BENCH_REPS ?? 3);
const BUDGET_S = Number(process.env.SD_BENCH_BUDGET ?? 0.1);
const ROUNDS = Math.max(1, Number(process.env.SD_BENCH_ROUNDS ?? 5));

// ---------------------------------------------------------------- shapes
const T = 512; // training sequence
const D = 512; // model width
const FF = 1408; // SwiGLU hidden
const V = 8192; // vocabulary
const LAYERS = 6;
const DECODE_ROWS = 32;

// Linear y[T,out] = x[T,in]·W[out,in]ᵀ and its backward (dx = dy·W, dW += dyᵀ·x, both accumulate).
// `count` is how many times a training step / decoding step runs the shape.
const linears = [
  { name: 'qkv', din: D, dout: 3 * D, count: LAYERS },
  { name: 'out', din: D, dout: D, count: LAYERS },
  { name: 'up_gate', din: D, dout: FF, count: 2 * LAYERS },
  { name: 'down', din: FF, dout: D, count: LAYERS },
  { name: 'lm_head', din: D, dout: V, count: 1 },
];
const train = [];
const decode = [];
for (const l of linears) {
  train.push({ name: `${l.name}.fwd`, M: T, N: l.dout, K: l.din, ta: false, tb: true, beta: 0, count: l.count });
  train.push({ name: `${l.name}.dx`, M: T, N: l.din, K: l.dout, ta: false, tb: false, beta: 1, count: l.count });
  train.push({ name: `${l.name}.dW`, M: l.dout, N: l.din, K: T, ta: true, tb: false, beta: 1, count: l.count });
  decode.push({
    name: `${l.name}.decode`,
    M: DECODE_ROWS,
    N: l.dout,
    K: l.din,
    ta: false,
    tb: true,
    beta: 0,
    count: l.count,
  });
}
const shapes = [...train, ...decode];
const flops = (s) => 2 * s.M * s.N * s.K;

// ---------------------------------------------------------------- timing
function fill(b, n, seed) {
  const t = b.f32(n);
  const a = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = x / 2147483648 - 1;
  }
  b.write(t, a);
  return t;
}

/** Best wall time of fn() over at least `minReps` runs and `budget` seconds, after warm-up. */
function bestOf(fn, minReps = MIN_REPS, budget = BUDGET_S) {
  fn();
  fn();
  let best = Infinity,
    spent = 0,
    reps = 0;
  while (reps < minReps || spent < budget) {
    const t0 = clockNow();
    fn();
    const dt = (clockNow() - t0) / 1000;
    best = Math.min(best, dt);
    spent += dt;
    reps++;
  }
  return best;
}

function timeMatmul(b, s, minReps, budget) {
  const A = fill(b, s.M * s.K, 1),
    B = fill(b, s.K * s.N, 2),
    C = fill(b, s.M * s.N, 3);
  const t = bestOf(() => b.matmul(A, B, C, s.M, s.N, s.K, s.ta, s.tb, 1, s.beta), minReps, budget);
  for (const x of [A, B, C]) b.free(x);
  return t;
}

// A decoding step's weight stream: every Linear of the model once, each with its own weights (as a
// forward reads them: 94 MB in float32, more than the L3), at the few rows a decoding step has.
// Float32 weights (matmul) against the 16-bit copy an f16 checkpoint decodes through (matmul_w16,
// bit-identical results): the anchor is our own float32 path, measured in the same run.
const STREAM_ROWS = [2, 8, 32];
function streamWeights(b) {
  const list = [];
  for (const l of linears) {
    for (let i = 0; i < l.count; i++) {
      const n = l.din * l.dout;
      const w32 = fill(b, n, 7 + list.length);
      const bits = new Uint16Array(n);
      for (let j = 0; j < n; j++) bits[j] = 0x2c00 + ((j * 2654435761) >>> 22); // f16 values ~2^-4..2^-3
      list.push({ din: l.din, dout: l.dout, w32, w16: b.from(bits) });
    }
  }
  return list;
}
function timeStream(b, ws, M, half, minReps, budget) {
  const maxIn = Math.max(...ws.map((w) => w.din)),
    maxOut = Math.max(...ws.map((w) => w.dout));
  const x = fill(b, M * maxIn, 8),
    y = b.f32(M * maxOut);
  const step = () => {
    for (const w of ws) {
      if (half) b.matmulW16(x, w.w16, y, M, w.dout, w.din, false, true, 'f16');
      else b.matmul(x, w.w32, y, M, w.dout, w.din, false, true);
    }
  };
  try {
    return bestOf(step, minReps, budget);
  } finally {
    b.free(x);
    b.free(y);
  }
}

const attnCases = [
  { name: 'attn.bidir', shape: { Tq: T, Tk: T, Hq: 8, Hkv: 8, D: 64, mask: 'bidir' } },
  {
    name: 'attn.decode',
    shape: { Tq: DECODE_ROWS, Tk: 1024 + DECODE_ROWS, Hq: 8, Hkv: 8, D: 64, mask: 'prefix', qOffset: 1024 },
  },
];
// QKᵀ and PV over every visible pair (both cases see every key).
const attnFlops = (s) => 4 * s.Tq * s.Tk * s.Hq * s.D;

function timeAttention(b, c, minReps, budget) {
  const s = c.shape;
  const q = fill(b, s.Tq * s.Hq * s.D, 4),
    k = fill(b, s.Tk * s.Hkv * s.D, 5),
    v = fill(b, s.Tk * s.Hkv * s.D, 6),
    out = b.f32(s.Tq * s.Hq * s.D),
    lse = b.f32(s.Tq * s.Hq);
  try {
    return bestOf(() => b.attentionFwd(q, k, v, out, lse, s), minReps, budget);
  } catch (e) {
    if (/not implemented/.test(e.message)) return { missing: e.message };
    throw e;
  } finally {
    for (const x of [q, k, v, out, lse]) b.free(x);
  }
}

// ---------------------------------------------------------------- anchor
/** Starts bench/kernels_numpy.py; returns { blas, time(shape) → Promise<seconds>, close() } or null. */
async function startNumpy(coretype) {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(THREADS) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  const child = spawn('python3', [path.join(here, 'kernels_numpy.py')], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`numpy anchor exited: ${stderr.trim().slice(-500)}`);
    return JSON.parse(r.value);
  };
  try {
    const blas = await next();
    return {
      blas,
      async time(s, reps = MIN_REPS, budget = BUDGET_S) {
        const { name, M, N, K, ta, tb } = s;
        child.stdin.write(JSON.stringify({ name, M, N, K, ta, tb, reps, budget, clock: CLOCK }) + '\n');
        return (await next()).seconds;
      },
      close: () => child.stdin.end(),
    };
  } catch (e) {
    console.log(`numpy anchor failed: ${e.message}`);
    return null;
  }
}

// ---------------------------------------------------------------- the embedded model's decoding step
// Every Linear of models/seed-diffusion-tiny (its config) once, with 16-bit weights as generate
// decodes through them (Model.useHalfWeights: matmul_w16, exact widening), at the rows of one
// decoding step. The floor is the time to stream those weight bytes at the copy bandwidth
// measured in the same round on a buffer of the same size (so it sits in the same cache level).
function tinyLinears() {
  const cfgPath = path.join(here, '..', 'models', 'seed-diffusion-tiny', 'config.json');
  const c = JSON.parse(readFileSync(cfgPath, 'utf8'));
  const h = c.hidden_size,
    hd = c.head_dim ?? h / c.num_attention_heads;
  const q = c.num_attention_heads * hd,
    kv = c.num_key_value_heads * hd,
    ff = c.intermediate_size;
  const per = [
    [h, q],
    [h, kv],
    [h, kv],
    [q, h],
    [h, ff],
    [h, ff],
    [ff, h],
  ];
  const list = [];
  for (let l = 0; l < c.num_hidden_layers; l++) for (const [din, dout] of per) list.push({ din, dout });
  list.push({ din: h, dout: c.vocab_size }); // lm_head (tied embeddings: still streamed once)
  return list;
}
function halfWeights(b, shapes) {
  return shapes.map((s, i) => {
    const n = s.din * s.dout;
    const bits = new Uint16Array(n);
    for (let j = 0; j < n; j++) bits[j] = 0x2c00 + (((j + i) * 2654435761) >>> 22);
    return { ...s, w16: b.from(bits) };
  });
}
function timeDecodeStep(b, ws, M, minReps, budget) {
  const maxIn = Math.max(...ws.map((w) => w.din)),
    maxOut = Math.max(...ws.map((w) => w.dout));
  const x = fill(b, M * maxIn, 9),
    y = b.f32(M * maxOut);
  try {
    return bestOf(
      () => {
        for (const w of ws) b.matmulW16(x, w.w16, y, M, w.dout, w.din, false, true, 'f16');
      },
      minReps,
      budget,
    );
  } finally {
    b.free(x);
    b.free(y);
  }
}
/** Copy bandwidth (bytes read + written per second) of an in-place scale over `bytes`, all threads. */
function copyBandwidth(b, buf, n, minReps, budget) {
  const t = bestOf(() => b.scale(buf, 1, n), minReps, budget);
  return (8 * n) / t;
}

// ---------------------------------------------------------------- run
const gf = (f, t) => (t ? f / t / 1e9 : null);
const r2 = (x) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
const r3 = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 1000);
const median = (xs) => {
  const a = [...xs].sort((p, q) => p - q);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
/** { min, median, max } of a list (rounded), or null when empty / incomplete. */
const spread = (xs) =>
  xs.length && xs.every((x) => typeof x === 'number' && Number.isFinite(x))
    ? { min: r3(Math.min(...xs)), median: r3(median(xs)), max: r3(Math.max(...xs)) }
    : null;
const fmt = (sp) => (sp ? `${sp.median} (min ${sp.min}, max ${sp.max})` : 'n/a');

const backends = availableBackends();
const cpu = backends.find((b) => b.name === 'cpu');
const wasm = backends.find((b) => b.name === 'wasm');
const feat = cpuFeatures();
let flags = [];
try {
  const line = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('flags'));
  flags = line ? line.split(':')[1].trim().split(/\s+/) : [];
} catch {
  // not Linux
}
console.log(`machine: ${feat.model}, ${feat.cores} cores [${feat.features.join(' ')}]`);
console.log(
  `clock: ${CLOCK} (${CLOCK === 'cpu' ? '1 thread, CPU time of both sides' : `${THREADS} threads, wall time`}; ` +
    `SD_BENCH_CLOCK=${CLOCK_REQ}, 1-minute load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores)`,
);
for (const b of backends) console.log(`backend ${b.name}: ${b.buildInfo}`);
if (cpu) cpu.numThreads = THREADS;
// The next-narrower kernel variant, timed in the same rounds: what the dispatch buys.
const narrowIsa = cpu && cpu.isa === 'avx512' && cpu.isaSupported.includes('avx2') ? 'avx2' : null;
const narrow = narrowIsa ? new CpuBackend(cpu.addon, narrowIsa) : null;
console.log(
  `cpu kernels: ${cpu ? cpu.isa : 'none'}${cpu ? ` (this CPU runs: ${cpu.isaSupported.join(' ') || 'no dispatch'})` : ''}` +
    (narrow ? `; ${narrowIsa} timed beside it` : ''),
);

const load0 = os.loadavg()[0];
const times = { cpu: {}, wasm: {}, narrow: {} };
const keepBest = (into, name, t) => {
  into[name] = Math.min(into[name] ?? Infinity, t);
};
// WASM is single-threaded and ~5× slower: one round with fewer repetitions keeps the run short.
if (wasm) for (const s of shapes) times.wasm[s.name] = timeMatmul(wasm, s, 2, 0.2);
const attn = { cpu: {}, wasm: {} };
if (wasm) for (const c of attnCases) attn.wasm[c.name] = timeAttention(wasm, c, 2, 0.2);
const stream = { cpu: {}, wasm: {} };
for (const [bn, b] of [
  ['cpu', cpu],
  ['wasm', wasm],
]) {
  if (!b || !b.has('matmul_w16')) continue;
  const ws = streamWeights(b);
  for (const M of STREAM_ROWS) {
    for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
      for (const half of [false, true]) {
        const key = `${M}.${half ? 'f16' : 'f32'}`;
        keepBest(stream[bn], key, timeStream(b, ws, M, half, bn === 'cpu' ? 3 : 2, bn === 'cpu' ? 0.3 : 0.2));
      }
    }
  }
  for (const w of ws) {
    b.free(w.w32);
    b.free(w.w16);
  }
}

// OpenBLAS picks its kernels by CPUID; on an AVX-512 CPU it must use its AVX-512 sgemm kernels
// (SkylakeX; its Cooperlake / SapphireRapids targets reuse them for sgemm). A CPU model newer
// than the library (e.g. Emerald Rapids for an older OpenBLAS) may fall back to Haswell: then
// OPENBLAS_CORETYPE=SkylakeX is set, and the line below says so.
const hasAvx512 = ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.includes(f));
let anchor = await startNumpy();
let coreNote = 'auto-detected';
if (anchor && hasAvx512 && !/skylakex|cooperlake|sapphirerapids/i.test(anchor.blas.core ?? '')) {
  const auto = anchor.blas.core;
  anchor.close();
  anchor = await startNumpy('SkylakeX');
  coreNote = `OPENBLAS_CORETYPE=SkylakeX (auto-detection picked ${auto}, below this CPU's AVX-512)`;
}
const np = anchor && { blas: anchor.blas, results: {} };

const tiny = tinyLinears();
const tinyW = cpu ? halfWeights(cpu, tiny) : [];
const tinyBytes = tiny.reduce((a, w) => a + 2 * w.din * w.dout, 0);
const tinyFlops = (M) => tiny.reduce((a, w) => a + 2 * M * w.din * w.dout, 0);
const DECODE_STEP_ROWS = [2, DECODE_ROWS];
const copyN = Math.ceil(tinyBytes / 4);
const copyBuf = cpu ? fill(cpu, copyN, 10) : null;

// Per round: every matmul shape on ours / narrower / numpy, then attention, the decoding step and
// the copy bandwidth.
const perRound = [];
for (let round = 0; round < ROUNDS; round++) {
  const rt = { cpu: {}, narrow: {}, np: {}, attn: {}, step: {}, bw: null };
  for (const s of shapes) {
    await settle(round === 0 ? 300 : 50);
    if (cpu) rt.cpu[s.name] = timeMatmul(cpu, s);
    if (narrow) rt.narrow[s.name] = timeMatmul(narrow, s);
    await settle(20);
    if (anchor) rt.np[s.name] = await anchor.time(s);
  }
  await settle(100);
  if (cpu) {
    for (const c of attnCases) rt.attn[c.name] = timeAttention(cpu, c);
    for (const M of DECODE_STEP_ROWS) rt.step[M] = timeDecodeStep(cpu, tinyW, M, MIN_REPS, BUDGET_S);
    rt.bw = copyBandwidth(cpu, copyBuf, copyN, MIN_REPS, BUDGET_S);
  }
  for (const [k, into] of [
    ['cpu', times.cpu],
    ['narrow', times.narrow],
  ])
    for (const [n, t] of Object.entries(rt[k])) keepBest(into, n, t);
  if (np) for (const [n, t] of Object.entries(rt.np)) keepBest(np.results, n, t);
  perRound.push(rt);
  process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
}
anchor?.close();
if (copyBuf) cpu.free(copyBuf);
const load1 = os.loadavg()[0];
if (np) {
  const bl = np.blas;
  console.log(
    `anchor: numpy ${bl.numpy}, ${bl.name} ${bl.version}, core ${bl.core} [${coreNote}] (${bl.via ?? 'n/a'}), threads ${bl.threads}`,
  );
}
console.log(`rounds ${ROUNDS}; 1-minute load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at end`);

// Aggregates weight each shape by how often a step runs it: total flops / total time.
function aggregate(list, t) {
  let f = 0,
    s = 0;
  for (const x of list) {
    const v = t?.[x.name];
    if (typeof v !== 'number') return null;
    f += x.count * flops(x);
    s += x.count * v;
  }
  return f / s / 1e9;
}

const pad = (x, n) => String(x ?? '-').padStart(n);
console.log(
  `\nbest over rounds per shape (GFLOP/s)\n${'shape'.padEnd(16)}${pad('M', 6)}${pad('N', 6)}${pad('K', 6)} tA tB${pad('cpu', 9)}` +
    `${pad(narrowIsa ?? '-', 9)}${pad('openblas', 10)}${pad('cpu/blas', 10)}${pad('wasm', 9)}`,
);
const detail = {};
for (const s of shapes) {
  const c = gf(flops(s), times.cpu[s.name]);
  const n = gf(flops(s), times.narrow[s.name]);
  const o = gf(flops(s), np?.results[s.name]);
  const w = gf(flops(s), times.wasm[s.name]);
  const ratios = perRound.map((rt) => (rt.cpu[s.name] && rt.np[s.name] ? rt.np[s.name] / rt.cpu[s.name] : NaN));
  detail[s.name] = {
    M: s.M,
    N: s.N,
    K: s.K,
    ta: s.ta,
    tb: s.tb,
    cpu: r2(c),
    [narrowIsa ?? 'narrow']: r2(n),
    openblas: r2(o),
    wasm: r2(w),
    ratio_vs_openblas: spread(ratios),
  };
  console.log(
    `${s.name.padEnd(16)}${pad(s.M, 6)}${pad(s.N, 6)}${pad(s.K, 6)}  ${s.ta ? 'T' : 'N'}  ${s.tb ? 'T' : 'N'}` +
      `${pad(r2(c), 9)}${pad(r2(n), 9)}${pad(r2(o), 10)}${pad(detail[s.name].ratio_vs_openblas?.median, 10)}${pad(r2(w), 9)}`,
  );
}

// Per-round aggregates and ratios (the reported figures), then min / median / max.
const R = perRound.map((rt) => {
  const tr = aggregate(train, rt.cpu),
    trB = aggregate(train, rt.np),
    trN = aggregate(train, rt.narrow),
    de = aggregate(decode, rt.cpu),
    deB = aggregate(decode, rt.np),
    deN = aggregate(decode, rt.narrow);
  const out = {
    train: tr,
    trainBlas: trB,
    trainRatio: tr && trB ? tr / trB : NaN,
    trainVsNarrow: tr && trN ? tr / trN : NaN,
    decode: de,
    decodeBlas: deB,
    decodeRatio: de && deB ? de / deB : NaN,
    decodeVsNarrow: de && deN ? de / deN : NaN,
  };
  for (const c of attnCases) {
    const t = rt.attn[c.name];
    out[`attn.${c.name}`] = typeof t === 'number' ? gf(attnFlops(c.shape), t) : NaN;
    out[`attnVs.${c.name}`] = typeof t === 'number' && tr ? gf(attnFlops(c.shape), t) / tr : NaN;
  }
  for (const M of DECODE_STEP_ROWS) {
    const floor = rt.bw ? tinyBytes / rt.bw : NaN;
    out[`step.${M}`] = rt.step[M];
    out[`floor.${M}`] = rt.step[M] ? floor / rt.step[M] : NaN;
  }
  out.bw = rt.bw;
  return out;
});
const col = (k) => R.map((x) => x[k]);
const trainRatio = spread(col('trainRatio'));
const decodeRatio = spread(col('decodeRatio'));
console.log(
  `\ntraining step (fwd+bwd, weighted) GFLOP/s median: cpu ${r2(median(col('train')))}  openblas ${r2(median(col('trainBlas')))}` +
    `  ratio ${fmt(trainRatio)}` +
    (narrow ? `  ${cpu.isa}/${narrowIsa} ${fmt(spread(col('trainVsNarrow')))}` : ''),
);
console.log(
  `decoding step (32 rows, weighted) GFLOP/s median: cpu ${r2(median(col('decode')))}  openblas ${r2(median(col('decodeBlas')))}` +
    `  ratio ${fmt(decodeRatio)}` +
    (narrow ? `  ${cpu.isa}/${narrowIsa} ${fmt(spread(col('decodeVsNarrow')))}` : ''),
);
const aWasm = aggregate(train, times.wasm),
  aCpuBest = aggregate(train, times.cpu);
if (wasm) console.log(`wasm training-shape matmul ${r2(aWasm)} GFLOP/s (${r3(aWasm / aCpuBest)} of cpu best)`);

const attnVs = {};
for (const c of attnCases) {
  attnVs[c.name] = spread(col(`attnVs.${c.name}`));
  console.log(
    `${c.name} cpu: ${r2(median(col(`attn.${c.name}`)))} GFLOP/s median; vs the same round's training matmul rate ${fmt(attnVs[c.name])}` +
      (attn.wasm[c.name] && typeof attn.wasm[c.name] === 'number'
        ? `; wasm ${r2(gf(attnFlops(c.shape), attn.wasm[c.name]))} GFLOP/s`
        : ''),
  );
}
const floorVs = {};
console.log(
  `\ndecoding step of the embedded model (${tiny.length} Linears, ${r2(tinyBytes / 1e6)} MB of f16 weights): ` +
    `copy bandwidth ${r2(median(col('bw')) / 1e9)} GB/s median -> floor ${r3((tinyBytes / median(col('bw'))) * 1000)} ms`,
);
for (const M of DECODE_STEP_ROWS) {
  floorVs[`rows${M}`] = spread(col(`floor.${M}`));
  const t = median(col(`step.${M}`));
  console.log(
    `  ${M} rows: ${r3(t * 1000)} ms median (${r2(gf(tinyFlops(M), t))} GFLOP/s); floor/step ${fmt(floorVs[`rows${M}`])}` +
      ' (1.0 = at the memory-bandwidth floor)',
  );
}

const streamOut = {};
for (const bn of ['cpu', 'wasm']) {
  for (const M of STREAM_ROWS) {
    const t32 = stream[bn][`${M}.f32`],
      t16 = stream[bn][`${M}.f16`];
    if (t32 === undefined) continue;
    streamOut[`${bn}.rows${M}`] = { f32_ms: r3(t32 * 1000), f16_ms: r3(t16 * 1000), f16_speedup: r3(t32 / t16) };
    console.log(
      `decoding weight stream (d=512 model) ${bn}, ${M} rows: f32 ${r3(t32 * 1000)} ms, f16 weights ${r3(t16 * 1000)} ms ` +
        `(${r3(t32 / t16)}x; 94 / 47 MB per step)`,
    );
  }
}

console.log(
  JSON.stringify({
    bench: 'kernels',
    clock: CLOCK,
    threads: THREADS,
    rounds: ROUNDS,
    loadavg: [r2(load0), r2(load1)],
    machine: `${feat.model} x${feat.cores}`,
    cpu_flags: feat.features,
    isa: cpu?.isa ?? null,
    isa_supported: cpu?.isaSupported ?? [],
    cpu_build: cpu?.buildInfo ?? null,
    openblas_core: np?.blas.core ?? null,
    openblas_core_note: np ? coreNote : null,
    matmul_gflops_cpu: r2(median(col('train'))),
    matmul_gflops_openblas: r2(median(col('trainBlas'))),
    matmul_ratio_vs_openblas: trainRatio?.median ?? null,
    matmul_ratio_vs_openblas_spread: trainRatio,
    decode_matmul_gflops_cpu: r2(median(col('decode'))),
    decode_matmul_gflops_openblas: r2(median(col('decodeBlas'))),
    decode_ratio_vs_openblas: decodeRatio?.median ?? null,
    decode_ratio_vs_openblas_spread: decodeRatio,
    [`matmul_vs_${narrowIsa ?? 'narrow'}`]: narrow ? spread(col('trainVsNarrow')) : null,
    [`decode_vs_${narrowIsa ?? 'narrow'}`]: narrow ? spread(col('decodeVsNarrow')) : null,
    attention_gflops_cpu: r2(median(col('attn.attn.bidir'))),
    attention_decode_gflops_cpu: r2(median(col('attn.attn.decode'))),
    attention_vs_matmul: { bidir512: attnVs['attn.bidir'], rows32_vs_cache1024: attnVs['attn.decode'] },
    decode_step_vs_floor: floorVs,
    decode_step_ms: Object.fromEntries(DECODE_STEP_ROWS.map((M) => [`rows${M}`, r3(median(col(`step.${M}`)) * 1000)])),
    copy_bandwidth_gbs: r2(median(col('bw')) / 1e9),
    matmul_gflops_wasm: r2(aWasm),
    wasm_ratio_vs_cpu: r3(aWasm && aCpuBest && aWasm / aCpuBest),
    attention_gflops_wasm:
      typeof attn.wasm['attn.bidir'] === 'number'
        ? r2(gf(attnFlops(attnCases[0].shape), attn.wasm['attn.bidir']))
        : null,
    decode_weight_stream: streamOut,
    shapes: detail,
  }),
);
