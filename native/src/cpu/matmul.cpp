// Matmul: C = alpha * op(A) op(B) + beta * C, as a packed, cache-blocked GEMM (GotoBLAS/BLIS):
//
//   for each NC-wide column block of C            (packed op(B) block: L3)
//     for each KC-deep slice of K                  (kc×nc of op(B) packed once)
//       for each MC-tall row block                 (mc×kc of op(A) packed: L2)
//         for each NR-wide micro-panel of op(B)    (kc×NR: L1)
//           for each MR-tall micro-panel of op(A)  → one MR×NR micro-kernel call
//
// Threads split C into column ranges (or row ranges when M > N) of whole micro-tiles; each runs
// the loop nest above on its range with its own packing buffers, so there is no barrier and a
// skinny call (32 query rows of a decoding step) still keeps every core busy.
//
// Reproducibility: the K slices depend on K alone, and every element of C is computed by the
// same sequence of operations whatever tile, row block or thread it falls in. A row's result
// is therefore independent of M (how many rows are in the call), of N and of the thread count:
// the sampler's cached and uncached forwards give bit-identical numbers.
#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "common.h"
#include "matmul_bf16.h"
#include "matmul_kernel.h"
#include "matmul_pack.h"

namespace {

using sd::mm::MR;
using sd::mm::NR;

// Block sizes (Zen3: 32 KiB L1d, 512 KiB L2 per core, shared L3), chosen by measurement:
// KC·MR of op(A) (12 KiB) and KC·NR of op(B) (32 KiB) feed the kernel from L1/L2, MC·KC of
// op(A) (288 KiB) stays in L2, KC·NC of op(B) (6 MiB) in L3. A deep KC (512 rather than 256:
// ~6% faster here) halves the read-modify-write passes over C for the model's K = 512 shapes.
// Override with -DSD_MM_KC=… -DSD_MM_MC=… -DSD_MM_NC=… to re-tune.
// AVX-512 (12×32 tiles; Sapphire Rapids: 48 KiB L1d, 2 MiB L2): see BENCHMARKS.md.
#ifndef SD_MM_KC
#if SD_MM_AVX512
#define SD_MM_KC 384
#define SD_MM_MC 144
#define SD_MM_NC 512
#else
#define SD_MM_KC 512
#define SD_MM_MC 144
#define SD_MM_NC 3072
#endif
#endif
constexpr int KC = SD_MM_KC;
constexpr int MC = SD_MM_MC / MR * MR;
constexpr int NC = SD_MM_NC;
static_assert(NC % NR == 0, "NC must be a multiple of NR");

#if defined(_OPENMP)
// Below this many multiply-adds a call runs on one thread (fork/join would cost more).
constexpr double kParallelMinMacs = 64.0 * 64 * 64;
#endif

// A per-thread, 64-byte aligned scratch buffer that only grows (at most MC·KC and KC·NC floats:
// 0.3 + 6 MiB per thread). In the WASM build the first large call grows the module's memory,
// after which host views of tensors must be re-read (as after any allocation).
struct Scratch {
  void* raw = nullptr;
  float* p = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(raw); }
  float* get(size_t n) {
    if (n <= cap) return p;
    std::free(raw);
    raw = std::malloc(n * sizeof(float) + 64);
    if (!raw) {
      p = nullptr;
      cap = 0;
      return nullptr;
    }
    p = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(raw) + 63) & ~uintptr_t(63));
    cap = n;
    return p;
  }
};
#if defined(__wasm__)
Scratch g_apack, g_bpack;  // single-threaded (and wasi-libc has no thread-exit destructors)
#else
thread_local Scratch g_apack, g_bpack;
#endif

struct Gemm {
  const float* A;
  const void* B;  // float, or 16-bit (sd::mm::F16 / BF16) for sd_matmul_w16
  float* C;
  int M, N, K;
  bool ta, tb;
  float alpha, beta;
  int kcb;  // K slice depth: K split into equal slices of at most KC (depends on K only)
  bool round_a = false;  // SD_DTYPE_BF16_DOT without AVX512-BF16: A rounded to bf16 when packed
};

size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

