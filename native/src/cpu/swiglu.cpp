// SwiGLU gate: out = silu(gate) * up, silu(g) = g * sigmoid(g).
#include "common.h"
#include "simd.h"
#include "vec8.h"

namespace {
inline float sigmoid(float g) { return 1.f / (1.f + sd::exp(-g)); }
}  // namespace

extern "C" int sd_swiglu_fwd(const float* gate, const float* up, float* out, int n) {
  const char* op = "swiglu_fwd";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_PTR(op, "gate", gate);
  SD_CHECK_PTR(op, "up", up);
  SD_CHECK_PTR(op, "out", out);
  // out may alias gate or up: each element reads both before writing. Eight at a time (the
  // scalar exp does not vectorise); the tail goes through the same vector code via a padded
  // copy, so an element's value does not depend on where it falls in the array.
  const int blocks = (n + 7) / 8;
  SD_PARALLEL_FOR_IF(n > sd::kParallelMin)
  for (int bi = 0; bi < blocks; ++bi) {
    const int i = bi * 8, w = n - i < 8 ? n - i : 8;
    float g8[8] = {0}, u8[8] = {0}, o8[8];
    std::memcpy(g8, gate + i, w * sizeof(float));
    std::memcpy(u8, up + i, w * sizeof(float));
    const sd::v8f g = sd::load8(g8);
    const sd::v8f sig = sd::splat8(1.f) / (sd::splat8(1.f) + sd::exp8(-g));
    sd::store8(o8, g * sig * sd::load8(u8));
    std::memcpy(out + i, o8, w * sizeof(float));
  }
  return SD_OK;
}

// silu'(g) = s + g * s * (1 - s) with s = sigmoid(g).
extern "C" int sd_swiglu_bwd(const float* gate, const float* up, const float* dout, float* dgate,
                             float* dup, int n) {
  const char* op = "swiglu_bwd";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_PTR(op, "gate", gate);
  SD_CHECK_PTR(op, "up", up);
  SD_CHECK_PTR(op, "dout", dout);
  SD_CHECK_PTR(op, "dgate", dgate);
  SD_CHECK_PTR(op, "dup", dup);
  SD_PARALLEL_FOR_IF(n > sd::kParallelMin)
  for (int i = 0; i < n; ++i) {
    const float g = gate[i], u = up[i], d = dout[i];
    const float s = sigmoid(g);
    dgate[i] += d * u * (s + g * s * (1.f - s));
    dup[i] += d * g * s;
  }
  return SD_OK;
}
