// Training and evaluation batches: corruption (mask / edit) laid out for the graph as the
// BD3-LM vectorised block-diffusion input [x_t ; x_0] (or a plain bidirectional sequence),
// with per-position weights so that the loss is Σ w·CE.
import type { Rng } from '@seed-diffusion/corruption';
import { editCorrupt, maskCorrupt } from '@seed-diffusion/corruption';

import type { ModelConfig } from './config';
import type { GraphBatch } from './graph';

export type TrainTopology = 'block_diff' | 'bidir';

export interface ObjectiveOptions {
  topology: TrainTopology;
  /** Block size of this batch (block_diff). */
  block: number;
  /** Curriculum weights of the mask ELBO and the edit reconstruction terms. */
  terms: { mask: number; edit: number };
  /** Ids never inserted/substituted by edits (special tokens). */
  forbid?: number[];
  /** Unigram counts for inserted/substituted tokens (default uniform). */
  unigram?: Float64Array;
  alphaMax?: number;
  schedule?: 'linear' | 'cosine' | 'loglinear' | { clipped: [number, number] };
}

export interface BuiltBatch {
  batch: GraphBatch;
  /** Rows of the batch that carry the mask / edit objective. */
  maskRows: number;
  editRows: number;
}

/**
 * A training batch from clean windows x0 [B, L]. With both terms active the rows are
 * split (first ⌈B/2⌉ mask, the rest edit), each group normalised over its own positions,
 * so Σ w·CE estimates mask·L_mask + edit·L_edit at the cost of one forward. With B = 1
 * one term is drawn per batch with probability ½ and weighted ×2 (still unbiased).
 */
export function buildTrainBatch(
  c: ModelConfig,
  x0: Int32Array,
  B: number,
  L: number,
  rng: Rng,
  o: ObjectiveOptions,
): BuiltBatch {
  if (x0.length !== B * L) throw new Error(`buildTrainBatch: x0 has ${x0.length} ids, expected B·L = ${B * L}`);
  let mW = o.terms.mask;
  let eW = o.terms.edit;
  if (!(mW > 0) && !(eW > 0)) throw new Error('buildTrainBatch: no objective is active (mask and edit weights are 0)');
  let Bm = eW > 0 ? (mW > 0 ? Math.ceil(B / 2) : 0) : B;
  if (B === 1 && mW > 0 && eW > 0) {
    const pickMask = rng.next() < 0.5;
    Bm = pickMask ? 1 : 0;
    mW *= 2;
    eW *= 2;
  }
  const Be = B - Bm;
  const noisy = new Int32Array(B * L);
  const weights = new Float32Array(B * L);
  if (Bm > 0) {
    const m = maskCorrupt(x0.subarray(0, Bm * L), Bm, L, rng, {
      maskId: c.maskTokenId,
      perBlock: o.topology === 'block_diff' ? o.block : undefined,
      antithetic: true,
      schedule: o.schedule,
    });
    noisy.set(m.noisy);
    for (let i = 0; i < Bm * L; i++) weights[i] = m.weights[i] * mW;
  }
  if (Be > 0) {
    const e = editCorrupt(x0.subarray(Bm * L), Be, L, rng, {
      vocabSize: c.vocabSize,
      padId: c.padTokenId,
      alphaMax: o.alphaMax ?? 0.1,
      forbid: o.forbid,
      source: o.unigram ?? 'uniform',
    });
    noisy.set(e.edited, Bm * L);
    for (let i = 0; i < Be * L; i++) weights[Bm * L + i] = e.weights[i] * eW;
  }
  return { batch: layoutBatch(c, x0, noisy, weights, B, L, o.topology, o.block), maskRows: Bm, editRows: Be };
}

/**
 * Evaluation batch for the masked ELBO with LLaDA's low-variance estimator: exactly k of n
 * positions masked, k ~ U{1..n} stratified, weight n/k, normalised by all positions, so
 * Σ w·CE is the NELBO in nats per token. For block diffusion each block is one unit (its
 * own k), matching the block factorisation log p(x) = Σ_b log p(x_b | x_<b).
 */
export function buildEvalBatch(
  c: ModelConfig,
  x0: Int32Array,
  B: number,
  L: number,
  rng: Rng,
  topology: TrainTopology,
  block: number,
): GraphBatch {
  const unit = topology === 'block_diff' ? block : L;
  if (L % unit !== 0) throw new Error(`buildEvalBatch: eval block ${unit} must divide the sequence length ${L}`);
  const rows = (B * L) / unit;
  const m = maskCorrupt(x0, rows, unit, rng, { maskId: c.maskTokenId, exactK: true, antithetic: true });
  // maskCorrupt normalised by rows·unit = B·L positions already.
  return layoutBatch(c, x0, m.noisy, m.weights, B, L, topology, block);
}

/** Lays out noisy/clean rows, positions, loss-row sources, targets and weights for the graph. */
export function layoutBatch(
  c: ModelConfig,
  x0: Int32Array,
  noisy: Int32Array,
  weights: Float32Array,
  B: number,
  L: number,
  topology: TrainTopology,
  block: number,
): GraphBatch {
  const targets = Int32Array.from(x0);
  if (topology === 'bidir') {
    const pos = new Int32Array(B * L);
    for (let i = 0; i < B * L; i++) pos[i] = i % L;
    let src: Int32Array | null = null;
    if (c.shiftLogits) {
      src = new Int32Array(B * L);
      for (let r = 0; r < B; r++) for (let i = 0; i < L; i++) src[r * L + i] = r * L + Math.max(i - 1, 0);
    }
    return { ids: noisy, pos, src, targets, weights, mask: { mask: 'bidir' } };
  }
  if (!(Number.isInteger(block) && block >= 1 && block <= L)) {
    throw new Error(`block_diff batch: block must be an integer in [1, ${L}], got ${block}`);
  }
  const T = 2 * L;
  const ids = new Int32Array(B * T);
  const pos = new Int32Array(B * T);
  const src = new Int32Array(B * L);
  for (let r = 0; r < B; r++) {
    ids.set(noisy.subarray(r * L, (r + 1) * L), r * T);
    ids.set(x0.subarray(r * L, (r + 1) * L), r * T + L);
    for (let i = 0; i < L; i++) {
      pos[r * T + i] = i;
      pos[r * T + L + i] = i;
      // Loss rows are the noisy half. A shifted model reads position i-1: inside the block
      // from the noisy stream, across a block boundary from the clean stream (what the KV
      // cache holds at decoding time).
      let s = i;
      if (c.shiftLogits && i > 0) s = i % block === 0 ? L + i - 1 : i - 1;
      src[r * L + i] = r * T + s;
    }
  }
  return { ids, pos, src, targets, weights, mask: { mask: 'block_diff', block } };
}
