// Plain float64 reference implementations of the ops, for parity tests and gradient
// checks. Deliberately naive: each is the formula and nothing else.

type Arr = ArrayLike<number>;

/** The value of IEEE binary16 bits `h` (subnormals, infinities and NaN included). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const f32box = new Float32Array(1);
const u32box = new Uint32Array(f32box.buffer);

/** The value of bfloat16 bits `h`: the top half of a float32. */
export function bf16ToF32(h: number): number {
  u32box[0] = h << 16;
  return f32box[0];
}

/** 16-bit float bits → float32 values (what matmul_w16 widens B to). */
export function widen16(bits: ArrayLike<number>, type: 'f16' | 'bf16'): Float32Array {
  const conv = type === 'f16' ? f16ToF32 : bf16ToF32;
  return Float32Array.from({ length: bits.length }, (_, i) => conv(bits[i]));
}

/** C = alpha·op(A)·op(B) + beta·C in float64 (returns a new array). */
export function matmul(
  A: Arr,
  B: Arr,
  C: Arr | null,
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
  alpha = 1,
  beta = 0,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i] : A[i * K + k];
        const b = transB ? B[j * K + k] : B[k * N + j];
        s += a * b;
      }
      out[i * N + j] = alpha * s + (beta !== 0 && C ? beta * C[i * N + j] : 0);
    }
  }
  return out;
}

/** RMSNorm forward: y and 1/rms per row. */
export function rmsnorm(
  x: Arr,
  w: Arr,
  rows: number,
  dim: number,
  eps: number,
): { y: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(rows * dim);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i] ** 2;
    const s = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = s;
    for (let i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * s * w[i];
  }
  return { y, rstd };
}

/** RMSNorm backward (recomputes rstd): dx and dw for upstream gradient dy. */
export function rmsnormBwd(
  x: Arr,
  w: Arr,
  dy: Arr,
  rows: number,
  dim: number,
  eps: number,
): { dx: Float64Array; dw: Float64Array } {
  const dx = new Float64Array(rows * dim);
  const dw = new Float64Array(dim);
  const { rstd } = rmsnorm(x, w, rows, dim, eps);
  for (let r = 0; r < rows; r++) {
    const s = rstd[r];
    let gx = 0;
    for (let i = 0; i < dim; i++) gx += dy[r * dim + i] * w[i] * x[r * dim + i];
    for (let i = 0; i < dim; i++) {
      const o = r * dim + i;
      // y_i = x_i s w_i, ds/dx_j = -s^3 x_j / dim
      dx[o] = s * dy[o] * w[i] - ((s * s * s) / dim) * x[o] * gx;
      dw[i] += dy[o] * x[o] * s;
    }
  }
  return { dx, dw };
}

/** y + b broadcast over rows. */
export function addBias(y: Arr, b: Arr, rows: number, cols: number): Float64Array {
  const out = Float64Array.from(y);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] += b[c];
  return out;
}

/** Column sums of dy [rows, cols]. */
export function biasGrad(dy: Arr, rows: number, cols: number): Float64Array {
  const db = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) db[c] += dy[r * cols + c];
  return db;
}

export function add(a: Arr, b: Arr): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}

export function scale(x: Arr, s: number): Float64Array {
  return Float64Array.from(x, (v) => v * s);
}

/** y + a·x. */
export function axpy(a: number, x: Arr, y: Arr): Float64Array {
  return Float64Array.from(y, (v, i) => v + a * x[i]);
}

export function sumsq(x: Arr): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** Gathers rows of table [vocab, dim]. */
export function embeddingFwd(ids: Arr, table: Arr, n: number, dim: number): Float64Array {
  const out = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) out[i * dim + j] = table[ids[i] * dim + j];
  return out;
}

/** Scatter-adds dout rows into a zero [vocab, dim] table. */
export function embeddingBwd(ids: Arr, dout: Arr, n: number, vocab: number, dim: number): Float64Array {
  const d = new Float64Array(vocab * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) d[ids[i] * dim + j] += dout[i * dim + j];
  return d;
}

/** Rotary embedding of x [n, heads, headDim] (returns a new array); see sd_rope. */
export function rope(
  x: Arr,
  pos: Arr,
  n: number,
  heads: number,
  headDim: number,
  rotDim: number,
  theta: number,
  interleaved = false,
  inverse = false,
): Float64Array {
  const out = Float64Array.from(x);
  const half = rotDim / 2;
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = (inverse ? -1 : 1) * pos[t] * Math.pow(theta, (-2 * i) / rotDim);
        const ia = base + (interleaved ? 2 * i : i);
        const ib = base + (interleaved ? 2 * i + 1 : i + half);
        const a = x[ia];
        const b = x[ib];
        out[ia] = a * Math.cos(angle) - b * Math.sin(angle);
        out[ib] = a * Math.sin(angle) + b * Math.cos(angle);
      }
    }
  }
  return out;
}

