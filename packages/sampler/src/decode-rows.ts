// Row statistics of a block's logits through the native decode kernel: only N values per output
// come back to JS (token, its probability, entropy, top-1 − top-2 margin), never the [N, V] logits.
import type { Tensor } from '@seed-diffusion/native';

import type { ConfidenceKind } from './options';

export interface RowStats {
  tok: Int32Array;
  prob: Float32Array;
  entropy: Float32Array;
  margin: Float32Array;
}

export interface RowFilters {
  maskId: number;
  banId: number;
  temperature: number;
  topK: number;
  topP: number;
}

/** The row filters a request asks for: [MASK] never, EOS banned when suppressed, its sampling settings. */
export function requestFilters(
  opts: { suppressEos: boolean; temperature: number; topK: number; topP: number },
  ids: { maskTokenId: number; eosTokenId: number },
): RowFilters {
  return {
    maskId: ids.maskTokenId,
    banId: opts.suppressEos ? ids.eosTokenId : -1,
    temperature: opts.temperature,
    topK: opts.topK,
    topP: opts.topP,
  };
}

/**
 * Decodes rows [row0, row0 + n) of `logits` ([*, V]). `uniforms` (length n) draws samples when the
 * temperature is > 0; null means greedy argmax.
 */
export function decodeLogitRows(
  logits: Tensor,
  row0: number,
  n: number,
  V: number,
  filters: RowFilters,
  uniforms: Float32Array | null,
): RowStats {
  const b = logits.backend; // the model's own backend, whichever it is
  if ((row0 + n) * V > logits.length) {
    throw new RangeError(
      `decodeLogitRows: rows [${row0}, ${row0 + n}) of width ${V} exceed logits of ${logits.length}`,
    );
  }
  const rows = logits.slice(row0 * V, n * V);
  const tok = b.i32(n);
  const prob = b.f32(n);
  const entropy = b.f32(n);
  const margin = b.f32(n);
  const u = uniforms ? b.from(uniforms) : null;
  try {
    b.decodeRows(rows, n, V, filters, u, tok, prob, entropy, margin);
    return {
      tok: tok.toArray() as Int32Array,
      prob: prob.toArray() as Float32Array,
      entropy: entropy.toArray() as Float32Array,
      margin: margin.toArray() as Float32Array,
    };
  } finally {
    for (const t of [tok, prob, entropy, margin, u]) if (t) b.free(t);
  }
}

/** Confidence per row, higher = surer, in [0, 1] for every kind (entropy as exp(−H), same order as −H). */
export function confidences(stats: RowStats, kind: ConfidenceKind): Float32Array {
  switch (kind) {
    case 'prob':
      return stats.prob;
    case 'margin':
      return stats.margin;
    case 'entropy':
      return stats.entropy.map((h) => Math.exp(-h));
  }
}
