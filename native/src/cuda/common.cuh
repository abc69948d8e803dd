// Internal helpers shared by the CUDA kernels: the backend context (stream, workspace,
// device-side error word), argument checks, launch checks, bf16 conversion and reductions.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include <cmath>

#include "sd_cuda.h"
#include "sd_ops.h"

namespace sdc {

// First bad value a kernel met; reported (and cleared) at the next synchronising call.
struct DevError {
  int code;   // 0 = none, else SD_ERANGE
  int op;     // ErrOp
  int index;  // row / element
  int value;  // the bad id or position
  int limit;  // the bound it broke
};
enum ErrOp { kErrEmbFwd = 1, kErrEmbBwd, kErrXent, kErrXentMask, kErrRope, kErrDecode };

struct Ctx {
  int device = 0;
  cudaStream_t stream = nullptr;
  int sms = 0;
  int cc_major = 0, cc_minor = 0;
  size_t smem_optin = 0;
  char name[256] = {0};
  // Split-K / split-key partial results. One op at a time uses it (one stream).
  void* ws = nullptr;
  size_t ws_bytes = 0;
  // Arrival counters for split-K "last block reduces"; always left at zero.
  unsigned* counters = nullptr;
  int n_counters = 0;
  DevError* err = nullptr;
  bool capturing = false;
};

// Records the message for sdc_last_error() and returns `code`.
int fail(int code, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
// The context, initialised on first use; nullptr (with the reason recorded) when no device.
Ctx* ctx();
// SD_OK, or SD_EDEVICE naming `op` when the launch (or an earlier async op) failed.
int launch_check(const char* op);
// Workspace of at least `bytes` (nullptr when it does not fit).
void* workspace(size_t bytes);

inline unsigned blocks_for(size_t n, int threads, unsigned cap = 65535u * 32u) {
  size_t b = (n + threads - 1) / threads;
  return (unsigned)(b > cap ? cap : (b == 0 ? 1 : b));
}

// ---- device helpers
__device__ __forceinline__ float bf2f(uint16_t h) { return __uint_as_float(((uint32_t)h) << 16); }
__device__ __forceinline__ uint16_t f2bf(float f) {
  // round to nearest even; NaN stays NaN
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
template <typename T>
__device__ __forceinline__ float load_f(const T* p, size_t i);
template <>
__device__ __forceinline__ float load_f<float>(const float* p, size_t i) {
  return p[i];
}
template <>
__device__ __forceinline__ float load_f<uint16_t>(const uint16_t* p, size_t i) {
  return bf2f(p[i]);
}
template <typename T>
__device__ __forceinline__ void store_f(T* p, size_t i, float v);
template <>
__device__ __forceinline__ void store_f<float>(float* p, size_t i, float v) {
  p[i] = v;
}
template <>
__device__ __forceinline__ void store_f<uint16_t>(uint16_t* p, size_t i, float v) {
  p[i] = f2bf(v);
}

__device__ __forceinline__ void dev_fail(DevError* e, int op, int index, int value, int limit) {
  if (atomicCAS(&e->code, 0, SD_ERANGE) == 0) {
    e->op = op;
    e->index = index;
    e->value = value;
    e->limit = limit;
  }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Block-wide sum (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
// `sh` holds 32 values; the call begins and ends with a barrier so it can be reused.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* sh) {
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) sh[w] = v;
  __syncthreads();
  T r = lane < nw ? sh[lane] : T(0);
  r = warp_sum(r);
  return r;
}
__device__ __forceinline__ float block_max(float v, float* sh) {
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) sh[w] = v;
  __syncthreads();
  float r = lane < nw ? sh[lane] : -INFINITY;
  return warp_max(r);
}

}  // namespace sdc

// Host-side argument checks: each returns from the calling op on failure.
#define SDC_POS(op, name, v) \
  if ((v) <= 0) return sdc::fail(SD_EINVAL, "%s: %s must be > 0, got %d", op, name, (int)(v))
#define SDC_NONNEG(op, name, v) \
  if ((v) < 0) return sdc::fail(SD_EINVAL, "%s: %s must be >= 0, got %d", op, name, (int)(v))
#define SDC_FINITE(op, name, v) \
  if (!std::isfinite(v))        \
  return sdc::fail(SD_EINVAL, "%s: %s must be finite, got %g", op, name, (double)(v))
#define SDC_PTR(op, name, p) \
  if (!(p)) return sdc::fail(SD_EINVAL, "%s: %s is null", op, name)
#define SDC_DTYPE(op, name, d)           \
  if ((d) != SDC_F32 && (d) != SDC_BF16) \
  return sdc::fail(SD_EINVAL, "%s: %s must be 0 (f32) or 1 (bf16), got %d", op, name, (int)(d))
// Binds `C` to the context or returns the init error.
#define SDC_CTX()           \
  sdc::Ctx* C = sdc::ctx(); \
  if (!C) return SD_EDEVICE
