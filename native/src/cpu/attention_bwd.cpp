// Attention backward, FlashAttention-2 style: probabilities are recomputed from the
// forward's lse (P = exp(S - lse)), with D_i = rowsum(dO ∘ O) precomputed, so
//   dV += Pᵀ dO,  dS = P ∘ (dO Vᵀ - D),  dK += scale · dSᵀ Q,  dQ += scale · dS K.
// Work units are (kv head, key tile): a unit owns its dK/dV rows outright (all query
// heads of its group and every query row that sees the tile), so they never race. dQ
// rows are shared between key tiles: each thread accumulates into its own dQ buffer
// (O(Tq·Hq·D), never O(Tq·Tk)) and the buffers are summed at the end.
#include <cmath>
#include <vector>

#include "attention_tiles.h"
#include "simd.h"

namespace {
void attention_bwd(const float* q, const float* k, const float* v, const float* out,
                   const float* lse, const float* dout, float* dq, float* dk, float* dv,
                   const sd_attn_shape& s) {
  const int D = s.D, Tq = s.Tq, Tk = s.Tk, Hq = s.Hq, Hkv = s.Hkv;
  constexpr int BK = sd::kAttnBK, R = sd::kRows;
  const int group = Hq / Hkv;
  const int ktiles = (Tk + BK - 1) / BK;
  const int units = Hkv * ktiles;
  const size_t kstride = (size_t)Hkv * D, qstride = (size_t)Hq * D;
  const size_t nq = (size_t)Tq * Hq * D;

  // D_i = dO_i · O_i, laid out [Hq, Tq] like lse.
  std::vector<float> Di((size_t)Hq * Tq);
  SD_PARALLEL_FOR_IF(nq > (size_t)sd::kParallelMin)
  for (int i = 0; i < Tq; ++i)
    for (int h = 0; h < Hq; ++h) {
      const size_t o = ((size_t)i * Hq + h) * D;
      Di[(size_t)h * Tq + i] = sd::dot(dout + o, out + o, D);
    }

  const int threads = sd::imin(sd::max_threads(), units);
  // Thread 0 accumulates straight into dq; the others into private zeroed buffers.
  std::vector<float> dq_private(threads > 1 ? (threads - 1) * nq : 0, 0.f);
  // The team size is pinned to `threads`: a thread id >= threads would have no dq buffer.
  SD_PARALLEL_NUM(threads) {
    const int t = sd::thread_id();
    float* dqt = t == 0 ? dq : dq_private.data() + (size_t)(t - 1) * nq;
    std::vector<float> Kt((size_t)D * BK), Vt((size_t)D * BK), dK((size_t)BK * D),
        dV((size_t)BK * D), zero((size_t)D, 0.f), sink((size_t)D);
    float P[R][BK], dS[R][BK];
    // Round-robin, not dynamic: which thread takes which unit must not vary between runs,
    // or the order in which per-thread dQ buffers are summed does, and training would not
    // be bit-reproducible (exact resume) with more than one thread.
    SD_FOR_ROUND_ROBIN
    for (int u = 0; u < units; ++u) {
      const int hk = u / ktiles, j0 = (u % ktiles) * BK;
      const int nk = sd::imin(BK, Tk - j0);
      const float* kh = k + (size_t)hk * D;
      const float* vh = v + (size_t)hk * D;
      sd::transpose_key_tile(kh, j0, nk, (int)kstride, D, Kt.data());
      sd::transpose_key_tile(vh, j0, nk, (int)kstride, D, Vt.data());
      for (size_t e = 0; e < (size_t)BK * D; ++e) dK[e] = dV[e] = 0.f;
      bool touched = false;
      for (int i0 = 0; i0 < Tq; i0 += R) {
        sd::KeySpan span[R];
        bool seen[R], any = false;
        for (int c = 0; c < R; ++c) {
          seen[c] = i0 + c < Tq;
          if (seen[c]) span[c] = sd::key_span(s, i0 + c);
          seen[c] = seen[c] && span[c].touches(j0, j0 + nk);
          any |= seen[c];
        }
        if (!any) continue;
        for (int h = hk * group; h < (hk + 1) * group; ++h) {
          bool live[R], group_live = false;
          const float *x[R], *dx[R];
          float* dqr[R];
          for (int c = 0; c < R; ++c) {
            const int i = i0 + c;
            // A row that saw no key (lse = -inf) has no gradient.
            live[c] = seen[c] && lse[(size_t)h * Tq + i] > -INFINITY;
            group_live |= live[c];
            const size_t o = (size_t)i * qstride + (size_t)h * D;
            x[c] = live[c] ? q + o : zero.data();
            dx[c] = live[c] ? dout + o : zero.data();
            dqr[c] = live[c] ? dqt + o : sink.data();
          }
          if (!group_live) continue;
          touched = true;
          sd::rows_dot_tile(x, Kt.data(), D, s.scale, P);
          sd::rows_dot_tile(dx, Vt.data(), D, 1.f, dS);
          for (int c = 0; c < R; ++c) {
            if (!live[c]) {
              for (int jj = 0; jj < BK; ++jj) P[c][jj] = dS[c][jj] = 0.f;
              continue;
            }
            const int i = i0 + c;
            const float L = lse[(size_t)h * Tq + i], Dv = Di[(size_t)h * Tq + i];
            for (int jj = 0; jj < BK; ++jj) {
              const float p = span[c].sees(j0 + jj) ? sd::exp(P[c][jj] - L) : 0.f;
              P[c][jj] = p;
              dS[c][jj] = p * (dS[c][jj] - Dv) * s.scale;  // scale · dS
            }
          }
          sd::tile_acc_rows(dV.data(), P, dx, nk, D);
          sd::tile_acc_rows(dK.data(), dS, x, nk, D);
          sd::rows_acc_tile(dqr, dS, kh + (size_t)j0 * kstride, kstride, nk, D);
        }
      }
      if (!touched) continue;
      for (int jj = 0; jj < nk; ++jj) {
        const size_t o = (size_t)(j0 + jj) * kstride + (size_t)hk * D;
        for (int d = 0; d < D; ++d) {
          dk[o + d] += dK[(size_t)jj * D + d];
          dv[o + d] += dV[(size_t)jj * D + d];
        }
      }
    }
  }
  if (threads > 1) {
    SD_PARALLEL_FOR_IF(nq > (size_t)sd::kParallelMin)
    for (size_t e = 0; e < nq; ++e) {
      float a = 0.f;
      for (int t = 0; t < threads - 1; ++t) a += dq_private[(size_t)t * nq + e];
      dq[e] += a;
    }
  }
}
}  // namespace

