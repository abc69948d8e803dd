// Matmul micro-kernels: acc[MR,NR] = sum over k of a[k,0:MR] ⊗ b[k,0:NR] on packed panels, then
//   C = alpha·acc            (zero_beta: C is never read, so garbage or NaN there is overwritten)
//   C = alpha·acc + beta·C   (otherwise; beta = 1 for every K block after the first)
// Every element of C follows the same arithmetic whatever tile it falls in (full and short-row
// tiles are updated in registers, short-column tiles through a small buffer with the same
// scalar formula), so a row's result never depends on M, N, the tiling or the thread count.
//
// Three implementations of the same contract (one per kernel variant, src/cpu/isa/dispatch.cpp):
//  - AVX-512 (x86-64-v4): 12×32, 24 zmm accumulators, B rows as two zmm loads and A values as
//    embedded broadcasts; short rows and columns run the same code with fewer rows / masked
//    loads and stores;
//  - AVX2 + FMA (x86-64-v3): 6×16, 12 ymm accumulators (the BLIS Haswell/Zen shape);
//  - portable: GCC/Clang vector extensions, 4×8 in 4-wide vectors; clang lowers them to WASM
//    SIMD128.
#pragma once
#include <cmath>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define SD_MM_AVX2 1
#else
#define SD_MM_AVX2 0
#endif
#if SD_MM_AVX2 && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__)
#define SD_MM_AVX512 1
#else
#define SD_MM_AVX512 0
#endif

