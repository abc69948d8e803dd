import { maskCorrupt, type MaskOptions, type MaskResult } from './mask';
import type { Rng } from './rng';
import { checkIds, checkInt } from './validate';

// BD3-LM vectorised training batch (docs/techniques.md §2.2): each row becomes the 2L sequence [x_t ; x_0]
// with positions [0..L−1, 0..L−1]; the loss is on the noisy half only. The attention topology is the
// compute core's SD_MASK_BLOCK_DIFF (native/include/sd_ops.h): noisy block b sees noisy block b and clean
// blocks < b, clean block b sees clean blocks <= b, blk(p) = (p mod L) / block.

/** The subset of native AttnShape that fixes the topology; the model adds heads, head dim and scale. */
export interface BlockDiffTopology {
  mask: 'block_diff';
  block: number;
  Tq: number;
  Tk: number;
}

export interface BlockDiffusionOptions extends Omit<MaskOptions, 'perBlock'> {
  /** One t per block (bd3lms, default true) or one t per row (dllm BD3LM trainer). */
  tPerBlock?: boolean;
}

export interface BlockDiffusionBatch {
  /** [x_t ; x_0] per row: batch·2L ids. */
  ids: Int32Array;
  /** [0..L−1, 0..L−1] per row: batch·2L. */
  positions: Int32Array;
  /** x0 at both halves (batch·2L); only the noisy half carries weight. */
  targets: Int32Array;
  /** Mask-process weights on the noisy half, 0 on the clean half (batch·2L). */
  weights: Float32Array;
  /** 1 where the noisy half is masked (batch·2L, 0 on the clean half). */
  masked: Uint8Array;
  block: number;
  /** Row length of the doubled sequence, 2L. */
  seqLen: number;
  attention: BlockDiffTopology;
  /** The underlying mask corruption of the noisy half (t per block, counts, ...). */
  corruption: MaskResult;
}

export function blockDiffusionBatch(
  x0: Int32Array,
  batch: number,
  len: number,
  block: number,
  rng: Rng,
  opts: BlockDiffusionOptions,
): BlockDiffusionBatch {
  checkIds('x0', x0, batch, len);
  checkInt('block', block, 1);
  if (len > 0 && block > len) throw new RangeError(`block (${block}) must not exceed len (${len})`);
  const { tPerBlock, ...maskOpts } = opts;
  const c = maskCorrupt(x0, batch, len, rng, { ...maskOpts, perBlock: tPerBlock === false ? undefined : block });
  const T = 2 * len;
  const ids = new Int32Array(batch * T);
  const positions = new Int32Array(batch * T);
  const targets = new Int32Array(batch * T);
  const weights = new Float32Array(batch * T);
  const masked = new Uint8Array(batch * T);
  for (let r = 0; r < batch; r++) {
    const src = r * len;
    const dst = r * T;
    ids.set(c.noisy.subarray(src, src + len), dst);
    ids.set(x0.subarray(src, src + len), dst + len);
    targets.set(x0.subarray(src, src + len), dst);
    targets.set(x0.subarray(src, src + len), dst + len);
    weights.set(c.weights.subarray(src, src + len), dst);
    masked.set(c.masked.subarray(src, src + len), dst);
    for (let i = 0; i < len; i++) {
      positions[dst + i] = i;
      positions[dst + len + i] = i;
    }
  }
  return {
    ids,
    positions,
    targets,
    weights,
    masked,
    block,
    seqLen: T,
    attention: { mask: 'block_diff', block, Tq: T, Tk: T },
    corruption: c,
  };
}

/**
 * Reference of the SD_MASK_BLOCK_DIFF rule for query q and key k in the doubled sequence of length 2L
 * (bd3lms block_diff_mask); for tests and for backends that want an explicit boolean mask.
 */
export function blockDiffAllowed(q: number, k: number, len: number, block: number): boolean {
  const qClean = q >= len;
  const kClean = k >= len;
  const bq = Math.floor((q % len) / block);
  const bk = Math.floor((k % len) / block);
  if (bq === bk && qClean === kClean) return true; // block-diagonal
  if (bq > bk && kClean && !qClean) return true; // offset block-causal: noisy b sees clean < b
  return bq >= bk && kClean && qClean; // block-causal clean stream
}
