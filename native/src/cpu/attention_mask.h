// Attention mask topologies (include/sd_ops.h) as key intervals: for every topology the
// keys a query sees form at most two contiguous ranges [lo0, hi0) ∪ [lo1, hi1), so the
// kernels skip whole key tiles and never evaluate a mask per (query, key) pair outside
// the tiles a row actually touches.
#pragma once
#include "common.h"

namespace sd {

struct KeySpan {
  int lo0, hi0, lo1, hi1;  // empty ranges have lo >= hi
  bool touches(int j0, int j1) const {
    return (lo0 < hi0 && lo0 < j1 && hi0 > j0) || (lo1 < hi1 && lo1 < j1 && hi1 > j0);
  }
  bool sees(int j) const { return (j >= lo0 && j < hi0) || (j >= lo1 && j < hi1); }
};

inline int imin(int a, int b) { return a < b ? a : b; }

// Keys visible to query row i (query i sits at key index q_offset + i), clipped to [0, Tk).
inline KeySpan key_span(const sd_attn_shape& s, int i) {
  const int qi = s.q_offset + i;
  KeySpan k{0, 0, 0, 0};
  switch (s.mask) {
    case SD_MASK_BIDIR:
      k.hi0 = s.Tk;
      break;
    case SD_MASK_CAUSAL:
      k.hi0 = imin(qi + 1, s.Tk);
      break;
    case SD_MASK_BLOCK_CAUSAL:
      // blk(j) <= blk(qi)  <=>  j < end of qi's block.
      k.hi0 = imin(qi < s.origin ? s.origin : s.origin + ((qi - s.origin) / s.block + 1) * s.block,
                   s.Tk);
      break;
    case SD_MASK_BLOCK_DIFF: {
      const int L = s.Tq / 2;
      if (i < L) {  // noisy block b: noisy block b itself, clean blocks < b
        const int b = i / s.block;
        k.lo0 = b * s.block;
        k.hi0 = imin((b + 1) * s.block, L);
        k.lo1 = L;
        k.hi1 = L + b * s.block;
      } else {  // clean block b: clean blocks <= b
        const int b = (i - L) / s.block;
        k.lo0 = L;
        k.hi0 = L + imin((b + 1) * s.block, L);
      }
      break;
    }
    default:  // SD_MASK_PREFIX
      k.hi0 = imin(s.q_offset + s.Tq, s.Tk);
      break;
  }
  return k;
}

// Validates a shape for op `op` (attention_fwd / attention_bwd).
inline int check_attn_shape(const char* op, const sd_attn_shape* s) {
  SD_CHECK_PTR(op, "shape", s);
  SD_CHECK_POS(op, "Tq", s->Tq);
  SD_CHECK_POS(op, "Tk", s->Tk);
  SD_CHECK_POS(op, "Hq", s->Hq);
  SD_CHECK_POS(op, "Hkv", s->Hkv);
  SD_CHECK_POS(op, "D", s->D);
  SD_CHECK_NONNEG(op, "origin", s->origin);
  SD_CHECK_NONNEG(op, "q_offset", s->q_offset);
  SD_CHECK_FINITE(op, "scale", s->scale);
  if (s->Hq % s->Hkv != 0)
    return fail(SD_EINVAL, "%s: Hq = %d must be a multiple of Hkv = %d", op, s->Hq, s->Hkv);
  if (s->mask < SD_MASK_BIDIR || s->mask > SD_MASK_PREFIX)
    return fail(SD_EINVAL, "%s: mask must be 0..4 (SD_MASK_*), got %d", op, s->mask);
  if ((s->mask == SD_MASK_BLOCK_CAUSAL || s->mask == SD_MASK_BLOCK_DIFF) && s->block <= 0)
    return fail(SD_EINVAL, "%s: block must be > 0 for block masks, got %d", op, s->block);
  if (s->mask == SD_MASK_BLOCK_DIFF && (s->Tq != s->Tk || s->Tq % 2 != 0 || s->q_offset != 0))
    return fail(SD_EINVAL,
                "%s: block_diff needs Tq = Tk = 2L and q_offset 0, got Tq %d, Tk %d, q_offset %d",
                op, s->Tq, s->Tk, s->q_offset);
  if (s->mask == SD_MASK_PREFIX && (long)s->q_offset + s->Tq > s->Tk)
    return fail(SD_EINVAL, "%s: prefix needs q_offset + Tq <= Tk, got %d + %d > %d", op,
                s->q_offset, s->Tq, s->Tk);
  return SD_OK;
}

// Tile sizes: BQ query rows share each transposed key tile of BK keys.
constexpr int kAttnBQ = 32;
constexpr int kAttnBK = 64;

// Kt[d * kAttnBK + jj] = src[(j0 + jj) rows of stride `stride`][d], zero-padded to kAttnBK
// keys, so the score loop runs over a fixed width that vectorises fully.
inline void transpose_tile(const float* src, int j0, int nk, int stride, int D, float* Kt) {
  for (int d = 0; d < D; ++d) {
    float* row = Kt + (size_t)d * kAttnBK;
    for (int jj = 0; jj < nk; ++jj) row[jj] = src[(size_t)(j0 + jj) * stride + d];
    for (int jj = nk; jj < kAttnBK; ++jj) row[jj] = 0.f;
  }
}

// s[jj] = scale * sum_d q[d] * Kt[d][jj] over the kAttnBK keys of a tile.
inline void tile_scores(const float* q, const float* Kt, int D, float scale, float* s) {
  for (int jj = 0; jj < kAttnBK; ++jj) s[jj] = 0.f;
  for (int d = 0; d < D; ++d) {
    const float qd = q[d] * scale;
    const float* row = Kt + (size_t)d * kAttnBK;
    for (int jj = 0; jj < kAttnBK; ++jj) s[jj] += qd * row[jj];
  }
}

}  // namespace sd
