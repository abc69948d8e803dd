// The model: parameters + inference entry points (full-sequence and KV-cached block
// decoding). Training lives in graph.ts / trainer.ts; checkpoints in checkpoint.ts.
import type { Backend, HalfType, Tensor } from '@seed-diffusion/native';
import { backend as defaultBackend } from '@seed-diffusion/native';

import type { Activations } from './activations';
import type { LoadOptions, SaveOptions } from './checkpoint';
import { readModelFolder, saveModel } from './checkpoint';
import { allocActivations, rowsOf } from './activations';
import type { ModelConfig, ModelConfigInput } from './config';
import { makeConfig, parameterCount } from './config';
import { forwardTrunk, shiftedSources } from './forward';
import type { HalfWeights } from './half-weights';
import { makeHalfWeights } from './half-weights';
import { headForward } from './layers/head';
import { linearFwd } from './layers/linear';
import { KVCache } from './kvcache';
import type { ParamViews } from './params';
import { initParams, paramLayout, paramViews } from './params';
import type { Topology } from './topology';

export type FullTopology = { mask: 'bidir' } | { mask: 'block_causal'; block: number; origin?: number };

export class Model {
  readonly views: ParamViews;
  /** 16-bit copies of the matrices for inference (useHalfWeights), or null. */
  private half: HalfWeights | null = null;
  private ws: Activations | null = null;
  private wsHead: { src: Tensor; hsel: Tensor } | null = null;

  constructor(
    readonly config: ModelConfig,
    /** Flat parameter buffer laid out by paramLayout(config). */
    readonly params: Tensor,
    readonly backend: Backend = defaultBackend(),
  ) {
    this.views = paramViews(config, params);
  }

  /** A freshly initialised model (deterministic in the seed). */
  static init(config: ModelConfig | ModelConfigInput, seed = 0, b: Backend = defaultBackend()): Model {
    const c = makeConfig(config);
    return new Model(c, initParams(c, b, seed), b);
  }

  /**
   * Loads config.json + model.safetensors (or shards) from a folder, strictly: see LoadOptions
   * (unused tensors, NaN/Inf and a failed manifest are errors naming the file and tensor).
   */
  static load(dir: string, b: Backend = defaultBackend(), opts: LoadOptions = {}): Model {
    const { config, host } = readModelFolder(dir, opts);
    return new Model(config, b.from(host), b);
  }

  /** Writes config.json + model.safetensors (atomic per file). */
  save(dir: string, opts: SaveOptions = {}): void {
    saveModel(this, dir, opts);
  }

  private disposed = false;

  /**
   * Frees the backend memory this model owns (parameters, the 16-bit copy, inference
   * workspaces). The model is unusable afterwards; KV caches made by newCache are freed by their
   * own dispose. Calling it twice is harmless.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const b = this.backend;
    this.dropHalfWeights();
    if (this.ws) for (const t of this.ws.owned) b.free(t);
    if (this.wsHead) {
      b.free(this.wsHead.src);
      b.free(this.wsHead.hsel);
    }
    this.ws = null;
    this.wsHead = null;
    b.free(this.params);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Keeps an exact 16-bit copy of the matrices for inference (forwardFull, prefill, forwardBlock,
   * forwardVerify): the same logits bit for bit, reading half the weight bytes (1.3–1.7× faster
   * GEMMs at decoding's few rows on a 2-core Zen3). 'auto' tries float16 then bfloat16. The copy
   * is made only when every matrix value is exactly representable (a checkpoint saved in that
   * format) and the backend has matmul_w16 (CPU, WASM); returns the format used, or null.
   * 'auto' leaves WASM on float32: without a half-float conversion instruction its widening
   * costs more than the bytes it saves (2.5x slower GEMMs there); name a format to force it.
   * Training reads `views` (float32) and never the copy: after changing the parameters call
   * this again (or dropHalfWeights) before decoding.
   */
  useHalfWeights(type: HalfType | 'auto' = 'auto'): HalfType | null {
    this.dropHalfWeights();
    if (!this.backend.has('matmul_w16')) return null;
    if (type === 'auto' && this.backend.name === 'wasm') return null;
    const host = this.backend.read(this.params) as Float32Array;
    for (const t of type === 'auto' ? (['f16', 'bf16'] as const) : [type]) {
      this.half = makeHalfWeights(this.config, this.backend, host, this.views, t);
      if (this.half) return t;
    }
    return null;
  }

  /** Frees the 16-bit copy: inference reads the float32 parameters again. */
  dropHalfWeights(): void {
    if (this.half) this.backend.free(this.half.buffer);
    this.half = null;
  }

