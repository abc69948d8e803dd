/*
 * sd_ops.h — the seed-diffusion op set: the one contract shared by every backend
 * (CPU addon, WebAssembly, CUDA).
 *
 * Conventions
 *  - Buffers are flat, row-major float32 (token ids and positions are int32).
 *  - Every function returns 0 on success or a non-zero SD_E* code; sd_last_error()
 *    then describes the problem (op name, argument, value). Arguments are validated
 *    before any kernel runs: dimensions > 0, ids in range, finite scalars.
 *    Buffer *lengths* are checked by the caller that owns them (the TypeScript
 *    boundary in native/lib), since a raw pointer carries no length.
 *  - Backward ops ACCUMULATE into gradient buffers (dx += ..., dw += ...), as in
 *    llm.c: residual branches then need no extra adds, and callers zero once.
 *  - Attention tensors are token-major: q [Tq, Hq, D], k/v [Tk, Hkv, D].
 */
#ifndef SD_OPS_H
#define SD_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SD_OK 0
#define SD_EINVAL 1  /* bad dimension, scalar or flag */
#define SD_ERANGE 2  /* an id or position out of range */
#define SD_ENOMEM 3  /* allocation failed */
#define SD_EDEVICE 4 /* device (CUDA) error */

/* Message for the last failed call on this thread ("" if none). */
const char* sd_last_error(void);
/* Threads used by the CPU kernels (OpenMP); 1 in the WASM build. */
int sd_get_num_threads(void);
void sd_set_num_threads(int n);
/* Short description of the build: "cpu avx2 fma openmp" etc. */
const char* sd_build_info(void);

/* x86-64 addon: which kernel variant runs ("base", "avx2" or "avx512"), chosen by CPUID when
 * the addon loads (SD_CPU_ISA=base|avx2 forces a narrower one). A non-empty `want` switches to
 * that variant first (between calls, not during one); NULL when it is unknown or this CPU
 * lacks it. Absent from builds without dispatch (WASM, SD_CPU_DISPATCH=OFF). */
const char* sd_cpu_isa(const char* want);
/* The variants this CPU can run, space-separated ("base avx2 avx512"). */
const char* sd_cpu_isa_supported(void);

/* ---------------------------------------------------------------- linear algebra */
/* C[M,N] = alpha * op(A) · op(B) + beta * C.
 * op(A) is [M,K]: A is stored [M,K], or [K,M] when transA.
 * op(B) is [K,N]: B is stored [K,N], or [N,K] when transB.
 * beta = 0 overwrites C (C may hold garbage); beta = 1 accumulates (linear backward). */
int sd_matmul(const float* A, const float* B, float* C, int M, int N, int K, int transA, int transB,
              float alpha, float beta);

/* 16-bit storage codes of sd_matmul_w16's B. */
#define SD_DTYPE_F16 1  /* IEEE binary16 */
#define SD_DTYPE_BF16 2 /* bfloat16 (the top half of a float32) */
/* bfloat16 B times A rounded to bfloat16 (nearest even), products summed in float32: the
 * native dot product of CPUs with AVX512-BF16 (the same rounding emulated elsewhere). Not
 * bit-identical to SD_DTYPE_BF16: |C - C_exact| <= 2^-8 * |alpha| * sum_k |a_k b_k| (+ float32
 * summation error). Use SD_DTYPE_BF16 where results must match float32 exactly (verify). */
#define SD_DTYPE_BF16_DOT 3
/* sd_matmul with B stored as 16-bit floats (b_dtype: SD_DTYPE_*), widened exactly to float32
 * as it is packed: bit-identical to sd_matmul on the widened B, reading half the bytes (a
 * model's weights kept in the half precision of its checkpoint, for inference). */
int sd_matmul_w16(const float* A, const uint16_t* B, float* C, int M, int N, int K, int transA,
                  int transB, float alpha, float beta, int b_dtype);

/* y[r, c] += b[c] over rows x cols. */
int sd_add_bias(float* y, const float* b, int rows, int cols);
/* db[c] += sum_r dy[r, c]. */
int sd_bias_grad(const float* dy, float* db, int rows, int cols);

/* ---------------------------------------------------------------- elementwise */
/* out = a + b (out may alias a or b). */
int sd_add(const float* a, const float* b, float* out, int n);
/* x *= s. */
int sd_scale(float* x, float s, int n);
/* y += a * x. */
int sd_axpy(float a, const float* x, float* y, int n);
/* Sum of squares in double precision (global gradient norm). */
int sd_sumsq(const float* x, int n, double* out);

