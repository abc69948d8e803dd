// Where each layer's keys/values go and which attention calls a forward makes. One
// forward over N rows may hold several sequences: a training batch (keys from the rows
// themselves), or blocks of many decoding sequences, each against its own paged KV cache.
import type { MaskKind, Tensor } from '@seed-diffusion/native';

import type { KVPool } from './kvpool';

export interface SeqAttention {
  /** First row (token) of this sequence's queries within the N rows. */
  q0: number;
  nq: number;
  /** First row of this sequence's keys within kOut/vOut (training) — or -1 when keys come from a cache. */
  k0: number;
  /** Number of keys. */
  Tk: number;
  mask: MaskKind;
  block?: number;
  origin?: number;
  qOffset?: number;
  /** Paged: index in `paged.pages` of this sequence's first page (keys come from the pool). */
  page0?: number;
}

/**
 * The paged sequences of a forward: their rows are the first `rows` of the N, and each layer's
 * new keys/values of those rows are scattered to their pool rows (`slots`) before attention.
 */
export interface PagedKeys {
  pool: KVPool;
  rows: number;
  /** Pool row of each of the first `rows` rows [rows]. */
  slots: Tensor;
  /** pagedSeqTable of the paged sequences. */
  table: Tensor;
  count: number;
  /** The concatenated page tables. */
  pages: Tensor;
}

export interface Topology {
  /** Destination of the k / v projections of layer l: [N, Hkv·D]. */
  kOut(l: number): Tensor;
  vOut(l: number): Tensor;
  /** Key / value tensors seen by the attention of sequence s at layer l ([Tk, Hkv·D]). */
  keys(l: number, s: SeqAttention): Tensor;
  values(l: number, s: SeqAttention): Tensor;
  seqs: SeqAttention[];
  paged?: PagedKeys;
}

/** B sequences of T rows each, keys taken from the activations themselves. */
export function batchTopology(
  kOf: (l: number) => Tensor,
  vOf: (l: number) => Tensor,
  B: number,
  T: number,
  kvd: number,
  mask: { mask: MaskKind; block?: number; origin?: number },
): Topology {
  const seqs: SeqAttention[] = [];
  for (let s = 0; s < B; s++) seqs.push({ q0: s * T, nq: T, k0: s * T, Tk: T, ...mask, qOffset: 0 });
  return {
    kOut: kOf,
    vOut: vOf,
    keys: (l, s) => kOf(l).slice(s.k0 * kvd, s.Tk * kvd),
    values: (l, s) => vOf(l).slice(s.k0 * kvd, s.Tk * kvd),
    seqs,
  };
}