/** Shape of one attention call (the fields of sd_attn_shape, mask by name). */
export interface RefAttnShape {
  Tq: number;
  Tk: number;
  Hq: number;
  Hkv: number;
  D: number;
  mask: 'bidir' | 'causal' | 'block_causal' | 'block_diff' | 'prefix' | 'verify';
  block?: number;
  origin?: number;
  qOffset?: number;
  scale?: number;
}

/** Whether query i may see key j: the definitions of include/sd_ops.h, written literally. */
export function attentionVisible(s: RefAttnShape, i: number, j: number): boolean {
  const qi = (s.qOffset ?? 0) + i;
  const block = s.block ?? 0;
  const origin = s.origin ?? 0;
  switch (s.mask) {
    case 'bidir':
      return true;
    case 'causal':
      return j <= qi;
    case 'block_causal': {
      const blk = (p: number) => (p < origin ? 0 : 1 + Math.floor((p - origin) / block));
      return blk(j) <= blk(qi);
    }
    case 'block_diff': {
      const L = s.Tq / 2;
      const blk = (p: number) => Math.floor((p % L) / block);
      const qClean = qi >= L;
      const kClean = j >= L;
      if (!qClean) return (!kClean && blk(j) === blk(qi)) || (kClean && blk(j) < blk(qi));
      return kClean && blk(j) <= blk(qi);
    }
    case 'prefix':
      return j < (s.qOffset ?? 0) + s.Tq;
    case 'verify': {
      // Keys are [cache (C) ; the Tq new rows]: m clean rows, v one-token masks, a draft block.
      const C = s.qOffset ?? 0;
      const m = block;
      const v = origin;
      if (i < m) return j <= C + i;
      if (i < m + v) return j <= C + (i - m) || j === C + i;
      return j < C + m || j >= C + m + v;
    }
  }
}

/** Row-softmax probabilities P [Hq, Tq, Tk] of the masked, scaled scores (fully materialised). */
function attentionProbs(q: Arr, k: Arr, s: RefAttnShape): { P: Float64Array; lse: Float64Array } {
  const { Tq, Tk, Hq, Hkv, D } = s;
  const sc = s.scale ?? 1 / Math.sqrt(D);
  const group = Hq / Hkv;
  const P = new Float64Array(Hq * Tq * Tk);
  const lse = new Float64Array(Hq * Tq);
  for (let h = 0; h < Hq; h++) {
    const hk = Math.floor(h / group);
    for (let i = 0; i < Tq; i++) {
      const row = (h * Tq + i) * Tk;
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) {
        let v = -Infinity;
        if (attentionVisible(s, i, j)) {
          v = 0;
          for (let d = 0; d < D; d++) v += q[(i * Hq + h) * D + d] * k[(j * Hkv + hk) * D + d];
          v *= sc;
        }
        P[row + j] = v;
        m = Math.max(m, v);
      }
      if (m === -Infinity) {
        // No visible key: zero probabilities (zero output), lse = -inf.
        for (let j = 0; j < Tk; j++) P[row + j] = 0;
        lse[h * Tq + i] = -Infinity;
        continue;
      }
      let z = 0;
      for (let j = 0; j < Tk; j++) z += Math.exp(P[row + j] - m);
      for (let j = 0; j < Tk; j++) P[row + j] = Math.exp(P[row + j] - m) / z;
      lse[h * Tq + i] = m + Math.log(z);
    }
  }
  return { P, lse };
}

/** Attention forward: out [Tq, Hq, D] and lse [Hq, Tq]. */
export function attentionFwd(q: Arr, k: Arr, v: Arr, s: RefAttnShape): { out: Float64Array; lse: Float64Array } {
  const { Tq, Tk, Hq, Hkv, D } = s;
  const group = Hq / Hkv;
  const { P, lse } = attentionProbs(q, k, s);
  const out = new Float64Array(Tq * Hq * D);
  for (let h = 0; h < Hq; h++) {
    const hk = Math.floor(h / group);
    for (let i = 0; i < Tq; i++)
      for (let j = 0; j < Tk; j++) {
        const p = P[(h * Tq + i) * Tk + j];
        if (p === 0) continue;
        for (let d = 0; d < D; d++) out[(i * Hq + h) * D + d] += p * v[(j * Hkv + hk) * D + d];
      }
  }
  return { out, lse };
}