/* ---------------------------------------------------------------- embedding */
/* out[i, :] = table[ids[i], :]; ids must lie in [0, vocab). */
int sd_embedding_fwd(const int32_t* ids, const float* table, float* out, int n, int vocab, int dim);
/* dtable[ids[i], :] += dout[i, :] (scatter-add; repeated ids accumulate). */
int sd_embedding_bwd(const int32_t* ids, const float* dout, float* dtable, int n, int vocab,
                     int dim);

/* ---------------------------------------------------------------- RMSNorm */
/* y = x / sqrt(mean(x^2) + eps) * w, per row. rstd[rows] (nullable) receives
 * 1/sqrt(mean(x^2)+eps) for the backward. y may alias x. */
int sd_rmsnorm_fwd(const float* x, const float* w, float* y, float* rstd, int rows, int dim,
                   float eps);
/* dx += ..., dw += ... (dw nullable). rstd from the forward. */
int sd_rmsnorm_bwd(const float* x, const float* w, const float* rstd, const float* dy, float* dx,
                   float* dw, int rows, int dim);

/* ---------------------------------------------------------------- RoPE */
/* Rotates x [n, heads, head_dim] in place; positions pos[n] (may repeat).
 * The first rot_dim (even, <= head_dim) dims of each head rotate:
 *   interleaved = 0: NeoX / HF "rotate_half" layout, pairs (i, i + rot_dim/2);
 *   interleaved = 1: GPT-J / Meta layout, pairs (2i, 2i+1).
 * Frequency of pair i: theta^(-2i/rot_dim). inverse = 1 rotates by the negative
 * angle, which is exactly the backward (the rotation is orthogonal). */
int sd_rope(float* x, const int32_t* pos, int n, int heads, int head_dim, int rot_dim, float theta,
            int interleaved, int inverse);

/* ---------------------------------------------------------------- attention */
/* Mask topologies. Query i sits at key index qi = q_offset + i; key j at j.
 *   BIDIR        : every key.
 *   CAUSAL       : j <= qi.
 *   BLOCK_CAUSAL : blk(j) <= blk(qi) where blk(p) = p < origin ? 0 : 1 + (p - origin) / block.
 *                  (origin = prompt length: the prompt is one bidirectional block,
 *                  generated blocks of `block` tokens follow.)
 *   BLOCK_DIFF   : the BD3-LM training mask over [x_t ; x_0] (Tq = Tk = 2L, q_offset 0):
 *                  noisy block b sees noisy block b and clean blocks < b; clean block b sees
 *                  clean blocks <= b. blk(p) = (p mod L) / block.
 *   PREFIX       : j < q_offset + Tq (a block against a KV cache plus itself).
 *   VERIFY       : speculative verification against a KV cache of C = q_offset rows, with the
 *                  new rows' keys at C.. in query order (Tk = C + Tq). The first m = block
 *                  rows are clean (causal: row i sees j < C + i + 1); the next v = origin rows
 *                  (v <= m) are one-token masks, row m + r seeing the cache, clean rows 0..r and
 *                  itself (what b = 1 decoding computes for the position after clean row r);
 *                  the remaining rows are a draft block seeing the cache, every clean row and
 *                  the whole draft block. */
#define SD_MASK_BIDIR 0
#define SD_MASK_CAUSAL 1
#define SD_MASK_BLOCK_CAUSAL 2
#define SD_MASK_BLOCK_DIFF 3
#define SD_MASK_PREFIX 4
#define SD_MASK_VERIFY 5

typedef struct sd_attn_shape {
  int Tq, Tk;   /* query / key lengths */
  int Hq, Hkv;  /* query heads, key/value heads (Hq % Hkv == 0: grouped-query) */
  int D;        /* head dim */
  int mask;     /* SD_MASK_* */
  int block;    /* block size for BLOCK_CAUSAL / BLOCK_DIFF; VERIFY: clean rows m */
  int origin;   /* BLOCK_CAUSAL: first position of block 1; VERIFY: one-token mask rows v */
  int q_offset; /* key index of query 0 */
  float scale;  /* softmax scale, usually 1/sqrt(D) */
} sd_attn_shape;

/* out [Tq,Hq,D] = softmax(q k^T * scale + mask) v, tiled with an online softmax
 * (memory O(T·D), never O(T²)). lse [Hq, Tq] (nullable) receives the row
 * log-sum-exp for the backward. A query row with no visible key yields zeros. */
int sd_attention_fwd(const float* q, const float* k, const float* v, float* out, float* lse,
                     const sd_attn_shape* s);
/* dq += ..., dk += ..., dv += ... (recomputes probabilities from lse). */
int sd_attention_bwd(const float* q, const float* k, const float* v, const float* out,
                     const float* lse, const float* dout, float* dq, float* dk, float* dv,
                     const sd_attn_shape* s);
