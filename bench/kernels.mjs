// Kernel throughput: matmul (and attention) GFLOP/s on every backend this machine runs,
// against numpy's bundled OpenBLAS on the same shapes and thread count, measured in the
// same run (bench/kernels_numpy.py). Shapes are those of a 6-layer d=512 model (SwiGLU
// 1408, vocab 8192) at sequence 512 — forward and backward — and of a decoding step
// (32 query rows against the same weights); and a decoding step's whole weight stream at 2, 8 and
// 32 rows with float32 weights vs their 16-bit copy (matmul_w16). Ends on one JSON line.
//
//   tools/pnpm bench kernels            (SD_NATIVE_PATH / SD_WASM_PATH pick other builds)
//   SD_BENCH_REPS=5 SD_BENCH_BUDGET=0.3 (minimum timed repetitions / seconds per shape)
//   SD_BENCH_ROUNDS=2                   (ours and numpy alternate this many times per shape)
// On a shared machine other processes steal cores: ours and numpy alternate shape by shape
// (numpy runs as a line-oriented child process), the best time per shape is kept, and the load
// average is printed, so both sides are compared under the same conditions.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as settle } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import native from '../native/dist/index.js';

const { availableBackends, cpuFeatures } = native;
const here = path.dirname(fileURLToPath(import.meta.url));
const THREADS = 2;
const MIN_REPS = Number(process.env.SD_BENCH_REPS ?? 5);
const BUDGET_S = Number(process.env.SD_BENCH_BUDGET ?? 0.3);
const ROUNDS = Math.max(1, Number(process.env.SD_BENCH_ROUNDS ?? 2));

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
    const t0 = performance.now();
    fn();
    const dt = (performance.now() - t0) / 1000;
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
async function startNumpy() {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(THREADS) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
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
        child.stdin.write(JSON.stringify({ name, M, N, K, ta, tb, reps, budget }) + '\n');
        return (await next()).seconds;
      },
      close: () => child.stdin.end(),
    };
  } catch (e) {
    console.log(`numpy anchor failed: ${e.message}`);
    return null;
  }
}

// ---------------------------------------------------------------- run
const gf = (f, t) => (t ? f / t / 1e9 : null);
const r2 = (x) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
const r3 = (x) => (x === null || x === undefined ? null : Math.round(x * 1000) / 1000);

const backends = availableBackends();
const cpu = backends.find((b) => b.name === 'cpu');
const wasm = backends.find((b) => b.name === 'wasm');
const feat = cpuFeatures();
console.log(`machine: ${feat.model}, ${feat.cores} cores [${feat.features.join(' ')}]`);
for (const b of backends) console.log(`backend ${b.name}: ${b.buildInfo}`);
if (cpu) cpu.numThreads = THREADS;

const load0 = os.loadavg()[0];
const times = { cpu: {}, wasm: {} };
const keepBest = (into, name, t) => {
  into[name] = Math.min(into[name] ?? Infinity, t);
};
// WASM is single-threaded and ~5× slower: one round with fewer repetitions keeps the run short.
if (wasm) for (const s of shapes) times.wasm[s.name] = timeMatmul(wasm, s, 2, 0.2);
const attn = { cpu: {}, wasm: {} };
for (const c of attnCases) {
  if (cpu) attn.cpu[c.name] = timeAttention(cpu, c);
  if (wasm) attn.wasm[c.name] = timeAttention(wasm, c, 2, 0.2);
}
const stream = { cpu: {}, wasm: {} };
for (const [bn, b] of [
  ['cpu', cpu],
  ['wasm', wasm],
]) {
  if (!b || !b.has('matmul_w16')) continue;
  const ws = streamWeights(b);
  for (const M of STREAM_ROWS) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const half of [false, true]) {
        const key = `${M}.${half ? 'f16' : 'f32'}`;
        keepBest(stream[bn], key, timeStream(b, ws, M, half, bn === 'cpu' ? 5 : 2, bn === 'cpu' ? 0.5 : 0.2));
      }
    }
  }
  for (const w of ws) {
    b.free(w.w32);
    b.free(w.w16);
  }
}

