// matmul_w16 with b_dtype SD_DTYPE_BF16_DOT: bfloat16 weights multiplied by activations rounded
// to bfloat16 (nearest even), the products (exact in float32) summed in float32. On CPUs with
// AVX512-BF16 this is the native dot-product instruction (vdpbf16ps: two products per lane per
// instruction, half the bytes per operand, no widening while packing); elsewhere the same
// rounding of A is applied and the product runs on the float32 kernels (matmul.cpp).
//
// Tolerance against the exact-widening path (SD_DTYPE_BF16): each a is rounded by at most
// 2^-9 relative, so |C - C_exact| <= 2^-8 * alpha * sum_k |a_k b_k| (plus float32 summation
// error). Verify mode and any caller needing results identical to float32 use SD_DTYPE_BF16.
#pragma once
#include <cstdint>
#include <cstring>

#include "matmul_kernel.h"
#include "matmul_pack.h"

namespace sd {
namespace mm {

// float -> bfloat16 bits, round to nearest even; NaN stays NaN (quiet).
inline uint16_t bf16_round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
inline float bf16_rounded(float x) {
  const uint32_t u = (uint32_t)bf16_round(x) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

#if SD_MM_AVX512
#define SD_BF16_TARGET __attribute__((target("avx512bf16")))

// Whether this CPU executes AVX512-BF16 (checked once; the variant itself is x86-64-v4).
inline bool has_avx512bf16() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
  }();
  return ok;
}

// op(A)[i0 : i0+mc, p0 : p0+kc] (kc even) → panels of (kc/2)×MR dwords, each dword the bf16
// pair (k even in the low half, k + 1 in the high half) of one row.
inline void pack_a_bf16(uint32_t* dst, const float* A, int M, int K, bool ta, int i0, int mc,
                        int p0, int kc) {
  const int kp = kc / 2;
  for (int ir = 0; ir < mc; ir += MR) {
    const int mr = mc - ir < MR ? mc - ir : MR;
    uint32_t* d = dst + (size_t)ir * kp;
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) {
        for (int p = 0; p < kp; ++p) d[(size_t)p * MR + r] = 0;
        continue;
      }
      const int i = i0 + ir + r;
      for (int p = 0; p < kp; ++p) {
        const int k = p0 + 2 * p;
        const float lo = ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
        const float hi = ta ? A[(size_t)(k + 1) * M + i] : A[(size_t)i * K + k + 1];
        d[(size_t)p * MR + r] = (uint32_t)bf16_round(lo) | (uint32_t)bf16_round(hi) << 16;
      }
    }
  }
}

// op(B)[p0 : p0+kc, j0 : j0+nc] (kc, p0 even) → panels of (kc/2)×NR dwords (the bf16 pair of
// rows k, k+1 of one column). With tb, a pair is one dword of B's row: the float32 packer
// transposes dwords (bit moves only).
inline void pack_b_bf16(uint32_t* dst, const uint16_t* B, int N, int K, bool tb, int j0, int nc,
                        int p0, int kc) {
  if (tb) {
    pack_b(reinterpret_cast<float*>(dst), reinterpret_cast<const float*>(B), N, K / 2, true, j0, nc,
           p0 / 2, kc / 2);
    return;
  }
  const int kp = kc / 2;
  for (int jr = 0; jr < nc; jr += NR) {
    const int nr = nc - jr < NR ? nc - jr : NR;
    uint32_t* d = dst + (size_t)jr * kp;
    for (int p = 0; p < kp; ++p) {
      const uint16_t* r0 = B + (size_t)(p0 + 2 * p) * N + j0 + jr;
      const uint16_t* r1 = r0 + N;
      for (int j = 0; j < nr; ++j) d[(size_t)p * NR + j] = (uint32_t)r0[j] | (uint32_t)r1[j] << 16;
      for (int j = nr; j < NR; ++j) d[(size_t)p * NR + j] = 0;
    }
  }
}

// R×32 tile over kp k-pairs: acc += a-pair · b-pair per lane (vdpbf16ps), then the float32
// kernels' update of C. Every element is the same chain whatever R and nr are.
template <int R>
SD_BF16_TARGET inline void kernel_bf16(int kp, const uint32_t* __restrict a,
                                       const uint32_t* __restrict b, float* c, int ldc, int nr,
                                       float alpha, float beta, bool zero_beta) {
  __m512 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (int p = 0; p < kp; ++p, a += MR, b += NR) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
    for (int r = 0; r < R; ++r) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r]);
      acc0[r] = _mm512_dpbf16_ps(acc0[r], av, b0);
      acc1[r] = _mm512_dpbf16_ps(acc1[r], av, b1);
    }
  }
  const __mmask16 m0 = nr >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32   ? (__mmask16)0xffff
                       : nr <= 16 ? 0
                                  : (__mmask16)((1u << (nr - 16)) - 1);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int r = 0; r < R; ++r) {
    float* cr = c + (size_t)r * ldc;
    if (zero_beta) {
      _mm512_mask_storeu_ps(cr, m0, _mm512_mul_ps(va, acc0[r]));
      _mm512_mask_storeu_ps(cr + 16, m1, _mm512_mul_ps(va, acc1[r]));
    } else {
      const __m512 c0 = _mm512_maskz_loadu_ps(m0, cr), c1 = _mm512_maskz_loadu_ps(m1, cr + 16);
      _mm512_mask_storeu_ps(cr, m0, _mm512_fmadd_ps(va, acc0[r], _mm512_mul_ps(vb, c0)));
      _mm512_mask_storeu_ps(cr + 16, m1, _mm512_fmadd_ps(va, acc1[r], _mm512_mul_ps(vb, c1)));
    }
  }
}

SD_BF16_TARGET inline void tile_bf16(int kp, const uint32_t* a, const uint32_t* b, float* c,
                                     int ldc, int mr, int nr, float alpha, float beta,
                                     bool zero_beta) {
  switch (mr) {
// one case per line, each ending in ';' so that clang-format keeps a stable layout
#define SD_MM_CASE(R) \
  case R:             \
    return kernel_bf16<R>(kp, a, b, c, ldc, nr, alpha, beta, zero_beta)
    SD_MM_CASE(1);
    SD_MM_CASE(2);
    SD_MM_CASE(3);
    SD_MM_CASE(4);
    SD_MM_CASE(5);
    SD_MM_CASE(6);
    SD_MM_CASE(7);
    SD_MM_CASE(8);
    SD_MM_CASE(9);
    SD_MM_CASE(10);
    SD_MM_CASE(11);
    SD_MM_CASE(12);
#undef SD_MM_CASE
  }
}
#endif

}  // namespace mm
}  // namespace sd