/** Attention backward by the softmax Jacobian: dS = P ∘ (dP - rowsum(P ∘ dP)). */
export function attentionBwd(
  q: Arr,
  k: Arr,
  v: Arr,
  dout: Arr,
  s: RefAttnShape,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { Tq, Tk, Hq, Hkv, D } = s;
  const sc = s.scale ?? 1 / Math.sqrt(D);
  const group = Hq / Hkv;
  const { P } = attentionProbs(q, k, s);
  const dq = new Float64Array(Tq * Hq * D);
  const dk = new Float64Array(Tk * Hkv * D);
  const dv = new Float64Array(Tk * Hkv * D);
  const dP = new Float64Array(Tk);
  for (let h = 0; h < Hq; h++) {
    const hk = Math.floor(h / group);
    for (let i = 0; i < Tq; i++) {
      const row = (h * Tq + i) * Tk;
      const qo = (i * Hq + h) * D;
      let rowDot = 0;
      for (let j = 0; j < Tk; j++) {
        let g = 0;
        for (let d = 0; d < D; d++) g += dout[qo + d] * v[(j * Hkv + hk) * D + d];
        dP[j] = g;
        rowDot += P[row + j] * g;
      }
      for (let j = 0; j < Tk; j++) {
        const p = P[row + j];
        if (p === 0) continue;
        const ds = p * (dP[j] - rowDot) * sc;
        const ko = (j * Hkv + hk) * D;
        for (let d = 0; d < D; d++) {
          dv[ko + d] += p * dout[qo + d];
          dq[qo + d] += ds * k[ko + d];
          dk[ko + d] += ds * q[qo + d];
        }
      }
    }
  }
  return { dq, dk, dv };
}

const silu = (g: number) => g / (1 + Math.exp(-g));

export function swigluFwd(gate: Arr, up: Arr): Float64Array {
  return Float64Array.from(gate, (g, i) => silu(g) * up[i]);
}

export function swigluBwd(gate: Arr, up: Arr, dout: Arr): { dgate: Float64Array; dup: Float64Array } {
  const dgate = new Float64Array(gate.length);
  const dup = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const sg = 1 / (1 + Math.exp(-gate[i]));
    dgate[i] = dout[i] * up[i] * (sg + gate[i] * sg * (1 - sg));
    dup[i] = dout[i] * silu(gate[i]);
  }
  return { dgate, dup };
}

/** Cross-entropy per row with maskId's logit at -inf; dlogits = w·gradScale·(p - onehot). */
export function xent(
  logits: Arr,
  targets: Arr,
  weights: Arr,
  N: number,
  V: number,
  maskId: number,
  gradScale = 1,
): { loss: Float64Array; dlogits: Float64Array } {
  const loss = new Float64Array(N);
  const dlogits = new Float64Array(N * V);
  for (let r = 0; r < N; r++) {
    let m = -Infinity;
    for (let j = 0; j < V; j++) if (j !== maskId) m = Math.max(m, logits[r * V + j]);
    let z = 0;
    for (let j = 0; j < V; j++) if (j !== maskId) z += Math.exp(logits[r * V + j] - m);
    const lse = m + Math.log(z);
    loss[r] = lse - logits[r * V + targets[r]];
    const g = weights[r] * gradScale;
    for (let j = 0; j < V; j++) {
      const p = j === maskId ? 0 : Math.exp(logits[r * V + j] - lse);
      dlogits[r * V + j] = g * (p - (j === targets[r] ? 1 : 0));
    }
  }
  return { loss, dlogits };
}