  /** The format of the 16-bit inference copy, or null (float32 weights). */
  get halfWeights(): HalfType | null {
    return this.half?.type ?? null;
  }

  /** The weights inference reads: the 16-bit copy when there is one. */
  private get inferViews(): ParamViews {
    return this.half?.views ?? this.views;
  }

  get numParameters(): number {
    return parameterCount(this.config);
  }
  get layout() {
    return paramLayout(this.config);
  }

  newCache(maxLen = this.config.maxSeqLen): KVCache {
    return new KVCache(this.backend, this.config, maxLen);
  }

  /**
   * Appends `ids` to the cache as the clean stream: block-causal with blocks of `block`
   * aligned at position 0 (what block-diffusion training's clean half computes). The
   * ids should be whole blocks of the prompt; K/V are written in place at the cache tail.
   */
  prefill(cache: KVCache, ids: Int32Array, block: number): void {
    if (!Number.isInteger(block) || block < 1)
      throw new Error(`prefill: block must be a positive integer, got ${block}`);
    const n = this.checkIds('prefill', cache, ids);
    if (n === 0) return;
    const len = cache.length;
    this.runCached(cache, ids, { mask: 'block_causal', block, origin: 0 }, false);
    cache.length = len + n;
  }

  /**
   * Logits [ids.length, V] for a block at positions [cache.length, …) attending to the whole
   * cache and itself. The block's K/V are written at the cache tail; commit advances
   * cache.length so they stay. The returned tensor is fresh (not overwritten by later calls).
   */
  forwardBlock(
    cache: KVCache,
    ids: Int32Array,
    opts: { commit?: boolean | number; block?: number; rows?: Int32Array } = {},
  ): Tensor {
    const n = this.checkIds('forwardBlock', cache, ids);
    if (n === 0) throw new Error('forwardBlock: ids is empty');
    const len = cache.length;
    // commit: a row count keeps only the first rows (sampler: a final block fused with the next
    // block's first step); block: block-causal rows (blocks aligned at 0) instead of one 'prefix' block.
    const keep = opts.commit === true ? n : opts.commit ? opts.commit : 0;
    if (!Number.isInteger(keep) || keep < 0 || keep > n) {
      throw new Error(`forwardBlock: commit must be a boolean or a row count in [0, ${n}], got ${opts.commit}`);
    }
    if (opts.block !== undefined && !(Number.isInteger(opts.block) && opts.block >= 1)) {
      throw new Error(`forwardBlock: block must be a positive integer, got ${opts.block}`);
    }
    const mask =
      opts.block === undefined
        ? { mask: 'prefix' as const }
        : { mask: 'block_causal' as const, block: opts.block, origin: 0 };
    const logits = this.runCached(cache, ids, mask, true, checkRows('forwardBlock', opts.rows, n)) as Tensor;
    cache.length = len + keep;
    return logits;
  }

  /**
   * Speculative verification against the cache in one forward (mask 'verify' of sd_ops.h). Rows:
   * the m `clean` tokens at positions len..len+m-1 (the last final token, then draft guesses),
   * `masks` one-token [MASK] rows at positions len+1..len+masks, each seeing the cache, the clean
   * rows up to the position before it and itself — what b = 1 decoding computes there, so their
   * argmax checks the guesses exactly — and `draft` [MASK] rows at len+m.. that see the cache,
   * every clean row and each other (a block drafted past the guesses). Returns logits for the
   * mask and draft rows ([masks + draft, V]; or for `rows`, indices into all m + masks + draft
   * rows). All rows' K/V are written at the cache tail but cache.length is left alone: the
   * caller keeps the accepted clean prefix with `cache.length = len + accepted`.
   */
  forwardVerify(cache: KVCache, clean: Int32Array, opts: { masks: number; draft?: number; rows?: Int32Array }): Tensor {
    const c = this.config;
    const m = clean.length;
    const v = opts.masks;
    const d = opts.draft ?? 0;
    if (m < 1) throw new Error('forwardVerify: clean is empty (it starts with the last final token)');
    if (!Number.isInteger(v) || v < 0 || v > m) {
      throw new Error(`forwardVerify: masks must be an integer in [0, ${m}] (one per clean row at most), got ${v}`);
    }
    if (!Number.isInteger(d) || d < 0) throw new Error(`forwardVerify: draft must be an integer >= 0, got ${d}`);
    if (v + d < 1) throw new Error('forwardVerify: no mask or draft rows to predict');
    if (cache.hidden) {
      throw new Error('forwardVerify: shifted-logit models (shift_logits) are not supported by verified decoding');
    }
    const n = m + v + d;
    const ids = new Int32Array(n).fill(c.maskTokenId);
    ids.set(clean);
    // All n rows are written at the cache tail; the highest position (len + m + d − 1) is below len + n.
    this.checkIds('forwardVerify', cache, ids);
    const len = cache.length;
    for (let i = 0; i < m; i++) {
      if (clean[i] === c.maskTokenId) throw new Error(`forwardVerify: clean token ${i} is [MASK]`);
    }
    const pos = new Int32Array(n);
    for (let i = 0; i < m; i++) pos[i] = len + i;
    for (let r = 0; r < v; r++) pos[m + r] = len + 1 + r;
    for (let j = 0; j < d; j++) pos[m + v + j] = len + m + j;
    const rows = opts.rows
      ? checkRows('forwardVerify', opts.rows, n)
      : Int32Array.from({ length: v + d }, (_, i) => m + i);
    return this.runCached(cache, ids, { mask: 'verify', block: m, origin: v }, true, rows, pos) as Tensor;
  }

