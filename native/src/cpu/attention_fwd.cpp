// Attention forward, FlashAttention style: each work unit is one key/value head × a tile of
// query rows of (by default) every query head of its GQA group, so each key tile is
// transposed once and shared by all those rows. The unit streams key tiles of kAttnBK keys
// with an online softmax (running max m, running sum l, unnormalised accumulator), so memory
// is O(rows·D) per thread and never O(Tq·Tk). Key tiles no row of the unit can see are
// skipped; tiles a row sees whole (cache keys) skip the per-key mask.
// The same units serve the paged form (sd_attention_paged_fwd): the keys of a batch of
// sequences live in pages of a shared pool, and a key tile never crosses a page (pages hold
// a multiple of kAttnBK rows), so only the address of a tile's first row changes.
#include <cmath>
#include <cstdint>
#include <vector>

#include "attention_tiles.h"
#include "matmul_kernel.h"
#include "simd.h"

namespace {

// Query positions per unit when it covers `hpu` heads: about 64 rows in all, at most kAttnBQ
// positions, at least kRows.
int unit_positions(int hpu) {
  const int p = 2 * sd::kAttnBQ / hpu;
  return p > sd::kAttnBQ ? sd::kAttnBQ : (p < sd::kRows ? sd::kRows : p);
}

// Keys and values stored contiguously: row j at base + j·stride.
struct ContiguousKV {
  const float* k;
  const float* v;
  size_t stride;
  const float* krow(int j) const { return k + (size_t)j * stride; }
  const float* vrow(int j) const { return v + (size_t)j * stride; }
};

// Keys and values in pages of P rows of a pool: row j at pool row pages[j / P]·P + j % P.
struct PagedKV {
  const float* k;
  const float* v;
  size_t stride;
  const int32_t* pages;
  int P;
  size_t at(int j) const { return ((size_t)pages[j / P] * P + j % P) * stride; }
  const float* krow(int j) const { return k + at(j); }
  const float* vrow(int j) const { return v + at(j); }
};

// One attention call split into units (the unit loop below runs any mix of them).
template <typename KV>
struct Call {
  sd_attn_shape s;
  const float* q;
  float* out;
  float* lse;
  KV kv;
  int hpu, BQ, qtiles, hsplit, units;
};

// Heads per unit: the whole group unless that leaves threads without a unit; then the
// largest divisor of the group that gives every thread one. The rows of a unit do not
// interact, so the result does not depend on this choice (nor on the thread count).
template <typename KV>
Call<KV> plan(const sd_attn_shape& s, const float* q, float* out, float* lse, KV kv, int nt) {
  const int group = s.Hq / s.Hkv;
  int hpu = group;
  while (hpu > 1 &&
         (long)s.Hkv * (group / hpu) * ((s.Tq + unit_positions(hpu) - 1) / unit_positions(hpu)) <
             nt) {
    int d = hpu - 1;
    while (group % d) --d;
    hpu = d;
  }
  Call<KV> c{s, q, out, lse, kv, hpu, unit_positions(hpu), 0, 0, 0};
  c.qtiles = (s.Tq + c.BQ - 1) / c.BQ;
  c.hsplit = group / hpu;
  c.units = s.Hkv * c.hsplit * c.qtiles;
  return c;
}

// A thread's scratch, sized for units of up to `rows` rows of BQ positions.
struct Scratch {
  std::vector<float> Kt, acc, zero, m, l;
  std::vector<sd::KeySpan> span;
  Scratch(int D, int rows, int BQ)
      : Kt((size_t)D * sd::kAttnBK),
        acc((size_t)(rows + 1) * D),
        zero((size_t)D, 0.f),
        m(rows),
        l(rows),
        span(BQ) {}
};

template <typename KV>
void run_unit(const Call<KV>& c, int u, Scratch& w) {
  const sd_attn_shape& s = c.s;
  const int D = s.D, Tq = s.Tq, Tk = s.Tk, Hq = s.Hq;
  constexpr int BK = sd::kAttnBK, R = sd::kRows;
  const int group = Hq / s.Hkv, hpu = c.hpu, BQ = c.BQ, rows = BQ * hpu;
  const size_t kstride = (size_t)s.Hkv * D;
  const float* q = c.q;
  float S[R][BK];
  float* Kt = w.Kt.data();
  float* acc = w.acc.data();
  float* m = w.m.data();
  float* l = w.l.data();
  sd::KeySpan* span = w.span.data();
  const int hk = u / (c.hsplit * c.qtiles), hs = u / c.qtiles % c.hsplit, i0 = u % c.qtiles * BQ;
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
  for (int j0 = klo / BK * BK; j0 < khi; j0 += BK) {
    const int nk = sd::imin(BK, Tk - j0), j1 = j0 + nk;
    bool any = false;
    for (int p = 0; p < nq && !any; ++p) any = span[p].touches(j0, j1);
    if (!any) continue;
    // A tile's rows are contiguous (in one page of a paged cache): address its first row.
    sd::transpose_key_tile(c.kv.krow(j0) + (size_t)hk * D, 0, nk, (int)kstride, D, Kt);
    for (int g = 0; g < nr; g += R) {
      bool live[R];
      const float* x[R];
      float* a[R];
      bool group_live = false;
      for (int cc = 0; cc < R; ++cc) {
        const int r = g + cc;
        live[cc] = r < nr && span[r / hpu].touches(j0, j1);
        group_live |= live[cc];
        x[cc] = r < nr ? q + ((size_t)(i0 + r / hpu) * Hq + h0 + r % hpu) * D : w.zero.data();
        a[cc] = acc + (size_t)(r < nr ? r : rows) * D;
      }
      if (!group_live) continue;
      sd::rows_dot_tile(x, Kt, D, s.scale, S);
      for (int cc = 0; cc < R; ++cc) {
        float* sc = S[cc];
        if (!live[cc]) {
          for (int jj = 0; jj < BK; ++jj) sc[jj] = 0.f;
          continue;
        }
        const int r = g + cc;
        const sd::KeySpan sp = span[r / hpu];
        sd::mask_tile(sc, sp, j0, nk, BK);
        float ts;
        const float mn = sd::tile_softmax(sc, m[r], &ts);
        const float corr = sd::exp(m[r] - mn);  // 0 on the first visible tile
        l[r] = l[r] * corr + ts;
        m[r] = mn;
        if (corr != 1.f)
          for (int d = 0; d < D; ++d) a[cc][d] *= corr;
      }
      sd::rows_acc_tile(a, S, c.kv.vrow(j0) + (size_t)hk * D, kstride, nk, D);
    }
  }
  for (int r = 0; r < nr; ++r) {
    const int i = i0 + r / hpu, h = h0 + r % hpu;
    float* orow = c.out + ((size_t)i * Hq + h) * D;
    const float* ar = acc + (size_t)r * D;
    // A row with no visible key: zeros and lse = -inf (the backward skips it).
    const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
    for (int d = 0; d < D; ++d) orow[d] = ar[d] * inv;
    if (c.lse) c.lse[(size_t)h * Tq + i] = l[r] > 0.f ? m[r] + std::log(l[r]) : -INFINITY;
  }
}

// Runs every unit of `calls` (one parallel region over all of them). first[i] is the index of
// call i's first unit in the flat unit range.
template <typename KV>
void run_calls(const std::vector<Call<KV>>& calls) {
  std::vector<int> first(calls.size() + 1, 0);
  int rows = 0, BQ = 0, D = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    first[i + 1] = first[i] + calls[i].units;
    rows = rows > calls[i].BQ * calls[i].hpu ? rows : calls[i].BQ * calls[i].hpu;
    BQ = BQ > calls[i].BQ ? BQ : calls[i].BQ;
    D = calls[i].s.D;
  }
  const int total = first.back();
  if (total == 0) return;
  SD_PARALLEL {
    Scratch w(D, rows, BQ);
    size_t ci = 0;
    SD_FOR_DYN
    for (int u = 0; u < total; ++u) {
      // Units are handed out in increasing order per thread: walk the calls forwards.
      if ((int)ci >= (int)calls.size() || u < first[ci]) ci = 0;
      while (u >= first[ci + 1]) ++ci;
      run_unit(calls[ci], u - first[ci], w);
    }
  }
}

