// Fused attention: forward with an online softmax over key tiles (memory O(T·D)), GQA,
// the 5 mask topologies of sd_ops.h, float or bf16 keys/values (a bf16 KV cache), and a
// split-over-keys path for few queries against long caches (block decoding: Tq <= 64);
// backward in float32 (recomputes probabilities from lse).
//
// Forward block: one query head, 32 query rows, 128 threads = 4 threads per row. Per key
// tile of 32: K and V tiles go to shared memory (as float); each thread scores 8 keys
// (full-D dots), the 4 threads of a row combine max/sum with shuffles, P goes through
// shared memory, and each thread accumulates D/4 output dims.
#include <algorithm>
#include <climits>

#include "common.cuh"
#include "sd_key_span.h"

namespace {
constexpr int kBQ = 32, kBK = 32, kThreads = 128;

struct Shape {
  int Tq, Tk, Hq, Hkv, D, mask, block, origin, q_offset;
  float scale;
};

// Keys visible to query row i: the same intervals as the CPU kernels (include/sd_key_span.h).
using Span = sd::KeySpan;
using sd::key_span;

int check_shape(const char* op, const Shape& s) {
  SDC_POS(op, "Tq", s.Tq);
  SDC_POS(op, "Tk", s.Tk);
  SDC_POS(op, "Hq", s.Hq);
  SDC_POS(op, "Hkv", s.Hkv);
  SDC_POS(op, "D", s.D);
  SDC_NONNEG(op, "block", s.block);
  SDC_NONNEG(op, "origin", s.origin);
  SDC_NONNEG(op, "q_offset", s.q_offset);
  SDC_FINITE(op, "scale", s.scale);
  if (s.Hq % s.Hkv != 0)
    return sdc::fail(SD_EINVAL, "%s: Hq = %d must be a multiple of Hkv = %d", op, s.Hq, s.Hkv);
  if (s.mask < SD_MASK_BIDIR || s.mask > SD_MASK_VERIFY)
    return sdc::fail(SD_EINVAL, "%s: mask must be 0..5 (SD_MASK_*), got %d", op, s.mask);
  if ((s.mask == SD_MASK_BLOCK_CAUSAL || s.mask == SD_MASK_BLOCK_DIFF) && s.block <= 0)
    return sdc::fail(SD_EINVAL, "%s: block must be > 0 for block masks, got %d", op, s.block);
  if (s.mask == SD_MASK_BLOCK_DIFF && (s.Tq != s.Tk || s.Tq % 2 != 0 || s.q_offset != 0))
    return sdc::fail(SD_EINVAL,
                     "%s: block_diff needs Tq = Tk = 2L and q_offset 0, got Tq %d, Tk %d, "
                     "q_offset %d",
                     op, s.Tq, s.Tk, s.q_offset);
  if (s.mask == SD_MASK_VERIFY &&
      (s.block < 1 || s.origin > s.block || (long)s.block + s.origin > s.Tq ||
       (long)s.q_offset + s.Tq != s.Tk))
    return sdc::fail(
        SD_EINVAL,
        "%s: verify needs 1 <= clean rows (block) %d, mask rows (origin) %d <= clean rows, "
        "clean + mask rows <= Tq %d and q_offset %d + Tq = Tk %d",
        op, s.block, s.origin, s.Tq, s.q_offset, s.Tk);
  if (s.mask == SD_MASK_PREFIX && (long)s.q_offset + s.Tq > s.Tk)
    return sdc::fail(SD_EINVAL, "%s: prefix needs q_offset + Tq <= Tk, got %d + %d > %d", op,
                     s.q_offset, s.Tq, s.Tk);
  if (s.D > 256)
    return sdc::fail(SD_EINVAL, "%s: head dim D = %d is above the CUDA kernels' limit of 256", op,
                     s.D);
  return SD_OK;
}

// Union of the key ranges the block's rows see, as [lo, hi), intersected with [j0, j1).
__device__ void block_key_range(const Shape& s, int i0, int j0, int j1, int* lo, int* hi) {
  __shared__ int s_lo, s_hi;
  if (threadIdx.x == 0) {
    s_lo = INT_MAX;
    s_hi = INT_MIN;
  }
  __syncthreads();
  const int i = i0 + threadIdx.x;
  if (threadIdx.x < kBQ && i < s.Tq) {
    const Span sp = key_span(s, i);
    int l = INT_MAX, h = INT_MIN;
    if (sp.lo0 < sp.hi0) l = sp.lo0, h = sp.hi0;
    if (sp.lo1 < sp.hi1) l = min(l, sp.lo1), h = max(h, sp.hi1);
    if (l < h) {
      atomicMin(&s_lo, l);
      atomicMax(&s_hi, h);
    }
  }
  __syncthreads();
  *lo = max(s_lo, j0);
  *hi = min(s_hi, j1);
  __syncthreads();
}

template <typename KV>
__device__ void load_kv_tile(const KV* src, int j0, int nk, int row_stride, int D, float* dst,
                             int ld) {
  for (int idx = threadIdx.x; idx < kBK * D; idx += blockDim.x) {
    const int jj = idx / D, d = idx % D;
    dst[jj * ld + d] = jj < nk ? sdc::load_f<KV>(src, (size_t)(j0 + jj) * row_stride + d) : 0.f;
  }
}

// grid (ceil(Tq/32), Hq, splits). With splits, each z covers keys [z*kchunk, ..) and
// writes unnormalised o, m and l to part_o / part_ml; otherwise out and lse directly.
template <typename KV, typename OUT, int DMAX>
__global__ void __launch_bounds__(kThreads)
    attn_fwd_kernel(const float* __restrict__ q, int q_stride, const KV* __restrict__ k,
                    const KV* __restrict__ v, OUT* out, float* lse, Shape s, int kchunk,
                    float* part_o, float* part_ml) {
  constexpr int DC = DMAX / 4;  // output dims per thread
  extern __shared__ float sm[];
  const int D = s.D, ld = D + 1;
  float* Qs = sm;             // [32][ld]
  float* Ks = Qs + kBQ * ld;  // [32][ld]
  float* Vs = Ks + kBK * ld;  // [32][ld]
  float* Ps = Vs + kBK * ld;  // [32][33]
  const int h = blockIdx.y, hk = h / (s.Hq / s.Hkv);
  const int i0 = blockIdx.x * kBQ;
  const int r = threadIdx.x >> 2, sub = threadIdx.x & 3;
  const int i = i0 + r;
  const bool row_ok = i < s.Tq;
  const int kv_stride = s.Hkv * D;
  const KV* kh = k + (size_t)hk * D;
  const KV* vh = v + (size_t)hk * D;

  for (int idx = threadIdx.x; idx < kBQ * D; idx += kThreads) {
    const int rr = idx / D, d = idx % D;
    Qs[rr * ld + d] = i0 + rr < s.Tq ? q[(size_t)(i0 + rr) * q_stride + (size_t)h * D + d] : 0.f;
  }
  int lo, hi;
  const int zj0 = blockIdx.z * kchunk, zj1 = min(s.Tk, zj0 + kchunk);
  block_key_range(s, i0, zj0, zj1, &lo, &hi);
  const Span sp = row_ok ? key_span(s, i) : Span{0, 0, 0, 0};

  float o[DC];
#pragma unroll
  for (int c = 0; c < DC; ++c) o[c] = 0.f;
  float m_run = -INFINITY, l_run = 0.f;

  for (int j0 = lo; j0 < hi; j0 += kBK) {
    const int nk = min(kBK, hi - j0);
    load_kv_tile<KV>(kh, j0, nk, kv_stride, D, Ks, ld);
    load_kv_tile<KV>(vh, j0, nk, kv_stride, D, Vs, ld);
    __syncthreads();
    // Scores of this row against keys sub, sub+4, ...: d-outer so each q value is read
    // once from shared memory for 8 keys.
    float sc[kBK / 4];
#pragma unroll
    for (int c = 0; c < kBK / 4; ++c) sc[c] = 0.f;
    {
      const float* qr = Qs + r * ld;
      const float* kr = Ks + sub * ld;
      for (int d = 0; d < D; ++d) {
        const float qd = qr[d];
#pragma unroll
        for (int c = 0; c < kBK / 4; ++c) sc[c] = fmaf(qd, kr[4 * c * ld + d], sc[c]);
      }
    }
    float tmax = -INFINITY;
#pragma unroll
    for (int c = 0; c < kBK / 4; ++c) {
      const int jj = sub + 4 * c;
      sc[c] = (jj < nk && row_ok && sp.sees(j0 + jj)) ? sc[c] * s.scale : -INFINITY;
      tmax = fmaxf(tmax, sc[c]);
    }
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
    const float m_new = fmaxf(m_run, tmax);
    float alpha = 1.f, psum = 0.f;
    if (m_new != -INFINITY) {
      alpha = expf(m_run - m_new);  // 0 when m_run = -inf
#pragma unroll
      for (int c = 0; c < kBK / 4; ++c) {
        const float p = expf(sc[c] - m_new);  // 0 for masked keys
        Ps[r * 33 + sub + 4 * c] = p;
        psum += p;
      }
    } else {
#pragma unroll
      for (int c = 0; c < kBK / 4; ++c) Ps[r * 33 + sub + 4 * c] = 0.f;
    }
    psum += __shfl_xor_sync(0xffffffffu, psum, 1);
    psum += __shfl_xor_sync(0xffffffffu, psum, 2);
    l_run = l_run * alpha + psum;
    m_run = m_new;
    __syncwarp();  // a row's P is written and read by the 4 threads of one warp
#pragma unroll
    for (int c = 0; c < DC; ++c) {
      const int d = sub + 4 * c;
      if (d < D) {
        float a = o[c] * alpha;
        for (int jj = 0; jj < nk; ++jj) a = fmaf(Ps[r * 33 + jj], Vs[jj * ld + d], a);
        o[c] = a;
      }
    }
    __syncthreads();  // before the next tile overwrites Ks/Vs
  }

  if (!row_ok) return;
  if (part_o) {
    const size_t row = ((size_t)blockIdx.z * s.Hq + h) * s.Tq + i;
#pragma unroll
    for (int c = 0; c < DC; ++c) {
      const int d = sub + 4 * c;
      if (d < D) part_o[row * D + d] = o[c];
    }
    if (sub == 0) {
      part_ml[row * 2] = m_run;
      part_ml[row * 2 + 1] = l_run;
    }
    return;
  }
  const float inv = l_run > 0.f ? 1.f / l_run : 0.f;  // a row with no visible key -> zeros
#pragma unroll
  for (int c = 0; c < DC; ++c) {
    const int d = sub + 4 * c;
    if (d < D) sdc::store_f<OUT>(out, ((size_t)i * s.Hq + h) * D + d, o[c] * inv);
  }
  if (lse && sub == 0) lse[(size_t)h * s.Tq + i] = l_run > 0.f ? m_run + logf(l_run) : -INFINITY;
}

// Merges the splits of one (query, head): block of D threads (<= 256), one per dim.
template <typename OUT>
__global__ void attn_combine_kernel(const float* part_o, const float* part_ml, int S, Shape s,
                                    OUT* out, float* lse) {
  const int i = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
  const size_t stride = (size_t)s.Hq * s.Tq;
  const size_t row0 = (size_t)h * s.Tq + i;
  float M = -INFINITY;
  for (int z = 0; z < S; ++z) M = fmaxf(M, part_ml[(z * stride + row0) * 2]);
  float L = 0.f, acc = 0.f;
  if (M != -INFINITY)
    for (int z = 0; z < S; ++z) {
      const size_t row = z * stride + row0;
      const float w = expf(part_ml[row * 2] - M);  // 0 for empty splits
      L += part_ml[row * 2 + 1] * w;
      if (d < s.D) acc += part_o[row * s.D + d] * w;
    }
  if (d < s.D) sdc::store_f<OUT>(out, ((size_t)i * s.Hq + h) * s.D + d, L > 0.f ? acc / L : 0.f);
  if (lse && d == 0) lse[row0] = L > 0.f ? M + logf(L) : -INFINITY;
}

size_t fwd_smem(int D) { return sizeof(float) * ((size_t)(kBQ + 2 * kBK) * (D + 1) + kBQ * 33); }

template <typename KV, typename OUT, int DMAX>
int launch_fwd(const sdc::Ctx* C, dim3 grid, const float* q, int q_stride, const KV* k, const KV* v,
               OUT* out, float* lse, const Shape& s, int kchunk, float* po, float* pml) {
  const size_t smem = fwd_smem(s.D);
  static bool attr_set = false;
  if (!attr_set) {
    cudaError_t e =
        cudaFuncSetAttribute(attn_fwd_kernel<KV, OUT, DMAX>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, (int)fwd_smem(DMAX));
    if (e != cudaSuccess)
      return sdc::fail(SD_EDEVICE, "attention: cudaFuncSetAttribute: %s", cudaGetErrorString(e));
    attr_set = true;
  }
  attn_fwd_kernel<KV, OUT, DMAX>
      <<<grid, kThreads, smem, C->stream>>>(q, q_stride, k, v, out, lse, s, kchunk, po, pml);
  if (po) {
    attn_combine_kernel<OUT><<<dim3(s.Tq, s.Hq), (s.D + 31) / 32 * 32, 0, C->stream>>>(
        po, pml, (int)grid.z, s, out, lse);
  }
  return sdc::launch_check("attention_fwd");
}

template <typename KV, typename OUT>
int fwd_dispatch(const sdc::Ctx* C, const float* q, int q_stride, const KV* k, const KV* v,
                 OUT* out, float* lse, const Shape& s) {
  const int qb = (s.Tq + kBQ - 1) / kBQ;
  const long base = (long)qb * s.Hq;
  // Split over keys when few query blocks face a long key range (block decoding against
  // a KV cache): about 2 blocks per SM, chunks of >= 64 keys.
  int S = 1;
  if (s.Tq <= 64 && s.Tk >= 256 && base < 2L * C->sms) {
    S = (int)std::min<long>((2L * C->sms + base - 1) / base, (s.Tk + 63) / 64);
    const size_t per = (size_t)s.Hq * s.Tq * (s.D + 2) * sizeof(float);
    while (S > 1 && per * S > C->ws_bytes) --S;
  }
  int kchunk = (s.Tk + S - 1) / S;
  kchunk = (kchunk + kBK - 1) / kBK * kBK;
  S = (s.Tk + kchunk - 1) / kchunk;
  float *po = nullptr, *pml = nullptr;
  if (S > 1) {
    po = (float*)sdc::workspace((size_t)S * s.Hq * s.Tq * (s.D + 2) * sizeof(float));
    pml = po + (size_t)S * s.Hq * s.Tq * s.D;
  }
  const dim3 grid(qb, s.Hq, S);
  if (qb > 65535 || s.Hq > 65535) return sdc::fail(SD_EINVAL, "attention_fwd: Tq or Hq too large");
  if (s.D <= 64)
    return launch_fwd<KV, OUT, 64>(C, grid, q, q_stride, k, v, out, lse, s, kchunk, po, pml);
  if (s.D <= 128)
    return launch_fwd<KV, OUT, 128>(C, grid, q, q_stride, k, v, out, lse, s, kchunk, po, pml);
  return launch_fwd<KV, OUT, 256>(C, grid, q, q_stride, k, v, out, lse, s, kchunk, po, pml);
}

// ---------------------------------------------------------------- backward (float32)
// Di[h, i] = sum_d dout[i,h,d] * out[i,h,d]; one warp per (i, h).
__global__ void attn_bwd_dot_kernel(const float* out, const float* dout, float* Di, Shape s) {
  const int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5, lane = threadIdx.x & 31;
  if (warp >= s.Tq * s.Hq) return;
  const int i = warp / s.Hq, h = warp % s.Hq;
  const size_t base = ((size_t)i * s.Hq + h) * s.D;
  float a = 0.f;
  for (int d = lane; d < s.D; d += 32) a += dout[base + d] * out[base + d];
  a = sdc::warp_sum(a);
  if (lane == 0) Di[(size_t)h * s.Tq + i] = a;
}

// p = exp(s*scale - lse), ds = p * (dout·v - Di) for a visible pair, else 0.
__device__ __forceinline__ float bwd_ds(float dot_qk, float dot_dv, float scale, float l, float di,
                                        float* p_out) {
  const float p = expf(dot_qk * scale - l);
  *p_out = p;
  return p * (dot_dv - di);
}

// dq: block = one head, 32 query rows (as the forward); per key tile, each thread scores
// 8 keys, dS goes through shared memory, each thread accumulates D/4 dims of dq.
template <int DMAX>
__global__ void __launch_bounds__(kThreads)
    attn_bwd_dq_kernel(const float* q, const float* k, const float* v, const float* lse,
                       const float* dout, const float* Di, float* dq, Shape s) {
  constexpr int DC = DMAX / 4;
  extern __shared__ float sm[];
  const int D = s.D, ld = D + 1;
  float* Qs = sm;
  float* Gs = Qs + kBQ * ld;  // dout rows
  float* Ks = Gs + kBQ * ld;
  float* Vs = Ks + kBK * ld;
  float* Ss = Vs + kBK * ld;  // dS [32][33]
  const int h = blockIdx.y, hk = h / (s.Hq / s.Hkv);
  const int i0 = blockIdx.x * kBQ;
  const int r = threadIdx.x >> 2, sub = threadIdx.x & 3, i = i0 + r;
  const bool row_ok = i < s.Tq;
  const int kv_stride = s.Hkv * D;
  for (int idx = threadIdx.x; idx < kBQ * D; idx += kThreads) {
    const int rr = idx / D, d = idx % D;
    const bool ok = i0 + rr < s.Tq;
    const size_t o = ((size_t)(i0 + rr) * s.Hq + h) * D + d;
    Qs[rr * ld + d] = ok ? q[o] : 0.f;
    Gs[rr * ld + d] = ok ? dout[o] : 0.f;
  }
  int lo, hi;
  block_key_range(s, i0, 0, s.Tk, &lo, &hi);
  const Span sp = row_ok ? key_span(s, i) : Span{0, 0, 0, 0};
  const float l = row_ok ? lse[(size_t)h * s.Tq + i] : -INFINITY;
  const float di = row_ok ? Di[(size_t)h * s.Tq + i] : 0.f;
  const bool live = row_ok && l != -INFINITY;  // a row that saw no key has no gradient
  float acc[DC];
#pragma unroll
  for (int c = 0; c < DC; ++c) acc[c] = 0.f;
  for (int j0 = lo; j0 < hi; j0 += kBK) {
    const int nk = min(kBK, hi - j0);
    load_kv_tile<float>(k + (size_t)hk * D, j0, nk, kv_stride, D, Ks, ld);
    load_kv_tile<float>(v + (size_t)hk * D, j0, nk, kv_stride, D, Vs, ld);
    __syncthreads();
#pragma unroll
    for (int c = 0; c < kBK / 4; ++c) {
      const int jj = sub + 4 * c;
      float ds = 0.f;
      if (live && jj < nk && sp.sees(j0 + jj)) {
        float a = 0.f, b = 0.f;
        for (int d = 0; d < D; ++d) {
          a = fmaf(Qs[r * ld + d], Ks[jj * ld + d], a);
          b = fmaf(Gs[r * ld + d], Vs[jj * ld + d], b);
        }
        float p;
        ds = bwd_ds(a, b, s.scale, l, di, &p);
      }
      Ss[r * 33 + jj] = ds;
    }
    __syncwarp();
#pragma unroll
    for (int c = 0; c < DC; ++c) {
      const int d = sub + 4 * c;
      if (d < D) {
        float a = acc[c];
        for (int jj = 0; jj < nk; ++jj) a = fmaf(Ss[r * 33 + jj], Ks[jj * ld + d], a);
        acc[c] = a;
      }
    }
    __syncthreads();
  }
  if (!row_ok) return;
#pragma unroll
  for (int c = 0; c < DC; ++c) {
    const int d = sub + 4 * c;
    if (d < D) dq[((size_t)i * s.Hq + h) * D + d] += s.scale * acc[c];
  }
}

// dk, dv: block = one kv head, 32 keys; loops over every query head of its group and
// every query tile; each thread owns one key row's D/4 dims of dk and dv.
template <int DMAX>
__global__ void __launch_bounds__(kThreads)
    attn_bwd_dkv_kernel(const float* q, const float* k, const float* v, const float* lse,
                        const float* dout, const float* Di, float* dk, float* dv, Shape s) {
  constexpr int DC = DMAX / 4;
  extern __shared__ float sm[];
  const int D = s.D, ld = D + 1;
  float* Ks = sm;
  float* Vs = Ks + kBK * ld;
  float* Qs = Vs + kBK * ld;
  float* Gs = Qs + kBQ * ld;
  float* Ps = Gs + kBQ * ld;  // [key][query] P
  float* Ss = Ps + kBK * 33;  // [key][query] dS
  float* Ls = Ss + kBK * 33;  // lse of the query tile
  float* Ds = Ls + kBQ;       // Di of the query tile
  const int hk = blockIdx.y, group = s.Hq / s.Hkv;
  const int j0 = blockIdx.x * kBK;
  const int nk = min(kBK, s.Tk - j0);
  const int r = threadIdx.x >> 2, sub = threadIdx.x & 3, j = j0 + r;
  const int kv_stride = s.Hkv * D;
  load_kv_tile<float>(k + (size_t)hk * D, j0, nk, kv_stride, D, Ks, ld);
  load_kv_tile<float>(v + (size_t)hk * D, j0, nk, kv_stride, D, Vs, ld);
  float gk[DC], gv[DC];
#pragma unroll
  for (int c = 0; c < DC; ++c) gk[c] = gv[c] = 0.f;
  for (int h = hk * group; h < (hk + 1) * group; ++h) {
    for (int i0 = 0; i0 < s.Tq; i0 += kBQ) {
      __syncthreads();
      for (int idx = threadIdx.x; idx < kBQ * D; idx += kThreads) {
        const int rr = idx / D, d = idx % D;
        const bool ok = i0 + rr < s.Tq;
        const size_t o = ((size_t)(i0 + rr) * s.Hq + h) * D + d;
        Qs[rr * ld + d] = ok ? q[o] : 0.f;
        Gs[rr * ld + d] = ok ? dout[o] : 0.f;
      }
      if (threadIdx.x < kBQ) {
        const int ii = i0 + threadIdx.x;
        Ls[threadIdx.x] = ii < s.Tq ? lse[(size_t)h * s.Tq + ii] : -INFINITY;
        Ds[threadIdx.x] = ii < s.Tq ? Di[(size_t)h * s.Tq + ii] : 0.f;
      }
      __syncthreads();
#pragma unroll
      for (int c = 0; c < kBQ / 4; ++c) {
        const int ii = sub + 4 * c, iq = i0 + ii;
        float p = 0.f, ds = 0.f;
        if (r < nk && iq < s.Tq && Ls[ii] != -INFINITY && key_span(s, iq).sees(j)) {
          float a = 0.f, b = 0.f;
          for (int d = 0; d < D; ++d) {
            a = fmaf(Qs[ii * ld + d], Ks[r * ld + d], a);
            b = fmaf(Gs[ii * ld + d], Vs[r * ld + d], b);
          }
          ds = bwd_ds(a, b, s.scale, Ls[ii], Ds[ii], &p);
        }
        Ps[r * 33 + ii] = p;
        Ss[r * 33 + ii] = ds;
      }
      __syncwarp();
#pragma unroll
      for (int c = 0; c < DC; ++c) {
        const int d = sub + 4 * c;
        if (d < D) {
          float a = gv[c], b = gk[c];
          for (int ii = 0; ii < kBQ; ++ii) {
            a = fmaf(Ps[r * 33 + ii], Gs[ii * ld + d], a);
            b = fmaf(Ss[r * 33 + ii], Qs[ii * ld + d], b);
          }
          gv[c] = a;
          gk[c] = b;
        }
      }
    }
  }
  if (r >= nk) return;
#pragma unroll
  for (int c = 0; c < DC; ++c) {
    const int d = sub + 4 * c;
    if (d < D) {
      const size_t o = ((size_t)j * s.Hkv + hk) * D + d;
      dk[o] += s.scale * gk[c];
      dv[o] += gv[c];
    }
  }
}

template <typename F>
int set_smem(F* kernel, size_t bytes) {
  cudaError_t e =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  if (e != cudaSuccess)
    return sdc::fail(SD_EDEVICE, "attention_bwd: cudaFuncSetAttribute: %s", cudaGetErrorString(e));
  return SD_OK;
}

template <int DMAX>
int launch_bwd(const sdc::Ctx* C, const float* q, const float* k, const float* v, const float* lse,
               const float* dout, const float* Di, float* dq, float* dk, float* dv,
               const Shape& s) {
  const size_t ld = s.D + 1;
  const size_t smem_q = sizeof(float) * ((2 * kBQ + 2 * kBK) * ld + kBQ * 33);
  const size_t smem_kv = sizeof(float) * ((2 * kBQ + 2 * kBK) * ld + 2 * kBK * 33 + 2 * kBQ);
  static bool attr_set = false;
  if (!attr_set) {
    const size_t full = sizeof(float) * ((2 * kBQ + 2 * kBK) * (DMAX + 1) + 2 * kBK * 33 + 2 * kBQ);
    if (int rc = set_smem(attn_bwd_dq_kernel<DMAX>, full)) return rc;
    if (int rc = set_smem(attn_bwd_dkv_kernel<DMAX>, full)) return rc;
    attr_set = true;
  }
  attn_bwd_dq_kernel<DMAX><<<dim3((s.Tq + kBQ - 1) / kBQ, s.Hq), kThreads, smem_q, C->stream>>>(
      q, k, v, lse, dout, Di, dq, s);
  attn_bwd_dkv_kernel<DMAX><<<dim3((s.Tk + kBK - 1) / kBK, s.Hkv), kThreads, smem_kv, C->stream>>>(
      q, k, v, lse, dout, Di, dk, dv, s);
  return sdc::launch_check("attention_bwd");
}
}  // namespace

