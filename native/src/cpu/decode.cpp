// Per-row decoding statistics for the sampler: filter (mask/ban ids, temperature, top-k,
// top-p), then pick a token (greedy argmax or inverse-CDF sample) and report its
// probability, the entropy and the top-1/top-2 margin of the filtered distribution.
//
// Exact filtering rules (the reference in native/lib/reference.ts follows them):
//  - z = logits / T (T = temperature, or 1 when temperature <= 0), mask/ban ids -> -inf.
//  - top-k (0 < k < #finite): keep z >= the k-th largest z (ties at the cut are kept).
//  - top-p (< 1): sort the kept tokens by probability (descending, ties by lower index) and
//    keep the shortest prefix whose mass reaches top_p (the token that crosses is kept).
//  - temperature <= 0 is greedy (argmax) whether or not uniforms are given.
//  - sampling walks the kept tokens in index order and takes the first whose cumulative
//    mass exceeds u * total.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"
#include "simd.h"
#include "vec8.h"

namespace {
#if defined(__wasm__)
std::vector<float> g_z, g_e;  // single-threaded
std::vector<int> g_idx;
#else
thread_local std::vector<float> g_z, g_e;
thread_local std::vector<int> g_idx;
#endif

struct RowOut {
  int32_t tok;
  float prob, entropy, margin;
};

// Returns false when the row has no finite logit left after masking.
bool decode_row(const float* x, int V, int mask_id, int ban_id, float temperature, int top_k,
                float top_p, const float* u, RowOut* out, std::vector<float>& z,
                std::vector<float>& e, std::vector<int>& idx) {
  const float invT = temperature > 0.f ? 1.f / temperature : 1.f;
  for (int j = 0; j < V; ++j) z[j] = x[j] * invT;
  if (mask_id >= 0) z[mask_id] = -INFINITY;
  if (ban_id >= 0) z[ban_id] = -INFINITY;
  int best = -1;
  float m = -INFINITY;
  int finite = 0;
  for (int j = 0; j < V; ++j) {
    if (z[j] > m) {
      m = z[j];
      best = j;
    }
    finite += z[j] > -INFINITY;
  }
  if (best < 0 || !std::isfinite(m)) return false;
  // top-k: threshold at the k-th largest value.
  if (top_k > 0 && top_k < finite) {
    for (int j = 0; j < V; ++j) e[j] = z[j];
    std::nth_element(e.begin(), e.begin() + (top_k - 1), e.begin() + V, std::greater<float>());
    const float kth = e[top_k - 1];
    for (int j = 0; j < V; ++j)
      if (z[j] < kth) z[j] = -INFINITY;
  }
  // e = exp(z - m), exactly 0 where z = -inf; eight lanes at a time (the scalar exp does not
  // vectorise), the tail through the same vector code so no element depends on V.
  const sd::v8f mv = sd::splat8(m);
  for (int j = 0; j < V; j += 8) {
    const int w = V - j < 8 ? V - j : 8;
    if (w == 8) {
      sd::store8(&e[j], sd::exp8(sd::load8(&z[j]) - mv));
    } else {
      float t[8];
      for (int l = 0; l < 8; ++l) t[l] = l < w ? z[j + l] : -INFINITY;
      sd::store8(t, sd::exp8(sd::load8(t) - mv));
      for (int l = 0; l < w; ++l) e[j + l] = t[l];
    }
  }
  double total = 0;
  for (int j = 0; j < V; ++j) total += e[j];
  if (top_p < 1.f) {
    int n = 0;
    for (int j = 0; j < V; ++j)
      if (e[j] > 0.f) idx[n++] = j;
    std::sort(idx.begin(), idx.begin() + n,
              [&](int a, int b) { return e[a] > e[b] || (e[a] == e[b] && a < b); });
    double cum = 0;
    const double need = (double)top_p * total;
    int keep = n;
    for (int i = 0; i < n; ++i) {
      cum += e[idx[i]];
      if (cum >= need) {
        keep = i + 1;
        break;
      }
    }
    for (int i = keep; i < n; ++i) e[idx[i]] = 0.f;
    if (keep < n) {
      total = 0;
      for (int i = 0; i < keep; ++i) total += e[idx[i]];
    }
  }
  int tok = best;
  if (u && temperature > 0.f) {  // temperature <= 0 is greedy even when uniforms are given
    const double target = (double)*u * total;
    double cum = 0;
    int last = best;
    tok = -1;
    for (int j = 0; j < V; ++j) {
      if (e[j] <= 0.f) continue;
      last = j;
      cum += e[j];
      if (cum > target) {
        tok = j;
        break;
      }
    }
    if (tok < 0) tok = last;  // u * total rounded above the float cumulative sum
  }
  // Entropy of the filtered distribution: H = log S - sum_j p_j (z_j - m).
  double ez = 0;
  float second = 0.f;
  for (int j = 0; j < V; ++j) {
    if (e[j] <= 0.f) continue;
    ez += (double)e[j] * (double)(z[j] - m);
    if (j != best && e[j] > second) second = e[j];
  }
  out->tok = tok;
  out->prob = (float)(e[tok] / total);
  out->entropy = (float)(std::log(total) - ez / total);
  out->margin = (float)((e[best] - second) / total);
  return true;
}
}  // namespace