#if SD_MM_AVX512
// GCC 12 warns that _mm512_undefined_ps() (the pass-through of unmasked intrinsics, e.g.
// _mm512_max_ps) "may be used uninitialized": a known false positive (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// e^x on 16 lanes: the polynomial of sd::exp (simd.h), 2^n applied by vscalefps; exactly 0 for
// x < -87.3 (and -inf).
inline __m512 exp16(__m512 x) {
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
  const __m512 fx = _mm512_roundscale_ps(
      _mm512_fmadd_ps(xc, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f)),
      _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fmadd_ps(fx, _mm512_set1_ps(2.12194440e-4f),
                                   _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), xc));
  const __m512 z = _mm512_mul_ps(r, r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_add_ps(_mm512_fmadd_ps(y, z, r), _mm512_set1_ps(1.f));
  const __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
  return _mm512_maskz_mov_ps(~under, _mm512_scalef_ps(y, fx));
}

// tile_softmax (attention_tiles.h) in zmm registers: sc[jj] <- e^(sc[jj] - mn) with
// mn = max(m, max sc); returns mn and the sum of the new sc[] in *sum.
inline float tile_softmax16(float* sc, float m, float* sum) {
  static_assert(sd::kAttnBK % 16 == 0, "key tile must be whole zmm vectors");
  __m512 mx = _mm512_loadu_ps(sc);
  for (int jj = 16; jj < sd::kAttnBK; jj += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(sc + jj));
  float mn = _mm512_reduce_max_ps(mx);
  mn = m > mn ? m : mn;
  const __m512 mv = _mm512_set1_ps(mn);
  __m512 acc = _mm512_setzero_ps();
  for (int jj = 0; jj < sd::kAttnBK; jj += 16) {
    // A row whose every score so far is -inf keeps mn = -inf: e^(-inf - -inf) would be NaN.
    const __m512 e =
        mn == -INFINITY ? _mm512_setzero_ps() : exp16(_mm512_sub_ps(_mm512_loadu_ps(sc + jj), mv));
    _mm512_storeu_ps(sc + jj, e);
    acc = _mm512_add_ps(acc, e);
  }
  *sum = _mm512_reduce_add_ps(acc);
  return mn;
}