  /**
   * No-cache forward over a whole sequence at positions 0..T-1: logits [T, V], or [rows.length, V]
   * for only the listed rows (the head is the costliest part of a small-model forward).
   */
  forwardFull(ids: Int32Array, topology: FullTopology = { mask: 'bidir' }, opts: { rows?: Int32Array } = {}): Tensor {
    const c = this.config;
    const n = ids.length;
    if (n < 1) throw new Error('forwardFull: ids is empty');
    if (n > c.maxSeqLen) throw new Error(`forwardFull: ${n} ids exceed maxSeqLen ${c.maxSeqLen}`);
    if (topology.mask === 'block_causal' && !(Number.isInteger(topology.block) && topology.block >= 1)) {
      throw new Error(`forwardFull: block_causal needs a positive integer block, got ${topology.block}`);
    }
    const b = this.backend;
    const ws = this.workspace(n);
    const kvd = c.numKvHeads * c.headDim;
    b.write(ws.ids, ids);
    b.write(ws.pos, iota(0, n));
    const k = rowsOf(ws.layers[0].k, n, kvd);
    const v = rowsOf(ws.layers[0].v, n, kvd);
    const topo: Topology = {
      kOut: () => k,
      vOut: () => v,
      keys: () => k,
      values: () => v,
      seqs: [
        {
          q0: 0,
          nq: n,
          k0: 0,
          Tk: n,
          mask: topology.mask,
          block: topology.mask === 'block_causal' ? topology.block : undefined,
          origin: topology.mask === 'block_causal' ? (topology.origin ?? 0) : undefined,
          qOffset: 0,
        },
      ],
    };
    const rows = checkRows('forwardFull', opts.rows, n);
    const pv = this.inferViews;
    forwardTrunk(b, c, pv, ws, n, topo, false);
    const R = rows ? rows.length : n;
    const logits = b.f32(R * c.vocabSize);
    const head = this.headBuffers(n);
    let src: Tensor | null = null;
    if (c.shiftLogits || rows) {
      src = rowsOf(head.src, R, 1);
      const all = c.shiftLogits ? shiftedSources(n) : null;
      b.write(src, rows ? rows.map((r) => (all ? all[r] : r)) : (all as Int32Array));
    }
    headForward(b, c, pv.norm, pv.head, ws.xOut, ws.lnf, ws.rstdf, n, R, { src, hsel: head.hsel, logits }, 0, pv.half);
    return logits;
  }

  private checkIds(op: string, cache: KVCache, ids: Int32Array): number {
    if (!(ids instanceof Int32Array)) throw new TypeError(`${op}: ids must be an Int32Array`);
    if (cache.length + ids.length > cache.maxLen) {
      throw new RangeError(
        `${op}: ${ids.length} ids at position ${cache.length} overflow the cache of ${cache.maxLen}`,
      );
    }
    if (cache.length + ids.length > this.config.maxSeqLen) {
      throw new RangeError(`${op}: position ${cache.length + ids.length} exceeds maxSeqLen ${this.config.maxSeqLen}`);
    }
    return ids.length;
  }

