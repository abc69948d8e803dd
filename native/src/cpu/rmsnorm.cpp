// RMSNorm: y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps), per row.
#include "common.h"
#include "simd.h"

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
  SD_PARALLEL_FOR_IF((long)rows * dim > sd::kParallelMin)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + (size_t)r * dim;
    float* yr = y + (size_t)r * dim;
    const float s = 1.f / std::sqrt(sd::dot(xr, xr, dim) / (float)dim + eps);
    if (rstd) rstd[r] = s;
    for (int i = 0; i < dim; ++i) yr[i] = xr[i] * s * w[i];
  }
  return SD_OK;
}

// With g = dy * w and s = rstd:  dx = s * g - (s^3 / dim) * x * sum(g * x);
// dw = sum over rows of dy * x * s. dx is row-parallel; dw is column-parallel (threads
// own disjoint column chunks) so the accumulation never races.
extern "C" int sd_rmsnorm_bwd(const float* x, const float* w, const float* rstd, const float* dy,
                              float* dx, float* dw, int rows, int dim) {
  const char* op = "rmsnorm_bwd";
  SD_CHECK_POS(op, "rows", rows);
  SD_CHECK_POS(op, "dim", dim);
  SD_CHECK_PTR(op, "x", x);
  SD_CHECK_PTR(op, "w", w);
  SD_CHECK_PTR(op, "rstd", rstd);
  SD_CHECK_PTR(op, "dy", dy);
  SD_CHECK_PTR(op, "dx", dx);
  [[maybe_unused]] const bool par = (long)rows * dim > sd::kParallelMin;
  SD_PARALLEL_FOR_IF(par)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + (size_t)r * dim;
    const float* dyr = dy + (size_t)r * dim;
    float* dxr = dx + (size_t)r * dim;
    const float s = rstd[r];
    float p[sd::kLanes] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    int i = 0;
    for (; i + sd::kLanes <= dim; i += sd::kLanes)
      for (int l = 0; l < sd::kLanes; ++l) p[l] += dyr[i + l] * w[i + l] * xr[i + l];
    float gx = sd::sum(p, sd::kLanes);
    for (; i < dim; ++i) gx += dyr[i] * w[i] * xr[i];
    const float c = s * s * s * gx / (float)dim;
    for (int j = 0; j < dim; ++j) dxr[j] += s * dyr[j] * w[j] - c * xr[j];
  }
  if (dw) {
    constexpr int kCols = 256;
    const int chunks = (dim + kCols - 1) / kCols;
    SD_PARALLEL_FOR_IF(par && chunks > 1)
    for (int c = 0; c < chunks; ++c) {
      const int c0 = c * kCols;
      const int wd = dim - c0 < kCols ? dim - c0 : kCols;
      float acc[kCols];
      for (int i = 0; i < wd; ++i) acc[i] = 0.f;
      for (int r = 0; r < rows; ++r) {
        const float* xr = x + (size_t)r * dim + c0;
        const float* dyr = dy + (size_t)r * dim + c0;
        const float s = rstd[r];
        for (int i = 0; i < wd; ++i) acc[i] += dyr[i] * xr[i] * s;
      }
      for (int i = 0; i < wd; ++i) dw[c0 + i] += acc[i];
    }
  }
  return SD_OK;
}
