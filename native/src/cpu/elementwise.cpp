// Elementwise ops and bias: add, scale, axpy, sumsq (double accumulation), add_bias,
// bias_grad. All are memory-bound; they fork threads only above sd::kParallelMin.
#include "common.h"
#include "simd.h"

extern "C" int sd_add(const float* a, const float* b, float* out, int n) {
  const char* op = "add";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_PTR(op, "a", a);
  SD_CHECK_PTR(op, "b", b);
  SD_CHECK_PTR(op, "out", out);
  // out may alias a or b: each element reads both inputs before it is written.
  SD_PARALLEL_FOR_IF(n > 2 * sd::kParallelMin)
  for (int i = 0; i < n; ++i) out[i] = a[i] + b[i];
  return SD_OK;
}

extern "C" int sd_scale(float* x, float s, int n) {
  const char* op = "scale";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_PTR(op, "x", x);
  SD_CHECK_FINITE(op, "s", s);
  SD_PARALLEL_FOR_IF(n > 2 * sd::kParallelMin)
  for (int i = 0; i < n; ++i) x[i] *= s;
  return SD_OK;
}

extern "C" int sd_axpy(float a, const float* x, float* y, int n) {
  const char* op = "axpy";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_FINITE(op, "a", a);
  SD_CHECK_PTR(op, "x", x);
  SD_CHECK_PTR(op, "y", y);
  SD_PARALLEL_FOR_IF(n > 2 * sd::kParallelMin)
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
  return SD_OK;
}

namespace {
// Chunk of sumsq: 8 double partial sums (vectorises as float->double converts + FMAs).
double sumsq_chunk(const float* x, int n) {
  double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) p[l] += (double)x[i + l] * (double)x[i + l];
  double s = 0;
  for (; i < n; ++i) s += (double)x[i] * (double)x[i];
  for (int l = 0; l < 8; ++l) s += p[l];
  return s;
}
}  // namespace

extern "C" int sd_sumsq(const float* x, int n, double* out) {
  const char* op = "sumsq";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_PTR(op, "x", x);
  SD_CHECK_PTR(op, "out", out);
  constexpr int kChunk = 1 << 14;
  // No n + kChunk - 1: it overflows for n >= 2^31 - kChunk + 1.
  const int chunks = n / kChunk + (n % kChunk != 0);
  double total = 0;
  SD_PRAGMA_REDUCTION_SUM(total, chunks >= 4)
  for (int c = 0; c < chunks; ++c) {
    const int lo = c * kChunk;
    const int len = n - lo < kChunk ? n - lo : kChunk;
    total += sumsq_chunk(x + lo, len);
  }
  *out = total;
  return SD_OK;
}

extern "C" int sd_add_bias(float* y, const float* b, int rows, int cols) {
  const char* op = "add_bias";
  SD_CHECK_POS(op, "rows", rows);
  SD_CHECK_POS(op, "cols", cols);
  SD_CHECK_PTR(op, "y", y);
  SD_CHECK_PTR(op, "b", b);
  SD_PARALLEL_FOR_IF((long)rows * cols > 2 * sd::kParallelMin)
  for (int r = 0; r < rows; ++r) {
    float* yr = y + (size_t)r * cols;
    for (int c = 0; c < cols; ++c) yr[c] += b[c];
  }
  return SD_OK;
}

// db[c] += sum_r dy[r, c]. Threads own disjoint column chunks, so nothing races and the
// summation order (row by row) is the same for any thread count.
extern "C" int sd_bias_grad(const float* dy, float* db, int rows, int cols) {
  const char* op = "bias_grad";
  SD_CHECK_POS(op, "rows", rows);
  SD_CHECK_POS(op, "cols", cols);
  SD_CHECK_PTR(op, "dy", dy);
  SD_CHECK_PTR(op, "db", db);
  constexpr int kCols = 256;
  const int chunks = (cols + kCols - 1) / kCols;
  SD_PARALLEL_FOR_IF((long)rows * cols > 2 * sd::kParallelMin && chunks > 1)
  for (int c = 0; c < chunks; ++c) {
    const int c0 = c * kCols;
    const int w = cols - c0 < kCols ? cols - c0 : kCols;
    float acc[kCols];
    for (int i = 0; i < w; ++i) acc[i] = 0.f;
    for (int r = 0; r < rows; ++r) {
      const float* d = dy + (size_t)r * cols + c0;
      for (int i = 0; i < w; ++i) acc[i] += d[i];
    }
    for (int i = 0; i < w; ++i) db[c0 + i] += acc[i];
  }
  return SD_OK;
}
