import { OpError, checkF32, checkI32, checkInt, checkReal, checkU16 } from './check';
import { DType, HostArray, Tensor } from './tensor';

export type BackendName = 'cpu' | 'wasm' | 'cuda';

/** Shapes, scalars and buffers of a matmul call; `checkB` checks B's dtype (f32 or u16). */
function checkMatmul(
  op: string,
  A: Tensor,
  B: Tensor,
  C: Tensor,
  M: number,
  N: number,
  K: number,
  alpha: number,
  beta: number,
  checkB: typeof checkF32,
): void {
  checkInt(op, { M, N, K }, 1);
  checkReal(op, { alpha, beta });
  checkF32(op, 'A', A, M * K);
  checkB(op, 'B', B, K * N);
  checkF32(op, 'C', C, M * N);
}

/** 16-bit float formats of matmulW16's B. */
export type HalfType = 'f16' | 'bf16';
/**
 * matmulW16's B types: the exact-widening formats, and 'bf16-dot' (bf16 B times A rounded to
 * bf16, products summed in float32: AVX512-BF16's native dot product, emulated elsewhere; within
 * 2^-8·Σ|a·b| of 'bf16', not bit-identical).
 */
export type W16Type = HalfType | 'bf16-dot';
/** Their SD_DTYPE_* codes in sd_ops.h. */
const HALF_CODES: Record<W16Type, number> = { f16: 1, bf16: 2, 'bf16-dot': 3 };

/** Raw kernel functions with the C argument order of include/sd_ops.h (the addon's exports). */
export type RawKernels = Record<string, (...args: never[]) => unknown>;

/**
 * The op set over tensors, shared by every backend. Each method validates shapes and
 * buffer lengths here (the boundary) and then calls the backend's kernel, which checks
 * dimensions, ids and scalars again in C and reports problems as JS errors.
 */
export abstract class Backend {
  abstract readonly name: BackendName;
  /** Short description of the kernels' build ("cpu avx2 fma openmp", "cpu wasm32 simd128"). */
  abstract readonly buildInfo: string;

  /** Allocates a zero-filled tensor. */
  abstract alloc(dtype: DType, length: number): Tensor;
  /** Returns a tensor's memory to the backend (a no-op where the GC owns it). Views are not freed. */
  abstract free(t: Tensor): void;

