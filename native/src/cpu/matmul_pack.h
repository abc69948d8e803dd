// Matmul packing: copies a block of op(A) or op(B) into the k-major micro-panels the kernels
// read (matmul_kernel.h), zero-padding the edge panels. Transposes cost only here: after
// packing, all four transA/transB cases run the same kernel on the same layout.
#pragma once
#include <cstdint>
#include <cstring>

#include "matmul_kernel.h"
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

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

// 16-bit weight storage (sd_matmul_w16): B holds IEEE binary16 or bfloat16 bits, widened to
// float32 while packing. Widening is exact, so a product over 16-bit B is bit-identical to the
// float32 product over the widened B, at half the bytes read: a decoding step's few rows are
// bound by reading the weights, not by arithmetic.
struct F16 {
  uint16_t bits;
};
struct BF16 {
  uint16_t bits;
};

inline float widen(float x) { return x; }
inline float widen(BF16 h) {
  const uint32_t u = (uint32_t)h.bits << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline float widen(F16 h) {
  // binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits; subnormals, inf and NaN kept.
  const uint32_t sign = (uint32_t)(h.bits & 0x8000u) << 16;
  const uint32_t exp = (h.bits >> 10) & 0x1fu;
  uint32_t frac = h.bits & 0x3ffu;
  uint32_t u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (frac << 13);
  } else if (exp != 0) {
    u = sign | ((exp + 112) << 23) | (frac << 13);
  } else if (frac == 0) {
    u = sign;
  } else {
    // subnormal: normalise (value = frac · 2^-24)
    int e = 113;
    while (!(frac & 0x400u)) {
      frac <<= 1;
      --e;
    }
    u = sign | ((uint32_t)e << 23) | ((frac & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

#if SD_MM_AVX2
inline __m256 load8w(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8w(const BF16* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
#if defined(__F16C__)
inline __m256 load8w(const F16* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
#else
inline __m256 load8w(const F16* p) {
  alignas(32) float w[8];
  for (int i = 0; i < 8; ++i) w[i] = widen(p[i]);
  return _mm256_load_ps(w);
}
#endif
#elif defined(__clang__)
// Four-wide widening in integer vector ops (WASM SIMD128 has no half-float conversion). Still
// about 2.5x slower than packing float32 in Node 20's single-threaded WASM (the scalar widen()
// was 3.6x), so the model does not pick 16-bit weights there by itself (Model.useHalfWeights).
typedef uint32_t u4 __attribute__((vector_size(16)));
inline v4 load4w(const float* p) { return load4(p); }
inline u4 load4u16(const uint16_t* p) {
#if defined(__wasm_simd128__)
  return (u4)wasm_u32x4_load16x4(p);  // one v128.load16x4_u
#else
  const u4 h = {p[0], p[1], p[2], p[3]};
  return h;
#endif
}
inline v4 load4w(const BF16* p) {
  const u4 u = load4u16(&p[0].bits) << 16;
  v4 f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}
inline v4 load4w(const F16* p) {
  // Exponent rebias by integer add; Inf/NaN get the rest of the rebias; zeros and subnormals
  // are renormalised by a float subtraction of 2^-14 (exact). Sign or'ed in last.
  const u4 h = load4u16(&p[0].bits);
  const u4 expMask = {0x7c00u << 13, 0x7c00u << 13, 0x7c00u << 13, 0x7c00u << 13};
  u4 o = (h & 0x7fffu) << 13;
  const u4 e = o & expMask;
  o += (127u - 15u) << 23;
  const u4 inf = (u4)(e == expMask);
  const u4 den = (u4)(e == 0u);
  o += inf & ((128u - 16u) << 23);
  o += den & (1u << 23);
  v4 f, magic;
  __builtin_memcpy(&f, &o, sizeof f);
  const u4 m = {113u << 23, 113u << 23, 113u << 23, 113u << 23};
  __builtin_memcpy(&magic, &m, sizeof magic);
  const v4 fd = f - magic;
  u4 fu, fdu;
  __builtin_memcpy(&fu, &f, sizeof fu);
  __builtin_memcpy(&fdu, &fd, sizeof fdu);
  const u4 r = ((fu & ~den) | (fdu & den)) | ((h & 0x8000u) << 16);
  v4 out;
  __builtin_memcpy(&out, &r, sizeof out);
  return out;
}
#endif

// op(B)[p0 : p0+kc, j0 : j0+nc] → ceil(nc/NR) panels of kc×NR (panel stride kc·NR).
// B is [K,N] row-major, or [N,K] when tb (the Linear forward x·Wᵀ); T is float or a 16-bit type.
template <typename T>
inline void pack_b(float* dst, const T* B, int N, int K, bool tb, int j0, int nc, int p0, int kc) {
  for (int jr = 0; jr < nc; jr += NR) {
    const int nr = nc - jr < NR ? nc - jr : NR;
    float* d = dst + (size_t)jr * kc;
    if (!tb) {
      // op(B)[k, j] = B[k, j]: each k contributes nr contiguous values.
      const T* s = B + (size_t)p0 * N + j0 + jr;
      for (int k = 0; k < kc; ++k, s += N, d += NR) {
        for (int j = 0; j < nr; ++j) d[j] = widen(s[j]);
        for (int j = nr; j < NR; ++j) d[j] = 0.f;
      }
      continue;
    }
    // op(B)[k, j] = B[j, k]: a transpose of nr rows of B.
    const T* s = B + (size_t)(j0 + jr) * K + p0;
    int k = 0;
#if SD_MM_AVX2
    if (nr == NR) {
      for (; k + 8 <= kc; k += 8) {
        for (int h = 0; h < NR; h += 8) {
          __m256 r[8];
          for (int i = 0; i < 8; ++i) r[i] = load8w(s + (size_t)(h + i) * K + k);
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
          for (int i = 0; i < 4; ++i) r[i] = load4w(s + (size_t)(h + i) * K + k);
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
      for (int j = 0; j < nr; ++j) dk[j] = widen(s[(size_t)j * K + k]);
      for (int j = nr; j < NR; ++j) dk[j] = 0.f;
    }
  }
}

}  // namespace mm
}  // namespace sd
