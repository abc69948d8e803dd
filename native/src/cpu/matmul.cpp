// Matmul: C = alpha * op(A) op(B) + beta * C.
// Foundation version: row-parallel, i-k-j loop order so the inner loop streams rows of
// op(B) and auto-vectorises. The compute-core issue replaces the body with a packed,
// register-blocked kernel; the validation and contract stay.
#include <cstring>
#include <vector>

#include "common.h"

extern "C" int sd_matmul(const float* A, const float* B, float* C, int M, int N, int K, int transA,
                         int transB, float alpha, float beta) {
  const char* op = "matmul";
  SD_CHECK_POS(op, "M", M);
  SD_CHECK_POS(op, "N", N);
  SD_CHECK_POS(op, "K", K);
  SD_CHECK_PTR(op, "A", A);
  SD_CHECK_PTR(op, "B", B);
  SD_CHECK_PTR(op, "C", C);
  SD_CHECK_FINITE(op, "alpha", alpha);
  SD_CHECK_FINITE(op, "beta", beta);
  if ((transA != 0 && transA != 1) || (transB != 0 && transB != 1))
    return sd::fail(SD_EINVAL, "matmul: transA/transB must be 0 or 1, got %d/%d", transA, transB);

  // op(B) as a contiguous [K, N] panel, so every row of C is a sum of its rows.
  std::vector<float> bt;
  const float* Bk = B;
  if (transB) {
    bt.resize((size_t)K * N);
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) bt[(size_t)k * N + n] = B[(size_t)n * K + k];
    Bk = bt.data();
  }
  SD_PARALLEL_FOR
  for (int i = 0; i < M; ++i) {
    std::vector<float> acc((size_t)N, 0.f);
    float* a = acc.data();
    for (int k = 0; k < K; ++k) {
      const float aik = transA ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
      const float* b = Bk + (size_t)k * N;
      for (int n = 0; n < N; ++n) a[n] += aik * b[n];
    }
    float* c = C + (size_t)i * N;
    if (beta == 0.f)
      for (int n = 0; n < N; ++n) c[n] = alpha * a[n];
    else
      for (int n = 0; n < N; ++n) c[n] = alpha * a[n] + beta * c[n];
  }
  return SD_OK;
}
