// bf16 tensor-core GEMM for inference: C[M,N] = alpha * A[M,K] · W[N,K]^T + beta * C, fp32
// accumulation with mma.sync.m16n8k16 (sm_80+), built for the skinny M of block decoding
// (M = block size x batch, e.g. 32), where the op is a stream over the weights.
//
// Layout of the work
//  - A CTA (8 warps) owns 128 rows of W (output columns) x MT rows of A, over one k-slab;
//    each warp owns 16 rows of W (two n8 tiles) and all MT rows (MT/16 m16 tiles).
//  - W goes global -> registers directly: every W element is used by one warp only, so
//    shared memory would only add a round trip. Each thread loads 16 bytes per row and
//    32-wide k chunk, 4 chunks per batch, two batches in flight (double-buffered
//    registers), with L1 bypassed and a 256-byte L2 prefetch hint.
//  - A (small, reused by every warp) is staged in shared memory in 512-wide k sub-tiles,
//    rows padded by 64 bytes so the 16-byte fragment reads are bank-conflict free.
//  - k permutation trick: the reduction over k is order-free, so within each 32-wide k
//    chunk, thread t's 16-byte word (k = 8t..8t+7) of a W row feeds two mma k16 steps as
//    logical k {2t,2t+1,2t+8,2t+9} <- physical {8t+4s .. 8t+4s+3} (s = step), and A's
//    fragments use the same map. Every load is then one 16-byte vector, no ldmatrix.
//  - Split-K over blockIdx.y when the n x m tiles alone cannot fill the GPU: each split
//    writes fp32 partials to the workspace; the last CTA to arrive for a tile (arrival
//    counter) sums them in split order (deterministic), applies alpha/beta and writes C,
//    then resets the counter so the launch can be replayed in a CUDA graph.
#include <algorithm>

#include "common.cuh"