  /**
   * A view of `length` elements of `t` from element `offset`. Checked here for every backend, so no
   * public path makes a view larger than its storage.
   */
  sliceTensor(t: Tensor, offset: number, length: number): Tensor {
    if (!t || t.backend !== this) throw new Error(`sliceTensor: not a tensor of the ${this.name} backend`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`sliceTensor: offset ${offset} and length ${length} must be integers >= 0`);
    }
    if (offset + length > t.length) {
      throw new RangeError(`sliceTensor: [${offset}, ${offset + length}) is outside a tensor of ${t.length} elements`);
    }
    return this.sliceView(t, offset, length);
  }
  /** The backend's view construction (bounds already checked by sliceTensor). */
  protected abstract sliceView(t: Tensor, offset: number, length: number): Tensor;

  // The safety net for memory the GC does not own (WASM, CUDA): an allocation whose Tensor is
  // collected without free() is released then. dispose()/free() are the mechanism; this only
  // keeps a forgotten one from leaking forever.
  private registry: FinalizationRegistry<unknown> | null = null;
  /** Registers an allocation with the safety net (backends whose memory the GC does not own). */
  protected track(t: Tensor): Tensor {
    this.registry ??= new FinalizationRegistry((handle) => this.release(handle));
    this.registry.register(t, t.handle, t);
    return t;
  }
  protected untrack(t: Tensor): void {
    this.registry?.unregister(t);
  }
  /** Frees an allocation by its handle (called by the safety net). */
  protected release(_handle: unknown): void {
    // memory owned by the GC: nothing to do
  }
  /** Host view of a tensor's memory (CPU, WASM). */
  abstract view(t: Tensor): HostArray;
  /** What the raw kernels take for a tensor: a typed array (addon) or a byte address (WASM). */
  protected abstract ref(t: Tensor | null): unknown;
  protected abstract readonly k: RawKernels;

  abstract get numThreads(): number;
  abstract set numThreads(n: number);

  f32(length: number): Tensor {
    return this.alloc('f32', length);
  }
  i32(length: number): Tensor {
    return this.alloc('i32', length);
  }
  /** A new tensor holding a copy of `src`. */
  from(src: HostArray | number[], dtype?: DType): Tensor {
    const dt: DType = dtype ?? (src instanceof Int32Array ? 'i32' : src instanceof Uint16Array ? 'u16' : 'f32');
    const t = this.alloc(dt, src.length);
    this.write(t, src);
    return t;
  }
  /** Copies `src` into `t` starting at element `offset`. */
  write(t: Tensor, src: HostArray | number[], offset = 0): void {
    if (offset + src.length > t.length) {
      throw new RangeError(`write: ${src.length} values at offset ${offset} overflow a tensor of ${t.length}`);
    }
    this.view(t).set(src, offset);
  }
  /** A copy of `t` as a host typed array. */
  read(t: Tensor): HostArray {
    return this.view(t).slice();
  }

  protected call(op: string, ...args: unknown[]): void {
    this.callValue(op, ...args);
  }
  protected callValue<T = number>(op: string, ...args: unknown[]): T {
    const fn = this.k[op] as ((...a: unknown[]) => T) | undefined;
    if (!fn) throw new OpError(op, `not implemented by the ${this.name} backend (${this.buildInfo})`);
    return fn(...args);
  }

  // ------------------------------------------------------------------ ops
  /** C[M,N] = alpha·op(A)·op(B) + beta·C; A is [M,K] ([K,M] if transA), B is [K,N] ([N,K] if transB). */
  matmul(
    A: Tensor,
    B: Tensor,
    C: Tensor,
    M: number,
    N: number,
    K: number,
    transA = false,
    transB = false,
    alpha = 1,
    beta = 0,
  ): void {
    checkMatmul('matmul', A, B, C, M, N, K, alpha, beta, checkF32);
    this.call('matmul', this.ref(A), this.ref(B), this.ref(C), M, N, K, +transA, +transB, alpha, beta);
  }

  /** Whether this backend has the kernel of an op (named as in sd_ops.h without "sd_"). */
  has(op: string): boolean {
    return typeof this.k[op] === 'function';
  }

  /**
   * matmul with B stored as 16-bit floats (a u16 tensor of binary16 or bfloat16 bits), widened
   * exactly while packed: the same result, bit for bit, as matmul over the widened B, reading half
   * the bytes. CPU and WASM backends (see has('matmul_w16')).
   */
  matmulW16(
    A: Tensor,
    B: Tensor,
    C: Tensor,
    M: number,
    N: number,
    K: number,
    transA: boolean,
    transB: boolean,
    bType: W16Type,
    alpha = 1,
    beta = 0,
  ): void {
    const op = 'matmul_w16';
    if (!Object.prototype.hasOwnProperty.call(HALF_CODES, bType))
      throw new OpError(op, `bType must be 'f16', 'bf16' or 'bf16-dot', got ${String(bType)}`);
    checkMatmul(op, A, B, C, M, N, K, alpha, beta, checkU16);
    this.call(op, this.ref(A), this.ref(B), this.ref(C), M, N, K, +transA, +transB, alpha, beta, HALF_CODES[bType]);
  }

  /** y = x / rms(x) · w per row of x [rows, dim]; rstd [rows] (optional) keeps 1/rms for the backward. */
  rmsnormFwd(x: Tensor, w: Tensor, y: Tensor, rstd: Tensor | null, rows: number, dim: number, eps: number): void {
    const op = 'rmsnorm_fwd';
    checkInt(op, { rows, dim }, 1);
    checkReal(op, { eps });
    checkF32(op, 'x', x, rows * dim);
    checkF32(op, 'w', w, dim);
    checkF32(op, 'y', y, rows * dim);
    if (rstd) checkF32(op, 'rstd', rstd, rows);
    this.call(op, this.ref(x), this.ref(w), this.ref(y), this.ref(rstd), rows, dim, eps);
  }

  /** dx += ∂L/∂x, dw += ∂L/∂w (dw optional) for RMSNorm, given the forward's rstd. */
  rmsnormBwd(
    x: Tensor,
    w: Tensor,
    rstd: Tensor,
    dy: Tensor,
    dx: Tensor,
    dw: Tensor | null,
    rows: number,
    dim: number,
  ): void {
    const op = 'rmsnorm_bwd';
    checkInt(op, { rows, dim }, 1);
    checkF32(op, 'x', x, rows * dim);
    checkF32(op, 'w', w, dim);
    checkF32(op, 'rstd', rstd, rows);
    checkF32(op, 'dy', dy, rows * dim);
    checkF32(op, 'dx', dx, rows * dim);
    if (dw) checkF32(op, 'dw', dw, dim);
    this.call(op, this.ref(x), this.ref(w), this.ref(rstd), this.ref(dy), this.ref(dx), this.ref(dw), rows, dim);
  }

  /** y[r, :] += b over y [rows, cols]. */
  addBias(y: Tensor, b: Tensor, rows: number, cols: number): void {
    const op = 'add_bias';
    checkInt(op, { rows, cols }, 1);
    checkF32(op, 'y', y, rows * cols);
    checkF32(op, 'b', b, cols);
    this.call(op, this.ref(y), this.ref(b), rows, cols);
  }

  /** db += column sums of dy [rows, cols]. */
  biasGrad(dy: Tensor, db: Tensor, rows: number, cols: number): void {
    const op = 'bias_grad';
    checkInt(op, { rows, cols }, 1);
    checkF32(op, 'dy', dy, rows * cols);
    checkF32(op, 'db', db, cols);
    this.call(op, this.ref(dy), this.ref(db), rows, cols);
  }

  /** out = a + b over n elements (out may alias a or b). */
  add(a: Tensor, b: Tensor, out: Tensor, n: number): void {
    const op = 'add';
    checkInt(op, { n }, 1);
    checkF32(op, 'a', a, n);
    checkF32(op, 'b', b, n);
    checkF32(op, 'out', out, n);
    this.call(op, this.ref(a), this.ref(b), this.ref(out), n);
  }

  /** x *= s over n elements. */
  scale(x: Tensor, s: number, n: number): void {
    const op = 'scale';
    checkInt(op, { n }, 1);
    checkReal(op, { s });
    checkF32(op, 'x', x, n);
    this.call(op, this.ref(x), s, n);
  }

  /** y += a·x over n elements. */
  axpy(a: number, x: Tensor, y: Tensor, n: number): void {
    const op = 'axpy';
    checkInt(op, { n }, 1);
    checkReal(op, { a });
    checkF32(op, 'x', x, n);
    checkF32(op, 'y', y, n);
    this.call(op, a, this.ref(x), this.ref(y), n);
  }

  /** Σ x² over n elements, accumulated in double precision (global gradient norm). */
  sumsq(x: Tensor, n: number): number {
    const op = 'sumsq';
    checkInt(op, { n }, 1);
    checkF32(op, 'x', x, n);
    return this.callValue(op, this.ref(x), n);
  }

  /** out[i, :] = table[ids[i], :] for n ids in [0, vocab). */
  embeddingFwd(ids: Tensor, table: Tensor, out: Tensor, n: number, vocab: number, dim: number): void {
    const op = 'embedding_fwd';
    checkInt(op, { n, vocab, dim }, 1);
    checkI32(op, 'ids', ids, n);
    checkF32(op, 'table', table, vocab * dim);
    checkF32(op, 'out', out, n * dim);
    this.call(op, this.ref(ids), this.ref(table), this.ref(out), n, vocab, dim);
  }

  /** dtable[ids[i], :] += dout[i, :] (scatter-add). */
  embeddingBwd(ids: Tensor, dout: Tensor, dtable: Tensor, n: number, vocab: number, dim: number): void {
    const op = 'embedding_bwd';
    checkInt(op, { n, vocab, dim }, 1);
    checkI32(op, 'ids', ids, n);
    checkF32(op, 'dout', dout, n * dim);
    checkF32(op, 'dtable', dtable, vocab * dim);
    this.call(op, this.ref(ids), this.ref(dout), this.ref(dtable), n, vocab, dim);
  }

  /**
   * Rotary embedding in place over x [n, heads, headDim] at positions pos [n]; the first
   * rotDim dims of each head rotate (NeoX half-split, or interleaved pairs). inverse
   * rotates back: it is the backward.
   */
  rope(
    x: Tensor,
    pos: Tensor,
    n: number,
    heads: number,
    headDim: number,
    rotDim: number,
    theta: number,
    interleaved = false,
    inverse = false,
  ): void {
    const op = 'rope';
    checkInt(op, { n, heads, headDim, rotDim }, 1);
    checkReal(op, { theta });
    if (rotDim > headDim || rotDim % 2 !== 0) {
      throw new OpError(op, `rotDim must be even and <= headDim (${headDim}), got ${rotDim}`);
    }
    checkF32(op, 'x', x, n * heads * headDim);
    checkI32(op, 'pos', pos, n);
    this.call(op, this.ref(x), this.ref(pos), n, heads, headDim, rotDim, theta, +interleaved, +inverse);
  }

  /**
   * Attention forward: out [Tq,Hq,D] = softmax(q·kᵀ·scale + mask)·v over q [Tq,Hq,D] and
   * k, v [Tk,Hkv,D]; lse [Hq,Tq] (optional) keeps the row log-sum-exp for the backward.
   */
  attentionFwd(q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor | null, shape: AttnShape): void {
    const op = 'attention_fwd';
    const s = attnArgs(op, shape);
    checkF32(op, 'q', q, s[0] * s[2] * s[4]);
    checkF32(op, 'k', k, s[1] * s[3] * s[4]);
    checkF32(op, 'v', v, s[1] * s[3] * s[4]);
    checkF32(op, 'out', out, s[0] * s[2] * s[4]);
    if (lse) checkF32(op, 'lse', lse, s[0] * s[2]);
    this.call(op, this.ref(q), this.ref(k), this.ref(v), this.ref(out), this.ref(lse), ...s);
  }

  /** Attention backward: dq += …, dk += …, dv += … from the forward's out and lse. */
  attentionBwd(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    out: Tensor,
    lse: Tensor,
    dout: Tensor,
    dq: Tensor,
    dk: Tensor,
    dv: Tensor,
    shape: AttnShape,
  ): void {
    const op = 'attention_bwd';
    const s = attnArgs(op, shape);
    const nq = s[0] * s[2] * s[4];
    const nk = s[1] * s[3] * s[4];
    checkF32(op, 'q', q, nq);
    checkF32(op, 'k', k, nk);
    checkF32(op, 'v', v, nk);
    checkF32(op, 'out', out, nq);
    checkF32(op, 'lse', lse, s[0] * s[2]);
    checkF32(op, 'dout', dout, nq);
    checkF32(op, 'dq', dq, nq);
    checkF32(op, 'dk', dk, nk);
    checkF32(op, 'dv', dv, nk);
    const refs = [q, k, v, out, lse, dout, dq, dk, dv].map((t) => this.ref(t));
    this.call(op, ...refs, ...s);
  }

  /** out = silu(gate) · up over n elements. */
  swigluFwd(gate: Tensor, up: Tensor, out: Tensor, n: number): void {
    const op = 'swiglu_fwd';
    checkInt(op, { n }, 1);
    checkF32(op, 'gate', gate, n);
    checkF32(op, 'up', up, n);
    checkF32(op, 'out', out, n);
    this.call(op, this.ref(gate), this.ref(up), this.ref(out), n);
  }

  /** dgate += dout·up·silu'(gate), dup += dout·silu(gate). */
  swigluBwd(gate: Tensor, up: Tensor, dout: Tensor, dgate: Tensor, dup: Tensor, n: number): void {
    const op = 'swiglu_bwd';
    checkInt(op, { n }, 1);
    for (const [name, t] of Object.entries({ gate, up, dout, dgate, dup })) checkF32(op, name, t, n);
    this.call(op, this.ref(gate), this.ref(up), this.ref(dout), this.ref(dgate), this.ref(dup), n);
  }

  /**
   * Softmax cross-entropy per row of logits [N, V] with the logit of maskId forced to -inf
   * (maskId < 0: none). loss[r] = -log p(targets[r]); dlogits (optional, may alias logits)
   * = weights[r]·gradScale·(p - onehot).
   */
  xent(
    logits: Tensor,
    targets: Tensor,
    weights: Tensor,
    loss: Tensor,
    dlogits: Tensor | null,
    N: number,
    V: number,
    maskId: number,
    gradScale = 1,
  ): void {
    const op = 'xent';
    checkInt(op, { N, V }, 1);
    checkReal(op, { gradScale });
    if (!Number.isInteger(maskId) || maskId >= V)
      throw new OpError(op, `maskId must be an integer < V (${V}), got ${maskId}`);
    checkF32(op, 'logits', logits, N * V);
    checkI32(op, 'targets', targets, N);
    checkF32(op, 'weights', weights, N);
    checkF32(op, 'loss', loss, N);
    if (dlogits) checkF32(op, 'dlogits', dlogits, N * V);
    this.call(
      op,
      this.ref(logits),
      this.ref(targets),
      this.ref(weights),
      this.ref(loss),
      this.ref(dlogits),
      N,
      V,
      Math.max(maskId, -1),
      gradScale,
    );
  }

  /** One AdamW step over n parameters (gradients scaled by gradScale first; step is 1-based). */
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, n: number, h: AdamWParams): void {
    const op = 'adamw';
    checkInt(op, { n }, 1);
    checkInt(op, { step: h.step }, 1);
    const { lr, beta1, beta2, eps, weightDecay } = h;
    const gradScale = h.gradScale ?? 1;
    checkReal(op, { lr, beta1, beta2, eps, weightDecay, gradScale });
    for (const [name, t] of Object.entries({ param, grad, m, v })) checkF32(op, name, t, n);
    this.call(
      op,
      this.ref(param),
      this.ref(grad),
      this.ref(m),
      this.ref(v),
      n,
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      gradScale,
      h.step,
    );
  }

  /** Copies src [T, row] into rows [len, len+T) of cache [maxLen, row]. */
  kvAppend(cache: Tensor, src: Tensor, len: number, T: number, row: number, maxLen: number): void {
    const op = 'kv_append';
    checkInt(op, { T, row, maxLen }, 1);
    checkInt(op, { len }, 0);
    if (len + T > maxLen) throw new OpError(op, `appending ${T} rows at ${len} overflows the cache of ${maxLen} rows`);
    checkF32(op, 'cache', cache, maxLen * row);
    checkF32(op, 'src', src, T * row);
    this.call(op, this.ref(cache), this.ref(src), len, T, row, maxLen);
  }

  /** Copies src [n, row] to rows slots[i] of pool [poolRows, row] (new K/V rows, each to its page). */
  kvScatter(pool: Tensor, src: Tensor, slots: Tensor, n: number, row: number, poolRows: number): void {
    const op = 'kv_scatter';
    checkInt(op, { n, row, poolRows }, 1);
    checkF32(op, 'pool', pool, poolRows * row);
    checkF32(op, 'src', src, n * row);
    checkI32(op, 'slots', slots, n);
    this.call(op, this.ref(pool), this.ref(src), this.ref(slots), n, row, poolRows);
  }

  /**
   * Attention forward for a batch of sequences whose keys/values live in pages of `pageSize`
   * rows of shared pools kPool, vPool [poolPages·pageSize, Hkv, D]. `seqs` is the descriptor
   * pagedSeqTable built (one entry per sequence: its query rows within q / out [N, Hq, D], keys,
   * mask, first page-table entry); key j of a sequence is pool row
   * pages[page0 + ⌊j / pageSize⌋]·pageSize + j mod pageSize. Each sequence gets exactly what
   * attentionFwd gives on its keys laid out contiguously, whatever the others (pageSize: a
   * multiple of 64). CPU and WASM backends (see has('attention_paged_fwd')).
   */
  attentionPagedFwd(
    q: Tensor,
    kPool: Tensor,
    vPool: Tensor,
    out: Tensor,
    seqs: Tensor,
    pages: Tensor,
    g: {
      N: number;
      S: number;
      Hq: number;
      Hkv: number;
      D: number;
      pageSize: number;
      poolPages: number;
      scale?: number;
    },
  ): void {
    const op = 'attention_paged_fwd';
    const { N, S, Hq, Hkv, D, pageSize, poolPages } = g;
    checkInt(op, { N, S, Hq, Hkv, D, pageSize, poolPages }, 1);
    if (pageSize % 64 !== 0) throw new OpError(op, `pageSize must be a multiple of 64, got ${pageSize}`);
    const scale = g.scale ?? 1 / Math.sqrt(D);
    checkReal(op, { scale });
    checkF32(op, 'q', q, N * Hq * D);
    checkF32(op, 'out', out, N * Hq * D);
    checkF32(op, 'kPool', kPool, poolPages * pageSize * Hkv * D);
    checkF32(op, 'vPool', vPool, poolPages * pageSize * Hkv * D);
    checkI32(op, 'seqs', seqs, S * PAGED_SEQ_FIELDS);
    checkI32(op, 'pages', pages, pages.length);
    const refs = [q, kPool, vPool, out, seqs, pages].map((t) => this.ref(t));
    this.call(op, ...refs, S, Hq, Hkv, D, pageSize, poolPages, scale);
  }

  /**
   * Decode-side row statistics over logits [N, V]: token (argmax, or sampled with
   * uniforms[r]), its probability, the entropy and the top-1/top-2 margin, after the
   * mask/ban ids, temperature, top-k and top-p. Only N values per output leave the kernel.
   */
  decodeRows(
    logits: Tensor,
    N: number,
    V: number,
    p: DecodeParams,
    uniforms: Tensor | null,
    tok: Tensor,
    prob: Tensor | null,
    entropy: Tensor | null,
    margin: Tensor | null,
  ): void {
    const op = 'decode_rows';
    checkInt(op, { N, V }, 1);
    const maskId = p.maskId ?? -1;
    const banId = p.banId ?? -1;
    const temperature = p.temperature ?? 0;
    const topK = p.topK ?? 0;
    const topP = p.topP ?? 1;
    checkReal(op, { temperature, topP });
    checkInt(op, { topK }, 0);
    for (const [name, id] of Object.entries({ maskId, banId })) {
      if (!Number.isInteger(id) || id >= V) throw new OpError(op, `${name} must be an integer < V (${V}), got ${id}`);
    }
    if (!(topP > 0 && topP <= 1)) throw new OpError(op, `topP must be in (0, 1], got ${topP}`);
    checkF32(op, 'logits', logits, N * V);
    if (uniforms) checkF32(op, 'uniforms', uniforms, N);
    checkI32(op, 'tok', tok, N);
    if (prob) checkF32(op, 'prob', prob, N);
    if (entropy) checkF32(op, 'entropy', entropy, N);
    if (margin) checkF32(op, 'margin', margin, N);
    this.call(
      op,
      this.ref(logits),
      N,
      V,
      Math.max(maskId, -1),
      Math.max(banId, -1),
      temperature,
      topK,
      topP,
      this.ref(uniforms),
      this.ref(tok),
      this.ref(prob),
      this.ref(entropy),
      this.ref(margin),
    );
  }
}