// C[i0:i1, j0:j1] on the calling thread, B of element type T. Returns false if a buffer could
// not be allocated.
template <typename T>
bool gemm_range(const Gemm& g, int i0, int i1, int j0, int j1) {
  const T* B = static_cast<const T*>(g.B);
  // A single row block (a decoding step's 32 rows, a thin slice of a big call) uses each packed
  // op(B) panel exactly once: pack it just before use, so it goes to the kernel from L1 instead
  // of through a large buffer. Same arithmetic either way.
  const bool fused = i1 - i0 <= MC;
  const int mcap = i1 - i0 < MC ? i1 - i0 : MC;
  const int ncap = fused ? NR : j1 - j0 < NC ? j1 - j0 : NC;
  float* ap = g_apack.get(round_up(mcap, MR) * g.kcb);
  float* bp = g_bpack.get(round_up(ncap, NR) * g.kcb);
  if (!ap || !bp) return false;
  for (int jc = j0; jc < j1; jc += NC) {
    const int nc = j1 - jc < NC ? j1 - jc : NC;
    for (int pc = 0; pc < g.K; pc += g.kcb) {
      const int kc = g.K - pc < g.kcb ? g.K - pc : g.kcb;
      // The first K slice applies beta (and never reads C when beta = 0); later ones add.
      const bool first = pc == 0;
      const bool zero_beta = first && g.beta == 0.f;
      const float beta = first ? g.beta : 1.f;
      if (!fused) sd::mm::pack_b(bp, B, g.N, g.K, g.tb, jc, nc, pc, kc);
      for (int ic = i0; ic < i1; ic += MC) {
        const int mc = i1 - ic < MC ? i1 - ic : MC;
        sd::mm::pack_a(ap, g.A, g.M, g.K, g.ta, ic, mc, pc, kc);
        if (g.round_a)
          for (size_t e = 0, n = round_up(mc, MR) * kc; e < n; ++e)
            ap[e] = sd::mm::bf16_rounded(ap[e]);
#if SD_MM_AVX512
        // The 12-row A micro-panel (kc×12: 18 KiB) stays in L1 while the 32-wide B panels of the
        // L2-resident block stream past it (a kc×32 B panel, 48 KiB, would not fit L1 beside it).
        if (!fused) {
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = mc - ir < MR ? mc - ir : MR;
            for (int jr = 0; jr < nc; jr += NR) {
              const int nr = nc - jr < NR ? nc - jr : NR;
              float* c = g.C + (size_t)(ic + ir) * g.N + jc + jr;
              sd::mm::tile(kc, ap + (size_t)ir * kc, bp + (size_t)jr * kc, c, g.N, mr, nr, g.alpha,
                           beta, zero_beta);
            }
          }
          continue;
        }
#endif
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = nc - jr < NR ? nc - jr : NR;
          const float* b = bp + (size_t)jr * kc;
          if (fused) {
            sd::mm::pack_b(bp, B, g.N, g.K, g.tb, jc + jr, nr, pc, kc);
            b = bp;
          }
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = mc - ir < MR ? mc - ir : MR;
            float* c = g.C + (size_t)(ic + ir) * g.N + jc + jr;
            sd::mm::tile(kc, ap + (size_t)ir * kc, b, c, g.N, mr, nr, g.alpha, beta, zero_beta);
          }
        }
      }
    }
  }
  return true;
}

#if SD_MM_AVX512
// gemm_range for SD_DTYPE_BF16_DOT on AVX512-BF16: the same loop nest over bf16 pairs (K and
// every K slice even), packed into uint32 panels of half the float32 size.
SD_BF16_TARGET bool gemm_range_bf16dot(const Gemm& g, int i0, int i1, int j0, int j1) {
  const uint16_t* B = static_cast<const uint16_t*>(g.B);
  const bool fused = i1 - i0 <= MC;
  const int mcap = i1 - i0 < MC ? i1 - i0 : MC;
  const int ncap = fused ? NR : j1 - j0 < NC ? j1 - j0 : NC;
  uint32_t* ap = reinterpret_cast<uint32_t*>(g_apack.get(round_up(mcap, MR) * g.kcb / 2));
  uint32_t* bp = reinterpret_cast<uint32_t*>(g_bpack.get(round_up(ncap, NR) * g.kcb / 2));
  if (!ap || !bp) return false;
  for (int jc = j0; jc < j1; jc += NC) {
    const int nc = j1 - jc < NC ? j1 - jc : NC;
    for (int pc = 0; pc < g.K; pc += g.kcb) {
      const int kc = g.K - pc < g.kcb ? g.K - pc : g.kcb, kp = kc / 2;
      const bool first = pc == 0;
      const bool zero_beta = first && g.beta == 0.f;
      const float beta = first ? g.beta : 1.f;
      if (!fused) sd::mm::pack_b_bf16(bp, B, g.N, g.K, g.tb, jc, nc, pc, kc);
      for (int ic = i0; ic < i1; ic += MC) {
        const int mc = i1 - ic < MC ? i1 - ic : MC;
        sd::mm::pack_a_bf16(ap, g.A, g.M, g.K, g.ta, ic, mc, pc, kc);
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = nc - jr < NR ? nc - jr : NR;
          const uint32_t* b = bp + (size_t)jr * kp;
          if (fused) {
            sd::mm::pack_b_bf16(bp, B, g.N, g.K, g.tb, jc + jr, nr, pc, kc);
            b = bp;
          }
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = mc - ir < MR ? mc - ir : MR;
            float* c = g.C + (size_t)(ic + ir) * g.N + jc + jr;
            sd::mm::tile_bf16(kp, ap + (size_t)ir * kp, b, c, g.N, mr, nr, g.alpha, beta,
                              zero_beta);
          }
        }
      }
    }
  }
  return true;
}
struct BF16Dot {};  // run_gemm's tag for gemm_range_bf16dot
#endif

