// Softmax cross-entropy and the decode-side row statistics (argmax / sampling, prob,
// entropy, margin with temperature, top-k and top-p), one block per row, so only N values
// per output ever leave the GPU. Rules exactly as src/cpu/xent.cpp and decode.cpp:
//  - top-k keeps z >= the k-th largest z (ties at the cut kept), found by a 4-pass radix
//    select over order-preserving integer keys;
//  - top-p keeps the shortest prefix of the probability-sorted tokens (ties by lower index)
//    whose mass reaches top_p: a radix select over the probabilities with per-bin masses
//    finds the crossing value, and ties at it are admitted in index order;
//  - sampling walks the kept tokens in index order (contiguous chunks per thread plus a
//    block scan) and takes the first whose cumulative mass exceeds u * total.
#include "common.cuh"

namespace {
constexpr int kThreads = 1024;

// ---------------------------------------------------------------- xent
__global__ void __launch_bounds__(kThreads)
    xent_kernel(const float* logits, const int32_t* targets, const float* weights, float* loss,
                float* dlogits, int V, int mask_id, float grad_scale, sdc::DevError* err) {
  __shared__ float shf[32];
  const size_t r = blockIdx.x;
  const float* x = logits + r * V;
  const int t = targets[r];
  if (t < 0 || t >= V || t == mask_id) {
    if (threadIdx.x == 0)
      sdc::dev_fail(err, t == mask_id ? sdc::kErrXentMask : sdc::kErrXent, (int)r, t, V);
    return;
  }
  const float xt = x[t];  // read before any write (dlogits may alias logits)
  float m = -INFINITY;
  for (int j = threadIdx.x; j < V; j += kThreads)
    if (j != mask_id) m = fmaxf(m, x[j]);
  m = sdc::block_max(m, shf);
  float s = 0.f;
  for (int j = threadIdx.x; j < V; j += kThreads)
    if (j != mask_id) s += expf(x[j] - m);
  s = sdc::block_sum(s, shf);  // ends with every read of x done (barrier inside)
  const float lse = m + logf(s);
  if (threadIdx.x == 0) loss[r] = lse - xt;
  if (!dlogits) return;
  __syncthreads();
  float* d = dlogits + r * V;
  const float g = weights[r] * grad_scale;
  for (int j = threadIdx.x; j < V; j += kThreads) {
    float v = 0.f;
    if (g != 0.f && j != mask_id) {
      v = g * expf(x[j] - lse);
      if (j == t) v -= g;
    }
    d[j] = v;
  }
}

// ---------------------------------------------------------------- decode rows
__device__ __forceinline__ uint32_t order_key(float f) {  // monotonic float -> uint
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float key_float(uint32_t k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

struct RowParams {
  int V, mask_id, ban_id, top_k;
  float invT, top_p;
};

struct Row {
  const float* x;
  RowParams p;
  __device__ float z(int j) const {
    if (j == p.mask_id || j == p.ban_id) return -INFINITY;
    return x[j] * p.invT;
  }
};

// Inclusive block scan of doubles (kThreads values); returns the exclusive prefix.
__device__ double block_exclusive_scan(double v, double* sh) {
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  double incl = v;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const double n = __shfl_up_sync(0xffffffffu, incl, o);
    if (lane >= o) incl += n;
  }
  __syncthreads();
  if (lane == 31) sh[w] = incl;
  __syncthreads();
  if (w == 0) {
    double s = sh[lane];
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const double n = __shfl_up_sync(0xffffffffu, s, o);
      if (lane >= o) s += n;
    }
    sh[lane] = s;  // inclusive sums of warp totals
  }
  __syncthreads();
  const double before_warp = w > 0 ? sh[w - 1] : 0.0;
  return before_warp + incl - v;
}

__global__ void __launch_bounds__(kThreads)
    decode_rows_kernel(const float* logits, RowParams P, const float* uniforms, int32_t* tok_out,
                       float* prob_out, float* ent_out, float* margin_out, sdc::DevError* err) {
  __shared__ float shf[32];
  __shared__ double shd[32];
  __shared__ unsigned long long shu;
  __shared__ unsigned hist[256];
  __shared__ double hmass[256];
  __shared__ uint32_t s_sel, s_rem;
  __shared__ double s_above;
  __shared__ int s_tok, s_last, s_tie_last;
  const int r = blockIdx.x, V = P.V, tid = threadIdx.x;
  const Row row{logits + (size_t)r * V, P};

  // 1. argmax (first index of the max) and the number of finite logits.
  if (tid == 0) shu = 0ull;
  __syncthreads();
  unsigned long long best_pair = 0ull;  // (order_key(z) << 32) | (~j): max -> largest z, lowest j
  int finite = 0;
  for (int j = tid; j < V; j += kThreads) {
    const float z = row.z(j);
    if (z > -INFINITY) {
      ++finite;
      const unsigned long long pr = ((unsigned long long)order_key(z) << 32) | (uint32_t)(~j);
      if (pr > best_pair) best_pair = pr;
    }
  }
  atomicMax(&shu, best_pair);
  finite = (int)sdc::block_sum((float)finite, shf);  // exact below 2^24 columns
  const unsigned long long bp = shu;
  if (finite == 0) {
    if (tid == 0) sdc::dev_fail(err, sdc::kErrDecode, r, 0, 0);
    return;
  }
  const int best = (int)(~(uint32_t)(bp & 0xffffffffu));
  const float m = key_float((uint32_t)(bp >> 32));

  // 2. top-k: the k-th largest z by radix select (4 digits of 8 bits, high first).
  float kth = -INFINITY;
  const bool use_k = P.top_k > 0 && P.top_k < finite;
  if (use_k) {
    if (tid == 0) {
      s_sel = 0;
      s_rem = (uint32_t)P.top_k;
    }
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int b = tid; b < 256; b += kThreads) hist[b] = 0;
      __syncthreads();
      const uint32_t sel = s_sel, hi_mask = shift == 24 ? 0u : (0xffffffffu << (shift + 8));
      for (int j = tid; j < V; j += kThreads) {
        const uint32_t k = order_key(row.z(j));
        if ((k & hi_mask) == (sel & hi_mask)) atomicAdd(&hist[(k >> shift) & 255u], 1u);
      }
      __syncthreads();
      if (tid == 0) {
        uint32_t rem = s_rem;
        for (int b = 255; b >= 0; --b) {
          if (hist[b] >= rem) {
            s_sel = sel | ((uint32_t)b << shift);
            break;
          }
          rem -= hist[b];
        }
        s_rem = rem;
      }
      __syncthreads();
    }
    kth = key_float(s_sel);
  }
  auto zk = [&](int j) {  // z after top-k (-inf when cut)
    const float z = row.z(j);
    return (use_k && z < kth) ? -INFINITY : z;
  };

  // 3. unnormalised probabilities e = exp(z - m) and their total.
  double tot = 0;
  for (int j = tid; j < V; j += kThreads) tot += (double)expf(zk(j) - m);
  tot = sdc::block_sum(tot, shd);

  // 4. top-p: the crossing value tau of the sorted prefix, by radix select with masses.
  const bool use_p = P.top_p < 1.f;
  float tau = 0.f;
  int tie_last = 0x7fffffff;  // ties at tau with index <= tie_last are kept
  if (use_p) {
    const double need = (double)P.top_p * tot;
    if (tid == 0) {
      s_sel = 0;
      s_above = 0;
    }
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int b = tid; b < 256; b += kThreads) {
        hist[b] = 0;
        hmass[b] = 0;
      }
      __syncthreads();
      const uint32_t sel = s_sel, hi_mask = shift == 24 ? 0u : (0xffffffffu << (shift + 8));
      for (int j = tid; j < V; j += kThreads) {
        const float e = expf(zk(j) - m);
        if (e <= 0.f) continue;
        const uint32_t k = __float_as_uint(e);  // e >= 0: bits are monotonic
        if ((k & hi_mask) == (sel & hi_mask)) {
          atomicAdd(&hist[(k >> shift) & 255u], 1u);
          atomicAdd(&hmass[(k >> shift) & 255u], (double)e);
        }
      }
      __syncthreads();
      if (tid == 0) {
        double above = s_above;
        for (int b = 255; b >= 0; --b) {
          if (hist[b] == 0) continue;
          if (above + hmass[b] >= need || b == 0) {
            s_sel = sel | ((uint32_t)b << shift);
            break;
          }
          above += hmass[b];
        }
        s_above = above;
      }
      __syncthreads();
    }
    tau = __uint_as_float(s_sel);
    // Ties at tau enter in index order until the mass is reached.
    const double above = s_above;
    const double nt = ceil((need - above) / (double)tau);
    const int need_ties = nt < 1 ? 1 : (nt > 2e9 ? 0x7fffffff : (int)nt);
    const int chunk = (V + kThreads - 1) / kThreads;
    const int c0 = min(V, tid * chunk), c1 = min(V, c0 + chunk);
    int mine = 0;
    for (int j = c0; j < c1; ++j) mine += expf(zk(j) - m) == tau;
    const double before = block_exclusive_scan((double)mine, shd);
    if (tid == 0) s_tie_last = 0x7fffffff;
    __syncthreads();
    if (before < need_ties && before + mine >= need_ties) {
      int cnt = (int)before;
      for (int j = c0; j < c1; ++j)
        if (expf(zk(j) - m) == tau && ++cnt == need_ties) {
          s_tie_last = j;
          break;
        }
    }
    __syncthreads();
    tie_last = s_tie_last;
  }
  auto ek = [&](int j) {  // filtered unnormalised probability
    const float e = expf(zk(j) - m);
    if (use_p && (e < tau || (e == tau && j > tie_last))) return 0.f;
    return e;
  };

  // 5. total, entropy term and runner-up over the kept tokens.
  double total = 0, ez = 0;
  float second = 0.f;
  for (int j = tid; j < V; j += kThreads) {
    const float e = ek(j);
    if (e <= 0.f) continue;
    total += e;
    ez += (double)e * (double)(zk(j) - m);
    if (j != best) second = fmaxf(second, e);
  }
  total = sdc::block_sum(total, shd);
  ez = sdc::block_sum(ez, shd);
  second = sdc::block_max(second, shf);

  // 6. the token: argmax, or the inverse-CDF sample in index order.
  int tok = best;
  if (uniforms) {
    const double target = (double)uniforms[r] * total;
    const int chunk = (V + kThreads - 1) / kThreads;
    const int c0 = min(V, tid * chunk), c1 = min(V, c0 + chunk);
    double mine = 0;
    int last = -1;
    for (int j = c0; j < c1; ++j) {
      const float e = ek(j);
      if (e > 0.f) {
        mine += e;
        last = j;
      }
    }
    const double before = block_exclusive_scan(mine, shd);
    if (tid == 0) {
      s_tok = 0x7fffffff;
      s_last = -1;
    }
    __syncthreads();
    atomicMax(&s_last, last);
    // Every chunk that ends past the target finds its first crossing; the lowest wins
    // (robust to the scan's rounding differing from the sequential sum).
    if (mine > 0 && before + mine > target) {
      double cum = before;
      for (int j = c0; j < c1; ++j) {
        const float e = ek(j);
        if (e <= 0.f) continue;
        cum += e;
        if (cum > target) {
          atomicMin(&s_tok, j);
          break;
        }
      }
    }
    __syncthreads();
    tok = s_tok != 0x7fffffff ? s_tok : (s_last >= 0 ? s_last : best);
  }
  if (tid == 0) {
    tok_out[r] = tok;
    if (prob_out) prob_out[r] = (float)(ek(tok) / total);
    if (ent_out) ent_out[r] = (float)(log(total) - ez / total);
    if (margin_out) margin_out[r] = (float)((ek(best) - second) / total);
  }
}
}  // namespace