/** int32 fields per sequence of attentionPagedFwd's descriptor (SD_PAGED_SEQ_FIELDS). */
const PAGED_SEQ_FIELDS = 8;

/** One sequence of a paged attention call: its query rows, key count, mask and first page-table entry. */
export interface PagedSeq {
  q0: number;
  Tq: number;
  Tk: number;
  mask: MaskKind;
  block?: number;
  origin?: number;
  qOffset?: number;
  /** Index in the page table of the sequence's first page. */
  page0: number;
}

/** Mask topologies of attention (see include/sd_ops.h). */
export const MASKS = { bidir: 0, causal: 1, block_causal: 2, block_diff: 3, prefix: 4, verify: 5 } as const;
export type MaskKind = keyof typeof MASKS;

/** Shape and topology of one attention call. Query i sits at key index qOffset + i. */
export interface AttnShape {
  Tq: number;
  Tk: number;
  Hq: number;
  Hkv: number;
  D: number;
  mask: MaskKind;
  /** Block size for block_causal / block_diff; verify: the number of clean rows m. */
  block?: number;
  /**
   * block_causal: first position of block 1 (the prompt length; 0 = blocks from the start);
   * verify: the number of one-token mask rows v (<= m) after the clean rows.
   */
  origin?: number;
  /** Key index of query 0 (causal, block_causal, prefix). */
  qOffset?: number;
  /** Softmax scale (default 1/sqrt(D)). */
  scale?: number;
}

