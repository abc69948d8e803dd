// Attention shapes on the CPU side: the key intervals of each mask topology come from
// include/sd_key_span.h (shared with the CUDA kernels); this adds shape validation.
#pragma once
#include "common.h"
#include "sd_key_span.h"

namespace sd {

inline int imin(int a, int b) { return a < b ? a : b; }

// Sets to -inf the scores of tile [j0, j0 + BK) that a row with key span `sp` cannot see (and the
// zero padding past Tk, which no span covers); a full tile (nk == BK) the row sees whole is left
// as it is, with no per-key test (the common case of cache keys).
inline void mask_tile(float* sc, const KeySpan& sp, int j0, int nk, int BK) {
  const int j1 = j0 + nk;
  if (nk == BK && ((sp.lo0 <= j0 && sp.hi0 >= j1) || (sp.lo1 <= j0 && sp.hi1 >= j1))) return;
  for (int jj = 0; jj < BK; ++jj) sc[jj] = sp.sees(j0 + jj) ? sc[jj] : -INFINITY;
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
  if (s->mask < SD_MASK_BIDIR || s->mask > SD_MASK_VERIFY)
    return fail(SD_EINVAL, "%s: mask must be 0..5 (SD_MASK_*), got %d", op, s->mask);
  if ((s->mask == SD_MASK_BLOCK_CAUSAL || s->mask == SD_MASK_BLOCK_DIFF) && s->block <= 0)
    return fail(SD_EINVAL, "%s: block must be > 0 for block masks, got %d", op, s->block);
  if (s->mask == SD_MASK_BLOCK_DIFF && (s->Tq != s->Tk || s->Tq % 2 != 0 || s->q_offset != 0))
    return fail(SD_EINVAL,
                "%s: block_diff needs Tq = Tk = 2L and q_offset 0, got Tq %d, Tk %d, q_offset %d",
                op, s->Tq, s->Tk, s->q_offset);
  if (s->mask == SD_MASK_VERIFY &&
      (s->block < 1 || s->origin > s->block || (long)s->block + s->origin > s->Tq ||
       (long)s->q_offset + s->Tq != s->Tk))
    return fail(SD_EINVAL,
                "%s: verify needs 1 <= clean rows (block) %d, mask rows (origin) %d <= clean rows, "
                "clean + mask rows <= Tq %d and q_offset %d + Tq = Tk %d",
                op, s->block, s->origin, s->Tq, s->q_offset, s->Tk);
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
