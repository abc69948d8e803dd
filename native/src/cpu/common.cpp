#include "common.h"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local char g_error[512] = "";
}

namespace sd {
int fail(int code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
  return code;
}
void clear_error() { g_error[0] = 0; }
}  // namespace sd

extern "C" {

const char* sd_last_error(void) { return g_error; }

int sd_get_num_threads(void) {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void sd_set_num_threads(int n) {
#if defined(_OPENMP)
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

const char* sd_build_info(void) {
  return "cpu"
#if defined(__wasm__)
         " wasm32"
#endif
#if defined(__wasm_simd128__)
         " simd128"
#endif
#if defined(__AVX512F__)
         " avx512f"
#endif
#if defined(__AVX2__)
         " avx2"
#endif
#if defined(__FMA__)
         " fma"
#endif
#if defined(_OPENMP)
         " openmp"
#endif
      ;
}

}  // extern "C"
