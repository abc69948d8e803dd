// CUDA side of the addon (compiled only when nvcc is present): the op set of
// include/sd_ops.h over DEVICE pointers, plus the bf16 inference path, device memory,
// one stream and CUDA-graph capture.
//
// Conventions
//  - Every sdc_* op takes device pointers with the argument order of the matching sd_*
//    op, validates dimensions and scalars on the host (same rules as the CPU kernels)
//    and returns 0 or an SD_E* code; sdc_last_error() then says what went wrong.
//  - Launches are asynchronous on one stream owned by the backend. Checks that need the
//    data (ids and targets in range, positions >= 0) run inside the kernels: a kernel
//    that meets a bad value records the first one in a device-side error word, and the
//    next synchronising call (sdc_download, sdc_sync, sdc_sumsq) reports it as SD_ERANGE
//    with the op, index and value. Rows with a bad id are left unwritten.
//  - Memory comes from a caching allocator (freed blocks are kept for reuse; stream order
//    makes reuse safe because every launch goes to the one stream).
//  - Never throws; links against the static cudart only, so the addon loads on machines
//    with no GPU or driver (the first call then reports the driver error).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>

// Number of usable CUDA devices (0 on any error, with the reason in *why); the first
// device's name in *name.
int sd_cuda_device_count(std::string* why, std::string* name);

// bf16 storage: raw 16-bit words (the upper half of an IEEE float32, round to nearest even).
typedef uint16_t sdc_bf16;

// Storage type of an output/input buffer where an op takes either.
#define SDC_F32 0
#define SDC_BF16 1

// ---------------------------------------------------------------- runtime
const char* sdc_last_error();
// Initialises the device, stream and workspace on first use (every call does it lazily).
int sdc_init();
// Device description: "NVIDIA H100 80GB HBM3 sm_90 132 SMs".
int sdc_device_info(std::string* out);
int sdc_malloc(size_t bytes, void** out);  // zero bytes gives a valid 256-byte block
int sdc_free(void* p);                     // returns the block to the cache; nullptr is a no-op
int sdc_empty_cache();  // cudaFree of every cached free block (not while capturing)
// bytes held in use / cached free / device free / device total
int sdc_memory(size_t* in_use, size_t* cached, size_t* dev_free, size_t* dev_total);
int sdc_upload(void* dst, const void* src, size_t bytes);    // host -> device, returns when done
int sdc_download(void* dst, const void* src, size_t bytes);  // device -> host, syncs + checks
int sdc_copy(void* dst, const void* src, size_t bytes);      // device -> device, async
int sdc_memset(void* dst, int byte, size_t bytes);           // async
int sdc_sync();  // waits for the stream, then reports any kernel-side error
// Stream capture into a CUDA graph: begin, issue ops (nothing runs), end -> id; replay
// runs the recorded launches again with the same pointers and scalars.
int sdc_graph_begin();
int sdc_graph_end(int* id);
int sdc_graph_replay(int id);
int sdc_graph_free(int id);
// Event timing on the stream: start, then stop returns the elapsed milliseconds (syncs).
int sdc_timer_start();
int sdc_timer_stop(float* ms);
// Deterministic pseudo-random fill (hash of seed and index), uniform in [lo, hi).
int sdc_fill_uniform(void* p, int dtype, size_t n, uint64_t seed, float lo, float hi);
int sdc_cast(const void* src, int src_dtype, void* dst, int dst_dtype, size_t n);

// ---------------------------------------------------------------- the sd_ops.h op set (float32)
int sdc_matmul(const float* A, const float* B, float* C, int M, int N, int K, int transA,
               int transB, float alpha, float beta);
int sdc_add_bias(float* y, const float* b, int rows, int cols);
int sdc_bias_grad(const float* dy, float* db, int rows, int cols);
int sdc_add(const float* a, const float* b, float* out, int n);
int sdc_scale(float* x, float s, int n);
int sdc_axpy(float a, const float* x, float* y, int n);
int sdc_sumsq(const float* x, int n, double* out);  // synchronises
int sdc_embedding_fwd(const int32_t* ids, const float* table, float* out, int n, int vocab,
                      int dim);
int sdc_embedding_bwd(const int32_t* ids, const float* dout, float* dtable, int n, int vocab,
                      int dim);