  /** One forward of n new rows against the cache; K/V land at rows [len, len+n). */
  private runCached(
    cache: KVCache,
    ids: Int32Array,
    mask:
      | { mask: 'prefix' }
      | { mask: 'block_causal'; block: number; origin: number }
      | { mask: 'verify'; block: number; origin: number },
    wantLogits: boolean,
    rows: Int32Array | null = null,
    positions: Int32Array | null = null,
  ): Tensor | null {
    const b = this.backend;
    const c = this.config;
    const n = ids.length;
    const len = cache.length;
    const kvd = c.numKvHeads * c.headDim;
    const d = c.hiddenSize;
    const ws = this.workspace(n);
    b.write(ws.ids, ids);
    b.write(ws.pos, positions ?? iota(len, n));
    const topo: Topology = {
      kOut: (l) => cache.k[l].slice(len * kvd, n * kvd),
      vOut: (l) => cache.v[l].slice(len * kvd, n * kvd),
      keys: (l) => cache.k[l].slice(0, (len + n) * kvd),
      values: (l) => cache.v[l].slice(0, (len + n) * kvd),
      seqs: [{ q0: 0, nq: n, k0: -1, Tk: len + n, qOffset: len, ...mask }],
    };
    // Without logits (and without a shifted model's hidden states) only the K/V matter; with logits
    // for some rows only, the last layer's output starts at the first of them.
    const kvOnly = !wantLogits && !cache.hidden;
    const outFrom = kvOnly ? n : rows && !cache.hidden ? Math.min(n, ...rows) : 0;
    const pv = this.inferViews;
    forwardTrunk(b, c, pv, ws, n, topo, false, outFrom);
    if (kvOnly) return null;
    const head = this.headBuffers(n);
    const R = rows ? rows.length : n;
    if (!cache.hidden) {
      const logits = b.f32(R * c.vocabSize);
      const src = rows ? rowsOf(head.src, R, 1) : null;
      if (src && rows) b.write(src, rows);
      headForward(
        b,
        c,
        pv.norm,
        pv.head,
        ws.xOut,
        ws.lnf,
        ws.rstdf,
        n,
        R,
        { src, hsel: head.hsel, logits },
        outFrom,
        pv.half,
      );
      return logits;
    }
    // Shifted logits: keep every position's final hidden state; row i of the block reads
    // position len+i-1 (the previous block's last position for i = 0).
    b.rmsnormFwd(rowsOf(ws.xOut, n, d), pv.norm, rowsOf(ws.lnf, n, d), rowsOf(ws.rstdf, n, 1), n, d, c.rmsNormEps);
    b.kvAppend(cache.hidden, rowsOf(ws.lnf, n, d), len, n, d, cache.maxLen);
    if (!wantLogits) return null;
    const src = rowsOf(head.src, R, 1);
    const s = new Int32Array(R);
    for (let i = 0; i < R; i++) s[i] = Math.max(len + (rows ? rows[i] : i) - 1, 0);
    b.write(src, s);
    const hsel = rowsOf(head.hsel, R, d);
    b.embeddingFwd(src, cache.hidden.slice(0, (len + n) * d), hsel, R, len + n, d);
    const logits = b.f32(R * c.vocabSize);
    linearFwd(b, hsel, pv.head, logits, R, c.vocabSize, d, pv.half);
    return logits;
  }

  /** Inference activations (all layers share one set), grown to at least n rows. */
  private workspace(n: number): Activations {
    if (!this.ws || this.ws.rows < n) {
      const rows = Math.min(this.config.maxSeqLen, Math.max(n, this.ws ? this.ws.rows * 2 : 0));
      if (this.ws) for (const t of this.ws.owned) this.backend.free(t);
      this.ws = allocActivations(this.backend, this.config, rows, false);
    }
    return this.ws;
  }

  private headBuffers(n: number): { src: Tensor; hsel: Tensor } {
    if (!this.wsHead || this.wsHead.src.length < n) {
      const rows = Math.min(this.config.maxSeqLen, Math.max(n, this.wsHead ? this.wsHead.src.length * 2 : 0));
      if (this.wsHead) {
        this.backend.free(this.wsHead.src);
        this.backend.free(this.wsHead.hsel);
      }
      this.wsHead = { src: this.backend.i32(rows), hsel: this.backend.f32(rows * this.config.hiddenSize) };
    }
    return this.wsHead;
  }
}

/** Validates an optional list of logit rows (each in [0, n)); null when absent. */
function checkRows(op: string, rows: Int32Array | undefined, n: number): Int32Array | null {
  if (rows === undefined) return null;
  if (!(rows instanceof Int32Array) || rows.length < 1)
    throw new TypeError(`${op}: rows must be a non-empty Int32Array`);
  for (const r of rows) if (!(r >= 0 && r < n)) throw new RangeError(`${op}: row ${r} is outside [0, ${n})`);
  return rows;
}

function iota(start: number, n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = start + i;
  return a;
}

/** Loads a model folder (Model.load). */
export function loadModel(dir: string, b: Backend = defaultBackend(), opts: LoadOptions = {}): Model {
  return Model.load(dir, b, opts);
}
