// Memory-bound ops: add, scale, axpy, sumsq, bias, embedding, SwiGLU, AdamW, KV append.
// Grid-stride loops over flat indices; formulas exactly as the CPU kernels (src/cpu).
#include "common.cuh"

namespace {
using sdc::bf2f;
using sdc::f2bf;

#define GRID_STRIDE(i, n)                                                 \
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); \
       i += (size_t)gridDim.x * blockDim.x)

__global__ void add_kernel(const float* a, const float* b, float* out, int n) {
  GRID_STRIDE(i, (size_t)n) out[i] = a[i] + b[i];
}
__global__ void scale_kernel(float* x, float s, int n) { GRID_STRIDE(i, (size_t)n) x[i] *= s; }
__global__ void axpy_kernel(float a, const float* x, float* y, int n) {
  GRID_STRIDE(i, (size_t)n) y[i] += a * x[i];
}

// Pass 1: per-block double partial sums; pass 2: one block sums them in a fixed order,
// so the result is the same on every run.
__global__ void sumsq_partial(const float* x, int n, double* part) {
  __shared__ double sh[32];
  double s = 0;
  GRID_STRIDE(i, (size_t)n) s += (double)x[i] * (double)x[i];
  s = sdc::block_sum(s, sh);
  if (threadIdx.x == 0) part[blockIdx.x] = s;
}
__global__ void sumsq_final(const double* part, int nb, double* out) {
  __shared__ double sh[32];
  double s = 0;
  for (int i = threadIdx.x; i < nb; i += blockDim.x) s += part[i];
  s = sdc::block_sum(s, sh);
  if (threadIdx.x == 0) *out = s;
}

