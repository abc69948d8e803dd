// RMSNorm forward (and, in the compute-core issue, backward).
#include "common.h"

extern "C" int sd_rmsnorm_fwd(const float* x, const float* w, float* y, float* rstd, int rows,
                              int dim, float eps) {
  const char* op = "rmsnorm_fwd";
  SD_CHECK_POS(op, "rows", rows);
  SD_CHECK_POS(op, "dim", dim);
  SD_CHECK_PTR(op, "x", x);
  SD_CHECK_PTR(op, "w", w);
  SD_CHECK_PTR(op, "y", y);
  SD_CHECK_FINITE(op, "eps", eps);
  if (eps < 0.f) return sd::fail(SD_EINVAL, "rmsnorm_fwd: eps must be >= 0, got %g", (double)eps);
  SD_PARALLEL_FOR
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + (size_t)r * dim;
    float* yr = y + (size_t)r * dim;
    float ss = 0.f;
    for (int i = 0; i < dim; ++i) ss += xr[i] * xr[i];
    const float s = 1.f / std::sqrt(ss / (float)dim + eps);
    if (rstd) rstd[r] = s;
    for (int i = 0; i < dim; ++i) yr[i] = xr[i] * s * w[i];
  }
  return SD_OK;
}
