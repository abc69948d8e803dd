// Register-blocked micro-kernels of the attention tiles: 4 query rows at a time against a
// tile of kAttnBK keys, so each loaded key/value vector feeds 4 FMAs and the accumulators
// stay in registers. Written with the GCC/Clang vector extension (8 floats; one AVX2
// register on x86-64-v3, two SIMD128 registers on wasm32), which both compilers lower to
// plain SIMD without intrinsics. Unused rows of a group point at zero rows / scratch.
#pragma once
#include "attention_mask.h"
#include "vec8.h"

namespace sd {

constexpr int kRows = 4;

// One row of the online softmax over a score tile: with mn = max(m, max_jj sc[jj]),
// sc[jj] <- e^(sc[jj] - mn); returns mn and sets *sum to the sum of the new sc[].
inline float tile_softmax(float* sc, float m, float* sum) {
  v8f mx = load8(sc);
  for (int jj = 8; jj < kAttnBK; jj += 8) {
    const v8f x = load8(sc + jj);
    mx = (v8f)(((v8i)x & (x > mx)) | ((v8i)mx & ~(x > mx)));
  }
  float mn = m;
  for (int l = 0; l < 8; ++l) mn = mx[l] > mn ? mx[l] : mn;
  const v8f mv = splat8(mn);
  v8f acc = splat8(0.f);
  for (int jj = 0; jj < kAttnBK; jj += 8) {
    const v8f e = exp8(load8(sc + jj) - mv);
    store8(sc + jj, e);
    acc += e;
  }
  float s = 0.f;
  for (int l = 0; l < 8; ++l) s += acc[l];
  *sum = s;
  return mn;
}

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
// (O += P·V and dQ += dS·K.) 16 columns at a time: two loads feed 8 FMAs.
inline void rows_acc_tile(float* const acc[kRows], const float W[kRows][kAttnBK], const float* y,
                          size_t ystride, int nk, int D) {
  int d = 0;
  for (; d + 16 <= D; d += 16) {
    v8f a0 = load8(acc[0] + d), a1 = load8(acc[1] + d), a2 = load8(acc[2] + d),
        a3 = load8(acc[3] + d), b0 = load8(acc[0] + d + 8), b1 = load8(acc[1] + d + 8),
        b2 = load8(acc[2] + d + 8), b3 = load8(acc[3] + d + 8);
    for (int jj = 0; jj < nk; ++jj) {
      const v8f v = load8(y + jj * ystride + d), w = load8(y + jj * ystride + d + 8);
      const v8f s0 = splat8(W[0][jj]), s1 = splat8(W[1][jj]), s2 = splat8(W[2][jj]),
                s3 = splat8(W[3][jj]);
      a0 += s0 * v, b0 += s0 * w, a1 += s1 * v, b1 += s1 * w;
      a2 += s2 * v, b2 += s2 * w, a3 += s3 * v, b3 += s3 * w;
    }
    store8(acc[0] + d, a0), store8(acc[1] + d, a1), store8(acc[2] + d, a2), store8(acc[3] + d, a3);
    store8(acc[0] + d + 8, b0), store8(acc[1] + d + 8, b1), store8(acc[2] + d + 8, b2),
        store8(acc[3] + d + 8, b3);
  }
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

// Kt[d * kAttnBK + jj] = src[(j0 + jj) rows of stride `stride`][d], zero-padded to kAttnBK
// keys: the same result as transpose_tile, but whole 8x8 blocks move through registers with
// three rounds of shuffles instead of one strided scalar load per element (~9x faster).
inline void transpose_key_tile(const float* src, int j0, int nk, int stride, int D, float* Kt) {
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
  const int nk8 = nk / 8 * 8, D8 = D / 8 * 8;
  for (int jb = 0; jb < nk8; jb += 8) {
    const float* s = src + (size_t)(j0 + jb) * stride;
    for (int d = 0; d < D8; d += 8) {
      const v8f r0 = load8(s + d), r1 = load8(s + stride + d), r2 = load8(s + 2 * stride + d),
                r3 = load8(s + 3 * stride + d), r4 = load8(s + 4 * stride + d),
                r5 = load8(s + 5 * stride + d), r6 = load8(s + 6 * stride + d),
                r7 = load8(s + 7 * stride + d);
      // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
      const v8f t0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13),
                t1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15),
                t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13),
                t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15),
                t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13),
                t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15),
                t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13),
                t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
      const v8f u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13),
                u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15),
                u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13),
                u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15),
                u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13),
                u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15),
                u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13),
                u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
      float* o = Kt + (size_t)d * kAttnBK + jb;
      store8(o + 0 * kAttnBK, __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11));
      store8(o + 1 * kAttnBK, __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11));
      store8(o + 2 * kAttnBK, __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11));
      store8(o + 3 * kAttnBK, __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11));
      store8(o + 4 * kAttnBK, __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15));
      store8(o + 5 * kAttnBK, __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15));
      store8(o + 6 * kAttnBK, __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15));
      store8(o + 7 * kAttnBK, __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15));
    }
    for (int d = D8; d < D; ++d)
      for (int jj = jb; jj < jb + 8; ++jj)
        Kt[(size_t)d * kAttnBK + jj] = src[(size_t)(j0 + jj) * stride + d];
  }
  for (int d = 0; d < D; ++d) {
    float* row = Kt + (size_t)d * kAttnBK;
    for (int jj = nk8; jj < nk; ++jj) row[jj] = src[(size_t)(j0 + jj) * stride + d];
    for (int jj = nk; jj < kAttnBK; ++jj) row[jj] = 0.f;
  }
#else
  transpose_tile(src, j0, nk, stride, D, Kt);
#endif
}

}  // namespace sd
