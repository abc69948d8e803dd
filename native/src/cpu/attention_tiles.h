// Register-blocked micro-kernels of the attention tiles: 4 query rows at a time against a
// tile of kAttnBK keys, so each loaded key/value vector feeds 4 FMAs and the accumulators
// stay in registers. Written with the GCC/Clang vector extension (8 floats; one AVX2
// register on x86-64-v3, two SIMD128 registers on wasm32), which both compilers lower to
// plain SIMD without intrinsics. Unused rows of a group point at zero rows / scratch.
#pragma once
#include <cstring>

#include "attention_mask.h"

namespace sd {

typedef float v8f __attribute__((vector_size(32)));

inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
inline v8f splat8(float x) { return v8f{x, x, x, x, x, x, x, x}; }

constexpr int kRows = 4;

// S[r][jj] = scale * x_r · (column jj of Tt), Tt = [D][kAttnBK] (a transposed key tile).
inline void rows_dot_tile(const float* const x[kRows], const float* Tt, int D, float scale,
                          float S[kRows][kAttnBK]) {
  for (int jb = 0; jb < kAttnBK; jb += 16) {
    v8f a00 = splat8(0.f), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
        a31 = a00;
    for (int d = 0; d < D; ++d) {
      const float* t = Tt + (size_t)d * kAttnBK + jb;
      const v8f k0 = load8(t), k1 = load8(t + 8);
      const v8f q0 = splat8(x[0][d]), q1 = splat8(x[1][d]), q2 = splat8(x[2][d]),
                q3 = splat8(x[3][d]);
      a00 += q0 * k0, a01 += q0 * k1, a10 += q1 * k0, a11 += q1 * k1;
      a20 += q2 * k0, a21 += q2 * k1, a30 += q3 * k0, a31 += q3 * k1;
    }
    const v8f sc = splat8(scale);
    store8(S[0] + jb, a00 * sc), store8(S[0] + jb + 8, a01 * sc);
    store8(S[1] + jb, a10 * sc), store8(S[1] + jb + 8, a11 * sc);
    store8(S[2] + jb, a20 * sc), store8(S[2] + jb + 8, a21 * sc);
    store8(S[3] + jb, a30 * sc), store8(S[3] + jb + 8, a31 * sc);
  }
}

// acc_r[0..D) += sum_{jj < nk} W[r][jj] * y_jj[0..D), y_jj = y + jj * ystride.
// (O += P·V and dQ += dS·K.)
inline void rows_acc_tile(float* const acc[kRows], const float W[kRows][kAttnBK], const float* y,
                          size_t ystride, int nk, int D) {
  int d = 0;
  for (; d + 8 <= D; d += 8) {
    v8f a0 = load8(acc[0] + d), a1 = load8(acc[1] + d), a2 = load8(acc[2] + d),
        a3 = load8(acc[3] + d);
    for (int jj = 0; jj < nk; ++jj) {
      const v8f v = load8(y + jj * ystride + d);
      a0 += splat8(W[0][jj]) * v, a1 += splat8(W[1][jj]) * v;
      a2 += splat8(W[2][jj]) * v, a3 += splat8(W[3][jj]) * v;
    }
    store8(acc[0] + d, a0), store8(acc[1] + d, a1), store8(acc[2] + d, a2), store8(acc[3] + d, a3);
  }
  for (; d < D; ++d)
    for (int jj = 0; jj < nk; ++jj) {
      const float v = y[jj * ystride + d];
      for (int r = 0; r < kRows; ++r) acc[r][d] += W[r][jj] * v;
    }
}

// T[jj][0..D) += sum_r W[r][jj] * x_r[0..D) for jj < nk, T contiguous [kAttnBK][D].
// (dV += Pᵀ·dO and dK += dSᵀ·Q.)
inline void tile_acc_rows(float* T, const float W[kRows][kAttnBK], const float* const x[kRows],
                          int nk, int D) {
  int d = 0;
  for (; d + 8 <= D; d += 8) {
    const v8f x0 = load8(x[0] + d), x1 = load8(x[1] + d), x2 = load8(x[2] + d),
              x3 = load8(x[3] + d);
    for (int jj = 0; jj < nk; ++jj) {
      float* t = T + (size_t)jj * D + d;
      store8(t, load8(t) + splat8(W[0][jj]) * x0 + splat8(W[1][jj]) * x1 + splat8(W[2][jj]) * x2 +
                    splat8(W[3][jj]) * x3);
    }
  }
  for (; d < D; ++d)
    for (int jj = 0; jj < nk; ++jj)
      T[(size_t)jj * D + d] +=
          W[0][jj] * x[0][d] + W[1][jj] * x[1][d] + W[2][jj] * x[2][d] + W[3][jj] * x[3][d];
}

}  // namespace sd
