// Parity cases for the CUDA backend: every op of the Backend on fresh random inputs with odd
// shapes, run on the GPU and on a reference backend (the CPU addon), plus the CUDA-only
// bf16 ops against float64 references computed here. Shared by test/cuda.test.ts (when a
// GPU answers) and bench/cuda/device-check.ts, which also hands each case's inputs and GPU
// outputs to PyTorch (bench/cuda/torch_ref.py).
import type { AttnShape, Backend, DecodeParams, MaskKind } from '../lib/backend';
import { CUDA_BF16, CUDA_F32, CudaBackend } from '../lib/cuda';
import type { HostArray, Tensor } from '../lib/tensor';

/** One compared output. `err` is max |gpu - ref| / max(1, |ref|); `skipped` names why no reference ran. */
export interface ParityResult {
  op: string;
  label: string;
  output: string;
  err: number;
  tol: number;
  ok: boolean;
  skipped?: string;
}

/** Inputs, scalar parameters and GPU outputs of one case, for an independent reference (PyTorch). */
export interface ParityCase {
  op: string;
  label: string;
  params: Record<string, number | string | boolean | null>;
  inputs: Record<string, HostArray>;
  outputs: Record<string, HostArray>;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

/** Rounds float32 values to bf16 (nearest even), as the device does. */
export function toBf16Bits(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = u[i];
    out[i] = (v + 0x7fff + ((v >>> 16) & 1)) >>> 16;
  }
  return out;
}
export function bf16ToF32(h: Uint16Array): Float32Array {
  const u = new Uint32Array(h.length);
  for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
  return new Float32Array(u.buffer);
}

/**
 * Runs every case. `ref` is the reference backend (CPU addon); ops it lacks are reported
 * as skipped, never as passed. `keep` receives each case for an outside reference.
 */
