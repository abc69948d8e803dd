// Small numeric building blocks written so that g++ (x86-64-v3) and clang (wasm32
// -msimd128) both auto-vectorise them: reductions keep 8 independent partial sums (no
// -ffast-math needed), and exp is a branch-free polynomial instead of a libm call.
#pragma once
#include <cstdint>
#include <cstring>

namespace sd {

constexpr int kLanes = 8;

// Sum of x[0..n).
inline float sum(const float* x, int n) {
  float p[kLanes] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) p[l] += x[i + l];
  float s = 0.f;
  for (; i < n; ++i) s += x[i];
  for (int l = 0; l < kLanes; ++l) s += p[l];
  return s;
}

// Max of x[0..n) (-inf when n == 0).
inline float max(const float* x, int n) {
  float p[kLanes];
  for (int l = 0; l < kLanes; ++l) p[l] = -INFINITY;
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) p[l] = x[i + l] > p[l] ? x[i + l] : p[l];
  float m = -INFINITY;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  for (int l = 0; l < kLanes; ++l) m = p[l] > m ? p[l] : m;
  return m;
}

// Dot product of a[0..n) and b[0..n).
inline float dot(const float* a, const float* b, int n) {
  float p[kLanes] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) p[l] += a[i + l] * b[i + l];
  float s = 0.f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (int l = 0; l < kLanes; ++l) s += p[l];
  return s;
}

// e^x to ~2 ulp (Cephes expf polynomial); exactly 0 for x < -87.3 (and -inf), and
// saturates at e^88.3 for large x. Branch-free so loops over it vectorise.
inline float exp(float x) {
  const float xc = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  const float fx = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  const float r = xc - fx * 0.693359375f + fx * 2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.f;
  const int32_t bits = ((int32_t)fx + 127) << 23;
  float pow2;
  std::memcpy(&pow2, &bits, sizeof pow2);
  return x < -87.3f ? 0.f : y * pow2;
}

}  // namespace sd
