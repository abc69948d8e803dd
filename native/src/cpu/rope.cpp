// Rotary position embedding, in place over x [n, heads, head_dim].
// Angles are formed in double (pos * theta^(-2i/rot_dim) reaches 1e4+ radians, where a
// float angle would already be off by ~1e-3), then rounded once to float cos/sin.
#include <cmath>
#include <vector>

#include "common.h"

extern "C" int sd_rope(float* x, const int32_t* pos, int n, int heads, int head_dim, int rot_dim,
                       float theta, int interleaved, int inverse) {
  const char* op = "rope";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_POS(op, "heads", heads);
  SD_CHECK_POS(op, "head_dim", head_dim);
  SD_CHECK_POS(op, "rot_dim", rot_dim);
  SD_CHECK_PTR(op, "x", x);
  SD_CHECK_PTR(op, "pos", pos);
  SD_CHECK_FINITE(op, "theta", theta);
  if (rot_dim % 2 != 0 || rot_dim > head_dim)
    return sd::fail(SD_EINVAL, "rope: rot_dim must be even and <= head_dim = %d, got %d", head_dim,
                    rot_dim);
  if (!(theta > 0.f)) return sd::fail(SD_EINVAL, "rope: theta must be > 0, got %g", (double)theta);
  if ((interleaved != 0 && interleaved != 1) || (inverse != 0 && inverse != 1))
    return sd::fail(SD_EINVAL, "rope: interleaved/inverse must be 0 or 1, got %d/%d", interleaved,
                    inverse);
  for (int i = 0; i < n; ++i)
    if (pos[i] < 0) return sd::fail(SD_ERANGE, "rope: pos[%d] = %d must be >= 0", i, pos[i]);
  const int half = rot_dim / 2;
  std::vector<double> freq(half);
  for (int i = 0; i < half; ++i) freq[i] = std::pow((double)theta, -2.0 * i / rot_dim);
  const double sign = inverse ? -1.0 : 1.0;
  SD_PARALLEL_FOR_IF((long)n * heads * head_dim > sd::kParallelMin)
  for (int t = 0; t < n; ++t) {
    // cos/sin of this token's angles, shared by all heads.
    float cs[512], sn[512];
    std::vector<float> big;
    float* c = cs;
    float* s = sn;
    if (half > 512) {
      big.resize(2 * (size_t)half);
      c = big.data();
      s = c + half;
    }
    for (int i = 0; i < half; ++i) {
      const double a = (double)pos[t] * freq[i];
      c[i] = (float)std::cos(a);
      s[i] = (float)(sign * std::sin(a));
    }
    for (int h = 0; h < heads; ++h) {
      float* xh = x + ((size_t)t * heads + h) * head_dim;
      if (interleaved) {
        for (int i = 0; i < half; ++i) {
          const float a = xh[2 * i], b = xh[2 * i + 1];
          xh[2 * i] = a * c[i] - b * s[i];
          xh[2 * i + 1] = a * s[i] + b * c[i];
        }
      } else {
        float* lo = xh;
        float* hi = xh + half;
        for (int i = 0; i < half; ++i) {
          const float a = lo[i], b = hi[i];
          lo[i] = a * c[i] - b * s[i];
          hi[i] = a * s[i] + b * c[i];
        }
      }
    }
  }
  return SD_OK;
}
