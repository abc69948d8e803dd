// Attention forward, FlashAttention style: each work unit is one query head × a tile of
// kAttnBQ query rows; it streams key tiles of kAttnBK keys with an online softmax (running
// max m, running sum l, unnormalised accumulator), so memory is O(BQ·D) per thread and
// never O(Tq·Tk). Key tiles no row of the unit can see are skipped.
#include <cmath>
#include <vector>

#include "attention_tiles.h"
#include "simd.h"

namespace {
void attention_fwd(const float* q, const float* k, const float* v, float* out, float* lse,
                   const sd_attn_shape& s) {
  const int D = s.D, Tq = s.Tq, Tk = s.Tk, Hq = s.Hq, Hkv = s.Hkv;
  constexpr int BQ = sd::kAttnBQ, BK = sd::kAttnBK, R = sd::kRows;
  const int group = Hq / Hkv;
  const int qtiles = (Tq + BQ - 1) / BQ;
  const int units = Hq * qtiles;
  const size_t kstride = (size_t)Hkv * D;
  SD_PARALLEL {
    // acc holds BQ rows plus one scratch row that absorbs the updates of padding rows.
    std::vector<float> Kt((size_t)D * BK), acc((size_t)(BQ + 1) * D), zero((size_t)D, 0.f);
    float S[R][BK], m[BQ], l[BQ];
    sd::KeySpan span[BQ];
    SD_FOR_DYN
    for (int u = 0; u < units; ++u) {
      const int h = u / qtiles, i0 = (u % qtiles) * BQ;
      const int hk = h / group;
      const int nq = sd::imin(BQ, Tq - i0);
      int klo = Tk, khi = 0;
      for (int r = 0; r < nq; ++r) {
        span[r] = sd::key_span(s, i0 + r);
        const sd::KeySpan& sp = span[r];
        if (sp.lo0 < sp.hi0) klo = sd::imin(klo, sp.lo0), khi = khi > sp.hi0 ? khi : sp.hi0;
        if (sp.lo1 < sp.hi1) klo = sd::imin(klo, sp.lo1), khi = khi > sp.hi1 ? khi : sp.hi1;
        m[r] = -INFINITY;
        l[r] = 0.f;
      }
      for (size_t e = 0; e < acc.size(); ++e) acc[e] = 0.f;
      const float* kh = k + (size_t)hk * D;
      const float* vh = v + (size_t)hk * D;
      for (int j0 = klo / BK * BK; j0 < khi; j0 += BK) {
        const int nk = sd::imin(BK, Tk - j0);
        bool any = false;
        for (int r = 0; r < nq && !any; ++r) any = span[r].touches(j0, j0 + nk);
        if (!any) continue;
        sd::transpose_tile(kh, j0, nk, (int)kstride, D, Kt.data());
        for (int g = 0; g < nq; g += R) {
          bool live[R];
          const float* x[R];
          float* a[R];
          bool group_live = false;
          for (int c = 0; c < R; ++c) {
            const int r = g + c;
            live[c] = r < nq && span[r].touches(j0, j0 + nk);
            group_live |= live[c];
            x[c] = r < nq ? q + ((size_t)(i0 + r) * Hq + h) * D : zero.data();
            a[c] = acc.data() + (size_t)(r < nq ? r : BQ) * D;
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
            const sd::KeySpan sp = span[r];
            for (int jj = 0; jj < BK; ++jj) sc[jj] = sp.sees(j0 + jj) ? sc[jj] : -INFINITY;
            const float mt = sd::max(sc, BK);
            const float mn = m[r] > mt ? m[r] : mt;
            const float corr = sd::exp(m[r] - mn);  // 0 on the first visible tile
            for (int jj = 0; jj < BK; ++jj) sc[jj] = sd::exp(sc[jj] - mn);
            l[r] = l[r] * corr + sd::sum(sc, BK);
            m[r] = mn;
            if (corr != 1.f)
              for (int d = 0; d < D; ++d) a[c][d] *= corr;
          }
          sd::rows_acc_tile(a, S, vh + (size_t)j0 * kstride, kstride, nk, D);
        }
      }
      for (int r = 0; r < nq; ++r) {
        float* orow = out + ((size_t)(i0 + r) * Hq + h) * D;
        const float* ar = acc.data() + (size_t)r * D;
        // A row with no visible key: zeros and lse = -inf (the backward skips it).
        const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
        for (int d = 0; d < D; ++d) orow[d] = ar[d] * inv;
        if (lse) lse[(size_t)h * Tq + i0 + r] = l[r] > 0.f ? m[r] + std::log(l[r]) : -INFINITY;
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
