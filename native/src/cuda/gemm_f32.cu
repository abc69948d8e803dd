// float32 SIMT GEMM for training calls: C = alpha * op(A) op(B) + beta * C with all four
// transpose combinations. 64x64 output tile per 256-thread block, k-tiles of 16 staged
// in shared memory, 4x4 outputs per thread accumulated in k order (same rounding pattern
// as a plain dot product, so parity with the CPU kernel is ~1e-6 relative).
#include "common.cuh"

namespace {
constexpr int kBM = 64, kBN = 64, kBK = 16;

template <bool TA, bool TB>
__global__ void __launch_bounds__(256)
    sgemm_kernel(const float* __restrict__ A, const float* __restrict__ B, float* C, int M, int N,
                 int K, float alpha, float beta) {
  __shared__ float As[kBK][kBM + 4];  // As[k][m] = op(A)[m0+m][k0+k]
  __shared__ float Bs[kBK][kBN + 4];  // Bs[k][n] = op(B)[k0+k][n0+n]
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.f;

  for (int k0 = 0; k0 < K; k0 += kBK) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int idx = tid + 256 * r;
      // op(A) tile: contiguous along k when A is [M,K], along m when A is [K,M].
      const int am = TA ? idx % kBM : idx / kBK, ak = TA ? idx / kBM : idx % kBK;
      const int gm = m0 + am, gk = k0 + ak;
      float a = 0.f;
      if (gm < M && gk < K) a = TA ? A[(size_t)gk * M + gm] : A[(size_t)gm * K + gk];
      As[ak][am] = a;
      // op(B) tile: contiguous along n when B is [K,N], along k when B is [N,K].
      const int bn = TB ? idx / kBK : idx % kBN, bk = TB ? idx % kBK : idx / kBN;
      const int gn = n0 + bn, gk2 = k0 + bk;
      float b = 0.f;
      if (gn < N && gk2 < K) b = TB ? B[(size_t)gn * K + gk2] : B[(size_t)gk2 * N + gn];
      Bs[bk][bn] = b;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[k][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = Bs[k][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + ty + 16 * i;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int n = n0 + tx + 16 * j;
      if (n >= N) continue;
      float* c = C + (size_t)m * N + n;
      // beta = 0 overwrites: C may hold garbage (even NaN) then.
      *c = beta == 0.f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
    }
  }
}
}  // namespace

int sdc_matmul(const float* A, const float* B, float* C_, int M, int N, int K, int transA,
               int transB, float alpha, float beta) {
  const char* op = "matmul";
  SDC_POS(op, "M", M);
  SDC_POS(op, "N", N);
  SDC_POS(op, "K", K);
  SDC_PTR(op, "A", A);
  SDC_PTR(op, "B", B);
  SDC_PTR(op, "C", C_);
  SDC_FINITE(op, "alpha", alpha);
  SDC_FINITE(op, "beta", beta);
  if ((transA != 0 && transA != 1) || (transB != 0 && transB != 1))
    return sdc::fail(SD_EINVAL, "matmul: transA/transB must be 0 or 1, got %d/%d", transA, transB);
  if ((M + kBM - 1) / kBM > 65535)
    return sdc::fail(SD_EINVAL, "matmul: M = %d is too large for one launch (max %d)", M,
                     65535 * kBM);
  SDC_CTX();
  const dim3 g((N + kBN - 1) / kBN, (M + kBM - 1) / kBM);
  if (!transA && !transB)
    sgemm_kernel<false, false><<<g, 256, 0, C->stream>>>(A, B, C_, M, N, K, alpha, beta);
  else if (!transA && transB)
    sgemm_kernel<false, true><<<g, 256, 0, C->stream>>>(A, B, C_, M, N, K, alpha, beta);
  else if (transA && !transB)
    sgemm_kernel<true, false><<<g, 256, 0, C->stream>>>(A, B, C_, M, N, K, alpha, beta);
  else
    sgemm_kernel<true, true><<<g, 256, 0, C->stream>>>(A, B, C_, M, N, K, alpha, beta);
  return sdc::launch_check(op);
}