int sdc_attention_fwd_x(const float* q, int q_stride, const void* k, const void* v, int kv_dtype,
                        void* out, int out_dtype, float* lse, int Tq, int Tk, int Hq, int Hkv,
                        int D, int mask, int block, int origin, int q_offset, float scale) {
  const char* op = "attention_fwd";
  const Shape s{Tq, Tk, Hq, Hkv, D, mask, block, origin, q_offset, scale};
  if (int rc = check_shape(op, s)) return rc;
  SDC_PTR(op, "q", q);
  SDC_PTR(op, "k", k);
  SDC_PTR(op, "v", v);
  SDC_PTR(op, "out", out);
  SDC_DTYPE(op, "kv_dtype", kv_dtype);
  SDC_DTYPE(op, "out_dtype", out_dtype);
  if (q_stride < Hq * D)
    return sdc::fail(SD_EINVAL, "attention_fwd: q_stride %d must be >= Hq * D = %d", q_stride,
                     Hq * D);
  SDC_CTX();
  if (kv_dtype == SDC_F32) {
    if (out_dtype == SDC_F32)
      return fwd_dispatch<float, float>(C, q, q_stride, (const float*)k, (const float*)v,
                                        (float*)out, lse, s);
    return fwd_dispatch<float, uint16_t>(C, q, q_stride, (const float*)k, (const float*)v,
                                         (uint16_t*)out, lse, s);
  }
  if (out_dtype == SDC_F32)
    return fwd_dispatch<uint16_t, float>(C, q, q_stride, (const uint16_t*)k, (const uint16_t*)v,
                                         (float*)out, lse, s);
  return fwd_dispatch<uint16_t, uint16_t>(C, q, q_stride, (const uint16_t*)k, (const uint16_t*)v,
                                          (uint16_t*)out, lse, s);
}