__global__ void add_bias_kernel(float* y, const float* b, int rows, int cols) {
  GRID_STRIDE(i, (size_t)rows * cols) y[i] += b[i % cols];
}
// Block (32, 8): 32 columns, 8 row lanes summed in a fixed order (deterministic).
__global__ void bias_grad_kernel(const float* dy, float* db, int rows, int cols) {
  __shared__ float sh[8][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  float s = 0.f;
  if (c < cols)
    for (int r = threadIdx.y; r < rows; r += 8) s += dy[(size_t)r * cols + c];
  sh[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float t = 0.f;
    for (int k = 0; k < 8; ++k) t += sh[k][threadIdx.x];
    db[c] += t;
  }
}

// One block per id row; a bad id is recorded and its row left unwritten.
template <typename T>
__global__ void embedding_fwd_kernel(const int32_t* ids, const T* table, float* out, int n,
                                     int vocab, int dim, sdc::DevError* err) {
  const int i = blockIdx.x;
  const int id = ids[i];
  if (id < 0 || id >= vocab) {
    if (threadIdx.x == 0) sdc::dev_fail(err, sdc::kErrEmbFwd, i, id, vocab);
    return;
  }
  const T* src = table + (size_t)id * dim;
  float* dst = out + (size_t)i * dim;
  for (int j = threadIdx.x; j < dim; j += blockDim.x) dst[j] = sdc::load_f<T>(src, j);
}
// Scatter-add with atomics: repeated ids accumulate in arrival order, so float rounding
// may differ from the CPU's fixed order by an ulp or so per repeat.
__global__ void embedding_bwd_kernel(const int32_t* ids, const float* dout, float* dtable, int n,
                                     int vocab, int dim, sdc::DevError* err) {
  const int i = blockIdx.x;
  const int id = ids[i];
  if (id < 0 || id >= vocab) {
    if (threadIdx.x == 0) sdc::dev_fail(err, sdc::kErrEmbBwd, i, id, vocab);
    return;
  }
  const float* src = dout + (size_t)i * dim;
  float* dst = dtable + (size_t)id * dim;
  for (int j = threadIdx.x; j < dim; j += blockDim.x) atomicAdd(dst + j, src[j]);
}

__device__ __forceinline__ float sigmoidf_(float g) { return 1.f / (1.f + expf(-g)); }
__global__ void swiglu_fwd_kernel(const float* gate, const float* up, float* out, int n) {
  GRID_STRIDE(i, (size_t)n) {
    const float g = gate[i];
    out[i] = g * sigmoidf_(g) * up[i];
  }
}
__global__ void swiglu_bwd_kernel(const float* gate, const float* up, const float* dout,
                                  float* dgate, float* dup, int n) {
  GRID_STRIDE(i, (size_t)n) {
    const float g = gate[i], u = up[i], d = dout[i];
    const float s = sigmoidf_(g);
    dgate[i] += d * u * (s + g * s * (1.f - s));
    dup[i] += d * g * s;
  }
}
template <typename T>
__global__ void swiglu_rows_kernel(const float* gu, T* out, int rows, int F) {
  GRID_STRIDE(i, (size_t)rows * F) {
    const size_t r = i / F, j = i % F;
    const float g = gu[r * 2 * F + j], u = gu[r * 2 * F + F + j];
    sdc::store_f<T>(out, i, g * sigmoidf_(g) * u);
  }
}

__global__ void adamw_kernel(float* param, const float* grad, float* m, float* v, int n, float lr,
                             float beta1, float beta2, float eps, float decay, float grad_scale,
                             float c1, float c2) {
  GRID_STRIDE(i, (size_t)n) {
    const float g = grad[i] * grad_scale;
    const float mi = beta1 * m[i] + (1.f - beta1) * g;
    const float vi = beta2 * v[i] + (1.f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float p = param[i];
    param[i] = p - decay * p - lr * (mi * c1) / (sqrtf(vi * c2) + eps);
  }
}

template <typename T>
__global__ void kv_append_kernel(T* cache, const float* src, int src_stride, int len, int T_,
                                 int row) {
  GRID_STRIDE(i, (size_t)T_ * row) {
    const size_t t = i / row, c = i % row;
    sdc::store_f<T>(cache, ((size_t)len + t) * row + c, src[t * src_stride + c]);
  }
}

unsigned grid(const sdc::Ctx* C, size_t n) { return sdc::blocks_for(n, 256, C->sms * 32u); }
}  // namespace

int sdc_add(const float* a, const float* b, float* out, int n) {
  const char* op = "add";
  SDC_POS(op, "n", n);
  SDC_PTR(op, "a", a);
  SDC_PTR(op, "b", b);
  SDC_PTR(op, "out", out);
  SDC_CTX();
  add_kernel<<<grid(C, n), 256, 0, C->stream>>>(a, b, out, n);
  return sdc::launch_check(op);
}

int sdc_scale(float* x, float s, int n) {
  const char* op = "scale";
  SDC_POS(op, "n", n);
  SDC_PTR(op, "x", x);
  SDC_FINITE(op, "s", s);
  SDC_CTX();
  scale_kernel<<<grid(C, n), 256, 0, C->stream>>>(x, s, n);
  return sdc::launch_check(op);
}

int sdc_axpy(float a, const float* x, float* y, int n) {
  const char* op = "axpy";
  SDC_POS(op, "n", n);
  SDC_FINITE(op, "a", a);
  SDC_PTR(op, "x", x);
  SDC_PTR(op, "y", y);
  SDC_CTX();
  axpy_kernel<<<grid(C, n), 256, 0, C->stream>>>(a, x, y, n);
  return sdc::launch_check(op);
}

int sdc_sumsq(const float* x, int n, double* out) {
  const char* op = "sumsq";
  SDC_POS(op, "n", n);
  SDC_PTR(op, "x", x);
  SDC_PTR(op, "out", out);
  SDC_CTX();
  const unsigned nb = sdc::blocks_for(n, 256, 1024);
  double* part = (double*)sdc::workspace(sizeof(double) * (nb + 1));
  sumsq_partial<<<nb, 256, 0, C->stream>>>(x, n, part);
  sumsq_final<<<1, 1024, 0, C->stream>>>(part, (int)nb, part + nb);
  if (int rc = sdc::launch_check(op)) return rc;
  return sdc_download(out, part + nb, sizeof(double));
}

int sdc_add_bias(float* y, const float* b, int rows, int cols) {
  const char* op = "add_bias";
  SDC_POS(op, "rows", rows);
  SDC_POS(op, "cols", cols);
  SDC_PTR(op, "y", y);
  SDC_PTR(op, "b", b);
  SDC_CTX();
  add_bias_kernel<<<grid(C, (size_t)rows * cols), 256, 0, C->stream>>>(y, b, rows, cols);
  return sdc::launch_check(op);
}

int sdc_bias_grad(const float* dy, float* db, int rows, int cols) {
  const char* op = "bias_grad";
  SDC_POS(op, "rows", rows);
  SDC_POS(op, "cols", cols);
  SDC_PTR(op, "dy", dy);
  SDC_PTR(op, "db", db);
  SDC_CTX();
  bias_grad_kernel<<<(cols + 31) / 32, dim3(32, 8), 0, C->stream>>>(dy, db, rows, cols);
  return sdc::launch_check(op);
}

int sdc_embedding_fwd_x(const int32_t* ids, const void* table, int table_dtype, float* out, int n,
                        int vocab, int dim) {
  const char* op = "embedding_fwd";
  SDC_POS(op, "n", n);
  SDC_POS(op, "vocab", vocab);
  SDC_POS(op, "dim", dim);
  SDC_PTR(op, "ids", ids);
  SDC_PTR(op, "table", table);
  SDC_PTR(op, "out", out);
  SDC_DTYPE(op, "table_dtype", table_dtype);
  SDC_CTX();
  const int th = dim >= 256 ? 256 : 64;
  if (table_dtype == SDC_F32)
    embedding_fwd_kernel<float>
        <<<n, th, 0, C->stream>>>(ids, (const float*)table, out, n, vocab, dim, C->err);
  else
    embedding_fwd_kernel<uint16_t>
        <<<n, th, 0, C->stream>>>(ids, (const uint16_t*)table, out, n, vocab, dim, C->err);
  return sdc::launch_check(op);
}

int sdc_embedding_fwd(const int32_t* ids, const float* table, float* out, int n, int vocab,
                      int dim) {
  return sdc_embedding_fwd_x(ids, table, SDC_F32, out, n, vocab, dim);
}

int sdc_embedding_bwd(const int32_t* ids, const float* dout, float* dtable, int n, int vocab,
                      int dim) {
  const char* op = "embedding_bwd";
  SDC_POS(op, "n", n);
  SDC_POS(op, "vocab", vocab);
  SDC_POS(op, "dim", dim);
  SDC_PTR(op, "ids", ids);
  SDC_PTR(op, "dout", dout);
  SDC_PTR(op, "dtable", dtable);
  SDC_CTX();
  embedding_bwd_kernel<<<n, dim >= 256 ? 256 : 64, 0, C->stream>>>(ids, dout, dtable, n, vocab, dim,
                                                                   C->err);
  return sdc::launch_check(op);
}

int sdc_swiglu_fwd(const float* gate, const float* up, float* out, int n) {
  const char* op = "swiglu_fwd";
  SDC_POS(op, "n", n);
  SDC_PTR(op, "gate", gate);
  SDC_PTR(op, "up", up);
  SDC_PTR(op, "out", out);
  SDC_CTX();
  swiglu_fwd_kernel<<<grid(C, n), 256, 0, C->stream>>>(gate, up, out, n);
  return sdc::launch_check(op);
}

int sdc_swiglu_bwd(const float* gate, const float* up, const float* dout, float* dgate, float* dup,
                   int n) {
  const char* op = "swiglu_bwd";
  SDC_POS(op, "n", n);
  SDC_PTR(op, "gate", gate);
  SDC_PTR(op, "up", up);
  SDC_PTR(op, "dout", dout);
  SDC_PTR(op, "dgate", dgate);
  SDC_PTR(op, "dup", dup);
  SDC_CTX();
  swiglu_bwd_kernel<<<grid(C, n), 256, 0, C->stream>>>(gate, up, dout, dgate, dup, n);
  return sdc::launch_check(op);
}

int sdc_swiglu_rows(const float* gu, void* out, int out_dtype, int rows, int F) {
  const char* op = "swiglu_rows";
  SDC_POS(op, "rows", rows);
  SDC_POS(op, "F", F);
  SDC_PTR(op, "gu", gu);
  SDC_PTR(op, "out", out);
  SDC_DTYPE(op, "out_dtype", out_dtype);
  SDC_CTX();
  const size_t n = (size_t)rows * F;
  if (out_dtype == SDC_F32)
    swiglu_rows_kernel<float><<<grid(C, n), 256, 0, C->stream>>>(gu, (float*)out, rows, F);
  else
    swiglu_rows_kernel<uint16_t><<<grid(C, n), 256, 0, C->stream>>>(gu, (uint16_t*)out, rows, F);
  return sdc::launch_check(op);
}

int sdc_adamw(float* param, const float* grad, float* m, float* v, int n, float lr, float beta1,
              float beta2, float eps, float weight_decay, float grad_scale, int step) {
  const char* op = "adamw";
  SDC_POS(op, "n", n);
  SDC_POS(op, "step", step);
  SDC_PTR(op, "param", param);
  SDC_PTR(op, "grad", grad);
  SDC_PTR(op, "m", m);
  SDC_PTR(op, "v", v);
  SDC_FINITE(op, "lr", lr);
  SDC_FINITE(op, "grad_scale", grad_scale);
  if (lr < 0.f) return sdc::fail(SD_EINVAL, "adamw: lr must be >= 0, got %g", (double)lr);
  if (!(beta1 >= 0.f && beta1 < 1.f))
    return sdc::fail(SD_EINVAL, "adamw: beta1 must be in [0, 1), got %g", (double)beta1);
  if (!(beta2 >= 0.f && beta2 < 1.f))
    return sdc::fail(SD_EINVAL, "adamw: beta2 must be in [0, 1), got %g", (double)beta2);
  if (!(eps > 0.f)) return sdc::fail(SD_EINVAL, "adamw: eps must be > 0, got %g", (double)eps);
  if (!(weight_decay >= 0.f) || !std::isfinite(weight_decay))
    return sdc::fail(SD_EINVAL, "adamw: weight_decay must be >= 0, got %g", (double)weight_decay);
  SDC_CTX();
  // Bias corrections in double, as the CPU kernel.
  const float c1 = (float)(1.0 / (1.0 - std::pow((double)beta1, step)));
  const float c2 = (float)(1.0 / (1.0 - std::pow((double)beta2, step)));
  adamw_kernel<<<grid(C, n), 256, 0, C->stream>>>(param, grad, m, v, n, lr, beta1, beta2, eps,
                                                  lr * weight_decay, grad_scale, c1, c2);
  return sdc::launch_check(op);
}

int sdc_kv_append_x(void* cache, int cache_dtype, const float* src, int src_stride, int len, int T,
                    int row, int max_len) {
  const char* op = "kv_append";
  SDC_POS(op, "T", T);
  SDC_POS(op, "row", row);
  SDC_POS(op, "max_len", max_len);
  SDC_NONNEG(op, "len", len);
  SDC_PTR(op, "cache", cache);
  SDC_PTR(op, "src", src);
  SDC_DTYPE(op, "cache_dtype", cache_dtype);
  if (src_stride < row)
    return sdc::fail(SD_EINVAL, "kv_append: src_stride %d must be >= row %d", src_stride, row);
  if ((long)len + T > max_len)
    return sdc::fail(SD_ERANGE,
                     "kv_append: appending T = %d rows at len = %d overflows max_len = %d", T, len,
                     max_len);
  SDC_CTX();
  const size_t n = (size_t)T * row;
  if (cache_dtype == SDC_F32) {
    // Contiguous float rows: one async copy. Unlike the CPU's memmove, src must not overlap
    // the destination rows (a view of the same rows would be a no-op there anyway).
    if (src_stride == row) {
      cudaError_t e = cudaMemcpyAsync((float*)cache + (size_t)len * row, src, n * sizeof(float),
                                      cudaMemcpyDeviceToDevice, C->stream);
      if (e != cudaSuccess) return sdc::fail(SD_EDEVICE, "kv_append: %s", cudaGetErrorString(e));
      return SD_OK;
    }
    kv_append_kernel<float>
        <<<grid(C, n), 256, 0, C->stream>>>((float*)cache, src, src_stride, len, T, row);
  } else {
    kv_append_kernel<uint16_t>
        <<<grid(C, n), 256, 0, C->stream>>>((uint16_t*)cache, src, src_stride, len, T, row);
  }
  return sdc::launch_check(op);
}

int sdc_kv_append(float* cache, const float* src, int len, int T, int row, int max_len) {
  return sdc_kv_append_x(cache, SDC_F32, src, row, len, T, row, max_len);
}
