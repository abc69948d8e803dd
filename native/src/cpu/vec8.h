// 8-float vectors in the GCC/Clang vector extension (one AVX2 register on x86-64-v3, two
// SIMD128 registers on wasm32; both compilers lower them to plain SIMD without intrinsics),
// and e^x on 8 lanes for the kernels whose scalar loops would not vectorise.
#pragma once
#include <cstring>

namespace sd {

typedef float v8f __attribute__((vector_size(32)));

inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
inline v8f splat8(float x) { return v8f{x, x, x, x, x, x, x, x}; }

typedef int v8i __attribute__((vector_size(32)));

// sd::exp (simd.h) on 8 lanes at once, in the vector extension: the scalar form's selects
// stay branches under g++'s default -ftrapping-math, so a loop over it does not vectorise.
// Same polynomial and range: exactly 0 for x < -87.3 (and -inf), saturating at e^88.3.
inline v8f exp8(v8f x) {
  const v8i under = x<splat8(-87.3f), over = x> splat8(88.3f);
  const v8i xi = (v8i)x;
  const v8f xc =
      (v8f)((xi & ~under & ~over) | ((v8i)splat8(-87.3f) & under) | ((v8i)splat8(88.3f) & over));
  // floor(t) for |t| < 2^31: truncate, then step down where truncation rounded up.
  const v8f t = xc * splat8(1.44269504088896341f) + splat8(0.5f);
  v8i n = __builtin_convertvector(t, v8i);
  const v8i up = __builtin_convertvector(n, v8f) > t;  // -1 where trunc(t) > t
  n += up;
  const v8f fx = __builtin_convertvector(n, v8f);
  const v8f r = xc - fx * splat8(0.693359375f) + fx * splat8(2.12194440e-4f);
  const v8f z = r * r;
  v8f y = splat8(1.9875691500e-4f);
  y = y * r + splat8(1.3981999507e-3f);
  y = y * r + splat8(8.3334519073e-3f);
  y = y * r + splat8(4.1665795894e-2f);
  y = y * r + splat8(1.6666665459e-1f);
  y = y * r + splat8(5.0000001201e-1f);
  y = y * z + r + splat8(1.f);
  const v8f pow2 = (v8f)((n + 127) << 23);
  return (v8f)((v8i)(y * pow2) & ~under);
}

}  // namespace sd