extern "C" int sd_attention_bwd(const float* q, const float* k, const float* v, const float* out,
                                const float* lse, const float* dout, float* dq, float* dk,
                                float* dv, const sd_attn_shape* s) {
  const char* op = "attention_bwd";
  if (int rc = sd::check_attn_shape(op, s)) return rc;
  SD_CHECK_PTR(op, "q", q);
  SD_CHECK_PTR(op, "k", k);
  SD_CHECK_PTR(op, "v", v);
  SD_CHECK_PTR(op, "out", out);
  SD_CHECK_PTR(op, "lse", lse);
  SD_CHECK_PTR(op, "dout", dout);
  SD_CHECK_PTR(op, "dq", dq);
  SD_CHECK_PTR(op, "dk", dk);
  SD_CHECK_PTR(op, "dv", dv);
  attention_bwd(q, k, v, out, lse, dout, dq, dk, dv, *s);
  return SD_OK;
}

extern "C" int sd_attention_bwd_v(const float* q, const float* k, const float* v, const float* out,
                                  const float* lse, const float* dout, float* dq, float* dk,
                                  float* dv, int Tq, int Tk, int Hq, int Hkv, int D, int mask,
                                  int block, int origin, int q_offset, float scale) {
  const sd_attn_shape s{Tq, Tk, Hq, Hkv, D, mask, block, origin, q_offset, scale};
  return sd_attention_bwd(q, k, v, out, lse, dout, dq, dk, dv, &s);
}