// Idle worker threads spin before they sleep (OpenBLAS's for up to ~0.1 s, OpenMP's ~1 ms):
// a pause before each side starts keeps the other side's spinning threads off its cores.
const anchor = await startNumpy();
const np = anchor && { blas: anchor.blas, results: {} };
for (const s of shapes) {
  for (let round = 0; round < ROUNDS; round++) {
    await settle(300);
    if (cpu) keepBest(times.cpu, s.name, timeMatmul(cpu, s));
    await settle(20);
    if (anchor) keepBest(np.results, s.name, await anchor.time(s));
  }
}
anchor?.close();
const load1 = os.loadavg()[0];
if (np) {
  const bl = np.blas;
  console.log(
    `anchor: numpy ${bl.numpy}, ${bl.name} ${bl.version}, core ${bl.core} (${bl.via ?? 'n/a'}), threads ${bl.threads}`,
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
  `\n${'shape'.padEnd(16)}${pad('M', 6)}${pad('N', 6)}${pad('K', 6)} tA tB${pad('cpu GF/s', 10)}` +
    `${pad('blas GF/s', 11)}${pad('cpu/blas', 10)}${pad('wasm GF/s', 11)}`,
);
const detail = {};
for (const s of shapes) {
  const c = gf(flops(s), times.cpu[s.name]);
  const o = gf(flops(s), np?.results[s.name]);
  const w = gf(flops(s), times.wasm[s.name]);
  detail[s.name] = { M: s.M, N: s.N, K: s.K, ta: s.ta, tb: s.tb, cpu: r2(c), openblas: r2(o), wasm: r2(w) };
  detail[s.name].ratio = c && o ? r3(c / o) : null;
  console.log(
    `${s.name.padEnd(16)}${pad(s.M, 6)}${pad(s.N, 6)}${pad(s.K, 6)}  ${s.ta ? 'T' : 'N'}  ${s.tb ? 'T' : 'N'}` +
      `${pad(r2(c), 10)}${pad(r2(o), 11)}${pad(detail[s.name].ratio, 10)}${pad(r2(w), 11)}`,
  );
}
const aCpu = aggregate(train, times.cpu);
const aBlas = aggregate(train, np?.results);
const aWasm = aggregate(train, times.wasm);
const dCpu = aggregate(decode, times.cpu);
const dBlas = aggregate(decode, np?.results);
const dWasm = aggregate(decode, times.wasm);
console.log(
  `\ntraining step (fwd+bwd, weighted): cpu ${r2(aCpu)}  openblas ${r2(aBlas)}  ratio ${r3(aCpu && aBlas && aCpu / aBlas)}` +
    `  wasm ${r2(aWasm)}  wasm/cpu ${r3(aWasm && aCpu && aWasm / aCpu)}`,
);
console.log(
  `decoding step (32 rows, weighted): cpu ${r2(dCpu)}  openblas ${r2(dBlas)}  ratio ${r3(dCpu && dBlas && dCpu / dBlas)}` +
    `  wasm ${r2(dWasm)}`,
);

const streamOut = {};
for (const bn of ['cpu', 'wasm']) {
  for (const M of STREAM_ROWS) {
    const t32 = stream[bn][`${M}.f32`],
      t16 = stream[bn][`${M}.f16`];
    if (t32 === undefined) continue;
    streamOut[`${bn}.rows${M}`] = { f32_ms: r3(t32 * 1000), f16_ms: r3(t16 * 1000), f16_speedup: r3(t32 / t16) };
    console.log(
      `decoding weight stream ${bn}, ${M} rows: f32 ${r3(t32 * 1000)} ms, f16 weights ${r3(t16 * 1000)} ms ` +
        `(${r3(t32 / t16)}x; 94 / 47 MB per step)`,
    );
  }
}

const attnOut = {};
for (const c of attnCases) {
  for (const bn of ['cpu', 'wasm']) {
    const t = attn[bn][c.name];
    if (t === undefined) continue;
    if (typeof t === 'number') {
      attnOut[`${c.name}.${bn}`] = r2(gf(attnFlops(c.shape), t));
      console.log(`${c.name} ${bn}: ${r2(gf(attnFlops(c.shape), t))} GFLOP/s (${r3(t * 1000)} ms)`);
    } else {
      attnOut[`${c.name}.${bn}`] = null;
      console.log(`${c.name} ${bn}: ${t.missing}`);
    }
  }
}

console.log(
  JSON.stringify({
    bench: 'kernels',
    threads: THREADS,
    rounds: ROUNDS,
    loadavg: [r2(load0), r2(load1)],
    machine: `${feat.model} x${feat.cores}`,
    cpu_build: cpu?.buildInfo ?? null,
    openblas_core: np?.blas.core ?? null,
    matmul_gflops_cpu: r2(aCpu),
    matmul_gflops_openblas: r2(aBlas),
    matmul_ratio_vs_openblas: r3(aCpu && aBlas && aCpu / aBlas),
    matmul_gflops_wasm: r2(aWasm),
    wasm_ratio_vs_cpu: r3(aWasm && aCpu && aWasm / aCpu),
    decode_matmul_gflops_cpu: r2(dCpu),
    decode_matmul_gflops_openblas: r2(dBlas),
    decode_ratio_vs_openblas: r3(dCpu && dBlas && dCpu / dBlas),
    decode_matmul_gflops_wasm: r2(dWasm),
    attention_gflops_cpu: attnOut['attn.bidir.cpu'] ?? null,
    attention_decode_gflops_cpu: attnOut['attn.decode.cpu'] ?? null,
    attention_gflops_wasm: attnOut['attn.bidir.wasm'] ?? null,
    attention_decode_gflops_wasm: attnOut['attn.decode.wasm'] ?? null,
    decode_weight_stream: streamOut,
    shapes: detail,
  }),
);
