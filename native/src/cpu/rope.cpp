// Rotary position embedding, in place over x [n, heads, head_dim].
// Angles are formed in double (pos * theta^(-2i/rot_dim) reaches 1e4+ radians, where a
// float angle would already be off by ~1e-3), then rounded once to float cos/sin. Those rows
// are cached per position: recomputing rot_dim double cos/sin per row on every call cost ~5 %
// of a decoding forward of the embedded model.
#include <cmath>
#include <vector>

#include "common.h"

namespace {

// cos and sin of pos * theta^(-2i/rot_dim), i < rot_dim/2, for positions [0, rows), filled on
// demand. Positions at or past kMaxCached are computed per call instead.
struct RopeTable {
  double theta = 0;
  int rot_dim = 0;
  std::vector<double> freq;  // theta^(-2i/rot_dim)
  std::vector<float> cs, sn;
  std::vector<unsigned char> have;
};
constexpr int kMaxCached = 1 << 16;
constexpr int kTables = 4;

struct RopeTables {
  RopeTable t[kTables];
  int next = 0;
  // The table of (theta, rot_dim), or a recycled one (round robin) reset for it.
  RopeTable& get(float theta, int rot_dim) {
    for (RopeTable& r : t)
      if (r.rot_dim == rot_dim && r.theta == (double)theta) return r;
    RopeTable& r = t[next];
    next = (next + 1) % kTables;
    r = RopeTable();
    r.theta = theta;
    r.rot_dim = rot_dim;
    r.freq.resize(rot_dim / 2);
    for (int i = 0; i < rot_dim / 2; ++i) r.freq[i] = std::pow((double)theta, -2.0 * i / rot_dim);
    return r;
  }
};
// One set per calling thread (the kernel's own OpenMP workers only read it).
#if defined(__wasm__)
RopeTables g_rope;
#else
thread_local RopeTables g_rope;
#endif

void angles(double p, const std::vector<double>& freq, float* c, float* s) {
  for (size_t i = 0; i < freq.size(); ++i) {
    const double a = p * freq[i];
    c[i] = (float)std::cos(a);
    s[i] = (float)std::sin(a);
  }
}

}  // namespace

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
  // Fill the table rows this call needs (on the calling thread, before the parallel loop).
  RopeTable& tab = g_rope.get(theta, rot_dim);
  const std::vector<double>& freq = tab.freq;
  int need = 0;
  for (int i = 0; i < n; ++i)
    if (pos[i] < kMaxCached && pos[i] + 1 > need) need = pos[i] + 1;
  if ((int)tab.have.size() < need) {
    const size_t rows = (size_t)need < 2 * tab.have.size() ? 2 * tab.have.size() : need;
    const size_t r = rows < (size_t)kMaxCached ? rows : kMaxCached;
    tab.have.resize(r, 0);
    tab.cs.resize(r * half);
    tab.sn.resize(r * half);
  }
  for (int i = 0; i < n; ++i) {
    const int p = pos[i];
    if (p < kMaxCached && !tab.have[p]) {
      angles(p, freq, &tab.cs[(size_t)p * half], &tab.sn[(size_t)p * half]);
      tab.have[p] = 1;
    }
  }
  // Inverse rotation: sin negated (exact in float, so the same values as negating the angle).
  const float sign = inverse ? -1.f : 1.f;
  SD_PARALLEL_FOR_IF((long)n * heads * head_dim > sd::kParallelMin)
  for (int t = 0; t < n; ++t) {
    float cs[512], sn[512];
    std::vector<float> big;
    const float* c;
    const float* s;
    if (pos[t] < kMaxCached) {
      c = &tab.cs[(size_t)pos[t] * half];
      s = &tab.sn[(size_t)pos[t] * half];
    } else {
      float* cc = cs;
      float* ss = sn;
      if (half > 512) {
        big.resize(2 * (size_t)half);
        cc = big.data();
        ss = cc + half;
      }
      angles(pos[t], freq, cc, ss);
      c = cc;
      s = ss;
    }
    for (int h = 0; h < heads; ++h) {
      float* xh = x + ((size_t)t * heads + h) * head_dim;
      if (interleaved) {
        for (int i = 0; i < half; ++i) {
          const float a = xh[2 * i], b = xh[2 * i + 1];
          const float si = sign * s[i];
          xh[2 * i] = a * c[i] - b * si;
          xh[2 * i + 1] = a * si + b * c[i];
        }
      } else {
        float* lo = xh;
        float* hi = xh + half;
        for (int i = 0; i < half; ++i) {
          const float a = lo[i], b = hi[i];
          const float si = sign * s[i];
          lo[i] = a * c[i] - b * si;
          hi[i] = a * si + b * c[i];
        }
      }
    }
  }
  return SD_OK;
}
