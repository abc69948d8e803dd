// AdamW (Loshchilov & Hutter): decoupled weight decay, as torch.optim.AdamW:
//   g = grad * grad_scale;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   param -= lr * (wd * param + (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps))
#include <cmath>

#include "common.h"

extern "C" int sd_adamw(float* param, const float* grad, float* m, float* v, int n, float lr,
                        float beta1, float beta2, float eps, float weight_decay, float grad_scale,
                        int step) {
  const char* op = "adamw";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_POS(op, "step", step);
  SD_CHECK_PTR(op, "param", param);
  SD_CHECK_PTR(op, "grad", grad);
  SD_CHECK_PTR(op, "m", m);
  SD_CHECK_PTR(op, "v", v);
  SD_CHECK_FINITE(op, "lr", lr);
  SD_CHECK_FINITE(op, "beta1", beta1);
  SD_CHECK_FINITE(op, "beta2", beta2);
  SD_CHECK_FINITE(op, "eps", eps);
  SD_CHECK_FINITE(op, "weight_decay", weight_decay);
  SD_CHECK_FINITE(op, "grad_scale", grad_scale);
  if (lr < 0.f) return sd::fail(SD_EINVAL, "adamw: lr must be >= 0, got %g", (double)lr);
  if (!(beta1 >= 0.f && beta1 < 1.f))
    return sd::fail(SD_EINVAL, "adamw: beta1 must be in [0, 1), got %g", (double)beta1);
  if (!(beta2 >= 0.f && beta2 < 1.f))
    return sd::fail(SD_EINVAL, "adamw: beta2 must be in [0, 1), got %g", (double)beta2);
  if (!(eps > 0.f)) return sd::fail(SD_EINVAL, "adamw: eps must be > 0, got %g", (double)eps);
  if (weight_decay < 0.f)
    return sd::fail(SD_EINVAL, "adamw: weight_decay must be >= 0, got %g", (double)weight_decay);
  // Bias corrections in double: beta^step underflows gracefully and stays accurate.
  const float c1 = (float)(1.0 / (1.0 - std::pow((double)beta1, step)));
  const float c2 = (float)(1.0 / (1.0 - std::pow((double)beta2, step)));
  const float decay = lr * weight_decay;
  SD_PARALLEL_FOR_IF(n > sd::kParallelMin)
  for (int i = 0; i < n; ++i) {
    const float g = grad[i] * grad_scale;
    const float mi = beta1 * m[i] + (1.f - beta1) * g;
    const float vi = beta2 * v[i] + (1.f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float p = param[i];
    param[i] = p - decay * p - lr * (mi * c1) / (std::sqrt(vi * c2) + eps);
  }
  return SD_OK;
}
