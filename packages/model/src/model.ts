// The model: parameters + inference entry points (full-sequence and KV-cached block
// decoding). Training lives in graph.ts / trainer.ts; checkpoints in checkpoint.ts.
import type { Backend, HalfType, Tensor } from '@seed-diffusion/native';
import { backend as defaultBackend } from '@seed-diffusion/native';

import type { Activations } from './activations';
import type { LoadOptions, SaveOptions } from './checkpoint';
import { readModelFolder, saveModel } from './checkpoint';
import { allocActivations } from './activations';
import type { BatchItem, BatchOutput, CachedMask, FullTopology } from './batch';
import { runBatch } from './batch';
import type { ModelConfig, ModelConfigInput } from './config';
import { makeConfig, parameterCount } from './config';
import type { HalfWeights } from './half-weights';
import { makeHalfWeights } from './half-weights';
import { KVCache } from './kvcache';
import { KVPool, type KVPoolOptions } from './kvpool';
import type { ParamViews } from './params';
import { initParams, paramLayout, paramViews } from './params';

export type { FullTopology } from './batch';

export class Model {
  readonly views: ParamViews;
  /** 16-bit copies of the matrices for inference (useHalfWeights), or null. */
  private half: HalfWeights | null = null;
  private ws: Activations | null = null;
  private wsHead: { src: Tensor; hsel: Tensor } | null = null;
  /** The pool of caches made by newCache (grows as they need it). */
  private ownPool: KVPool | null = null;

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
   * workspaces, the KV pool behind newCache). The model is unusable afterwards; pools made by
   * newPool are freed by their own dispose. Calling it twice is harmless.
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
    // The caches newCache made hold pages of this pool: they are unusable with the model anyway.
    this.ownPool?.dispose();
    this.ownPool = null;
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

  /**
   * A cache of up to maxLen rows in the model's own KV pool, which grows as its caches need
   * pages (a server or a batch of rollouts makes a bounded pool with newPool instead).
   * release() the cache when done to give its pages back.
   */
  newCache(maxLen = this.config.maxSeqLen, pool?: KVPool): KVCache {
    if (!Number.isInteger(maxLen) || maxLen < 1)
      throw new Error(`KVCache: maxLen must be a positive integer, got ${maxLen}`);
    if (!pool) {
      this.ownPool ??= new KVPool(this.backend, this.config, { pages: 4, growable: true });
      pool = this.ownPool;
    }
    return new KVCache(pool, maxLen);
  }

  /** A pool of KV pages for many sequences' caches (see KVPool: fixed size unless growable). */
  newPool(opts: KVPoolOptions = {}): KVPool {
    return new KVPool(this.backend, this.config, opts);
  }

  /**
   * One forward over a batch of blocks from different sequences (see BatchItem): each item
   * attends to its own cache (or, without one, to its own rows), every Linear runs once over all
   * rows, and logits come only for the rows each item asks for. A sequence's logits are bit for
   * bit those it gets alone in a forward (every kernel is row-independent). Caches advance by
   * their item's commit; every cache must come from one pool, and a pool without room for the
   * batch's new rows throws PoolExhaustedError before anything is written. Free the output.
   */
  forwardBatch(items: BatchItem[]): BatchOutput {
    if (!Array.isArray(items) || items.length === 0) throw new Error('forwardBatch: no items');
    const seen = new Set<KVCache>();
    items.forEach((it, i) => {
      const op = `forwardBatch item ${i}`;
      const n = it.cache ? this.checkIds(op, it.cache, it.ids) : this.checkFull(op, it.ids);
      if (n === 0) throw new Error(`${op}: ids is empty`);
      if (it.cache) {
        if (seen.has(it.cache)) throw new Error(`${op}: the same cache appears twice in one batch`);
        seen.add(it.cache);
      }
      checkMask(op, it.mask, !!it.cache, n);
      if (it.positions !== undefined) {
        if (!(it.positions instanceof Int32Array) || it.positions.length !== n) {
          throw new TypeError(`${op}: positions must be an Int32Array of ${n}`);
        }
        for (const p of it.positions) {
          if (!(p >= 0 && p < this.config.maxSeqLen))
            throw new RangeError(`${op}: position ${p} is outside [0, ${this.config.maxSeqLen})`);
        }
      }
      if (it.rows !== undefined && it.rows !== null) checkRows(op, it.rows, n);
      const keep = it.commit ?? 0;
      if (!Number.isInteger(keep) || keep < 0 || keep > n || (keep > 0 && !it.cache)) {
        throw new Error(`${op}: commit must be a row count in [0, ${n}] (and needs a cache), got ${it.commit}`);
      }
    });
    return runBatch(this.batchContext(), items);
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
    this.forwardBatch([{ cache, ids, mask: { mask: 'block_causal', block, origin: 0 }, rows: null, commit: n }]);
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
    // commit: a row count keeps only the first rows (sampler: a final block fused with the next
    // block's first step); block: block-causal rows (blocks aligned at 0) instead of one 'prefix' block.
    const keep = opts.commit === true ? n : opts.commit ? opts.commit : 0;
    if (!Number.isInteger(keep) || keep < 0 || keep > n) {
      throw new Error(`forwardBlock: commit must be a boolean or a row count in [0, ${n}], got ${opts.commit}`);
    }
    if (opts.block !== undefined && !(Number.isInteger(opts.block) && opts.block >= 1)) {
      throw new Error(`forwardBlock: block must be a positive integer, got ${opts.block}`);
    }
    const mask: CachedMask =
      opts.block === undefined ? { mask: 'prefix' } : { mask: 'block_causal', block: opts.block, origin: 0 };
    const rows = checkRows('forwardBlock', opts.rows, n) ?? undefined;
    return this.forwardBatch([{ cache, ids, mask, rows, commit: keep }]).logits as Tensor;
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
    return this.forwardBatch([this.verifyItem(cache, clean, opts)]).logits as Tensor;
  }

  /** The batch item of a forwardVerify call (validated), for batching verify forwards with others. */
  verifyItem(cache: KVCache, clean: Int32Array, opts: { masks: number; draft?: number; rows?: Int32Array }): BatchItem {
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
    if (c.shiftLogits) {
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
    const positions = new Int32Array(n);
    for (let i = 0; i < m; i++) positions[i] = len + i;
    for (let r = 0; r < v; r++) positions[m + r] = len + 1 + r;
    for (let j = 0; j < d; j++) positions[m + v + j] = len + m + j;
    const rows = opts.rows
      ? (checkRows('forwardVerify', opts.rows, n) as Int32Array)
      : Int32Array.from({ length: v + d }, (_, i) => m + i);
    return { cache, ids, positions, mask: { mask: 'verify', block: m, origin: v }, rows };
  }

  /**
   * No-cache forward over a whole sequence at positions 0..T-1: logits [T, V], or [rows.length, V]
   * for only the listed rows (the head is the costliest part of a small-model forward).
   */
  forwardFull(ids: Int32Array, topology: FullTopology = { mask: 'bidir' }, opts: { rows?: Int32Array } = {}): Tensor {
    const n = this.checkFull('forwardFull', ids);
    if (n < 1) throw new Error('forwardFull: ids is empty');
    if (topology.mask === 'block_causal' && !(Number.isInteger(topology.block) && topology.block >= 1)) {
      throw new Error(`forwardFull: block_causal needs a positive integer block, got ${topology.block}`);
    }
    const rows = checkRows('forwardFull', opts.rows, n) ?? undefined;
    return this.forwardBatch([{ ids, mask: topology, rows }]).logits as Tensor;
  }

  private batchContext() {
    return {
      b: this.backend,
      c: this.config,
      pv: this.inferViews,
      workspace: (n: number) => this.workspace(n),
      headBuffers: (n: number) => this.headBuffers(n),
    };
  }

  private checkFull(op: string, ids: Int32Array): number {
    if (!(ids instanceof Int32Array)) throw new TypeError(`${op}: ids must be an Int32Array`);
    if (ids.length > this.config.maxSeqLen)
      throw new Error(`${op}: ${ids.length} ids exceed maxSeqLen ${this.config.maxSeqLen}`);
    return ids.length;
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

  /** Inference activations (all layers share one set), grown to at least n rows. */
  private workspace(n: number): Activations {
    if (!this.ws || this.ws.rows < n) {
      // A batch may hold more rows than one sequence's context.
      const rows = Math.max(n, Math.min(this.config.maxSeqLen, this.ws ? this.ws.rows * 2 : 0));
      if (this.ws) for (const t of this.ws.owned) this.backend.free(t);
      this.ws = allocActivations(this.backend, this.config, rows, false);
    }
    return this.ws;
  }

  private headBuffers(n: number): { src: Tensor; hsel: Tensor } {
    if (!this.wsHead || this.wsHead.src.length < n) {
      const rows = Math.max(n, Math.min(this.config.maxSeqLen, this.wsHead ? this.wsHead.src.length * 2 : 0));
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

/** Validates a batch item's mask against whether it has a cache. */
function checkMask(op: string, m: BatchItem['mask'], cached: boolean, n: number): void {
  const kinds = cached ? ['prefix', 'block_causal', 'verify'] : ['bidir', 'block_causal'];
  if (!m || !kinds.includes(m.mask)) {
    throw new Error(
      `${op}: mask must be one of ${kinds.join(', ')} ${cached ? 'with' : 'without'} a cache, got ${JSON.stringify(m?.mask)}`,
    );
  }
  if (m.mask === 'block_causal' && !(Number.isInteger(m.block) && m.block >= 1)) {
    throw new Error(`${op}: block_causal needs a positive integer block, got ${m.block}`);
  }
  if (
    m.mask === 'verify' &&
    !(Number.isInteger(m.block) && m.block >= 1 && m.origin >= 0 && m.origin <= m.block && m.block + m.origin <= n)
  ) {
    throw new Error(
      `${op}: verify needs 1 <= clean rows (block ${m.block}), mask rows (origin ${m.origin}) <= clean rows, clean + mask rows <= ${n}`,
    );
  }
}

/** Loads a model folder (Model.load). */
export function loadModel(dir: string, b: Backend = defaultBackend(), opts: LoadOptions = {}): Model {
  return Model.load(dir, b, opts);
}
