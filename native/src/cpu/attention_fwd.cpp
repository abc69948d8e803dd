// Attention forward, FlashAttention style: each work unit is one key/value head × a tile of
// query rows of (by default) every query head of its GQA group, so each key tile is
// transposed once and shared by all those rows. The unit streams key tiles of kAttnBK keys
// with an online softmax (running max m, running sum l, unnormalised accumulator), so memory
// is O(rows·D) per thread and never O(Tq·Tk). Key tiles no row of the unit can see are
// skipped; tiles a row sees whole (cache keys) skip the per-key mask.
#include <cmath>
#include <vector>

#include "attention_tiles.h"
#include "simd.h"

namespace {

// Query positions per unit when it covers `hpu` heads: about 64 rows in all, at most kAttnBQ
// positions, at least kRows.
int unit_positions(int hpu) {
  const int p = 2 * sd::kAttnBQ / hpu;
  return p > sd::kAttnBQ ? sd::kAttnBQ : (p < sd::kRows ? sd::kRows : p);
}

void attention_fwd(const float* q, const float* k, const float* v, float* out, float* lse,
                   const sd_attn_shape& s) {
  const int D = s.D, Tq = s.Tq, Tk = s.Tk, Hq = s.Hq, Hkv = s.Hkv;
  constexpr int BK = sd::kAttnBK, R = sd::kRows;
  const int group = Hq / Hkv;
  // Heads per unit: the whole group unless that leaves threads without a unit; then the
  // largest divisor of the group that gives every thread one. The rows of a unit do not
  // interact, so the result does not depend on this choice (nor on the thread count).
  const int nt = sd::max_threads();
  int hpu = group;
  while (hpu > 1 &&
         (long)Hkv * (group / hpu) * ((Tq + unit_positions(hpu) - 1) / unit_positions(hpu)) < nt) {
    int d = hpu - 1;
    while (group % d) --d;
    hpu = d;
  }
  const int BQ = unit_positions(hpu);
  const int qtiles = (Tq + BQ - 1) / BQ;
  const int hsplit = group / hpu;
  const int units = Hkv * hsplit * qtiles;
  const int rows = BQ * hpu;  // rows per unit: position-major, head-minor
  const size_t kstride = (size_t)Hkv * D;
  SD_PARALLEL {
    // acc holds the unit's rows plus one scratch row that absorbs the updates of padding rows.
    std::vector<float> Kt((size_t)D * BK), acc((size_t)(rows + 1) * D), zero((size_t)D, 0.f);
    std::vector<float> m(rows), l(rows);
    std::vector<sd::KeySpan> span(BQ);
    float S[R][BK];
    SD_FOR_DYN
    for (int u = 0; u < units; ++u) {
      const int hk = u / (hsplit * qtiles), hs = u / qtiles % hsplit, i0 = u % qtiles * BQ;
      const int h0 = hk * group + hs * hpu;
      const int nq = sd::imin(BQ, Tq - i0), nr = nq * hpu;
      int klo = Tk, khi = 0;
      for (int p = 0; p < nq; ++p) {
        span[p] = sd::key_span(s, i0 + p);
        const sd::KeySpan& sp = span[p];
        if (sp.lo0 < sp.hi0) klo = sd::imin(klo, sp.lo0), khi = khi > sp.hi0 ? khi : sp.hi0;
        if (sp.lo1 < sp.hi1) klo = sd::imin(klo, sp.lo1), khi = khi > sp.hi1 ? khi : sp.hi1;
      }
      for (int r = 0; r < nr; ++r) m[r] = -INFINITY, l[r] = 0.f;
      for (size_t e = 0; e < (size_t)nr * D; ++e) acc[e] = 0.f;  // the scratch row is never read
      const float* kh = k + (size_t)hk * D;
      const float* vh = v + (size_t)hk * D;
      for (int j0 = klo / BK * BK; j0 < khi; j0 += BK) {
        const int nk = sd::imin(BK, Tk - j0), j1 = j0 + nk;
        bool any = false;
        for (int p = 0; p < nq && !any; ++p) any = span[p].touches(j0, j1);
        if (!any) continue;
        sd::transpose_key_tile(kh, j0, nk, (int)kstride, D, Kt.data());
        for (int g = 0; g < nr; g += R) {
          bool live[R];
          const float* x[R];
          float* a[R];
          bool group_live = false;
          for (int c = 0; c < R; ++c) {
            const int r = g + c;
            live[c] = r < nr && span[r / hpu].touches(j0, j1);
            group_live |= live[c];
            x[c] = r < nr ? q + ((size_t)(i0 + r / hpu) * Hq + h0 + r % hpu) * D : zero.data();
            a[c] = acc.data() + (size_t)(r < nr ? r : rows) * D;
          }
          if (!group_live) continue;
          sd::rows_dot_tile(x, Kt.data(), D, s.scale, S);
          for (int c = 0; c < R; ++c) {
            float* sc = S[c];
            if (!live[c]) {
              for (int jj = 0; jj < BK; ++jj) sc[jj] = 0.f;
              continue;
            }
            const int r = g + c;
            const sd::KeySpan sp = span[r / hpu];
            // A tile the row sees whole needs no mask; otherwise hide the keys it cannot see
            // (and the zero padding past Tk, which no span covers).
            const bool whole =
                nk == BK && ((sp.lo0 <= j0 && sp.hi0 >= j1) || (sp.lo1 <= j0 && sp.hi1 >= j1));
            if (!whole)
              for (int jj = 0; jj < BK; ++jj) sc[jj] = sp.sees(j0 + jj) ? sc[jj] : -INFINITY;
            float ts;
            const float mn = sd::tile_softmax(sc, m[r], &ts);
            const float corr = sd::exp(m[r] - mn);  // 0 on the first visible tile
            l[r] = l[r] * corr + ts;
            m[r] = mn;
            if (corr != 1.f)
              for (int d = 0; d < D; ++d) a[c][d] *= corr;
          }
          sd::rows_acc_tile(a, S, vh + (size_t)j0 * kstride, kstride, nk, D);
        }
      }
      for (int r = 0; r < nr; ++r) {
        const int i = i0 + r / hpu, h = h0 + r % hpu;
        float* orow = out + ((size_t)i * Hq + h) * D;
        const float* ar = acc.data() + (size_t)r * D;
        // A row with no visible key: zeros and lse = -inf (the backward skips it).
        const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
        for (int d = 0; d < D; ++d) orow[d] = ar[d] * inv;
        if (lse) lse[(size_t)h * Tq + i] = l[r] > 0.f ? m[r] + std::log(l[r]) : -INFINITY;
      }
    }
  }
}
}  // namespace
extern "C" int sd_attention_fwd(const float* q, const float* k, const float* v, float* out,
                                float* lse, const sd_attn_shape* s) {
  const char* op = "attention_fwd";
  if (int rc = sd::check_attn_shape(op, s)) return rc;
  SD_CHECK_PTR(op, "q", q);
  SD_CHECK_PTR(op, "k", k);
  SD_CHECK_PTR(op, "v", v);
  SD_CHECK_PTR(op, "out", out);
  attention_fwd(q, k, v, out, lse, *s);
  return SD_OK;
}

extern "C" int sd_attention_fwd_v(const float* q, const float* k, const float* v, float* out,
                                  float* lse, int Tq, int Tk, int Hq, int Hkv, int D, int mask,
                                  int block, int origin, int q_offset, float scale) {
  const sd_attn_shape s{Tq, Tk, Hq, Hkv, D, mask, block, origin, q_offset, scale};
  return sd_attention_fwd(q, k, v, out, lse, &s);
}
