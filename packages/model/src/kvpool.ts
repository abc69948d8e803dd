// A pool of fixed-size KV pages shared by many sequences (vLLM's paged KV cache): every layer's
// keys and values live in one [pages · pageSize, Hkv·D] tensor each, and a sequence holds a list
// of page ids (KVCache). Memory per sequence is proportional to its length, pages go back to the
// pool when a sequence finishes, and a full pool is a clear, typed error the scheduler can wait on.
import type { Backend, Tensor } from '@seed-diffusion/native';

import type { ModelConfig } from './config';

/** Rows per page unless told otherwise: one key tile of the attention kernels. */
export const DEFAULT_PAGE_SIZE = 64;

/** Thrown when a pool has too few free pages for a request (the engine queues on it instead). */
export class PoolExhaustedError extends Error {
  readonly code = 'KV_POOL_EXHAUSTED';
  constructor(
    readonly needed: number,
    readonly free: number,
    readonly capacity: number,
    readonly pageSize: number,
  ) {
    super(
      `KV pool exhausted: ${needed} more page(s) of ${pageSize} rows needed, ${free} free of ${capacity}; ` +
        `finish or cancel sequences, or give the pool more pages`,
    );
    this.name = 'PoolExhaustedError';
  }
}

export interface KVPoolOptions {
  /** Pages allocated up front (default 16). */
  pages?: number;
  /** Rows per page, a multiple of 64 (default 64). */
  pageSize?: number;
  /** Grow (doubling, copying the pages) instead of failing when full; up to maxPages. Default false. */
  growable?: boolean;
  /** Upper bound on pages when growable (default: unbounded). */
  maxPages?: number;
}

export class KVPool {
  readonly pageSize: number;
  /** Floats per row of a layer's keys (or values): Hkv·D. */
  readonly rowFloats: number;
  readonly growable: boolean;
  readonly maxPages: number;
  /** Per layer [capacity · pageSize, Hkv·D]. Replaced when a growable pool grows: never keep them. */
  k: Tensor[] = [];
  v: Tensor[] = [];
  /** Final-normed hidden state per row [capacity · pageSize, d], for shifted-logit models only. */
  hidden: Tensor | null = null;
  private cap = 0;
  /** Free page ids (a stack: the most recently released page is reused first). */
  private freeList: number[] = [];
  private disposed = false;

  constructor(
    readonly backend: Backend,
    readonly config: ModelConfig,
    opts: KVPoolOptions = {},
  ) {
    const pages = opts.pages ?? 16;
    const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pages) || pages < 1)
      throw new Error(`KVPool: pages must be a positive integer, got ${pages}`);
    if (!Number.isInteger(pageSize) || pageSize < 64 || pageSize % 64 !== 0) {
      throw new Error(`KVPool: pageSize must be a positive multiple of 64 (a key tile), got ${pageSize}`);
    }
    this.pageSize = pageSize;
    this.rowFloats = config.numKvHeads * config.headDim;
    this.growable = opts.growable ?? false;
    this.maxPages = opts.maxPages ?? Infinity;
    if (!(this.maxPages >= pages)) throw new Error(`KVPool: maxPages (${this.maxPages}) must be >= pages (${pages})`);
    this.resize(pages);
  }

  /** Pages in the pool. */
  get capacity(): number {
    return this.cap;
  }
  get freePages(): number {
    return this.freeList.length;
  }
  get usedPages(): number {
    return this.cap - this.freeList.length;
  }
  /** Bytes of one page over all layers (keys, values, and hidden states of a shifted model). */
  get bytesPerPage(): number {
    const c = this.config;
    return 4 * this.pageSize * (2 * c.numLayers * this.rowFloats + (c.shiftLogits ? c.hiddenSize : 0));
  }
  /** Rows of every pool tensor. */
  get rows(): number {
    return this.cap * this.pageSize;
  }

  /** Whether n more pages can be had now (growing a growable pool if needed). */
  canAllocate(n: number): boolean {
    return n <= this.freeList.length || (this.growable && this.usedPages + n <= this.maxPages);
  }

  /** n free page ids; a PoolExhaustedError when there are not enough (after growing, if allowed). */
  allocate(n: number): number[] {
    if (this.disposed) throw new Error('KVPool: used after dispose()');
    if (n > this.freeList.length) {
      if (!this.canAllocate(n)) throw new PoolExhaustedError(n, this.freeList.length, this.cap, this.pageSize);
      this.resize(Math.min(this.maxPages, Math.max(this.cap * 2, this.usedPages + n)));
    }
    return this.freeList.splice(this.freeList.length - n, n).reverse();
  }

  /** Returns pages to the pool. */
  release(pages: readonly number[]): void {
    if (this.disposed) return; // its memory is gone already
    for (const p of pages) {
      if (!(Number.isInteger(p) && p >= 0 && p < this.cap)) throw new RangeError(`KVPool.release: no page ${p}`);
      this.freeList.push(p);
    }
    if (this.freeList.length > this.cap) throw new Error('KVPool.release: a page was released twice');
  }

  /** Frees the pool's tensors (every sequence using it must be done). */
  dispose(): void {
    if (this.disposed) return;
    const b = this.backend;
    for (const t of [...this.k, ...this.v]) b.free(t);
    if (this.hidden) b.free(this.hidden);
    this.k = [];
    this.v = [];
    this.hidden = null;
    this.freeList = [];
    this.cap = 0;
    this.disposed = true;
  }

  /** (Re)allocates every tensor for `pages` pages, keeping the existing pages' contents. */
  private resize(pages: number): void {
    const b = this.backend;
    const c = this.config;
    const rows = pages * this.pageSize;
    const old = this.cap * this.pageSize;
    const move = (t: Tensor | undefined, width: number): Tensor => {
      const n = b.f32(rows * width);
      if (t) {
        b.kvAppend(n, t, 0, old, width, rows);
        b.free(t);
      }
      return n;
    };
    for (let l = 0; l < c.numLayers; l++) {
      this.k[l] = move(this.k[l], this.rowFloats);
      this.v[l] = move(this.v[l], this.rowFloats);
    }
    if (c.shiftLogits) this.hidden = move(this.hidden ?? undefined, c.hiddenSize);
    // New pages go on the stack below the free ones, so lower ids are handed out first.
    const fresh: number[] = [];
    for (let p = pages - 1; p >= this.cap; p--) fresh.push(p);
    this.freeList = [...fresh, ...this.freeList];
    this.cap = pages;
  }
}
