// The op table (ggml's way): one row per op of include/sd_ops.h, from which every host binding
// follows — the Node addon (src/addon/addon.cc) and the WebAssembly entry
// (src/bind/wasm_entry.cpp). A row names the op, its argument count and a function that reads the
// arguments through a binding-specific CallArgs and calls the kernel. Every buffer argument is
// resolved together with the number of elements the binding knows it holds (a typed array's length;
// on WASM, what is left of the live allocation the address falls in), and the row checks it against
// what the shape arguments need, in 64-bit arithmetic — so a short buffer is an error, never an
// out-of-bounds access, whatever the caller. A new op is one row here plus its kernels.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "sd_ops.h"

namespace sdb {

/** A buffer argument: its address and the elements available from it (-1: not a buffer). */
struct Buf {
  void* ptr;
  int64_t elems;
};

enum class Elem { F32, I32, U16 };

/**
 * The arguments of one call, as a binding resolves them. fail() records the problem: the addon
 * throws a JS error there; the WASM build (no C++ exceptions) sets failed() and the row returns
 * before its kernel runs. Rows therefore resolve every argument first, then check failed().
 */
class CallArgs {
 public:
  virtual ~CallArgs() = default;
  virtual size_t count() const = 0;
  /** Buffer argument i of element type e ({nullptr, 0} for null, or after a failure). */
  virtual Buf buffer(size_t i, Elem e, bool nullable) = 0;
  virtual int integer(size_t i) = 0;
  virtual float real(size_t i) = 0;
  virtual void fail(const std::string& message) = 0;
  bool failed() const { return failed_; }
  /** Where an op with a scalar result (sumsq) leaves it. */
  double result = 0;

