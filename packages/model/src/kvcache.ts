// One sequence's key/value cache: the pages it holds in a KVPool and how many rows are committed.
// Forwards write a block's keys/values straight into the rows after `length` (its pages are
// reserved first), and `length` says how many rows are committed; rows past it are scratch.
import type { KVPool } from './kvpool';

/** A cache's pages, kept apart from it so that a cache dropped without release() still returns them. */
interface Held {
  pool: KVPool;
  pages: number[];
}

// Pages of a cache that was garbage-collected while holding them go back to its pool (callers that
// predate paging drop caches without release()); release() unregisters, so a page is never freed twice.
const orphans = new FinalizationRegistry<Held>((h) => {
  if (h.pages.length > 0) h.pool.release(h.pages.splice(0));
});

export class KVCache {
  /** Committed rows. Rows at and after `length` are scratch (a non-committed block's K/V). */
  private len = 0;
  private readonly h: Held;

  constructor(
    readonly pool: KVPool,
    /** Most rows this sequence may hold (its context). Pages are taken as rows are written. */
    readonly maxLen: number,
  ) {
    if (!Number.isInteger(maxLen) || maxLen < 1)
      throw new Error(`KVCache: maxLen must be a positive integer, got ${maxLen}`);
    this.h = { pool, pages: [] };
    orphans.register(this, this.h, this.h);
  }

  private get held(): number[] {
    return this.h.pages;
  }

  get length(): number {
    return this.len;
  }
  set length(n: number) {
    if (!Number.isInteger(n) || n < 0 || n > this.maxLen) {
      throw new RangeError(`KVCache.length must be an integer in [0, ${this.maxLen}], got ${n}`);
    }
    if (n > this.reservedRows) {
      throw new RangeError(`KVCache.length: ${n} rows exceed the ${this.reservedRows} rows written so far`);
    }
    this.len = n;
  }

  /** Page ids held, in row order. */
  get pages(): readonly number[] {
    return this.held;
  }
  /** Rows the held pages can take. */
  get reservedRows(): number {
    return this.held.length * this.pool.pageSize;
  }
  /** Bytes of KV memory this sequence holds. */
  get bytes(): number {
    return this.held.length * this.pool.bytesPerPage;
  }
  /** Pages needed beyond those held for rows [0, rows). */
  pagesFor(rows: number): number {
    return Math.max(0, Math.ceil(rows / this.pool.pageSize) - this.held.length);
  }

  /** Makes rows [0, rows) writable, taking pages from the pool (PoolExhaustedError when it is out). */
  reserve(rows: number): void {
    if (rows > this.maxLen) {
      throw new RangeError(`KVCache: ${rows} rows overflow the cache of ${this.maxLen}`);
    }
    const need = this.pagesFor(rows);
    if (need > 0) this.held.push(...this.pool.allocate(need));
  }

  /** Pool row of row `r` of this sequence. */
  slot(r: number): number {
    const P = this.pool.pageSize;
    return this.held[Math.floor(r / P)] * P + (r % P);
  }

  /** Empties the cache and gives its pages back to the pool. */
  reset(): void {
    this.len = 0;
    this.pool.release(this.held.splice(0));
  }

  /** Same as reset(): the sequence is done with its pages. */
  release(): void {
    this.reset();
  }

  /** Same as release() (the pool owns the memory; a cache holds only page ids). */
  dispose(): void {
    this.reset();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Drops committed rows after `len` (e.g. to re-decode a block); the pages stay held for reuse. */
  truncate(len: number): void {
    if (!Number.isInteger(len) || len < 0 || len > this.len) {
      throw new RangeError(`KVCache.truncate: len must be an integer in [0, ${this.len}], got ${len}`);
    }
    this.len = len;
  }

  /** Layer l's keys (or values) of rows [0, rows) gathered from the pages, for inspection and tests. */
  read(which: 'k' | 'v', l: number, rows = this.len): Float32Array {
    if (rows > this.reservedRows)
      throw new RangeError(`KVCache.read: ${rows} rows exceed the ${this.reservedRows} held`);
    const w = this.pool.rowFloats;
    const all = this.pool.backend.view((which === 'k' ? this.pool.k : this.pool.v)[l]) as Float32Array;
    const out = new Float32Array(rows * w);
    for (let r = 0; r < rows; r++) out.set(all.subarray(this.slot(r) * w, (this.slot(r) + 1) * w), r * w);
    return out;
  }
}