template <typename T>
bool range(const Gemm& g, int i0, int i1, int j0, int j1) {
#if SD_MM_AVX512
  if constexpr (std::is_same<T, BF16Dot>::value)
    return gemm_range_bf16dot(g, i0, i1, j0, j1);
  else
#endif
    return gemm_range<T>(g, i0, i1, j0, j1);
}

// Splits C over threads and runs gemm_range<T> on each part.
template <typename T>
int run_gemm(const Gemm& g, const char* op) {
  const int M = g.M, N = g.N;
  // Split the larger of M and N in whole micro-tiles: each thread then re-packs only the
  // smaller operand.
  const bool split_n = N >= M;
  const int unit = split_n ? NR : MR;
  const int units = ((split_n ? N : M) + unit - 1) / unit;
  int nt = 1;
#if defined(_OPENMP)
  if ((double)M * N * g.K >= kParallelMinMacs) nt = omp_get_max_threads();
#endif
  if (nt > units) nt = units;

  bool ok = true;
  if (nt <= 1) {
    ok = range<T>(g, 0, M, 0, N);
  } else {
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) reduction(&& : ok)
    {
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      const int u0 = (int)((long long)units * t / n), u1 = (int)((long long)units * (t + 1) / n);
      const int lim = split_n ? N : M;
      const int a = u0 * unit, b = u1 * unit < lim ? u1 * unit : lim;
      if (a < b) ok = split_n ? range<T>(g, 0, M, a, b) : range<T>(g, a, b, 0, N);
    }
#endif
  }
  if (!ok) return sd::fail(SD_ENOMEM, "%s: out of memory for the packing buffers", op);
  return SD_OK;
}

// Argument checks shared by sd_matmul and sd_matmul_w16.
int check_args(const char* op, const float* A, const void* B, const float* C, int M, int N, int K,
               int transA, int transB, float alpha, float beta) {
  SD_CHECK_POS(op, "M", M);
  SD_CHECK_POS(op, "N", N);
  SD_CHECK_POS(op, "K", K);
  SD_CHECK_PTR(op, "A", A);
  SD_CHECK_PTR(op, "B", B);
  SD_CHECK_PTR(op, "C", C);
  SD_CHECK_FINITE(op, "alpha", alpha);
  SD_CHECK_FINITE(op, "beta", beta);
  if ((transA != 0 && transA != 1) || (transB != 0 && transB != 1))
    return sd::fail(SD_EINVAL, "%s: transA/transB must be 0 or 1, got %d/%d", op, transA, transB);
  return SD_OK;
}

Gemm make_gemm(const float* A, const void* B, float* C, int M, int N, int K, int transA, int transB,
               float alpha, float beta) {
  const int slices = (K + KC - 1) / KC;
  return Gemm{A, B, C, M, N, K, transA != 0, transB != 0, alpha, beta, (K + slices - 1) / slices};
}

}  // namespace

extern "C" int sd_matmul(const float* A, const float* B, float* C, int M, int N, int K, int transA,
                         int transB, float alpha, float beta) {
  const int rc = check_args("matmul", A, B, C, M, N, K, transA, transB, alpha, beta);
  if (rc != SD_OK) return rc;
  return run_gemm<float>(make_gemm(A, B, C, M, N, K, transA, transB, alpha, beta), "matmul");
}

extern "C" int sd_matmul_w16(const float* A, const uint16_t* B, float* C, int M, int N, int K,
                             int transA, int transB, float alpha, float beta, int b_dtype) {
  const char* op = "matmul_w16";
  const int rc = check_args(op, A, B, C, M, N, K, transA, transB, alpha, beta);
  if (rc != SD_OK) return rc;
  const Gemm g = make_gemm(A, B, C, M, N, K, transA, transB, alpha, beta);
  if (b_dtype == SD_DTYPE_F16) return run_gemm<sd::mm::F16>(g, op);
  if (b_dtype == SD_DTYPE_BF16) return run_gemm<sd::mm::BF16>(g, op);
  if (b_dtype == SD_DTYPE_BF16_DOT) {
#if SD_MM_AVX512
    if (K % 2 == 0 && sd::mm::has_avx512bf16()) {
      Gemm e = g;
      e.kcb += e.kcb & 1;  // whole bf16 pairs in every K slice (still a function of K alone)
      return run_gemm<BF16Dot>(e, op);
    }
#endif
    Gemm e = g;
    e.round_a = true;
    return run_gemm<sd::mm::BF16>(e, op);
  }
  return sd::fail(SD_EINVAL,
                  "%s: b_dtype must be SD_DTYPE_F16 (1), SD_DTYPE_BF16 (2) or SD_DTYPE_BF16_DOT "
                  "(3), got %d",
                  op, b_dtype);
}
