// Shared helpers for the CPU kernels (compiled natively with OpenMP and to wasm32).
#pragma once
#include <cmath>
#include <cstdint>

#include "sd_ops.h"

namespace sd {

// Records the message for sd_last_error() and returns `code`, so validation reads
//   if (M <= 0) return fail(SD_EINVAL, "matmul: M must be > 0, got %d", M);
int fail(int code, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void clear_error();

inline bool finite(float x) { return std::isfinite(x); }

}  // namespace sd

// OpenMP when built with it (the addon); a no-op pragma in the WASM build.
#if defined(_OPENMP)
#include <omp.h>
#define SD_PRAGMA(x) _Pragma(#x)
#define SD_PARALLEL_FOR SD_PRAGMA(omp parallel for schedule(static))
#define SD_PARALLEL_FOR_DYN SD_PRAGMA(omp parallel for schedule(dynamic, 1))
// Light ops (a few flops per element) fork threads only when the work pays for it.
#define SD_PARALLEL_FOR_IF(cond) SD_PRAGMA(omp parallel for schedule(static) if (cond))
// A parallel region with per-thread scratch, then a dynamically scheduled loop inside it.
#define SD_PARALLEL SD_PRAGMA(omp parallel)
#define SD_PARALLEL_NUM(n) SD_PRAGMA(omp parallel num_threads(n))
#define SD_FOR_DYN SD_PRAGMA(omp for schedule(dynamic, 1))
#define SD_FOR_STATIC SD_PRAGMA(omp for schedule(static))
#define SD_FOR_ROUND_ROBIN SD_PRAGMA(omp for schedule(static, 1))
#define SD_PRAGMA_REDUCTION_SUM(var, cond) \
  SD_PRAGMA(omp parallel for schedule(static) reduction(+ : var) if (cond))
#else
#define SD_PRAGMA_REDUCTION_SUM(var, cond)
#define SD_PARALLEL_FOR
#define SD_PARALLEL_FOR_DYN
#define SD_PARALLEL_FOR_IF(cond)
#define SD_PARALLEL
#define SD_PARALLEL_NUM(n)
#define SD_FOR_DYN
#define SD_FOR_STATIC
#define SD_FOR_ROUND_ROBIN
#endif

namespace sd {
// Total elements below which light (memory-bound) ops stay single-threaded.
constexpr long kParallelMin = 1 << 15;
inline int max_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}
inline int thread_id() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}
}  // namespace sd

// Argument checks shared by every op: each returns from the calling op on failure.
#define SD_CHECK_POS(op, name, v) \
  if ((v) <= 0) return sd::fail(SD_EINVAL, "%s: %s must be > 0, got %d", op, name, (int)(v))
#define SD_CHECK_NONNEG(op, name, v) \
  if ((v) < 0) return sd::fail(SD_EINVAL, "%s: %s must be >= 0, got %d", op, name, (int)(v))
#define SD_CHECK_FINITE(op, name, v) \
  if (!sd::finite(v))                \
  return sd::fail(SD_EINVAL, "%s: %s must be finite, got %g", op, name, (double)(v))
#define SD_CHECK_PTR(op, name, p) \
  if (!(p)) return sd::fail(SD_EINVAL, "%s: %s is null", op, name)
