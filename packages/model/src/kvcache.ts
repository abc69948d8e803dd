// Per-layer key/value cache for block decoding. Buffers are allocated once at maxLen rows;
// forward passes write new keys/values straight into the tail (no copies), and `length`
// says how many rows are committed.
import type { Backend, Tensor } from '@seed-diffusion/native';

import type { ModelConfig } from './config';

export class KVCache {
  /** Committed rows. Rows at and after `length` are scratch (a non-committed block's K/V). */
  private len = 0;
  /** Per layer [maxLen, Hkv, D]. */
  readonly k: Tensor[] = [];
  readonly v: Tensor[] = [];
  /**
   * Final-normed hidden state per position [maxLen, d], kept only for shifted-logit models,
   * whose first logit row of a block comes from the previous position's hidden state.
   */
  readonly hidden: Tensor | null;

  constructor(
    private readonly b: Backend,
    c: ModelConfig,
    readonly maxLen: number,
  ) {
    if (!Number.isInteger(maxLen) || maxLen < 1)
      throw new Error(`KVCache: maxLen must be a positive integer, got ${maxLen}`);
    const row = c.numKvHeads * c.headDim;
    for (let l = 0; l < c.numLayers; l++) {
      this.k.push(b.f32(maxLen * row));
      this.v.push(b.f32(maxLen * row));
    }
    this.hidden = c.shiftLogits ? b.f32(maxLen * c.hiddenSize) : null;
  }

  get length(): number {
    return this.len;
  }
  set length(n: number) {
    if (!Number.isInteger(n) || n < 0 || n > this.maxLen) {
      throw new RangeError(`KVCache.length must be an integer in [0, ${this.maxLen}], got ${n}`);
    }
    this.len = n;
  }

  private disposed = false;

  /** Frees the cache's backend memory (keys, values, hidden states); harmless twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.k, ...this.v]) this.b.free(t);
    if (this.hidden) this.b.free(this.hidden);
    this.len = 0;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  reset(): void {
    this.len = 0;
  }

  /** Drops committed rows after `len` (e.g. to re-decode a block). */
  truncate(len: number): void {
    if (!Number.isInteger(len) || len < 0 || len > this.len) {
      throw new RangeError(`KVCache.truncate: len must be an integer in [0, ${this.len}], got ${len}`);
    }
    this.len = len;
  }
}