int sdc_rmsnorm_fwd(const float* x, const float* w, float* y, float* rstd, int rows, int dim,
                    float eps);
int sdc_rmsnorm_bwd(const float* x, const float* w, const float* rstd, const float* dy, float* dx,
                    float* dw, int rows, int dim);
int sdc_rope(float* x, const int32_t* pos, int n, int heads, int head_dim, int rot_dim, float theta,
             int interleaved, int inverse);
int sdc_attention_fwd(const float* q, const float* k, const float* v, float* out, float* lse,
                      int Tq, int Tk, int Hq, int Hkv, int D, int mask, int block, int origin,
                      int q_offset, float scale);
int sdc_attention_bwd(const float* q, const float* k, const float* v, const float* out,
                      const float* lse, const float* dout, float* dq, float* dk, float* dv, int Tq,
                      int Tk, int Hq, int Hkv, int D, int mask, int block, int origin, int q_offset,
                      float scale);
int sdc_swiglu_fwd(const float* gate, const float* up, float* out, int n);
int sdc_swiglu_bwd(const float* gate, const float* up, const float* dout, float* dgate, float* dup,
                   int n);
int sdc_xent(const float* logits, const int32_t* targets, const float* weights, float* loss,
             float* dlogits, int N, int V, int mask_id, float grad_scale);
int sdc_adamw(float* param, const float* grad, float* m, float* v, int n, float lr, float beta1,
              float beta2, float eps, float weight_decay, float grad_scale, int step);
int sdc_kv_append(float* cache, const float* src, int len, int T, int row, int max_len);
int sdc_decode_rows(const float* logits, int N, int V, int mask_id, int ban_id, float temperature,
                    int top_k, float top_p, const float* uniforms, int32_t* tok, float* prob,
                    float* entropy, float* margin);

// ---------------------------------------------------------------- bf16 inference path
// C[M,N] = alpha * A[M,K] · W[N,K]^T + beta * C (a Linear layer, W = [out, in]) with bf16
// A and W, fp32 accumulation on the tensor cores (mma.sync m16n8k16), C in c_dtype.
// Built for skinny M (block decoding: M = block size x batch); any M, N, K > 0 works.
int sdc_gemm_bf16(const sdc_bf16* A, const sdc_bf16* W, void* C, int c_dtype, int M, int N, int K,
                  float alpha, float beta);
// RMSNorm with the output in y_dtype (bf16 feeds the next GEMM directly).
int sdc_rmsnorm_fwd_x(const float* x, const float* w, void* y, int y_dtype, float* rstd, int rows,
                      int dim, float eps);
// RoPE over x rows of `row_stride` floats (q and k inside a fused qkv row): n rows,
// `heads` heads of head_dim contiguous from the row start.
int sdc_rope_strided(float* x, int row_stride, const int32_t* pos, int n, int heads, int head_dim,
                     int rot_dim, float theta, int interleaved, int inverse);
// cache [max_len, row] (cache_dtype) rows [len, len+T) = src rows (float, stride src_stride).
int sdc_kv_append_x(void* cache, int cache_dtype, const float* src, int src_stride, int len, int T,
                    int row, int max_len);
// Attention with float queries (row stride q_stride floats, heads contiguous), keys and
// values in kv_dtype with row stride Hkv*D, output in out_dtype [Tq, Hq, D]; lse nullable.
// Same masks as sdc_attention_fwd; splits over keys when Tq is small and Tk long.
int sdc_attention_fwd_x(const float* q, int q_stride, const void* k, const void* v, int kv_dtype,
                        void* out, int out_dtype, float* lse, int Tq, int Tk, int Hq, int Hkv,
                        int D, int mask, int block, int origin, int q_offset, float scale);
// out[r, j] = silu(gu[r, j]) * gu[r, F + j] over gu [rows, 2F] (fused gate|up GEMM output).
int sdc_swiglu_rows(const float* gu, void* out, int out_dtype, int rows, int F);
// out[i, :] = table[ids[i], :] with a bf16 or f32 table, float output.
int sdc_embedding_fwd_x(const int32_t* ids, const void* table, int table_dtype, float* out, int n,
                        int vocab, int dim);
