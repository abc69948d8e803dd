// SwiGLU gate: out = silu(gate) * up, silu(g) = g * sigmoid(g).
#include "common.h"
#include "simd.h"

namespace {
inline float sigmoid(float g) { return 1.f / (1.f + sd::exp(-g)); }
}  // namespace

extern "C" int sd_swiglu_fwd(const float* gate, const float* up, float* out, int n) {
  const char* op = "swiglu_fwd";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_PTR(op, "gate", gate);
  SD_CHECK_PTR(op, "up", up);
  SD_CHECK_PTR(op, "out", out);
  // out may alias gate or up: each element reads both before writing.
  SD_PARALLEL_FOR_IF(n > sd::kParallelMin)
  for (int i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g * sigmoid(g) * up[i];
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