namespace sd {
namespace mm {

#if SD_MM_AVX512
constexpr int MR = 12;
constexpr int NR = 32;
#elif SD_MM_AVX2
constexpr int MR = 6;
constexpr int NR = 16;
#else
// 4×8: 8 accumulators + 2 B vectors + 1 broadcast fit the 16 xmm registers V8 maps SIMD128
// onto (4×16, 6×8 and 8×8 spill: 25-45% slower in Node 20 here).
constexpr int MR = 4;
constexpr int NR = 8;
#endif

// The scalar form of the update, used for edge tiles. It must round exactly like the vector
// form of the full-tile path: one fused multiply-add where that path has one.
inline float update(float acc, float c, float alpha, float beta, bool zero_beta) {
  if (zero_beta) return alpha * acc;
#if SD_MM_AVX2
  return std::fma(alpha, acc, beta * c);
#else
  return alpha * acc + beta * c;
#endif
}

#if SD_MM_AVX512

// R×32 tile (R ≤ 12) with the first nr ≤ 32 columns valid: a is kc×12 (k-major), b is kc×32
// (k-major), both 64-byte aligned. Every element is the same chain of fused multiply-adds over
// k whatever R and nr are, so a row's result does not depend on the tile it falls in.
// LDB is b's stride per k (32 for packed panels; attention reads a 64-key tile in place);
// LDB = 0 takes it from `ldb` at run time (attention's value rows, unaligned loads).
// LDA = 0: a is a packed panel (a[k·12 + r]); LDA > 0: a is R rows of stride LDA read in place
// (a[r·LDA + k]: attention's probabilities, straight from the softmax).
template <int R, int LDB = 32, int LDA = 0>
inline void kernel_rows(int kc, const float* __restrict a, const float* __restrict b, float* c,
                        int ldc, int nr, float alpha, float beta, bool zero_beta, int ldb = LDB) {
  const size_t sb = LDB ? LDB : ldb;
#define SD_MM_LOADB(p) (LDB ? _mm512_load_ps(p) : _mm512_loadu_ps(p))
  __m512 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  // One k per iteration: 24 accumulators + 2 B vectors + the broadcast fill 27 of the 32 zmm
  // registers; unrolling further makes GCC load B ahead and spill accumulators.
  for (int k = 0; k < kc; ++k, a += LDA ? 1 : 12, b += sb) {
    _mm_prefetch((const char*)(b + 8 * sb), _MM_HINT_T0);
    const __m512 b0 = SD_MM_LOADB(b), b1 = SD_MM_LOADB(b + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(LDA ? a[r * LDA] : a[r]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
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
#undef SD_MM_LOADB
}

// kernel_rows for a run-time row count 1 ≤ R ≤ 12.
template <int LDB = 32, int LDA = 0>
inline void kernel_any(int R, int kc, const float* a, const float* b, float* c, int ldc, int nr,
                       float alpha, float beta, bool zero_beta, int ldb = LDB) {
  switch (R) {
// one case per line, each ending in ';' so that clang-format keeps a stable layout
#define SD_MM_CASE(R) \
  case R:             \
    return kernel_rows<R, LDB, LDA>(kc, a, b, c, ldc, nr, alpha, beta, zero_beta, ldb)
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

#elif SD_MM_AVX2

// Full 6×16 tile: a is kc×6 (k-major), b is kc×16 (k-major), both 64-byte aligned.
// When `raw` is set the accumulators are stored unscaled to c (an edge-tile buffer).
inline void kernel(int kc, const float* __restrict a, const float* __restrict b, float* c, int ldc,
                   float alpha, float beta, bool zero_beta, bool raw) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#define SD_MM_STEP(k)                                 \
  {                                                   \
    const __m256 b0 = _mm256_load_ps(b + (k)*16);     \
    const __m256 b1 = _mm256_load_ps(b + (k)*16 + 8); \
    __m256 av = _mm256_broadcast_ss(a + (k)*6 + 0);   \
    c00 = _mm256_fmadd_ps(av, b0, c00);               \
    c01 = _mm256_fmadd_ps(av, b1, c01);               \
    av = _mm256_broadcast_ss(a + (k)*6 + 1);          \
    c10 = _mm256_fmadd_ps(av, b0, c10);               \
    c11 = _mm256_fmadd_ps(av, b1, c11);               \
    av = _mm256_broadcast_ss(a + (k)*6 + 2);          \
    c20 = _mm256_fmadd_ps(av, b0, c20);               \
    c21 = _mm256_fmadd_ps(av, b1, c21);               \
    av = _mm256_broadcast_ss(a + (k)*6 + 3);          \
    c30 = _mm256_fmadd_ps(av, b0, c30);               \
    c31 = _mm256_fmadd_ps(av, b1, c31);               \
    av = _mm256_broadcast_ss(a + (k)*6 + 4);          \
    c40 = _mm256_fmadd_ps(av, b0, c40);               \
    c41 = _mm256_fmadd_ps(av, b1, c41);               \
    av = _mm256_broadcast_ss(a + (k)*6 + 5);          \
    c50 = _mm256_fmadd_ps(av, b0, c50);               \
    c51 = _mm256_fmadd_ps(av, b1, c51);               \
  }
  int k = 0;
  for (; k + 4 <= kc; k += 4) {
    _mm_prefetch((const char*)(b + 16 * 16), _MM_HINT_T0);
    SD_MM_STEP(0) SD_MM_STEP(1) SD_MM_STEP(2) SD_MM_STEP(3) a += 24;
    b += 64;
  }
  for (; k < kc; ++k) {
    SD_MM_STEP(0)
    a += 6;
    b += 16;
  }
#undef SD_MM_STEP
  __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
  if (raw) {
    for (int r = 0; r < 6; ++r) {
      _mm256_storeu_ps(c + r * ldc, acc[2 * r]);
      _mm256_storeu_ps(c + r * ldc + 8, acc[2 * r + 1]);
    }
    return;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  if (zero_beta) {
    for (int r = 0; r < 6; ++r) {
      _mm256_storeu_ps(c + r * ldc, _mm256_mul_ps(va, acc[2 * r]));
      _mm256_storeu_ps(c + r * ldc + 8, _mm256_mul_ps(va, acc[2 * r + 1]));
    }
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
    for (int r = 0; r < 6; ++r) {
      float* cr = c + r * ldc;
      _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, acc[2 * r], _mm256_mul_ps(vb, _mm256_loadu_ps(cr))));
      _mm256_storeu_ps(
          cr + 8, _mm256_fmadd_ps(va, acc[2 * r + 1], _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8))));
    }
  }
}

// Edge rows: an R-row (R < 6) version of the same kernel, so the tail of a 32-row decoding
// step costs R/6 of a full tile instead of a whole one. Each element is the same fused
// multiply-add chain over k as in the 6-row kernel, so the numbers are bit-identical.
template <int R>
inline void kernel_rows(int kc, const float* __restrict a, const float* __restrict b, float* c,
                        int ldc, float alpha, float beta, bool zero_beta) {
  __m256 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k, a += 6, b += 16) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
    }
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    if (zero_beta) {
      _mm256_storeu_ps(cr, _mm256_mul_ps(va, acc0[r]));
      _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, acc1[r]));
    } else {
      _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, acc0[r], _mm256_mul_ps(vb, _mm256_loadu_ps(cr))));
      _mm256_storeu_ps(cr + 8,
                       _mm256_fmadd_ps(va, acc1[r], _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8))));
    }
  }
}