export function runCudaParity(
  gpu: CudaBackend,
  ref: Backend,
  seed = 1,
  keep?: (c: ParityCase) => void,
): ParityResult[] {
  const results: ParityResult[] = [];
  const r = rng(seed);
  const rand = (n: number, scale = 1): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
    return a;
  };
  const ints = (n: number, lo: number, hi: number): Int32Array => {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + Math.floor(r() * (hi - lo));
    return a;
  };

  /**
   * Runs `fn` on both backends with tensors made from `inputs` (outputs named in `outs`
   * start as copies of their input values) and compares the named outputs.
   */
  const both = (
    op: string,
    label: string,
    inputs: Record<string, HostArray>,
    outs: Record<string, number>,
    fn: (b: Backend, t: Record<string, Tensor>) => number | void,
    params: ParityCase['params'] = {},
  ): void => {
    const gout: Record<string, HostArray> = {};
    const run = (b: Backend): Record<string, HostArray> | string => {
      const t: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(inputs)) t[k] = b.from(v);
      let scalar: number | void;
      try {
        scalar = fn(b, t);
      } catch (e) {
        const msg = (e as Error).message;
        if (b !== gpu && /not implemented/.test(msg)) return msg;
        throw e;
      }
      const res: Record<string, HostArray> = {};
      for (const k of Object.keys(outs)) res[k] = k === 'value' ? new Float32Array([scalar as number]) : b.read(t[k]);
      for (const v of Object.values(t)) b.free(v);
      return res;
    };
    const g = run(gpu) as Record<string, HostArray>;
    Object.assign(gout, g);
    const c = run(ref);
    for (const [k, tol] of Object.entries(outs)) {
      if (typeof c === 'string') {
        results.push({ op, label, output: k, err: NaN, tol, ok: false, skipped: `reference: ${c}` });
      } else {
        const err = relErr(g[k], c[k]);
        results.push({ op, label, output: k, err, tol, ok: err <= tol });
      }
    }
    keep?.({ op, label, params, inputs, outputs: gout });
  };

  // ---- matmul, all transposes, alpha/beta
  for (const [ta, tb] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    const M = 37,
      N = 53,
      K = 71;
    both(
      'matmul',
      `M${M} N${N} K${K} tA${+ta} tB${+tb}`,
      { A: rand(M * K), B: rand(K * N), C: rand(M * N) },
      { C: 1e-5 },
      (b, t) => b.matmul(t.A, t.B, t.C, M, N, K, ta, tb, 0.7, 0.3),
      { M, N, K, transA: ta, transB: tb, alpha: 0.7, beta: 0.3 },
    );
  }
  // ---- elementwise
  const n = 10007;
  both('add', `n${n}`, { a: rand(n), b: rand(n), out: rand(n) }, { out: 1e-6 }, (b, t) => b.add(t.a, t.b, t.out, n));
  both('scale', `n${n}`, { x: rand(n) }, { x: 1e-6 }, (b, t) => b.scale(t.x, -1.7, n), { s: -1.7 });
  both('axpy', `n${n}`, { x: rand(n), y: rand(n) }, { y: 1e-6 }, (b, t) => b.axpy(0.3, t.x, t.y, n), { a: 0.3 });
  both('sumsq', `n${n}`, { x: rand(n) }, { value: 1e-6 }, (b, t) => b.sumsq(t.x, n));
  both('add_bias', 'r33 c67', { y: rand(33 * 67), b: rand(67) }, { y: 1e-6 }, (b, t) => b.addBias(t.y, t.b, 33, 67));
  both('bias_grad', 'r33 c67', { dy: rand(33 * 67), db: rand(67) }, { db: 1e-5 }, (b, t) =>
    b.biasGrad(t.dy, t.db, 33, 67),
  );
  // ---- embedding (repeated ids)
  {
    const V = 101,
      D = 45,
      N = 29;
    const ids = ints(N, 0, V);
    ids[3] = ids[7] = ids[11];
    both('embedding_fwd', `V${V} D${D} n${N}`, { ids, table: rand(V * D), out: rand(N * D) }, { out: 0 }, (b, t) =>
      b.embeddingFwd(t.ids, t.table, t.out, N, V, D),
    );
    both(
      'embedding_bwd',
      `V${V} D${D} n${N}`,
      { ids, dout: rand(N * D), dtable: rand(V * D) },
      { dtable: 1e-6 },
      (b, t) => b.embeddingBwd(t.ids, t.dout, t.dtable, N, V, D),
    );
  }
  // ---- RMSNorm
  {
    const rows = 19,
      dim = 131,
      eps = 1e-5;
    both(
      'rmsnorm_fwd',
      `r${rows} d${dim}`,
      { x: rand(rows * dim), w: rand(dim), y: rand(rows * dim), rstd: rand(rows) },
      { y: 1e-5, rstd: 1e-5 },
      (b, t) => b.rmsnormFwd(t.x, t.w, t.y, t.rstd, rows, dim, eps),
      { eps },
    );
    const x = rand(rows * dim);
    const rstd = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += x[i * dim + j] ** 2;
      rstd[i] = 1 / Math.sqrt(s / dim + eps);
    }
    both(
      'rmsnorm_bwd',
      `r${rows} d${dim}`,
      { x, w: rand(dim), rstd, dy: rand(rows * dim), dx: rand(rows * dim), dw: rand(dim) },
      { dx: 1e-5, dw: 1e-5 },
      (b, t) => b.rmsnormBwd(t.x, t.w, t.rstd, t.dy, t.dx, t.dw, rows, dim),
    );
  }
  // ---- RoPE (both layouts, forward and inverse)
  for (const interleaved of [false, true])
    for (const inverse of [false, true]) {
      const N = 13,
        H = 3,
        hd = 34,
        rot = 30,
        theta = 10000;
      both(
        'rope',
        `n${N} h${H} hd${hd} rot${rot} il${+interleaved} inv${+inverse}`,
        { x: rand(N * H * hd), pos: ints(N, 0, 5000) },
        { x: 2e-5 },
        (b, t) => b.rope(t.x, t.pos, N, H, hd, rot, theta, interleaved, inverse),
        { n: N, heads: H, headDim: hd, rotDim: rot, theta, interleaved, inverse },
      );
    }
  // ---- attention, every mask, forward and backward; the prefix cases take the split-key path
  const attnCases: AttnShape[] = [
    { Tq: 45, Tk: 45, Hq: 4, Hkv: 2, D: 40, mask: 'bidir' },
    { Tq: 37, Tk: 53, Hq: 4, Hkv: 2, D: 40, mask: 'causal', qOffset: 16 },
    { Tq: 50, Tk: 50, Hq: 4, Hkv: 1, D: 24, mask: 'block_causal', block: 7, origin: 9 },
    { Tq: 42, Tk: 42, Hq: 2, Hkv: 2, D: 40, mask: 'block_diff', block: 5 },
    { Tq: 13, Tk: 300, Hq: 4, Hkv: 2, D: 40, mask: 'prefix', qOffset: 287 },
    { Tq: 32, Tk: 700, Hq: 2, Hkv: 2, D: 128, mask: 'prefix', qOffset: 668 },
    { Tq: 21, Tk: 321, Hq: 4, Hkv: 2, D: 64, mask: 'verify', block: 5, origin: 5, qOffset: 300 },
    { Tq: 9, Tk: 70, Hq: 2, Hkv: 1, D: 200, mask: 'causal', qOffset: 61 },
  ];
  for (const s of attnCases) {
    const nq = s.Tq * s.Hq * s.D,
      nk = s.Tk * s.Hkv * s.D;
    const label = `${s.mask} Tq${s.Tq} Tk${s.Tk} Hq${s.Hq} Hkv${s.Hkv} D${s.D}`;
    const q = rand(nq),
      k = rand(nk),
      v = rand(nk);
    const params = { ...s, mask: s.mask as MaskKind } as unknown as ParityCase['params'];
    both(
      'attention_fwd',
      label,
      { q, k, v, out: rand(nq), lse: rand(s.Tq * s.Hq) },
      { out: 1e-5, lse: 1e-5 },
      (b, t) => b.attentionFwd(t.q, t.k, t.v, t.out, t.lse, s),
      params,
    );
    if (s.D > 128 || s.Tk > 400) continue; // the backward is checked on the training shapes
    // Backward inputs: out and lse from the reference backend's forward.
    const fo = ref.f32(nq),
      fl = ref.f32(s.Tq * s.Hq);
    let out: Float32Array, lse: Float32Array;
    try {
      const [tq, tk, tv] = [q, k, v].map((a) => ref.from(a));
      ref.attentionFwd(tq, tk, tv, fo, fl, s);
      out = ref.read(fo) as Float32Array;
      lse = ref.read(fl) as Float32Array;
    } catch {
      const [tq, tk, tv] = [q, k, v].map((a) => gpu.from(a));
      const go = gpu.f32(nq),
        gl = gpu.f32(s.Tq * s.Hq);
      gpu.attentionFwd(tq, tk, tv, go, gl, s);
      out = gpu.read(go) as Float32Array;
      lse = gpu.read(gl) as Float32Array;
    }
    both(
      'attention_bwd',
      label,
      { q, k, v, out, lse, dout: rand(nq), dq: rand(nq), dk: rand(nk), dv: rand(nk) },
      { dq: 1e-4, dk: 1e-4, dv: 1e-4 },
      (b, t) => b.attentionBwd(t.q, t.k, t.v, t.out, t.lse, t.dout, t.dq, t.dk, t.dv, s),
      params,
    );
  }
  // ---- SwiGLU
  {
    const m = 1001;
    both('swiglu_fwd', `n${m}`, { gate: rand(m, 4), up: rand(m), out: rand(m) }, { out: 1e-5 }, (b, t) =>
      b.swigluFwd(t.gate, t.up, t.out, m),
    );
    both(
      'swiglu_bwd',
      `n${m}`,
      { gate: rand(m, 4), up: rand(m), dout: rand(m), dgate: rand(m), dup: rand(m) },
      { dgate: 1e-5, dup: 1e-5 },
      (b, t) => b.swigluBwd(t.gate, t.up, t.dout, t.dgate, t.dup, m),
    );
  }
  // ---- cross-entropy with a mask id, with and without the gradient
  {
    const N = 7,
      V = 1003,
      maskId = 5;
    const targets = ints(N, 0, V);
    for (let i = 0; i < N; i++) if (targets[i] === maskId) targets[i] = maskId + 1;
    const weights = rand(N);
    weights[2] = 0;
    both(
      'xent',
      `N${N} V${V} grad`,
      { logits: rand(N * V, 5), targets, weights, loss: rand(N), dlogits: rand(N * V) },
      { loss: 1e-5, dlogits: 1e-5 },
      (b, t) => b.xent(t.logits, t.targets, t.weights, t.loss, t.dlogits, N, V, maskId, 0.5),
      { maskId, gradScale: 0.5 },
    );
    both(
      'xent',
      `N${N} V${V} loss only`,
      { logits: rand(N * V, 5), targets, weights, loss: rand(N) },
      { loss: 1e-5 },
      (b, t) => b.xent(t.logits, t.targets, t.weights, t.loss, null, N, V, maskId, 1),
      { maskId, gradScale: 1 },
    );
  }
  // ---- AdamW
  {
    const m = 1001;
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradScale: 0.5, step: 3 };
    both(
      'adamw',
      `n${m}`,
      { param: rand(m), grad: rand(m), m: rand(m, 0.1), v: Float32Array.from(rand(m, 0.1), Math.abs) },
      { param: 1e-6, m: 1e-6, v: 1e-6 },
      (b, t) => b.adamw(t.param, t.grad, t.m, t.v, m, h),
      h,
    );
  }
  // ---- KV cache append
  both(
    'kv_append',
    'max20 row24 len5 T7',
    { cache: rand(20 * 24), src: rand(7 * 24) },
    { cache: 0 },
    (b, t) => b.kvAppend(t.cache, t.src, 5, 7, 24, 20),
    { len: 5, T: 7, row: 24, maxLen: 20 },
  );
  // ---- decode rows: greedy, and filtered sampling
  {
    const N = 9,
      V = 2011;
    const cases: [string, DecodeParams, boolean][] = [
      ['greedy', { maskId: 3, banId: 7 }, false],
      ['T0.8 k50 p0.9 sample', { maskId: 3, temperature: 0.8, topK: 50, topP: 0.9 }, true],
      ['T1.3 p0.5 sample', { temperature: 1.3, topP: 0.5 }, true],
    ];
    for (const [label, p, sample] of cases) {
      const inputs: Record<string, HostArray> = {
        logits: rand(N * V, 6),
        tok: new Int32Array(N),
        prob: new Float32Array(N),
        entropy: new Float32Array(N),
        margin: new Float32Array(N),
      };
      if (sample) inputs.uniforms = Float32Array.from(rand(N), (x) => Math.abs(x) * 0.999);
      both(
        'decode_rows',
        label,
        inputs,
        { tok: 0, prob: 1e-5, entropy: 1e-4, margin: 1e-5 },
        (b, t) => b.decodeRows(t.logits, N, V, p, sample ? t.uniforms : null, t.tok, t.prob, t.entropy, t.margin),
        { N, V, ...p, sample } as ParityCase['params'],
      );
    }
  }

  // ---- CUDA-only bf16 ops against float64 references of the bf16-rounded inputs
  const c = gpu.cuda;
  const dev = (a: ArrayBufferView): number => {
    const p = c.alloc(a.byteLength);
    c.upload(p, a);
    return p;
  };
  for (const [M, N, K, cdt, beta] of [
    [32, 300, 264, CUDA_F32, 0],
    [32, 2048, 1024, CUDA_F32, 1],
    [45, 77, 131, CUDA_BF16, 0],
    [7, 129, 1000, CUDA_F32, 0.5],
    [100, 260, 520, CUDA_BF16, 1],
  ] as const) {
    const A = toBf16Bits(rand(M * K)),
      W = toBf16Bits(rand(N * K, 0.05));
    const C0 = rand(M * N);
    const pA = dev(A),
      pW = dev(W);
    const pC = cdt === CUDA_F32 ? dev(C0) : dev(toBf16Bits(C0));
    c.gemm_bf16(pA, pW, pC, cdt, M, N, K, 1, beta);
    let got: Float32Array;
    if (cdt === CUDA_F32) {
      got = new Float32Array(M * N);
      c.download(got, pC);
    } else {
      const h = new Uint16Array(M * N);
      c.download(h, pC);
      got = bf16ToF32(h);
    }
    const a = bf16ToF32(A),
      w = bf16ToF32(W),
      c0 = cdt === CUDA_F32 ? C0 : bf16ToF32(toBf16Bits(C0));
    const want = new Float64Array(M * N);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let kk = 0; kk < K; kk++) s += a[i * K + kk] * w[j * K + kk];
        want[i * N + j] = s + beta * c0[i * N + j];
      }
    const err = relErr(got, want);
    const tol = cdt === CUDA_F32 ? 1e-4 : 8e-3; // fp32 accumulation; bf16 output rounding
    const label = `M${M} N${N} K${K} out ${cdt === CUDA_F32 ? 'f32' : 'bf16'} beta${beta}`;
    results.push({ op: 'gemm_bf16', label, output: 'C', err, tol, ok: err <= tol });
    keep?.({
      op: 'gemm_bf16',
      label,
      params: { M, N, K, cDtype: cdt, beta },
      inputs: { A: a, W: w, C: c0 },
      outputs: { C: got },
    });
    for (const p of [pA, pW, pC]) c.free(p);
  }
  // bf16 KV cache attention (decode path) against the float attention of the rounded K/V.
  {
    const s: AttnShape = { Tq: 32, Tk: 1056, Hq: 4, Hkv: 4, D: 128, mask: 'prefix', qOffset: 1024 };
    const nq = s.Tq * s.Hq * s.D,
      nk = s.Tk * s.Hkv * s.D;
    const q = rand(nq),
      kb = toBf16Bits(rand(nk)),
      vb = toBf16Bits(rand(nk));
    const pq = dev(q),
      pk = dev(kb),
      pv = dev(vb),
      po = c.alloc(nq * 2);
    c.attention_fwd_x(
      pq,
      s.Hq * s.D,
      pk,
      pv,
      CUDA_BF16,
      po,
      CUDA_BF16,
      null,
      s.Tq,
      s.Tk,
      s.Hq,
      s.Hkv,
      s.D,
      4,
      0,
      0,
      1024,
      1 / Math.sqrt(s.D),
    );
    const h = new Uint16Array(nq);
    c.download(h, po);
    const got = bf16ToF32(h);
    const tq = gpu.from(q),
      tk = gpu.from(bf16ToF32(kb)),
      tv = gpu.from(bf16ToF32(vb)),
      to = gpu.f32(nq);
    gpu.attentionFwd(tq, tk, tv, to, null, s);
    const want = gpu.read(to);
    const err = relErr(got, want);
    results.push({
      op: 'attention_fwd_x',
      label: 'bf16 KV, bf16 out, prefix Tq32 Tk1056 D128',
      output: 'out',
      err,
      tol: 8e-3,
      ok: err <= 8e-3,
    });
    for (const p of [pq, pk, pv, po]) c.free(p);
    for (const t of [tq, tk, tv, to]) gpu.free(t);
  }
  return results;
}