/** One AdamW step (torch.optim.AdamW semantics with gradScale applied to the gradient first). */
export function adamw(
  param: Arr,
  grad: Arr,
  m: Arr,
  v: Arr,
  h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; gradScale?: number; step: number },
): { param: Float64Array; m: Float64Array; v: Float64Array } {
  const n = param.length;
  const p2 = new Float64Array(n);
  const m2 = new Float64Array(n);
  const v2 = new Float64Array(n);
  const gs = h.gradScale ?? 1;
  for (let i = 0; i < n; i++) {
    const g = grad[i] * gs;
    m2[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
    v2[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    const mhat = m2[i] / (1 - Math.pow(h.beta1, h.step));
    const vhat = v2[i] / (1 - Math.pow(h.beta2, h.step));
    p2[i] = param[i] - h.lr * h.weightDecay * param[i] - (h.lr * mhat) / (Math.sqrt(vhat) + h.eps);
  }
  return { param: p2, m: m2, v: v2 };
}

/** cache with src [T, row] copied to rows [len, len + T). */
export function kvAppend(cache: Arr, src: Arr, len: number, row: number): Float64Array {
  const out = Float64Array.from(cache);
  for (let i = 0; i < src.length; i++) out[len * row + i] = src[i];
  return out;
}

/** Pool rows slots[i] = src row i (kv_scatter). */
export function kvScatter(pool: Arr, src: Arr, slots: ArrayLike<number>, row: number): Float64Array {
  const out = Float64Array.from(pool);
  for (let i = 0; i < slots.length; i++) for (let c = 0; c < row; c++) out[slots[i] * row + c] = src[i * row + c];
  return out;
}

/** One sequence of a paged attention call (see attention_paged_fwd). */
export interface RefPagedSeq extends Omit<RefAttnShape, 'Hq' | 'Hkv' | 'D' | 'scale'> {
  q0: number;
  page0: number;
}

/**
 * Paged attention forward: each sequence's keys gathered from its pages into rows 0..Tk-1,
 * then attentionFwd on its query rows. Returns out [N, Hq, D] (rows no sequence covers: 0).
 */
export function attentionPagedFwd(
  q: Arr,
  kPool: Arr,
  vPool: Arr,
  seqs: RefPagedSeq[],
  pages: ArrayLike<number>,
  g: { N: number; Hq: number; Hkv: number; D: number; pageSize: number; scale?: number },
): Float64Array {
  const { Hq, Hkv, D, pageSize: P } = g;
  const row = Hkv * D;
  const out = new Float64Array(g.N * Hq * D);
  for (const s of seqs) {
    const k = new Float64Array(s.Tk * row);
    const v = new Float64Array(s.Tk * row);
    for (let j = 0; j < s.Tk; j++) {
      const at = (pages[s.page0 + Math.floor(j / P)] * P + (j % P)) * row;
      for (let c = 0; c < row; c++) {
        k[j * row + c] = kPool[at + c];
        v[j * row + c] = vPool[at + c];
      }
    }
    const qs = Array.prototype.slice.call(q, s.q0 * Hq * D, (s.q0 + s.Tq) * Hq * D) as number[];
    const r = attentionFwd(qs, k, v, { ...s, Hq, Hkv, D, scale: g.scale });
    out.set(r.out, s.q0 * Hq * D);
  }
  return out;
}

/**
 * Decoding statistics per row (see sd_decode_rows and native/src/cpu/decode.cpp for the
 * exact filtering rules): tok, prob of tok, entropy, top1 - top2 margin.
 */
export function decodeRows(
  logits: Arr,
  N: number,
  V: number,
  p: { maskId?: number; banId?: number; temperature?: number; topK?: number; topP?: number },
  uniforms: Arr | null,
): { tok: Int32Array; prob: Float64Array; entropy: Float64Array; margin: Float64Array } {
  const tok = new Int32Array(N);
  const prob = new Float64Array(N);
  const entropy = new Float64Array(N);
  const margin = new Float64Array(N);
  const T = (p.temperature ?? 0) > 0 ? (p.temperature as number) : 1;
  const topK = p.topK ?? 0;
  const topP = p.topP ?? 1;
  for (let r = 0; r < N; r++) {
    const z = Array.from({ length: V }, (_, j) =>
      j === p.maskId || j === p.banId ? -Infinity : Math.fround(logits[r * V + j]) / T,
    );
    const finite = z.filter((x) => x > -Infinity);
    if (topK > 0 && topK < finite.length) {
      const kth = [...finite].sort((a, b) => b - a)[topK - 1];
      for (let j = 0; j < V; j++) if (z[j] < kth) z[j] = -Infinity;
    }
    const m = Math.max(...z);
    const e = z.map((x) => (x === -Infinity ? 0 : Math.exp(x - m)));
    if (topP < 1) {
      const total = e.reduce((a, b) => a + b, 0);
      const order = e
        .map((x, j) => j)
        .filter((j) => e[j] > 0)
        .sort((a, b) => e[b] - e[a] || a - b);
      let cum = 0;
      let keep = order.length;
      for (let i = 0; i < order.length; i++) {
        cum += e[order[i]];
        if (cum >= topP * total) {
          keep = i + 1;
          break;
        }
      }
      for (let i = keep; i < order.length; i++) e[order[i]] = 0;
    }
    const total = e.reduce((a, b) => a + b, 0);
    const pr = e.map((x) => x / total);
    let best = 0;
    for (let j = 1; j < V; j++) if (z[j] > z[best]) best = j;
    let t = best;
    if (uniforms && (p.temperature ?? 0) > 0) {
      let cum = 0;
      t = -1;
      let last = best;
      for (let j = 0; j < V; j++) {
        if (pr[j] <= 0) continue;
        last = j;
        cum += pr[j];
        if (cum > uniforms[r]) {
          t = j;
          break;
        }
      }
      if (t < 0) t = last;
    }
    tok[r] = t;
    prob[r] = pr[t];
    entropy[r] = -pr.reduce((a, x) => (x > 0 ? a + x * Math.log(x) : a), 0);
    let second = 0;
    for (let j = 0; j < V; j++) if (j !== best) second = Math.max(second, pr[j]);
    margin[r] = pr[best] - second;
  }
  return { tok, prob, entropy, margin };
}
