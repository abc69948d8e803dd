/*
 * sd_key_span.h — the attention mask topologies of sd_ops.h as key intervals, shared by
 * the CPU kernels and the CUDA kernels so that the two backends cannot disagree on what a
 * query sees. For every topology the keys visible to a query form at most two contiguous
 * ranges [lo0, hi0) ∪ [lo1, hi1), so kernels skip whole key tiles instead of evaluating a
 * mask per (query, key) pair.
 */
#ifndef SD_KEY_SPAN_H
#define SD_KEY_SPAN_H

#include "sd_ops.h"

#if defined(__CUDACC__)
#define SD_HD __host__ __device__
#else
#define SD_HD
#endif

namespace sd {

struct KeySpan {
  int lo0, hi0, lo1, hi1; /* empty ranges have lo >= hi */
  SD_HD bool touches(int j0, int j1) const {
    return (lo0 < hi0 && lo0 < j1 && hi0 > j0) || (lo1 < hi1 && lo1 < j1 && hi1 > j0);
  }
  SD_HD bool sees(int j) const { return (j >= lo0 && j < hi0) || (j >= lo1 && j < hi1); }
};

SD_HD inline int span_min(int a, int b) { return a < b ? a : b; }
/* min(a, b) for a 64-bit a (positions past 2^31 - 1 never reach Tk, an int). */
SD_HD inline int span_min64(long long a, int b) { return a < (long long)b ? (int)a : b; }

/* Keys visible to query row i (query i sits at key index q_offset + i), clipped to [0, Tk).
 * Shape is sd_attn_shape or any struct with the same field names (the CUDA side's).
 * Positions are computed in 64 bits: q_offset + i, or a block end, may pass 2^31 - 1. */
template <typename Shape>
SD_HD inline KeySpan key_span(const Shape& s, int i) {
  const long long qi = (long long)s.q_offset + i;
  KeySpan k{0, 0, 0, 0};
  switch (s.mask) {
    case SD_MASK_BIDIR:
      k.hi0 = s.Tk;
      break;
    case SD_MASK_CAUSAL:
      k.hi0 = span_min64(qi + 1, s.Tk);
      break;
    case SD_MASK_BLOCK_CAUSAL:
      /* blk(j) <= blk(qi)  <=>  j < end of qi's block. */
      k.hi0 = span_min64(qi < s.origin
                             ? (long long)s.origin
                             : s.origin + ((qi - s.origin) / s.block + 1) * (long long)s.block,
                         s.Tk);
      break;
    case SD_MASK_BLOCK_DIFF: {
      const int L = s.Tq / 2;
      if (i < L) { /* noisy block b: noisy block b itself, clean blocks < b */
        const int b = i / s.block;
        k.lo0 = b * s.block; /* <= i < L */
        k.hi0 = span_min64((b + 1) * (long long)s.block, L);
        k.lo1 = L;
        k.hi1 = L + b * s.block;
      } else { /* clean block b: clean blocks <= b */
        const int b = (i - L) / s.block;
        k.lo0 = L;
        k.hi0 = L + span_min64((b + 1) * (long long)s.block, L);
      }
      break;
    }
    case SD_MASK_VERIFY: {
      /* validated: C + Tq = Tk and m + v <= Tq, so every position here is <= Tk */
      const long long C = s.q_offset;
      const int m = s.block, v = s.origin;
      if (i < m) { /* clean row i: causal over the cache and the clean rows */
        k.hi0 = span_min64(C + i + 1, s.Tk);
      } else if (i < m + v) { /* one-token mask after clean row r: cache, clean 0..r, itself */
        const int r = i - m;
        k.hi0 = span_min64(C + r + 1, s.Tk);
        k.lo1 = span_min64(C + i, s.Tk);
        k.hi1 = span_min64(C + i + 1, s.Tk);
      } else { /* draft block: cache, every clean row, the draft block */
        k.hi0 = span_min64(C + m, s.Tk);
        k.lo1 = span_min64(C + m + v, s.Tk);
        k.hi1 = s.Tk;
      }
      break;
    }
    default: /* SD_MASK_PREFIX */
      k.hi0 = span_min64((long long)s.q_offset + s.Tq, s.Tk);
      break;
  }
  return k;
}

}  // namespace sd

#endif /* SD_KEY_SPAN_H */