// The same algorithm with QKᵀ and PV as small GEMMs on the AVX-512 matmul micro-kernel
// (matmul_kernel.h): up to MR = 12 rows of the unit at a time against the 64-key tile read in
// place (S = scale·Q·Kt, 2 panels of 32 keys), then the softmaxed rows packed k-major and
// multiplied into the accumulators by 32-column panels of the value tile (O += P·V). Each row
// is the same chain of fused multiply-adds whatever rows share its group, so the result still
// does not depend on the other rows of the call.
// Keys and values are addressed through `kv` (contiguous or paged): a key tile is contiguous
// rows either way (a page holds whole tiles), so only a tile's first row is looked up, and the
// arithmetic is the same instruction for instruction — paged rows equal contiguous ones bit for
// bit.
template <typename KV>
void attention_fwd_gemm(const float* q, const KV& kv, float* out, float* lse,
                        const sd_attn_shape& s) {
  using sd::mm::MR;
  using sd::mm::NR;
  const int D = s.D, Tq = s.Tq, Tk = s.Tk, Hq = s.Hq, Hkv = s.Hkv;
  constexpr int BK = sd::kAttnBK;
  static_assert(BK % NR == 0, "key tile must be whole panels");
  const int group = Hq / Hkv;
  const int nt = sd::max_threads();
  int hpu = group;
  // Query positions per unit: 8·MR rows in all (whole kernel groups), at least one position.
  auto positions = [](int h) { return 8 * MR / h > 1 ? 8 * MR / h : 1; };
  while (hpu > 1 && (long)Hkv * (group / hpu) * ((Tq + positions(hpu) - 1) / positions(hpu)) < nt) {
    int d = hpu - 1;
    while (group % d) --d;
    hpu = d;
  }
  const int BQ = positions(hpu);
  const int qtiles = (Tq + BQ - 1) / BQ;
  const int hsplit = group / hpu;
  const int units = Hkv * hsplit * qtiles;
  const int rows = BQ * hpu;
  const int groups = (rows + MR - 1) / MR;
  const int dpanels = (D + NR - 1) / NR;
  const size_t kstride = (size_t)Hkv * D;
  const bool v_in_place = D % NR == 0;
  SD_PARALLEL {
    // 64-byte aligned scratch: packed Q (per group: D×MR), the key tile transposed (D×BK),
    // the value tile as 32-column panels when D % 32 != 0 (dpanels×BK×NR), scores (MR×BK).
    auto r16 = [](size_t n) { return (n + 15) / 16 * 16; };  // keep every buffer 64-byte aligned
    const size_t nq_f = r16((size_t)groups * MR * D), nk_f = r16((size_t)D * BK),
                 nv_f = (size_t)dpanels * BK * NR, ns_f = (size_t)MR * BK;
    std::vector<float> buf(nq_f + nk_f + nv_f + ns_f + 16);
    float* base =
        reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t(63));
    float* Qp = base;
    float* Kt = Qp + nq_f;
    float* Vp = Kt + nk_f;
    float* S = Vp + nv_f;
    std::vector<float> acc((size_t)rows * D), m(rows), l(rows);
    std::vector<sd::KeySpan> span(BQ);
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
      for (size_t e = 0; e < (size_t)nr * D; ++e) acc[e] = 0.f;
      // Q rows of the unit, packed k-major in groups of MR (unused lanes of the last group are
      // never read: the kernel runs on the group's real row count).
      for (int g = 0; g < nr; g += MR) {
        const int R = sd::imin(MR, nr - g);
        float* d0 = Qp + (size_t)g * D;
        for (int c = 0; c < R; ++c) {
          const int r = g + c;
          const float* x = q + ((size_t)(i0 + r / hpu) * Hq + h0 + r % hpu) * D;
          for (int d = 0; d < D; ++d) d0[(size_t)d * MR + c] = x[d];
        }
      }
      for (int j0 = klo / BK * BK; j0 < khi; j0 += BK) {
        const int nk = sd::imin(BK, Tk - j0), j1 = j0 + nk;
        bool any = false;
        for (int p = 0; p < nq && !any; ++p) any = span[p].touches(j0, j1);
        if (!any) continue;
        // The tile's first key and value rows of this head (its rows follow at kstride).
        const float* kt = kv.krow(j0) + (size_t)hk * D;
        const float* vt = kv.vrow(j0) + (size_t)hk * D;
        sd::transpose_key_tile(kt, 0, nk, (int)kstride, D, Kt);
        // D not a multiple of 32: the value tile is copied into zero-padded 32-column panels
        // (reading the last panel in place would run past the row, and past the buffer).
        if (!v_in_place)
          for (int pd = 0; pd < dpanels; ++pd) {
            const int d0 = pd * NR, w = sd::imin(NR, D - d0);
            float* dst = Vp + (size_t)pd * BK * NR;
            for (int jj = 0; jj < nk; ++jj) {
              const float* src = vt + (size_t)jj * kstride + d0;
              float* o = dst + (size_t)jj * NR;
              for (int d = 0; d < w; ++d) o[d] = src[d];
              for (int d = w; d < NR; ++d) o[d] = 0.f;
            }
          }
        const int kpanels = (nk + NR - 1) / NR;
        for (int g = 0; g < nr; g += MR) {
          const int R = sd::imin(MR, nr - g);
          bool live[MR], group_live = false;
          for (int c = 0; c < R; ++c) {
            live[c] = span[(g + c) / hpu].touches(j0, j1);
            group_live |= live[c];
          }
          if (!group_live) continue;
          for (int p = 0; p < kpanels; ++p)
            sd::mm::kernel_any<BK>(R, D, Qp + (size_t)g * D, Kt + p * NR, S + p * NR, BK, NR,
                                   s.scale, 0.f, true);
          for (int c = 0; c < R; ++c) {
            float* sc = S + (size_t)c * BK;
            if (!live[c]) {
              for (int jj = 0; jj < BK; ++jj) sc[jj] = 0.f;
              continue;
            }
            const int r = g + c;
            const sd::KeySpan sp = span[r / hpu];
            sd::mask_tile(sc, sp, j0, nk, BK);
            float ts;
            const float mn = tile_softmax16(sc, m[r], &ts);
            const float corr = sd::exp(m[r] - mn);
            l[r] = l[r] * corr + ts;
            m[r] = mn;
            if (corr != 1.f) {
              float* ar = acc.data() + (size_t)r * D;
              for (int d = 0; d < D; ++d) ar[d] *= corr;
            }
          }
          // O += P·V with P (R rows × nk keys) read in place from the score rows.
          for (int pd = 0; pd < dpanels; ++pd)
            sd::mm::kernel_any<0, BK>(
                R, nk, S, v_in_place ? vt + pd * NR : Vp + (size_t)pd * BK * NR,
                acc.data() + (size_t)g * D + pd * NR, D, sd::imin(NR, D - pd * NR), 1.f, 1.f, false,
                v_in_place ? (int)kstride : NR);
        }
      }
      for (int r = 0; r < nr; ++r) {
        const int i = i0 + r / hpu, h = h0 + r % hpu;
        float* orow = out + ((size_t)i * Hq + h) * D;
        const float* ar = acc.data() + (size_t)r * D;
        const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
        for (int d = 0; d < D; ++d) orow[d] = ar[d] * inv;
        if (lse) lse[(size_t)h * Tq + i] = l[r] > 0.f ? m[r] + std::log(l[r]) : -INFINITY;
      }
    }
  }
}
#endif
}  // namespace

