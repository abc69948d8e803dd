// Self-correction of a block of tokens (the edit stage's skill): the model reads the block as it is,
// against the clean cache of everything before it, and every position whose greedy prediction
// differs from the token it holds with probability above a threshold is rewritten; repeated until
// nothing changes or the iteration budget is spent. Shared by the repair measure and the editing
// generator, which applies it block by block to a whole program.
import type { KVCache, Model } from '@seed-diffusion/model';
import { decodeLogitRows } from '@seed-diffusion/sampler';

export interface SelfCorrectOptions {
  /** Rewrite a token when the prediction differs with probability > threshold (default 0.5). */
  threshold?: number;
  /** Forward passes at most (default 4). */
  iterations?: number;
}

export interface SelfCorrectResult {
  forwards: number;
  /** Positions rewritten (a position rewritten twice counts twice). */
  rewrites: number;
}

export function checkSelfCorrect(o: SelfCorrectOptions): Required<SelfCorrectOptions> {
  const threshold = o.threshold ?? 0.5;
  const iterations = o.iterations ?? 4;
  if (!(threshold >= 0 && threshold <= 1))
    throw new Error(`self-correction threshold must be in [0, 1], got ${threshold}`);
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new Error(`self-correction iterations must be an integer >= 1, got ${iterations}`);
  return { threshold, iterations };
}

/**
 * Corrects `block` in place; it sits at positions [cache.length, cache.length + block.length). The
 * cache is left as it was (the block's K/V are written to its scratch tail, not committed).
 */
export function selfCorrectBlock(
  model: Model,
  cache: KVCache,
  block: Int32Array,
  o: SelfCorrectOptions = {},
): SelfCorrectResult {
  const { threshold, iterations } = checkSelfCorrect(o);
  const c = model.config;
  const n = block.length;
  if (n === 0) return { forwards: 0, rewrites: 0 };
  const filters = { maskId: c.maskTokenId, banId: -1, temperature: 0, topK: 0, topP: 1 };
  let forwards = 0;
  let rewrites = 0;
  for (let it = 0; it < iterations; it++) {
    const logits = model.forwardBlock(cache, block);
    forwards++;
    let rows;
    try {
      rows = decodeLogitRows(logits, 0, n, c.vocabSize, filters, null);
    } finally {
      model.backend.free(logits);
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      if (rows.tok[i] !== block[i] && rows.prob[i] > threshold) {
        block[i] = rows.tok[i];
        changed++;
      }
    }
    rewrites += changed;
    if (changed === 0) break;
  }
  return { forwards, rewrites };
}