int sdc_attention_fwd(const float* q, const float* k, const float* v, float* out, float* lse,
                      int Tq, int Tk, int Hq, int Hkv, int D, int mask, int block, int origin,
                      int q_offset, float scale) {
  return sdc_attention_fwd_x(q, Hq * D, k, v, SDC_F32, out, SDC_F32, lse, Tq, Tk, Hq, Hkv, D, mask,
                             block, origin, q_offset, scale);
}

int sdc_attention_bwd(const float* q, const float* k, const float* v, const float* out,
                      const float* lse, const float* dout, float* dq, float* dk, float* dv, int Tq,
                      int Tk, int Hq, int Hkv, int D, int mask, int block, int origin, int q_offset,
                      float scale) {
  const char* op = "attention_bwd";
  const Shape s{Tq, Tk, Hq, Hkv, D, mask, block, origin, q_offset, scale};
  if (int rc = check_shape(op, s)) return rc;
  SDC_PTR(op, "q", q);
  SDC_PTR(op, "k", k);
  SDC_PTR(op, "v", v);
  SDC_PTR(op, "out", out);
  SDC_PTR(op, "lse", lse);
  SDC_PTR(op, "dout", dout);
  SDC_PTR(op, "dq", dq);
  SDC_PTR(op, "dk", dk);
  SDC_PTR(op, "dv", dv);
  if ((Tq + kBQ - 1) / kBQ > 65535 || (Tk + kBK - 1) / kBK > 65535 || Hq > 65535)
    return sdc::fail(SD_EINVAL, "attention_bwd: Tq, Tk or Hq too large for one launch");
  SDC_CTX();
  float* Di = (float*)sdc::workspace((size_t)Hq * Tq * sizeof(float));
  if (!Di)
    return sdc::fail(SD_ENOMEM, "attention_bwd: Hq * Tq = %ld too large for the workspace",
                     (long)Hq * Tq);
  const long warps = (long)Tq * Hq;
  attn_bwd_dot_kernel<<<(unsigned)((warps * 32 + 255) / 256), 256, 0, C->stream>>>(out, dout, Di,
                                                                                   s);
  if (D <= 64) return launch_bwd<64>(C, q, k, v, lse, dout, Di, dq, dk, dv, s);
  if (D <= 128) return launch_bwd<128>(C, q, k, v, lse, dout, Di, dq, dk, dv, s);
  return launch_bwd<256>(C, q, k, v, lse, dout, Di, dq, dk, dv, s);
}