#else  // portable (WASM SIMD128)

typedef float v4 __attribute__((vector_size(16)));

inline v4 load4(const float* p) {
  v4 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store4(float* p, v4 v) { __builtin_memcpy(p, &v, sizeof v); }

// MR×NR tile in four-wide vectors. Without FMA in base SIMD128 each step is a multiply and
// an add; the edge-tile formula above rounds the same way.
inline void kernel(int kc, const float* __restrict a, const float* __restrict b, float* c, int ldc,
                   float alpha, float beta, bool zero_beta, bool raw) {
  constexpr int NV = NR / 4;
  v4 acc[MR][NV] = {};
  for (int k = 0; k < kc; ++k) {
    v4 bv[NV];
    for (int q = 0; q < NV; ++q) bv[q] = load4(b + 4 * q);
    for (int r = 0; r < MR; ++r) {
      const v4 av = {a[r], a[r], a[r], a[r]};
      for (int q = 0; q < NV; ++q) acc[r][q] += av * bv[q];
    }
    a += MR;
    b += NR;
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    for (int q = 0; q < NV; ++q) {
      if (raw)
        store4(cr + 4 * q, acc[r][q]);
      else if (zero_beta)
        store4(cr + 4 * q, alpha * acc[r][q]);
      else
        store4(cr + 4 * q, alpha * acc[r][q] + beta * load4(cr + 4 * q));
    }
  }
}

#endif

// One tile of C at c (ldc = N) with mr ≤ MR valid rows and nr ≤ NR valid columns.
inline void tile(int kc, const float* a, const float* b, float* c, int ldc, int mr, int nr,
                 float alpha, float beta, bool zero_beta) {
#if SD_MM_AVX512
  kernel_any<32>(mr, kc, a, b, c, ldc, nr, alpha, beta, zero_beta);
#else
  if (mr == MR && nr == NR) {
    kernel(kc, a, b, c, ldc, alpha, beta, zero_beta, false);
    return;
  }
#if SD_MM_AVX2
  if (nr == NR) {
    switch (mr) {
      case 1:
        return kernel_rows<1>(kc, a, b, c, ldc, alpha, beta, zero_beta);
      case 2:
        return kernel_rows<2>(kc, a, b, c, ldc, alpha, beta, zero_beta);
      case 3:
        return kernel_rows<3>(kc, a, b, c, ldc, alpha, beta, zero_beta);
      case 4:
        return kernel_rows<4>(kc, a, b, c, ldc, alpha, beta, zero_beta);
      case 5:
        return kernel_rows<5>(kc, a, b, c, ldc, alpha, beta, zero_beta);
    }
  }
#endif
  alignas(64) float t[MR * NR];
  kernel(kc, a, b, t, NR, 1.f, 0.f, true, true);
  for (int r = 0; r < mr; ++r)
    for (int j = 0; j < nr; ++j)
      c[r * ldc + j] = update(t[r * NR + j], c[r * ldc + j], alpha, beta, zero_beta);
#endif
}

}  // namespace mm
}  // namespace sd
