// Matmul packing: copies a block of op(A) or op(B) into the k-major micro-panels the kernels
// read (matmul_kernel.h), zero-padding the edge panels. Transposes cost only here: after
// packing, all four transA/transB cases run the same kernel on the same layout.
#pragma once
#include <cstring>

#include "matmul_kernel.h"

namespace sd {
namespace mm {

// op(A)[i0 : i0+mc, p0 : p0+kc] → ceil(mc/MR) panels of kc×MR (panel stride kc·MR).
// A is [M,K] row-major, or [K,M] when ta.
inline void pack_a(float* dst, const float* A, int M, int K, bool ta, int i0, int mc, int p0,
                   int kc) {
  for (int ir = 0; ir < mc; ir += MR) {
    const int mr = mc - ir < MR ? mc - ir : MR;
    float* d = dst + (size_t)ir * kc;
    if (ta) {
      // op(A)[i, k] = A[k, i]: each k contributes mr contiguous values.
      const float* s = A + (size_t)p0 * M + i0 + ir;
      for (int k = 0; k < kc; ++k, s += M, d += MR) {
        for (int r = 0; r < mr; ++r) d[r] = s[r];
        for (int r = mr; r < MR; ++r) d[r] = 0.f;
      }
    } else {
      // op(A)[i, k] = A[i, k]: mr row streams interleaved.
      const float* rows[MR];
      for (int r = 0; r < MR; ++r) rows[r] = A + (size_t)(i0 + ir + (r < mr ? r : 0)) * K + p0;
      for (int k = 0; k < kc; ++k, d += MR) {
        for (int r = 0; r < mr; ++r) d[r] = rows[r][k];
        for (int r = mr; r < MR; ++r) d[r] = 0.f;
      }
    }
  }
}

#if SD_MM_AVX2
// 8×8 transpose: rows r[i] (8 floats each) become columns.
inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
#endif

// op(B)[p0 : p0+kc, j0 : j0+nc] → ceil(nc/NR) panels of kc×NR (panel stride kc·NR).
// B is [K,N] row-major, or [N,K] when tb (the Linear forward x·Wᵀ).
inline void pack_b(float* dst, const float* B, int N, int K, bool tb, int j0, int nc, int p0,
                   int kc) {
  for (int jr = 0; jr < nc; jr += NR) {
    const int nr = nc - jr < NR ? nc - jr : NR;
    float* d = dst + (size_t)jr * kc;
    if (!tb) {
      // op(B)[k, j] = B[k, j]: each k contributes nr contiguous values.
      const float* s = B + (size_t)p0 * N + j0 + jr;
      for (int k = 0; k < kc; ++k, s += N, d += NR) {
        std::memcpy(d, s, sizeof(float) * nr);
        for (int j = nr; j < NR; ++j) d[j] = 0.f;
      }
      continue;
    }
    // op(B)[k, j] = B[j, k]: a transpose of nr rows of B.
    const float* s = B + (size_t)(j0 + jr) * K + p0;
    int k = 0;
#if SD_MM_AVX2
    if (nr == NR) {
      for (; k + 8 <= kc; k += 8) {
        for (int h = 0; h < NR; h += 8) {
          __m256 r[8];
          for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + (size_t)(h + i) * K + k);
          transpose8(r);
          for (int i = 0; i < 8; ++i) _mm256_store_ps(d + (size_t)(k + i) * NR + h, r[i]);
        }
      }
    }
#elif defined(__clang__)
    // 4×4 transposes in four-wide vectors (WASM SIMD128 shuffles).
    if (nr == NR) {
      for (; k + 4 <= kc; k += 4) {
        for (int h = 0; h < NR; h += 4) {
          v4 r[4];
          for (int i = 0; i < 4; ++i) r[i] = load4(s + (size_t)(h + i) * K + k);
          const v4 t0 = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5);
          const v4 t1 = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7);
          const v4 t2 = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5);
          const v4 t3 = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
          store4(d + (size_t)(k + 0) * NR + h, __builtin_shufflevector(t0, t2, 0, 1, 4, 5));
          store4(d + (size_t)(k + 1) * NR + h, __builtin_shufflevector(t0, t2, 2, 3, 6, 7));
          store4(d + (size_t)(k + 2) * NR + h, __builtin_shufflevector(t1, t3, 0, 1, 4, 5));
          store4(d + (size_t)(k + 3) * NR + h, __builtin_shufflevector(t1, t3, 2, 3, 6, 7));
        }
      }
    }
#endif
    for (; k < kc; ++k) {
      float* dk = d + (size_t)k * NR;
      for (int j = 0; j < nr; ++j) dk[j] = s[(size_t)j * K + k];
      for (int j = nr; j < NR; ++j) dk[j] = 0.f;
    }
  }
}

}  // namespace mm
}  // namespace sd
