// Token embedding: gather rows (forward) and scatter-add them back (backward).
#include <cstring>

#include "common.h"

namespace {
int check_ids(const char* op, const int32_t* ids, int n, int vocab) {
  for (int i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return sd::fail(SD_ERANGE, "%s: ids[%d] = %d is outside [0, vocab = %d)", op, i, ids[i],
                      vocab);
  return SD_OK;
}
}  // namespace

extern "C" int sd_embedding_fwd(const int32_t* ids, const float* table, float* out, int n,
                                int vocab, int dim) {
  const char* op = "embedding_fwd";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_POS(op, "vocab", vocab);
  SD_CHECK_POS(op, "dim", dim);
  SD_CHECK_PTR(op, "ids", ids);
  SD_CHECK_PTR(op, "table", table);
  SD_CHECK_PTR(op, "out", out);
  if (int rc = check_ids(op, ids, n, vocab)) return rc;
  SD_PARALLEL_FOR_IF((long)n * dim > sd::kParallelMin)
  for (int i = 0; i < n; ++i)
    std::memcpy(out + (size_t)i * dim, table + (size_t)ids[i] * dim, sizeof(float) * dim);
  return SD_OK;
}

// Repeated ids accumulate into the same row, so rows cannot be split across threads.
// Instead each thread owns a chunk of columns and walks every id: no two threads ever
// write the same float, and the accumulation order is fixed (deterministic).
extern "C" int sd_embedding_bwd(const int32_t* ids, const float* dout, float* dtable, int n,
                                int vocab, int dim) {
  const char* op = "embedding_bwd";
  SD_CHECK_POS(op, "n", n);
  SD_CHECK_POS(op, "vocab", vocab);
  SD_CHECK_POS(op, "dim", dim);
  SD_CHECK_PTR(op, "ids", ids);
  SD_CHECK_PTR(op, "dout", dout);
  SD_CHECK_PTR(op, "dtable", dtable);
  if (int rc = check_ids(op, ids, n, vocab)) return rc;
  const int threads = sd::max_threads();
  // Column chunks: a multiple of 16 floats (whole cache lines), about one per thread.
  int chunk = (dim + threads - 1) / threads;
  chunk = (chunk + 15) / 16 * 16;
  const int chunks = (dim + chunk - 1) / chunk;
  SD_PARALLEL_FOR_IF((long)n * dim > sd::kParallelMin && chunks > 1)
  for (int c = 0; c < chunks; ++c) {
    const int c0 = c * chunk;
    const int w = dim - c0 < chunk ? dim - c0 : chunk;
    for (int i = 0; i < n; ++i) {
      const float* src = dout + (size_t)i * dim + c0;
      float* dst = dtable + (size_t)ids[i] * dim + c0;
      for (int j = 0; j < w; ++j) dst[j] += src[j];
    }
  }
  return SD_OK;
}
