// Softmax cross-entropy with the [MASK] logit forced to -inf (MDLM "SUBS": the model never
// predicts [MASK]). One row at a time: max, log-sum-exp, then the gradient written in
// place, so no [N, V] probability buffer exists and dlogits may alias logits.
#include <cmath>

#include "common.h"
#include "simd.h"

namespace {
// sum_j exp(x[j] - m) over x[0..n).
float sum_exp(const float* x, int n, float m) {
  float p[sd::kLanes] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  int j = 0;
  for (; j + sd::kLanes <= n; j += sd::kLanes)
    for (int l = 0; l < sd::kLanes; ++l) p[l] += sd::exp(x[j + l] - m);
  float s = sd::sum(p, sd::kLanes);
  for (; j < n; ++j) s += sd::exp(x[j] - m);
  return s;
}

// Log-sum-exp of row x[0..V) excluding index `skip` (< 0: none). The two sides of `skip`
// are summed separately: subtracting its term afterwards would cancel catastrophically
// when the excluded logit dominates.
float row_lse(const float* x, int V, int skip) {
  if (skip < 0) {
    const float m = sd::max(x, V);
    return m + std::log(sum_exp(x, V, m));
  }
  const float a = sd::max(x, skip), b = sd::max(x + skip + 1, V - skip - 1);
  const float m = a > b ? a : b;
  return m + std::log(sum_exp(x, skip, m) + sum_exp(x + skip + 1, V - skip - 1, m));
}
}  // namespace

extern "C" int sd_xent(const float* logits, const int32_t* targets, const float* weights,
                       float* loss, float* dlogits, int N, int V, int mask_id, float grad_scale) {
  const char* op = "xent";
  SD_CHECK_POS(op, "N", N);
  SD_CHECK_POS(op, "V", V);
  SD_CHECK_PTR(op, "logits", logits);
  SD_CHECK_PTR(op, "targets", targets);
  SD_CHECK_PTR(op, "weights", weights);
  SD_CHECK_PTR(op, "loss", loss);
  SD_CHECK_FINITE(op, "grad_scale", grad_scale);
  if (mask_id < -1 || mask_id >= V)
    return sd::fail(SD_ERANGE, "xent: mask_id must be -1 (none) or in [0, V = %d), got %d", V,
                    mask_id);
  // Every row is checked before any is written (dlogits may alias logits).
  for (int r = 0; r < N; ++r) {
    if (targets[r] < 0 || targets[r] >= V)
      return sd::fail(SD_ERANGE, "xent: targets[%d] = %d is outside [0, V = %d)", r, targets[r], V);
    if (targets[r] == mask_id)
      return sd::fail(SD_ERANGE, "xent: targets[%d] = %d is the mask id, which has probability 0",
                      r, targets[r]);
    if (!sd::finite(weights[r]))
      return sd::fail(SD_EINVAL, "xent: weights[%d] must be finite, got %g", r, (double)weights[r]);
  }
  const bool has_mask = mask_id >= 0;
  SD_PARALLEL_FOR_IF((long)N * V > sd::kParallelMin)
  for (int r = 0; r < N; ++r) {
    const float* x = logits + (size_t)r * V;
    const float lse = row_lse(x, V, mask_id);
    const int t = targets[r];
    loss[r] = lse - x[t];
    if (!dlogits) continue;
    float* d = dlogits + (size_t)r * V;
    const float g = weights[r] * grad_scale;
    if (g == 0.f) {
      for (int j = 0; j < V; ++j) d[j] = 0.f;
      continue;
    }
    for (int j = 0; j < V; ++j) d[j] = g * sd::exp(x[j] - lse);
    d[t] -= g;
    if (has_mask) d[mask_id] = 0.f;
  }
  return SD_OK;
}