namespace {
constexpr int kThreads = 256;
constexpr int kWarpN = 16;
constexpr int kTileN = 128;
constexpr int kKT = 512;  // A sub-tile width in k
constexpr int kPad = 32;  // bf16 elements of padding per A row (64 bytes)
constexpr int kLDA = kKT + kPad;
constexpr int kU = 4;  // k32 chunks per batch
constexpr int kBatchK = kU * 32;

__device__ __forceinline__ uint4 ldg_stream16(const void* p) {
  uint4 r;
  asm volatile("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "l"(p));
  return r;
}

__device__ __forceinline__ void mma_bf16(float* c, uint32_t a0, uint32_t a1, uint32_t a2,
                                         uint32_t a3, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t comp(const uint4& v, int i) {
  return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// 8 consecutive bf16 of row `row` (length `len` valid from `base`) starting at k, zero
// outside [.., k1): vector load when VEC (k1 and k multiples of 8, 16-byte aligned rows).
template <bool VEC, bool STREAM>
__device__ __forceinline__ uint4 load8(const uint16_t* rowp, int k, int k1) {
  if constexpr (VEC) {
    if (k < k1) return STREAM ? ldg_stream16(rowp + k) : *(const uint4*)(rowp + k);
    return make_uint4(0, 0, 0, 0);
  } else {
    uint32_t w[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int ka = k + 2 * e;
      const uint32_t lo = ka < k1 ? rowp[ka] : 0u;
      const uint32_t hi = ka + 1 < k1 ? rowp[ka + 1] : 0u;
      w[e] = lo | (hi << 16);
    }
    return make_uint4(w[0], w[1], w[2], w[3]);
  }
}

template <int MT, bool VEC>
__global__ void __launch_bounds__(kThreads)
    gemm_bf16_kernel(const uint16_t* __restrict__ A, const uint16_t* __restrict__ W, void* Cout,
                     int c_bf16, int M, int N, int K, float alpha, float beta, int kslab,
                     float* __restrict__ part, unsigned* counters) {
  constexpr int MI = MT / 16;
  extern __shared__ uint4 smem_u4[];
  uint16_t* As = reinterpret_cast<uint16_t*>(smem_u4);
  __shared__ unsigned s_last;

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const int n0 = blockIdx.x * kTileN, m0 = blockIdx.z * MT;
  const int k0 = blockIdx.y * kslab;
  const int k1 = min(K, k0 + kslab);
  const int nb = (k1 - k0 + kBatchK - 1) / kBatchK;

  // This thread's two W rows (one per n8 tile); rows past N read as zeros.
  const int wn0 = n0 + warp * kWarpN + g, wn1 = wn0 + 8;
  const uint16_t* wrow0 = W + (size_t)min(wn0, N - 1) * K;
  const uint16_t* wrow1 = W + (size_t)min(wn1, N - 1) * K;
  const int kl0 = wn0 < N ? k1 : 0, kl1 = wn1 < N ? k1 : 0;  // limit 0 = all zeros

  float acc[MI][2][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

  uint4 w0[kU][2], w1[kU][2];
  auto load_w = [&](uint4(&w)[kU][2], int kb) {
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int k = kb + u * 32 + 8 * t;
      w[u][0] = load8<VEC, true>(wrow0, k, kl0);
      w[u][1] = load8<VEC, true>(wrow1, k, kl1);
    }
  };
  // Stages A[m0.., kt0 .. kt0+kKT) when batch b starts a new sub-tile (uniform branch).
  auto stage_a = [&](int b) {
    const int kb = k0 + b * kBatchK;
    if ((b * kBatchK) % kKT != 0) return;
    __syncthreads();
    constexpr int per_row = kKT / 8;
    for (int idx = threadIdx.x; idx < MT * per_row; idx += kThreads) {
      const int r = idx / per_row, c = (idx % per_row) * 8;
      const int m = m0 + r;
      uint4 v = make_uint4(0, 0, 0, 0);
      if (m < M) v = load8<VEC, false>(A + (size_t)m * K, kb + c, k1);
      *reinterpret_cast<uint4*>(As + r * kLDA + c) = v;
    }
    __syncthreads();
  };
  auto compute = [&](const uint4(&w)[kU][2], int b) {
    const int kl = (b * kBatchK) % kKT;  // batch start inside the A sub-tile
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int kc = kl + u * 32 + 8 * t;
#pragma unroll
      for (int i = 0; i < MI; ++i) {
        const uint4 alo = *reinterpret_cast<const uint4*>(As + (i * 16 + g) * kLDA + kc);
        const uint4 ahi = *reinterpret_cast<const uint4*>(As + (i * 16 + g + 8) * kLDA + kc);
#pragma unroll
        for (int s = 0; s < 2; ++s)
#pragma unroll
          for (int j = 0; j < 2; ++j)
            mma_bf16(acc[i][j], comp(alo, 2 * s), comp(ahi, 2 * s), comp(alo, 2 * s + 1),
                     comp(ahi, 2 * s + 1), comp(w[u][j], 2 * s), comp(w[u][j], 2 * s + 1));
      }
    }
  };

  load_w(w0, k0);
  for (int b = 0; b < nb; b += 2) {
    if (b + 1 < nb) load_w(w1, k0 + (b + 1) * kBatchK);
    stage_a(b);
    compute(w0, b);
    if (b + 1 < nb) {
      if (b + 2 < nb) load_w(w0, k0 + (b + 2) * kBatchK);
      stage_a(b + 1);
      compute(w1, b + 1);
    }
  }

  // C fragment (m16n8): c0,c1 at row g, cols 2t, 2t+1; c2,c3 at row g+8.
  const bool split = gridDim.y > 1;
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int m = m0 + i * 16 + g + (r >= 2 ? 8 : 0);
        const int n = n0 + warp * kWarpN + j * 8 + 2 * t + (r & 1);
        if (m >= M || n >= N) continue;
        const size_t o = (size_t)m * N + n;
        if (split) {
          part[(size_t)blockIdx.y * M * N + o] = acc[i][j][r];
        } else if (c_bf16) {
          uint16_t* c = (uint16_t*)Cout + o;
          const float prev = beta == 0.f ? 0.f : beta * sdc::bf2f(*c);
          *c = sdc::f2bf(alpha * acc[i][j][r] + prev);
        } else {
          float* c = (float*)Cout + o;
          *c = beta == 0.f ? alpha * acc[i][j][r] : alpha * acc[i][j][r] + beta * *c;
        }
      }
  if (!split) return;

  // Last CTA of this tile sums the splits in order.
  __threadfence();
  __syncthreads();
  unsigned* counter = counters + blockIdx.z * gridDim.x + blockIdx.x;
  if (threadIdx.x == 0) s_last = atomicAdd(counter, 1u) == gridDim.y - 1;
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  const int S = gridDim.y;
  for (int idx = threadIdx.x; idx < MT * kTileN; idx += kThreads) {
    const int m = m0 + idx / kTileN, n = n0 + idx % kTileN;
    if (m >= M || n >= N) continue;
    const size_t o = (size_t)m * N + n;
    float sum = 0.f;
    for (int s = 0; s < S; ++s) sum += __ldcg(part + (size_t)s * M * N + o);
    if (c_bf16) {
      uint16_t* c = (uint16_t*)Cout + o;
      const float prev = beta == 0.f ? 0.f : beta * sdc::bf2f(*c);
      *c = sdc::f2bf(alpha * sum + prev);
    } else {
      float* c = (float*)Cout + o;
      *c = beta == 0.f ? alpha * sum : alpha * sum + beta * *c;
    }
  }
  if (threadIdx.x == 0) *counter = 0u;
}

template <int MT, bool VEC>
int launch(const sdc::Ctx* C, dim3 grid, const uint16_t* A, const uint16_t* W, void* Cout,
           int c_bf16, int M, int N, int K, float alpha, float beta, int kslab, float* part) {
  const size_t smem = (size_t)MT * kLDA * sizeof(uint16_t);
  static bool attr_set = false;  // per instantiation; set before any graph capture uses it
  if (!attr_set) {
    cudaError_t e = cudaFuncSetAttribute(gemm_bf16_kernel<MT, VEC>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess)
      return sdc::fail(SD_EDEVICE, "gemm_bf16: cudaFuncSetAttribute: %s", cudaGetErrorString(e));
    attr_set = true;
  }
  gemm_bf16_kernel<MT, VEC><<<grid, kThreads, smem, C->stream>>>(A, W, Cout, c_bf16, M, N, K, alpha,
                                                                 beta, kslab, part, C->counters);
  return sdc::launch_check("gemm_bf16");
}
}  // namespace

int sdc_gemm_bf16(const sdc_bf16* A, const sdc_bf16* W, void* Cout, int c_dtype, int M, int N,
                  int K, float alpha, float beta) {
  const char* op = "gemm_bf16";
  SDC_POS(op, "M", M);
  SDC_POS(op, "N", N);
  SDC_POS(op, "K", K);
  SDC_PTR(op, "A", A);
  SDC_PTR(op, "W", W);
  SDC_PTR(op, "C", Cout);
  SDC_DTYPE(op, "c_dtype", c_dtype);
  SDC_FINITE(op, "alpha", alpha);
  SDC_FINITE(op, "beta", beta);
  SDC_CTX();
  const int MT = M <= 32 ? 32 : 64;
  const int mt = (M + MT - 1) / MT, nt = (N + kTileN - 1) / kTileN;
  if (mt > 65535) return sdc::fail(SD_EINVAL, "gemm_bf16: M = %d is too large", M);
  // Split K until about 3 CTAs per SM are in the grid, keeping slabs >= 256 wide, the
  // partials inside the workspace and one arrival counter per tile.
  int S = 1;
  const long tiles = (long)mt * nt;
  const long want = 3L * C->sms;
  if (tiles < want && tiles <= C->n_counters) {
    S = (int)((want + tiles - 1) / tiles);
    S = std::min(S, std::max(1, K / 256));
    while (S > 1 && (size_t)S * M * N * sizeof(float) > C->ws_bytes) --S;
  }
  int kslab = (K + S - 1) / S;
  kslab = (kslab + kBatchK - 1) / kBatchK * kBatchK;
  S = (K + kslab - 1) / kslab;
  const dim3 grid(nt, S, mt);
  float* part = S > 1 ? (float*)sdc::workspace((size_t)S * M * N * sizeof(float)) : nullptr;
  const int cb = c_dtype == SDC_BF16;
  const bool vec = K % 8 == 0 && ((uintptr_t)A % 16) == 0 && ((uintptr_t)W % 16) == 0;
  if (MT == 32)
    return vec ? launch<32, true>(C, grid, A, W, Cout, cb, M, N, K, alpha, beta, kslab, part)
               : launch<32, false>(C, grid, A, W, Cout, cb, M, N, K, alpha, beta, kslab, part);
  return vec ? launch<64, true>(C, grid, A, W, Cout, cb, M, N, K, alpha, beta, kslab, part)
             : launch<64, false>(C, grid, A, W, Cout, cb, M, N, K, alpha, beta, kslab, part);
}
