// RMSNorm forward/backward and RoPE; formulas as src/cpu/rmsnorm.cpp and rope.cpp.
#include "common.cuh"

namespace {

// One block per row. y may alias x: every element is read by the thread that writes it,
// and only after the block-wide sum of squares is complete.
template <typename T>
__global__ void rmsnorm_fwd_kernel(const float* x, const float* w, T* y, float* rstd, int dim,
                                   float eps) {
  __shared__ float sh[32];
  const size_t r = blockIdx.x;
  const float* xr = x + r * dim;
  float ss = 0.f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
  ss = sdc::block_sum(ss, sh);
  const float s = 1.f / sqrtf(ss / (float)dim + eps);
  if (rstd && threadIdx.x == 0) rstd[r] = s;
  for (int i = threadIdx.x; i < dim; i += blockDim.x)
    sdc::store_f<T>(y, r * dim + i, xr[i] * s * w[i]);
}

// dx += s*dy*w - (s^3/dim) * x * sum(dy*w*x), one block per row.
__global__ void rmsnorm_bwd_dx_kernel(const float* x, const float* w, const float* rstd,
                                      const float* dy, float* dx, int dim) {
  __shared__ float sh[32];
  const size_t r = blockIdx.x;
  const float *xr = x + r * dim, *dyr = dy + r * dim;
  float* dxr = dx + r * dim;
  float gx = 0.f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) gx += dyr[i] * w[i] * xr[i];
  gx = sdc::block_sum(gx, sh);
  const float s = rstd[r];
  const float c = s * s * s * gx / (float)dim;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) dxr[i] += s * dyr[i] * w[i] - c * xr[i];
}

// dw[c] += sum_r dy[r,c] * x[r,c] * rstd[r]; block (32, 8), fixed summation order.
__global__ void rmsnorm_bwd_dw_kernel(const float* x, const float* rstd, const float* dy, float* dw,
                                      int rows, int dim) {
  __shared__ float sh[8][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  float s = 0.f;
  if (c < dim)
    for (int r = threadIdx.y; r < rows; r += 8) {
      const size_t o = (size_t)r * dim + c;
      s += dy[o] * x[o] * rstd[r];
    }
  sh[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < dim) {
    float t = 0.f;
    for (int k = 0; k < 8; ++k) t += sh[k][threadIdx.x];
    dw[c] += t;
  }
}

// One thread per (token, rotation pair); the angle is formed in double (positions times
// frequencies reach 1e4+ radians) and rounded once, then applied to every head.
__global__ void rope_kernel(float* x, int row_stride, const int32_t* pos, int n, int heads,
                            int head_dim, int half, double theta, int interleaved, double sign,
                            sdc::DevError* err) {
  const size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (idx >= (size_t)n * half) return;
  const int t = (int)(idx / half), i = (int)(idx % half);
  const int p = pos[t];
  if (p < 0) {
    if (i == 0) sdc::dev_fail(err, sdc::kErrRope, t, p, 0);
    return;
  }
  const double freq = pow(theta, -2.0 * i / (2.0 * half));  // as the CPU kernel
  double sd, cd;
  sincos((double)p * freq, &sd, &cd);
  const float c = (float)cd, s = (float)(sign * sd);
  float* xt = x + (size_t)t * row_stride;
  for (int h = 0; h < heads; ++h) {
    float* xh = xt + (size_t)h * head_dim;
    const int ia = interleaved ? 2 * i : i, ib = interleaved ? 2 * i + 1 : i + half;
    const float a = xh[ia], b = xh[ib];
    xh[ia] = a * c - b * s;
    xh[ib] = a * s + b * c;
  }
}

int rmsnorm_threads(int dim) { return dim >= 2048 ? 512 : dim >= 512 ? 256 : 128; }
}  // namespace