extern "C" int sd_decode_rows(const float* logits, int N, int V, int mask_id, int ban_id,
                              float temperature, int top_k, float top_p, const float* uniforms,
                              int32_t* tok, float* prob, float* entropy, float* margin) {
  const char* op = "decode_rows";
  SD_CHECK_POS(op, "N", N);
  SD_CHECK_POS(op, "V", V);
  SD_CHECK_PTR(op, "logits", logits);
  SD_CHECK_PTR(op, "tok", tok);
  SD_CHECK_FINITE(op, "temperature", temperature);
  SD_CHECK_FINITE(op, "top_p", top_p);
  SD_CHECK_NONNEG(op, "top_k", top_k);
  if (mask_id < -1 || mask_id >= V)
    return sd::fail(SD_ERANGE, "decode_rows: mask_id must be -1 (none) or in [0, V = %d), got %d",
                    V, mask_id);
  if (ban_id < -1 || ban_id >= V)
    return sd::fail(SD_ERANGE, "decode_rows: ban_id must be -1 (none) or in [0, V = %d), got %d", V,
                    ban_id);
  if (!(top_p > 0.f && top_p <= 1.f))
    return sd::fail(SD_EINVAL, "decode_rows: top_p must be in (0, 1], got %g", (double)top_p);
  if (uniforms)
    for (int r = 0; r < N; ++r)
      if (!(uniforms[r] >= 0.f && uniforms[r] < 1.f))
        return sd::fail(SD_EINVAL, "decode_rows: uniforms[%d] must be in [0, 1), got %g", r,
                        (double)uniforms[r]);
  std::vector<char> bad((size_t)N, 0);
  SD_PARALLEL {
    // Per-thread scratch that only grows: allocating (and zeroing) 3·V values per call cost
    // about as much as decoding a row.
    std::vector<float>& z = g_z;
    std::vector<float>& e = g_e;
    std::vector<int>& idx = g_idx;
    if (z.size() < (size_t)V) z.resize(V), e.resize(V), idx.resize(V);
    SD_FOR_DYN
    for (int r = 0; r < N; ++r) {
      RowOut o;
      if (!decode_row(logits + (size_t)r * V, V, mask_id, ban_id, temperature, top_k, top_p,
                      uniforms ? uniforms + r : nullptr, &o, z, e, idx)) {
        bad[r] = 1;
        continue;
      }
      tok[r] = o.tok;
      if (prob) prob[r] = o.prob;
      if (entropy) entropy[r] = o.entropy;
      if (margin) margin[r] = o.margin;
    }
  }
  for (int r = 0; r < N; ++r)
    if (bad[r])
      return sd::fail(SD_EINVAL,
                      "decode_rows: row %d has no finite logit left after the mask/ban ids", r);
  return SD_OK;
}