extern "C" int sd_attention_fwd(const float* q, const float* k, const float* v, float* out,
                                float* lse, const sd_attn_shape* s) {
  const char* op = "attention_fwd";
  if (int rc = sd::check_attn_shape(op, s)) return rc;
  SD_CHECK_PTR(op, "q", q);
  SD_CHECK_PTR(op, "k", k);
  SD_CHECK_PTR(op, "v", v);
  SD_CHECK_PTR(op, "out", out);
  const ContiguousKV kv{k, v, (size_t)s->Hkv * s->D};
#if SD_MM_AVX512
  attention_fwd_gemm(q, kv, out, lse, *s);
#else
  run_calls(std::vector<Call<ContiguousKV>>{plan(*s, q, out, lse, kv, sd::max_threads())});
#endif
  return SD_OK;
}

extern "C" int sd_attention_fwd_v(const float* q, const float* k, const float* v, float* out,
                                  float* lse, int Tq, int Tk, int Hq, int Hkv, int D, int mask,
                                  int block, int origin, int q_offset, float scale) {
  const sd_attn_shape s{Tq, Tk, Hq, Hkv, D, mask, block, origin, q_offset, scale};
  return sd_attention_fwd(q, k, v, out, lse, &s);
}

extern "C" int sd_attention_paged_fwd(const float* q, const float* k_pool, const float* v_pool,
                                      float* out, const int32_t* seqs, const int32_t* pages, int S,
                                      int Hq, int Hkv, int D, int page_size, int pool_pages,
                                      float scale) {
  const char* op = "attention_paged_fwd";
  SD_CHECK_POS(op, "S", S);
  SD_CHECK_POS(op, "page_size", page_size);
  SD_CHECK_POS(op, "pool_pages", pool_pages);
  SD_CHECK_PTR(op, "q", q);
  SD_CHECK_PTR(op, "k_pool", k_pool);
  SD_CHECK_PTR(op, "v_pool", v_pool);
  SD_CHECK_PTR(op, "out", out);
  SD_CHECK_PTR(op, "seqs", seqs);
  SD_CHECK_PTR(op, "pages", pages);
  if (page_size % sd::kAttnBK != 0)
    return sd::fail(SD_EINVAL, "%s: page_size must be a multiple of %d (a key tile), got %d", op,
                    sd::kAttnBK, page_size);
  std::vector<Call<PagedKV>> calls;
  calls.reserve(S);
  const int nt = sd::max_threads();
  for (int i = 0; i < S; ++i) {
    const int32_t* d = seqs + (size_t)i * SD_PAGED_SEQ_FIELDS;
    const int q0 = d[0], page0 = d[7];
    const sd_attn_shape s{d[1], d[2], Hq, Hkv, D, d[3], d[4], d[5], d[6], scale};
    if (int rc = sd::check_attn_shape(op, &s)) return rc;
    if (q0 < 0 || page0 < 0)
      return sd::fail(SD_EINVAL, "%s: sequence %d: q0 (%d) and page0 (%d) must be >= 0", op, i, q0,
                      page0);
    const int np = (s.Tk + page_size - 1) / page_size;
    for (int p = 0; p < np; ++p)
      if (pages[page0 + p] < 0 || pages[page0 + p] >= pool_pages)
        return sd::fail(SD_ERANGE, "%s: sequence %d: page %d is %d, outside the pool of %d pages",
                        op, i, p, pages[page0 + p], pool_pages);
    const PagedKV kv{k_pool, v_pool, (size_t)Hkv * D, pages + page0, page_size};
    const size_t row0 = (size_t)q0 * Hq * D;
    calls.push_back(plan(s, q + row0, out + row0, (float*)nullptr, kv, nt));
  }
#if SD_MM_AVX512
  // One GEMM-tiled call per sequence, exactly as sd_attention_fwd runs it on contiguous keys.
  for (const Call<PagedKV>& c : calls) attention_fwd_gemm(c.q, c.kv, c.out, c.lse, c.s);
#else
  run_calls(calls);
#endif
  return SD_OK;
}