int sdc_rmsnorm_fwd_x(const float* x, const float* w, void* y, int y_dtype, float* rstd, int rows,
                      int dim, float eps) {
  const char* op = "rmsnorm_fwd";
  SDC_POS(op, "rows", rows);
  SDC_POS(op, "dim", dim);
  SDC_PTR(op, "x", x);
  SDC_PTR(op, "w", w);
  SDC_PTR(op, "y", y);
  SDC_FINITE(op, "eps", eps);
  SDC_DTYPE(op, "y_dtype", y_dtype);
  if (eps < 0.f) return sdc::fail(SD_EINVAL, "rmsnorm_fwd: eps must be >= 0, got %g", (double)eps);
  SDC_CTX();
  const int th = rmsnorm_threads(dim);
  if (y_dtype == SDC_F32)
    rmsnorm_fwd_kernel<float><<<rows, th, 0, C->stream>>>(x, w, (float*)y, rstd, dim, eps);
  else
    rmsnorm_fwd_kernel<uint16_t><<<rows, th, 0, C->stream>>>(x, w, (uint16_t*)y, rstd, dim, eps);
  return sdc::launch_check(op);
}

int sdc_rmsnorm_fwd(const float* x, const float* w, float* y, float* rstd, int rows, int dim,
                    float eps) {
  return sdc_rmsnorm_fwd_x(x, w, y, SDC_F32, rstd, rows, dim, eps);
}

int sdc_rmsnorm_bwd(const float* x, const float* w, const float* rstd, const float* dy, float* dx,
                    float* dw, int rows, int dim) {
  const char* op = "rmsnorm_bwd";
  SDC_POS(op, "rows", rows);
  SDC_POS(op, "dim", dim);
  SDC_PTR(op, "x", x);
  SDC_PTR(op, "w", w);
  SDC_PTR(op, "rstd", rstd);
  SDC_PTR(op, "dy", dy);
  SDC_PTR(op, "dx", dx);
  SDC_CTX();
  rmsnorm_bwd_dx_kernel<<<rows, rmsnorm_threads(dim), 0, C->stream>>>(x, w, rstd, dy, dx, dim);
  if (dw)
    rmsnorm_bwd_dw_kernel<<<(dim + 31) / 32, dim3(32, 8), 0, C->stream>>>(x, rstd, dy, dw, rows,
                                                                          dim);
  return sdc::launch_check(op);
}

int sdc_rope_strided(float* x, int row_stride, const int32_t* pos, int n, int heads, int head_dim,
                     int rot_dim, float theta, int interleaved, int inverse) {
  const char* op = "rope";
  SDC_POS(op, "n", n);
  SDC_POS(op, "heads", heads);
  SDC_POS(op, "head_dim", head_dim);
  SDC_POS(op, "rot_dim", rot_dim);
  SDC_PTR(op, "x", x);
  SDC_PTR(op, "pos", pos);
  SDC_FINITE(op, "theta", theta);
  if (rot_dim % 2 != 0 || rot_dim > head_dim)
    return sdc::fail(SD_EINVAL, "rope: rot_dim must be even and <= head_dim = %d, got %d", head_dim,
                     rot_dim);
  if (!(theta > 0.f)) return sdc::fail(SD_EINVAL, "rope: theta must be > 0, got %g", (double)theta);
  if ((interleaved != 0 && interleaved != 1) || (inverse != 0 && inverse != 1))
    return sdc::fail(SD_EINVAL, "rope: interleaved/inverse must be 0 or 1, got %d/%d", interleaved,
                     inverse);
  if (row_stride < heads * head_dim)
    return sdc::fail(SD_EINVAL, "rope: row_stride %d must be >= heads * head_dim = %d", row_stride,
                     heads * head_dim);
  SDC_CTX();
  const int half = rot_dim / 2;
  const size_t work = (size_t)n * half;
  rope_kernel<<<sdc::blocks_for(work, 128), 128, 0, C->stream>>>(
      x, row_stride, pos, n, heads, head_dim, half, (double)theta, interleaved,
      inverse ? -1.0 : 1.0, C->err);
  return sdc::launch_check(op);
}

int sdc_rope(float* x, const int32_t* pos, int n, int heads, int head_dim, int rot_dim, float theta,
             int interleaved, int inverse) {
  return sdc_rope_strided(x, heads * head_dim, pos, n, heads, head_dim, rot_dim, theta, interleaved,
                          inverse);
}