int sdc_xent(const float* logits, const int32_t* targets, const float* weights, float* loss,
             float* dlogits, int N, int V, int mask_id, float grad_scale) {
  const char* op = "xent";
  SDC_POS(op, "N", N);
  SDC_POS(op, "V", V);
  SDC_PTR(op, "logits", logits);
  SDC_PTR(op, "targets", targets);
  SDC_PTR(op, "weights", weights);
  SDC_PTR(op, "loss", loss);
  SDC_FINITE(op, "grad_scale", grad_scale);
  if (mask_id < -1 || mask_id >= V)
    return sdc::fail(SD_ERANGE, "xent: mask_id must be -1 (none) or in [0, V = %d), got %d", V,
                     mask_id);
  SDC_CTX();
  xent_kernel<<<N, kThreads, 0, C->stream>>>(logits, targets, weights, loss, dlogits, V, mask_id,
                                             grad_scale, C->err);
  return sdc::launch_check(op);
}

int sdc_decode_rows(const float* logits, int N, int V, int mask_id, int ban_id, float temperature,
                    int top_k, float top_p, const float* uniforms, int32_t* tok, float* prob,
                    float* entropy, float* margin) {
  const char* op = "decode_rows";
  SDC_POS(op, "N", N);
  SDC_POS(op, "V", V);
  SDC_PTR(op, "logits", logits);
  SDC_PTR(op, "tok", tok);
  SDC_NONNEG(op, "top_k", top_k);
  SDC_FINITE(op, "temperature", temperature);
  SDC_FINITE(op, "top_p", top_p);
  if (mask_id < -1 || mask_id >= V)
    return sdc::fail(SD_ERANGE, "decode_rows: mask_id must be -1 (none) or in [0, V = %d), got %d",
                     V, mask_id);
  if (ban_id < -1 || ban_id >= V)
    return sdc::fail(SD_ERANGE, "decode_rows: ban_id must be -1 (none) or in [0, V = %d), got %d",
                     V, ban_id);
  if (!(top_p > 0.f && top_p <= 1.f))
    return sdc::fail(SD_EINVAL, "decode_rows: top_p must be in (0, 1], got %g", (double)top_p);
  SDC_CTX();
  const RowParams P{V, mask_id, ban_id, top_k, temperature > 0.f ? 1.f / temperature : 1.f, top_p};
  decode_rows_kernel<<<N, kThreads, 0, C->stream>>>(logits, P, uniforms, tok, prob, entropy, margin,
                                                    C->err);
  return sdc::launch_check(op);
}