/* Flat-argument form of the same calls for bindings that cannot pass structs
 * (the WASM module and the Node addon use these). */
int sd_attention_fwd_v(const float* q, const float* k, const float* v, float* out, float* lse,
                       int Tq, int Tk, int Hq, int Hkv, int D, int mask, int block, int origin,
                       int q_offset, float scale);
int sd_attention_bwd_v(const float* q, const float* k, const float* v, const float* out,
                       const float* lse, const float* dout, float* dq, float* dk, float* dv, int Tq,
                       int Tk, int Hq, int Hkv, int D, int mask, int block, int origin,
                       int q_offset, float scale);

/* Paged attention forward over a batch of S sequences whose keys/values live in pages of
 * page_size rows of shared pools k_pool, v_pool [pool_pages * page_size, Hkv, D]: key j of a
 * sequence is pool row pages[page0 + j / page_size] * page_size + j % page_size. seqs holds
 * SD_PAGED_SEQ_FIELDS int32 per sequence: q0 (its first row of q/out [N, Hq, D]), Tq, Tk,
 * mask, block, origin, q_offset (as in sd_attn_shape) and page0 (its first entry of pages).
 * Each sequence's rows get exactly what sd_attention_fwd gives on its keys laid out
 * contiguously (bit for bit), whatever the other sequences. page_size must be a multiple
 * of 64 (a key tile of the CPU kernels never crosses a page). No lse (inference only). */
#define SD_PAGED_SEQ_FIELDS 8
int sd_attention_paged_fwd(const float* q, const float* k_pool, const float* v_pool, float* out,
                           const int32_t* seqs, const int32_t* pages, int S, int Hq, int Hkv, int D,
                           int page_size, int pool_pages, float scale);

/* ---------------------------------------------------------------- MLP */
/* out = silu(gate) * up (out may alias gate or up). */
int sd_swiglu_fwd(const float* gate, const float* up, float* out, int n);
/* dgate += dout * up * silu'(gate); dup += dout * silu(gate). */
int sd_swiglu_bwd(const float* gate, const float* up, const float* dout, float* dgate, float* dup,
                  int n);

/* ---------------------------------------------------------------- loss */
/* Softmax cross-entropy over rows of logits [N, V] with the logit of `mask_id`
 * forced to -inf (mask_id < 0: none). loss[r] = -log p(targets[r]) (unweighted).
 * When dlogits is non-null it receives weights[r] * grad_scale * (p - onehot);
 * rows with weight 0 get zeros (and their loss is still reported). dlogits may
 * alias logits. Targets equal to mask_id or out of range are an error. Works one
 * row at a time: no [N, V] probability buffer is ever made. */
int sd_xent(const float* logits, const int32_t* targets, const float* weights, float* loss,
            float* dlogits, int N, int V, int mask_id, float grad_scale);

/* ---------------------------------------------------------------- optimiser */
/* One AdamW step (decoupled weight decay), with gradients first multiplied by
 * grad_scale (global-norm clipping and accumulation averaging); step >= 1 is the
 * 1-based step count for bias correction. */
int sd_adamw(float* param, const float* grad, float* m, float* v, int n, float lr, float beta1,
             float beta2, float eps, float weight_decay, float grad_scale, int step);

/* ---------------------------------------------------------------- KV cache */
/* cache [max_len, row] ; copies src [T, row] to rows [len, len + T). */
int sd_kv_append(float* cache, const float* src, int len, int T, int row, int max_len);
/* Scatters src [n, row] to rows slots[i] of pool [pool_rows, row] (a paged cache's new
 * rows, each to its page); slots must lie in [0, pool_rows). */
int sd_kv_scatter(float* pool, const float* src, const int32_t* slots, int n, int row,
                  int pool_rows);

/* ---------------------------------------------------------------- decoding rows */
/* For each row r of logits [N, V]: apply the mask-id and ban (-inf), temperature,
 * top-k (0 = off) and top-p (1 = off) filtering, then report
 *   tok[r]     : argmax when uniforms is null (greedy), else a sample drawn with
 *                uniforms[r] in [0,1) by inverse CDF over the filtered distribution;
 *   prob[r]    : probability of tok[r] under the filtered, tempered distribution;
 *   entropy[r] : its entropy (nats);
 *   margin[r]  : top-1 minus top-2 probability.
 * Any output pointer except tok may be null. temperature <= 0 means greedy (1.0 used
 * for the reported probabilities). ban_id < 0: none. */
int sd_decode_rows(const float* logits, int N, int V, int mask_id, int ban_id, float temperature,
                   int top_k, float top_p, const float* uniforms, int32_t* tok, float* prob,
                   float* entropy, float* margin);

#ifdef __cplusplus
}
#endif
#endif /* SD_OPS_H */