/** Validates an AttnShape and returns the flat C arguments (Tq, Tk, Hq, Hkv, D, mask, block, origin, qOffset, scale). */
function attnArgs(op: string, s: AttnShape): number[] {
  const { Tq, Tk, Hq, Hkv, D } = s;
  checkInt(op, { Tq, Tk, Hq, Hkv, D }, 1);
  if (Hq % Hkv !== 0) throw new OpError(op, `Hq (${Hq}) must be a multiple of Hkv (${Hkv})`);
  if (!(s.mask in MASKS)) throw new OpError(op, `unknown mask "${s.mask}"; use ${Object.keys(MASKS).join(', ')}`);
  const block = s.block ?? 0;
  const origin = s.origin ?? 0;
  const qOffset = s.qOffset ?? 0;
  const scale = s.scale ?? 1 / Math.sqrt(D);
  checkInt(op, { block, origin, qOffset }, 0);
  checkReal(op, { scale });
  if ((s.mask === 'block_causal' || s.mask === 'block_diff') && block < 1) {
    throw new OpError(op, `mask ${s.mask} needs block >= 1`);
  }
  if (s.mask === 'block_diff' && (Tq !== Tk || Tq % 2 !== 0 || qOffset !== 0)) {
    throw new OpError(
      op,
      `mask block_diff needs Tq = Tk = 2L and qOffset 0, got Tq ${Tq}, Tk ${Tk}, qOffset ${qOffset}`,
    );
  }
  if (s.mask === 'verify' && (block < 1 || origin > block || block + origin > Tq || qOffset + Tq !== Tk)) {
    throw new OpError(
      op,
      `mask verify needs 1 <= clean rows (block ${block}), mask rows (origin ${origin}) <= clean rows, ` +
        `clean + mask rows <= Tq ${Tq} and qOffset ${qOffset} + Tq = Tk ${Tk}`,
    );
  }
  if (s.mask === 'prefix' && qOffset + Tq > Tk) {
    throw new OpError(op, `mask prefix needs qOffset + Tq <= Tk, got ${qOffset} + ${Tq} > ${Tk}`);
  }
  return [Tq, Tk, Hq, Hkv, D, MASKS[s.mask], block, origin, qOffset, scale];
}