 protected:
  bool failed_ = false;
};

/** a·b·c… for non-negative factors, saturating instead of overflowing (any negative → 0). */
inline int64_t need(int64_t a, int64_t b = 1, int64_t c = 1) {
  if (a <= 0 || b <= 0 || c <= 0) return 0;
  const int64_t lim = INT64_MAX;
  if (a > lim / b) return lim;
  const int64_t ab = a * b;
  if (ab > lim / c) return lim;
  return ab * c;
}

/** Resolves buffer argument i and checks that it holds at least n elements (nullptr on failure). */
template <typename T>
T* buf(CallArgs& a, const char* op, size_t i, const char* name, Elem e, int64_t n,
       bool nullable = false) {
  if (a.failed()) return nullptr;
  const Buf b = a.buffer(i, e, nullable);
  if (a.failed()) return nullptr;
  if (!b.ptr) {
    if (!nullable) a.fail(std::string(op) + ": " + name + " is null");
    return nullptr;
  }
  if (b.elems < n) {
    a.fail(std::string(op) + ": " + name + " holds " + std::to_string(b.elems) +
           " elements but the call needs " + std::to_string(n));
    return nullptr;
  }
  return static_cast<T*>(b.ptr);
}

// Inside a row: `a` is the CallArgs and `op` the op's name.
#define SDB_F32(i, name, n) buf<float>(a, op, i, name, Elem::F32, n)
#define SDB_F32N(i, name, n) buf<float>(a, op, i, name, Elem::F32, n, true)
#define SDB_I32(i, name, n) buf<int32_t>(a, op, i, name, Elem::I32, n)
#define SDB_U16(i, name, n) buf<uint16_t>(a, op, i, name, Elem::U16, n)
#define SDB_INT(i) const int a##i = a.integer(i)
#define SDB_REAL(i) const float a##i = a.real(i)
#define SDB_READY() \
  if (a.failed()) return SD_EINVAL

inline int op_matmul(CallArgs& a) {
  const char* op = "matmul";
  SDB_INT(3);
  SDB_INT(4);
  SDB_INT(5);
  SDB_INT(6);
  SDB_INT(7);
  SDB_REAL(8);
  SDB_REAL(9);
  float* A = SDB_F32(0, "A", need(a3, a5));
  float* B = SDB_F32(1, "B", need(a5, a4));
  float* C = SDB_F32(2, "C", need(a3, a4));
  SDB_READY();
  return sd_matmul(A, B, C, a3, a4, a5, a6, a7, a8, a9);
}
inline int op_matmul_w16(CallArgs& a) {
  const char* op = "matmul_w16";
  SDB_INT(3);
  SDB_INT(4);
  SDB_INT(5);
  SDB_INT(6);
  SDB_INT(7);
  SDB_REAL(8);
  SDB_REAL(9);
  SDB_INT(10);
  float* A = SDB_F32(0, "A", need(a3, a5));
  uint16_t* B = SDB_U16(1, "B", need(a5, a4));
  float* C = SDB_F32(2, "C", need(a3, a4));
  SDB_READY();
  return sd_matmul_w16(A, B, C, a3, a4, a5, a6, a7, a8, a9, a10);
}
inline int op_rmsnorm_fwd(CallArgs& a) {
  const char* op = "rmsnorm_fwd";
  SDB_INT(4);
  SDB_INT(5);
  SDB_REAL(6);
  float* x = SDB_F32(0, "x", need(a4, a5));
  float* w = SDB_F32(1, "w", need(a5));
  float* y = SDB_F32(2, "y", need(a4, a5));
  float* rstd = SDB_F32N(3, "rstd", need(a4));
  SDB_READY();
  return sd_rmsnorm_fwd(x, w, y, rstd, a4, a5, a6);
}
inline int op_rmsnorm_bwd(CallArgs& a) {
  const char* op = "rmsnorm_bwd";
  SDB_INT(6);
  SDB_INT(7);
  const int64_t rd = need(a6, a7);
  float* x = SDB_F32(0, "x", rd);
  float* w = SDB_F32(1, "w", need(a7));
  float* rstd = SDB_F32(2, "rstd", need(a6));
  float* dy = SDB_F32(3, "dy", rd);
  float* dx = SDB_F32(4, "dx", rd);
  float* dw = SDB_F32N(5, "dw", need(a7));
  SDB_READY();
  return sd_rmsnorm_bwd(x, w, rstd, dy, dx, dw, a6, a7);
}
inline int op_add_bias(CallArgs& a) {
  const char* op = "add_bias";
  SDB_INT(2);
  SDB_INT(3);
  float* y = SDB_F32(0, "y", need(a2, a3));
  float* b = SDB_F32(1, "b", need(a3));
  SDB_READY();
  return sd_add_bias(y, b, a2, a3);
}
inline int op_bias_grad(CallArgs& a) {
  const char* op = "bias_grad";
  SDB_INT(2);
  SDB_INT(3);
  float* dy = SDB_F32(0, "dy", need(a2, a3));
  float* db = SDB_F32(1, "db", need(a3));
  SDB_READY();
  return sd_bias_grad(dy, db, a2, a3);
}
inline int op_add(CallArgs& a) {
  const char* op = "add";
  SDB_INT(3);
  float* x = SDB_F32(0, "a", need(a3));
  float* y = SDB_F32(1, "b", need(a3));
  float* out = SDB_F32(2, "out", need(a3));
  SDB_READY();
  return sd_add(x, y, out, a3);
}
inline int op_scale(CallArgs& a) {
  const char* op = "scale";
  SDB_REAL(1);
  SDB_INT(2);
  float* x = SDB_F32(0, "x", need(a2));
  SDB_READY();
  return sd_scale(x, a1, a2);
}
inline int op_axpy(CallArgs& a) {
  const char* op = "axpy";
  SDB_REAL(0);
  SDB_INT(3);
  float* x = SDB_F32(1, "x", need(a3));
  float* y = SDB_F32(2, "y", need(a3));
  SDB_READY();
  return sd_axpy(a0, x, y, a3);
}
inline int op_sumsq(CallArgs& a) {
  const char* op = "sumsq";
  SDB_INT(1);
  float* x = SDB_F32(0, "x", need(a1));
  SDB_READY();
  double out = 0;
  const int rc = sd_sumsq(x, a1, &out);
  a.result = out;
  return rc;
}
inline int op_embedding_fwd(CallArgs& a) {
  const char* op = "embedding_fwd";
  SDB_INT(3);
  SDB_INT(4);
  SDB_INT(5);
  int32_t* ids = SDB_I32(0, "ids", need(a3));
  float* table = SDB_F32(1, "table", need(a4, a5));
  float* out = SDB_F32(2, "out", need(a3, a5));
  SDB_READY();
  return sd_embedding_fwd(ids, table, out, a3, a4, a5);
}
inline int op_embedding_bwd(CallArgs& a) {
  const char* op = "embedding_bwd";
  SDB_INT(3);
  SDB_INT(4);
  SDB_INT(5);
  int32_t* ids = SDB_I32(0, "ids", need(a3));
  float* dout = SDB_F32(1, "dout", need(a3, a5));
  float* dtable = SDB_F32(2, "dtable", need(a4, a5));
  SDB_READY();
  return sd_embedding_bwd(ids, dout, dtable, a3, a4, a5);
}
inline int op_rope(CallArgs& a) {
  const char* op = "rope";
  SDB_INT(2);
  SDB_INT(3);
  SDB_INT(4);
  SDB_INT(5);
  SDB_REAL(6);
  SDB_INT(7);
  SDB_INT(8);
  float* x = SDB_F32(0, "x", need(a2, a3, a4));
  int32_t* pos = SDB_I32(1, "pos", need(a2));
  SDB_READY();
  return sd_rope(x, pos, a2, a3, a4, a5, a6, a7, a8);
}
inline int op_attention_fwd(CallArgs& a) {
  const char* op = "attention_fwd";
  SDB_INT(5);
  SDB_INT(6);
  SDB_INT(7);
  SDB_INT(8);
  SDB_INT(9);
  SDB_INT(10);
  SDB_INT(11);
  SDB_INT(12);
  SDB_INT(13);
  SDB_REAL(14);
  const int64_t nq = need(a5, a7, a9), nk = need(a6, a8, a9);
  float* q = SDB_F32(0, "q", nq);
  float* k = SDB_F32(1, "k", nk);
  float* v = SDB_F32(2, "v", nk);
  float* out = SDB_F32(3, "out", nq);
  float* lse = SDB_F32N(4, "lse", need(a7, a5));
  SDB_READY();
  return sd_attention_fwd_v(q, k, v, out, lse, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14);
}
inline int op_attention_bwd(CallArgs& a) {
  const char* op = "attention_bwd";
  SDB_INT(9);
  SDB_INT(10);
  SDB_INT(11);
  SDB_INT(12);
  SDB_INT(13);
  SDB_INT(14);
  SDB_INT(15);
  SDB_INT(16);
  SDB_INT(17);
  SDB_REAL(18);
  const int64_t nq = need(a9, a11, a13), nk = need(a10, a12, a13);
  float* q = SDB_F32(0, "q", nq);
  float* k = SDB_F32(1, "k", nk);
  float* v = SDB_F32(2, "v", nk);
  float* out = SDB_F32(3, "out", nq);
  float* lse = SDB_F32(4, "lse", need(a11, a9));
  float* dout = SDB_F32(5, "dout", nq);
  float* dq = SDB_F32(6, "dq", nq);
  float* dk = SDB_F32(7, "dk", nk);
  float* dv = SDB_F32(8, "dv", nk);
  SDB_READY();
  return sd_attention_bwd_v(q, k, v, out, lse, dout, dq, dk, dv, a9, a10, a11, a12, a13, a14, a15,
                            a16, a17, a18);
}
inline int op_swiglu_fwd(CallArgs& a) {
  const char* op = "swiglu_fwd";
  SDB_INT(3);
  float* gate = SDB_F32(0, "gate", need(a3));
  float* up = SDB_F32(1, "up", need(a3));
  float* out = SDB_F32(2, "out", need(a3));
  SDB_READY();
  return sd_swiglu_fwd(gate, up, out, a3);
}
inline int op_swiglu_bwd(CallArgs& a) {
  const char* op = "swiglu_bwd";
  SDB_INT(5);
  float* gate = SDB_F32(0, "gate", need(a5));
  float* up = SDB_F32(1, "up", need(a5));
  float* dout = SDB_F32(2, "dout", need(a5));
  float* dgate = SDB_F32(3, "dgate", need(a5));
  float* dup = SDB_F32(4, "dup", need(a5));
  SDB_READY();
  return sd_swiglu_bwd(gate, up, dout, dgate, dup, a5);
}
inline int op_xent(CallArgs& a) {
  const char* op = "xent";
  SDB_INT(5);
  SDB_INT(6);
  SDB_INT(7);
  SDB_REAL(8);
  float* logits = SDB_F32(0, "logits", need(a5, a6));
  int32_t* targets = SDB_I32(1, "targets", need(a5));
  float* weights = SDB_F32(2, "weights", need(a5));
  float* loss = SDB_F32(3, "loss", need(a5));
  float* dlogits = SDB_F32N(4, "dlogits", need(a5, a6));
  SDB_READY();
  return sd_xent(logits, targets, weights, loss, dlogits, a5, a6, a7, a8);
}
inline int op_adamw(CallArgs& a) {
  const char* op = "adamw";
  SDB_INT(4);
  SDB_REAL(5);
  SDB_REAL(6);
  SDB_REAL(7);
  SDB_REAL(8);
  SDB_REAL(9);
  SDB_REAL(10);
  SDB_INT(11);
  float* param = SDB_F32(0, "param", need(a4));
  float* grad = SDB_F32(1, "grad", need(a4));
  float* m = SDB_F32(2, "m", need(a4));
  float* v = SDB_F32(3, "v", need(a4));
  SDB_READY();
  return sd_adamw(param, grad, m, v, a4, a5, a6, a7, a8, a9, a10, a11);
}
inline int op_kv_append(CallArgs& a) {
  const char* op = "kv_append";
  SDB_INT(2);
  SDB_INT(3);
  SDB_INT(4);
  SDB_INT(5);
  float* cache = SDB_F32(0, "cache", need(a5, a4));
  float* src = SDB_F32(1, "src", need(a3, a4));
  SDB_READY();
  return sd_kv_append(cache, src, a2, a3, a4, a5);
}
inline int op_decode_rows(CallArgs& a) {
  const char* op = "decode_rows";
  SDB_INT(1);
  SDB_INT(2);
  SDB_INT(3);
  SDB_INT(4);
  SDB_REAL(5);
  SDB_INT(6);
  SDB_REAL(7);
  float* logits = SDB_F32(0, "logits", need(a1, a2));
  float* uniforms = SDB_F32N(8, "uniforms", need(a1));
  int32_t* tok = SDB_I32(9, "tok", need(a1));
  float* prob = SDB_F32N(10, "prob", need(a1));
  float* entropy = SDB_F32N(11, "entropy", need(a1));
  float* margin = SDB_F32N(12, "margin", need(a1));
  SDB_READY();
  return sd_decode_rows(logits, a1, a2, a3, a4, a5, a6, a7, uniforms, tok, prob, entropy, margin);
}

inline int op_kv_scatter(CallArgs& a) {
  const char* op = "kv_scatter";
  SDB_INT(3);
  SDB_INT(4);
  SDB_INT(5);
  float* pool = SDB_F32(0, "pool", need(a5, a4));
  float* src = SDB_F32(1, "src", need(a3, a4));
  int32_t* slots = SDB_I32(2, "slots", need(a3));
  SDB_READY();
  return sd_kv_scatter(pool, src, slots, a3, a4, a5);
}
inline int op_attention_paged_fwd(CallArgs& a) {
  const char* op = "attention_paged_fwd";
  SDB_INT(6);
  SDB_INT(7);
  SDB_INT(8);
  SDB_INT(9);
  SDB_INT(10);
  SDB_INT(11);
  SDB_REAL(12);
  // The descriptor first: the query rows and page-table entries the call reads follow from it
  // (rows [q0, q0 + Tq) of q / out and entries [page0, page0 + ceil(Tk / page_size)) per
  // sequence). Nonsense fields count as 0 here; the kernel rejects them with their own message.
  const int32_t* seqs = SDB_I32(4, "seqs", need(a6, SD_PAGED_SEQ_FIELDS));
  int64_t qrows = 0, entries = 0;
  // A page size that is not a whole number of 64-key tiles is refused by the kernel before it
  // reads the page table (sd_ops.h), so no entries are needed for it.
  const bool paged = a10 > 0 && a10 % 64 == 0;
  if (seqs && !a.failed()) {
    for (int64_t i = 0; i < a6; ++i) {
      const int32_t* d = seqs + i * SD_PAGED_SEQ_FIELDS;
      const int64_t q_end = (int64_t)(d[0] > 0 ? d[0] : 0) + (d[1] > 0 ? d[1] : 0);
      const int64_t tk = d[2] > 0 ? d[2] : 0;
      const int64_t e_end = (int64_t)(d[7] > 0 ? d[7] : 0) + (paged ? (tk + a10 - 1) / a10 : 0);
      qrows = qrows > q_end ? qrows : q_end;
      entries = entries > e_end ? entries : e_end;
    }
  }
  const int64_t nq = need(qrows, a7, a9), nkv = need(need(a11, a10), a8, a9);
  float* q = SDB_F32(0, "q", nq);
  float* k_pool = SDB_F32(1, "k_pool", nkv);
  float* v_pool = SDB_F32(2, "v_pool", nkv);
  float* out = SDB_F32(3, "out", nq);
  int32_t* pages = SDB_I32(5, "pages", entries);
  SDB_READY();
  return sd_attention_paged_fwd(q, k_pool, v_pool, out, seqs, pages, a6, a7, a8, a9, a10, a11, a12);
}

#undef SDB_F32
#undef SDB_F32N
#undef SDB_I32
#undef SDB_U16
#undef SDB_INT
#undef SDB_REAL
#undef SDB_READY

struct OpRow {
  const char* name;
  size_t nargs;
  int (*run)(CallArgs&);
};

/** Every op a host binding exposes, named as in sd_ops.h without "sd_". */
inline const OpRow kOps[] = {
    {"matmul", 10, op_matmul},
    {"matmul_w16", 11, op_matmul_w16},
    {"rmsnorm_fwd", 7, op_rmsnorm_fwd},
    {"rmsnorm_bwd", 8, op_rmsnorm_bwd},
    {"add_bias", 4, op_add_bias},
    {"bias_grad", 4, op_bias_grad},
    {"add", 4, op_add},
    {"scale", 3, op_scale},
    {"axpy", 4, op_axpy},
    {"sumsq", 2, op_sumsq},
    {"embedding_fwd", 6, op_embedding_fwd},
    {"embedding_bwd", 6, op_embedding_bwd},
    {"rope", 9, op_rope},
    {"attention_fwd", 15, op_attention_fwd},
    {"attention_bwd", 19, op_attention_bwd},
    {"swiglu_fwd", 4, op_swiglu_fwd},
    {"swiglu_bwd", 6, op_swiglu_bwd},
    {"xent", 9, op_xent},
    {"adamw", 12, op_adamw},
    {"kv_append", 6, op_kv_append},
    {"decode_rows", 13, op_decode_rows},
    {"kv_scatter", 6, op_kv_scatter},
    {"attention_paged_fwd", 13, op_attention_paged_fwd},
};
inline constexpr size_t kNumOps = sizeof(kOps) / sizeof(kOps[0]);

/** Runs row `r` after checking the argument count; returns the kernel's status (SD_EINVAL after
 * fail()). */
inline int dispatch(const OpRow& r, CallArgs& a) {
  if (a.count() != r.nargs) {
    a.fail(std::string(r.name) + ": expected " + std::to_string(r.nargs) + " arguments, got " +
           std::to_string(a.count()));
    return SD_EINVAL;
  }
  return r.run(a);
}

}  // namespace sdb
