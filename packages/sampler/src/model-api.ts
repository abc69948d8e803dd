// The part of @seed-diffusion/model's decoding API the sampler uses, written structurally so any
// model with the same calls (the project's Model, a checkpoint loader for LLaDA/Dream/SDAR) plugs in.
import type { Tensor } from '@seed-diffusion/native';

export interface DecodingCache {
  readonly maxLen: number;
  /** Rows of committed (clean) K/V. */
  length: number;
  reset(): void;
  truncate(len: number): void;
  /** Frees the cache's backend memory (the sampler calls it when a decode ends). */
  dispose?(): void;
  /** Gives the cache's memory back (a paged cache's pages to its pool); called when a decode ends. */
  release?(): void;
}

/** A pool of cache memory shared by many sequences (the model package's KVPool). */
export interface DecodingPool {
  readonly pageSize: number;
  readonly capacity: number;
  readonly freePages: number;
  readonly usedPages: number;
  readonly bytesPerPage: number;
}

/** One sequence's share of a batched forward (the model package's BatchItem). */
export interface DecodingBatchItem {
  cache?: DecodingCache | null;
  ids: Int32Array;
  positions?: Int32Array;
  mask:
    | { mask: 'prefix' }
    | { mask: 'block_causal'; block: number; origin?: number }
    | { mask: 'verify'; block: number; origin: number }
    | { mask: 'bidir' };
  rows?: Int32Array | null;
  commit?: number;
}

export type FullTopology = { mask: 'bidir' } | { mask: 'block_causal'; block: number; origin?: number };

export interface DecodingModelConfig {
  vocabSize: number;
  maskTokenId: number;
  eosTokenId: number;
  padTokenId: number;
  maxSeqLen: number;
  trainedBlockSizes?: number[];
}

export interface DecodingModel {
  readonly config: DecodingModelConfig;
  /** A cache of up to maxLen rows (in `pool` when given: the engine's shared pool). */
  newCache(maxLen?: number, pool?: DecodingPool): DecodingCache;
  /** Appends complete prompt blocks of `block` tokens as the clean stream (blocks aligned at position 0). */
  prefill(cache: DecodingCache, ids: Int32Array, block: number): void;
  /**
   * Logits [ids.length, V] of a block at positions [cache.length, ...) that attends to the cache and to
   * itself; commit: true appends the block's K/V (advances cache.length). With `block`, the rows attend
   * block-causally (blocks of `block` aligned at position 0) and `commit: k` keeps only the first k rows:
   * that fuses a final block's clean K/V with the next block's first step (mode 'ar', fuseCommit).
   * `rows` limits the logits to those rows ([rows.length, V], in that order): the sampler asks only for
   * the positions a step can change, since the LM head dominates a small model's forward.
   */
  forwardBlock(
    cache: DecodingCache,
    ids: Int32Array,
    opts?: { commit?: boolean | number; block?: number; rows?: Int32Array },
  ): Tensor;
  /** No-cache forward: logits [ids.length, V], or [rows.length, V] for the listed rows. */
  forwardFull(ids: Int32Array, topology: FullTopology, opts?: { rows?: Int32Array }): Tensor;
  /**
   * Mode 'verify' only: `clean` rows at positions [cache.length, …), one single-token [MASK] row after
   * each of the first `masks` (b = 1 decoding's view), then `draft` [MASK] rows past the clean rows;
   * logits for the mask and draft rows. K/V land at the cache tail; cache.length is left to the caller.
   */
  forwardVerify?(cache: DecodingCache, clean: Int32Array, opts: { masks: number; draft?: number }): Tensor;
  /**
   * Batched decoding: one forward over blocks of many sequences, each logits part bit for bit what
   * the sequence gets alone. Without it, a batch runs its forwards one by one.
   */
  forwardBatch?(items: DecodingBatchItem[]): { parts: (Tensor | null)[]; free(): void };
  /** The batch item of a forwardVerify call (needed to batch mode 'verify'). */
  verifyItem?(cache: DecodingCache, clean: Int32Array, opts: { masks: number; draft?: number }): DecodingBatchItem;
}