/**
 * The descriptor attentionPagedFwd reads ([S · 8] int32: q0, Tq, Tk, mask, block, origin,
 * qOffset, page0 per sequence), each sequence's shape validated as attentionFwd validates it;
 * N rows of queries and a page table of `pages` entries to fit in.
 */
export function pagedSeqTable(seqs: PagedSeq[], g: { N: number; pages: number; pageSize: number }): Int32Array {
  const op = 'attention_paged_fwd';
  if (seqs.length < 1) throw new OpError(op, 'no sequences');
  const desc = new Int32Array(seqs.length * PAGED_SEQ_FIELDS);
  seqs.forEach((s, i) => {
    const a = attnArgs(op, { ...s, Hq: 1, Hkv: 1, D: 1 });
    checkInt(op, { q0: s.q0, page0: s.page0 }, 0);
    if (s.q0 + s.Tq > g.N)
      throw new OpError(op, `sequence ${i}: rows [${s.q0}, ${s.q0 + s.Tq}) exceed the ${g.N} query rows`);
    const need = s.page0 + Math.ceil(s.Tk / g.pageSize);
    if (need > g.pages) {
      throw new OpError(op, `sequence ${i}: ${s.Tk} keys need page-table entries [${s.page0}, ${need}) of ${g.pages}`);
    }
    desc.set([s.q0, a[0], a[1], a[5], a[6], a[7], a[8], s.page0], i * PAGED_SEQ_FIELDS);
  });
  return desc;
}

/** AdamW hyper-parameters for one step. */
export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Multiplies the gradient first (clipping factor × 1/accumulation steps); default 1. */
  gradScale?: number;
  /** 1-based step count for bias correction. */
  step: number;
}

/** Decoding filters for decodeRows. */
export interface DecodeParams {
  /** Forced to -inf ([MASK] is never predicted). */
  maskId?: number;
  /** Also forced to -inf (e.g. EOS suppression). */
  banId?: number;
  /** <= 0: greedy. */
  temperature?: number;
  /** 0: off. */
  topK?: number;
  /** 1: off. */
  topP?: number;
}
