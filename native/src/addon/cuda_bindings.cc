// Node-API binding of the CUDA backend (src/cuda/sd_cuda.h): adds `exports.cuda`, an
// object of functions over DEVICE pointers. A device pointer travels as a JS number (a
// byte address: x86-64 user addresses fit in 47 bits, well inside a double's 53), or
// as a BigInt; null/undefined/0 where the header says nullable. Ops keep the C argument
// order of include/sd_ops.h; shapes and buffer lengths are checked by the TypeScript
// boundary (native/lib/cuda.ts), dimensions and scalars again in C, and data-dependent
// checks (ids in range) by the kernels, reported at the next synchronising call.
#include <napi.h>

#include <string>

#include "../cuda/sd_cuda.h"
#include "sd_ops.h"

namespace {

class CArgs {
 public:
  CArgs(const Napi::CallbackInfo& info, const char* op, size_t count) : info_(info), op_(op) {
    if (info.Length() != count)
      throw Napi::TypeError::New(info.Env(), std::string("cuda.") + op + ": expected " +
                                                 std::to_string(count) + " arguments, got " +
                                                 std::to_string(info.Length()));
  }
  template <typename T = void>
  T* ptr(size_t i, bool nullable = false) const {
    const Napi::Value v = info_[i];
    if (v.IsNull() || v.IsUndefined()) {
      if (!nullable) bad(i, "a device pointer");
      return nullptr;
    }
    uint64_t a = 0;
    if (v.IsBigInt()) {
      bool lossless = true;
      a = v.As<Napi::BigInt>().Uint64Value(&lossless);
    } else if (v.IsNumber()) {
      const double d = v.As<Napi::Number>().DoubleValue();
      if (!(d >= 0) || d != (double)(uint64_t)d) bad(i, "a device pointer (integer >= 0)");
      a = (uint64_t)d;
    } else {
      bad(i, nullable ? "a device pointer or null" : "a device pointer");
    }
    if (a == 0 && !nullable) bad(i, "a non-null device pointer");
    return reinterpret_cast<T*>((uintptr_t)a);
  }
  int integer(size_t i) const {
    const double d = number(i);
    if (d != (double)(int)d) bad(i, "an int32 integer");
    return (int)d;
  }
  size_t size(size_t i) const {
    const double d = number(i);
    if (!(d >= 0) || d != (double)(uint64_t)d || d > 9007199254740991.0)
      bad(i, "a byte count (integer >= 0)");
    return (size_t)d;
  }
  float real(size_t i) const { return (float)number(i); }
  double dbl(size_t i) const { return number(i); }
  // Host bytes of a TypedArray / Buffer argument.
  std::pair<uint8_t*, size_t> host(size_t i) const {
    const Napi::Value v = info_[i];
    if (!v.IsTypedArray()) bad(i, "a TypedArray");
    auto arr = v.As<Napi::TypedArray>();
    return {static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), arr.ByteLength()};
  }
  Napi::Env env() const { return info_.Env(); }

 private:
  [[noreturn]] void bad(size_t i, const char* what) const {
    throw Napi::TypeError::New(info_.Env(), std::string("cuda.") + op_ + ": argument " +
                                                std::to_string(i) + " must be " + what);
  }
  double number(size_t i) const {
    if (!info_[i].IsNumber()) bad(i, "a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }
  const Napi::CallbackInfo& info_;
  const char* op_;
};

void check(const CArgs& a, int rc) {
  if (rc != SD_OK) throw Napi::Error::New(a.env(), sdc_last_error());
}
Napi::Value undef(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
Napi::Value addr(Napi::Env env, const void* p) {
  return Napi::Number::New(env, (double)(uintptr_t)p);
}

// ---------------------------------------------------------------- runtime
Napi::Value Info(const Napi::CallbackInfo& info) {
  CArgs a(info, "info", 0);
  std::string s;
  check(a, sdc_device_info(&s));
  return Napi::String::New(info.Env(), s);
}
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  CArgs a(info, "alloc", 1);
  void* p = nullptr;
  check(a, sdc_malloc(a.size(0), &p));
  return addr(info.Env(), p);
}
Napi::Value Free(const Napi::CallbackInfo& info) {
  CArgs a(info, "free", 1);
  check(a, sdc_free(a.ptr(0, true)));
  return undef(info);
}
// upload(dst, typedArray): copies the whole array's bytes to dst.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  CArgs a(info, "upload", 2);
  auto h = a.host(1);
  check(a, sdc_upload(a.ptr(0), h.first, h.second));
  return undef(info);
}
// download(typedArray, src): fills the whole array from src (synchronises).
Napi::Value Download(const Napi::CallbackInfo& info) {
  CArgs a(info, "download", 2);
  auto h = a.host(0);
  check(a, sdc_download(h.first, a.ptr(1), h.second));
  return undef(info);
}
Napi::Value Copy(const Napi::CallbackInfo& info) {
  CArgs a(info, "copy", 3);
  check(a, sdc_copy(a.ptr(0), a.ptr(1), a.size(2)));
  return undef(info);
}
Napi::Value Memset(const Napi::CallbackInfo& info) {
  CArgs a(info, "memset", 3);
  check(a, sdc_memset(a.ptr(0), a.integer(1), a.size(2)));
  return undef(info);
}
Napi::Value Sync(const Napi::CallbackInfo& info) {
  CArgs a(info, "sync", 0);
  check(a, sdc_sync());
  return undef(info);
}
Napi::Value Memory(const Napi::CallbackInfo& info) {
  CArgs a(info, "memory", 0);
  size_t in_use = 0, cached = 0, dev_free = 0, dev_total = 0;
  check(a, sdc_memory(&in_use, &cached, &dev_free, &dev_total));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("inUse", (double)in_use);
  o.Set("cached", (double)cached);
  o.Set("deviceFree", (double)dev_free);
  o.Set("deviceTotal", (double)dev_total);
  return o;
}
Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  CArgs a(info, "empty_cache", 0);
  check(a, sdc_empty_cache());
  return undef(info);
}
Napi::Value GraphBegin(const Napi::CallbackInfo& info) {
  CArgs a(info, "graph_begin", 0);
  check(a, sdc_graph_begin());
  return undef(info);
}
Napi::Value GraphEnd(const Napi::CallbackInfo& info) {
  CArgs a(info, "graph_end", 0);
  int id = -1;
  check(a, sdc_graph_end(&id));
  return Napi::Number::New(info.Env(), id);
}
Napi::Value GraphReplay(const Napi::CallbackInfo& info) {
  CArgs a(info, "graph_replay", 1);
  check(a, sdc_graph_replay(a.integer(0)));
  return undef(info);
}
Napi::Value GraphFree(const Napi::CallbackInfo& info) {
  CArgs a(info, "graph_free", 1);
  check(a, sdc_graph_free(a.integer(0)));
  return undef(info);
}
Napi::Value TimerStart(const Napi::CallbackInfo& info) {
  CArgs a(info, "timer_start", 0);
  check(a, sdc_timer_start());
  return undef(info);
}
Napi::Value TimerStop(const Napi::CallbackInfo& info) {
  CArgs a(info, "timer_stop", 0);
  float ms = 0;
  check(a, sdc_timer_stop(&ms));
  return Napi::Number::New(info.Env(), ms);
}
Napi::Value FillUniform(const Napi::CallbackInfo& info) {
  CArgs a(info, "fill_uniform", 6);
  check(a, sdc_fill_uniform(a.ptr(0), a.integer(1), a.size(2), (uint64_t)a.size(3), a.real(4),
                            a.real(5)));
  return undef(info);
}
Napi::Value Cast(const Napi::CallbackInfo& info) {
  CArgs a(info, "cast", 5);
  check(a, sdc_cast(a.ptr(0), a.integer(1), a.ptr(2), a.integer(3), a.size(4)));
  return undef(info);
}

// ---------------------------------------------------------------- the op set (float32)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  CArgs a(info, "matmul", 10);
  check(a, sdc_matmul(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.integer(3), a.integer(4),
                      a.integer(5), a.integer(6), a.integer(7), a.real(8), a.real(9)));
  return undef(info);
}
Napi::Value AddBias(const Napi::CallbackInfo& info) {
  CArgs a(info, "add_bias", 4);
  check(a, sdc_add_bias(a.ptr<float>(0), a.ptr<float>(1), a.integer(2), a.integer(3)));
  return undef(info);
}
Napi::Value BiasGrad(const Napi::CallbackInfo& info) {
  CArgs a(info, "bias_grad", 4);
  check(a, sdc_bias_grad(a.ptr<float>(0), a.ptr<float>(1), a.integer(2), a.integer(3)));
  return undef(info);
}
Napi::Value Add(const Napi::CallbackInfo& info) {
  CArgs a(info, "add", 4);
  check(a, sdc_add(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.integer(3)));
  return undef(info);
}
Napi::Value Scale(const Napi::CallbackInfo& info) {
  CArgs a(info, "scale", 3);
  check(a, sdc_scale(a.ptr<float>(0), a.real(1), a.integer(2)));
  return undef(info);
}
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  CArgs a(info, "axpy", 4);
  check(a, sdc_axpy(a.real(0), a.ptr<float>(1), a.ptr<float>(2), a.integer(3)));
  return undef(info);
}
Napi::Value Sumsq(const Napi::CallbackInfo& info) {
  CArgs a(info, "sumsq", 2);
  double out = 0;
  check(a, sdc_sumsq(a.ptr<float>(0), a.integer(1), &out));
  return Napi::Number::New(info.Env(), out);
}
Napi::Value EmbeddingFwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "embedding_fwd", 6);
  check(a, sdc_embedding_fwd(a.ptr<int32_t>(0), a.ptr<float>(1), a.ptr<float>(2), a.integer(3),
                             a.integer(4), a.integer(5)));
  return undef(info);
}
Napi::Value EmbeddingBwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "embedding_bwd", 6);
  check(a, sdc_embedding_bwd(a.ptr<int32_t>(0), a.ptr<float>(1), a.ptr<float>(2), a.integer(3),
                             a.integer(4), a.integer(5)));
  return undef(info);
}
Napi::Value RmsnormFwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "rmsnorm_fwd", 7);
  check(a, sdc_rmsnorm_fwd(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.ptr<float>(3, true),
                           a.integer(4), a.integer(5), a.real(6)));
  return undef(info);
}
Napi::Value RmsnormBwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "rmsnorm_bwd", 8);
  check(a, sdc_rmsnorm_bwd(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.ptr<float>(3),
                           a.ptr<float>(4), a.ptr<float>(5, true), a.integer(6), a.integer(7)));
  return undef(info);
}
Napi::Value Rope(const Napi::CallbackInfo& info) {
  CArgs a(info, "rope", 9);
  check(a, sdc_rope(a.ptr<float>(0), a.ptr<int32_t>(1), a.integer(2), a.integer(3), a.integer(4),
                    a.integer(5), a.real(6), a.integer(7), a.integer(8)));
  return undef(info);
}
Napi::Value AttentionFwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "attention_fwd", 15);
  check(a, sdc_attention_fwd(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.ptr<float>(3),
                             a.ptr<float>(4, true), a.integer(5), a.integer(6), a.integer(7),
                             a.integer(8), a.integer(9), a.integer(10), a.integer(11),
                             a.integer(12), a.integer(13), a.real(14)));
  return undef(info);
}
Napi::Value AttentionBwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "attention_bwd", 19);
  check(a, sdc_attention_bwd(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.ptr<float>(3),
                             a.ptr<float>(4), a.ptr<float>(5), a.ptr<float>(6), a.ptr<float>(7),
                             a.ptr<float>(8), a.integer(9), a.integer(10), a.integer(11),
                             a.integer(12), a.integer(13), a.integer(14), a.integer(15),
                             a.integer(16), a.integer(17), a.real(18)));
  return undef(info);
}
Napi::Value SwigluFwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "swiglu_fwd", 4);
  check(a, sdc_swiglu_fwd(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.integer(3)));
  return undef(info);
}
Napi::Value SwigluBwd(const Napi::CallbackInfo& info) {
  CArgs a(info, "swiglu_bwd", 6);
  check(a, sdc_swiglu_bwd(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.ptr<float>(3),
                          a.ptr<float>(4), a.integer(5)));
  return undef(info);
}
Napi::Value Xent(const Napi::CallbackInfo& info) {
  CArgs a(info, "xent", 9);
  check(a, sdc_xent(a.ptr<float>(0), a.ptr<int32_t>(1), a.ptr<float>(2), a.ptr<float>(3),
                    a.ptr<float>(4, true), a.integer(5), a.integer(6), a.integer(7), a.real(8)));
  return undef(info);
}
Napi::Value Adamw(const Napi::CallbackInfo& info) {
  CArgs a(info, "adamw", 12);
  check(a, sdc_adamw(a.ptr<float>(0), a.ptr<float>(1), a.ptr<float>(2), a.ptr<float>(3),
                     a.integer(4), a.real(5), a.real(6), a.real(7), a.real(8), a.real(9),
                     a.real(10), a.integer(11)));
  return undef(info);
}
Napi::Value KvAppend(const Napi::CallbackInfo& info) {
  CArgs a(info, "kv_append", 6);
  check(a, sdc_kv_append(a.ptr<float>(0), a.ptr<float>(1), a.integer(2), a.integer(3), a.integer(4),
                         a.integer(5)));
  return undef(info);
}
Napi::Value DecodeRows(const Napi::CallbackInfo& info) {
  CArgs a(info, "decode_rows", 13);
  check(a, sdc_decode_rows(a.ptr<float>(0), a.integer(1), a.integer(2), a.integer(3), a.integer(4),
                           a.real(5), a.integer(6), a.real(7), a.ptr<float>(8, true),
                           a.ptr<int32_t>(9), a.ptr<float>(10, true), a.ptr<float>(11, true),
                           a.ptr<float>(12, true)));
  return undef(info);
}

// ---------------------------------------------------------------- bf16 inference path
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  CArgs a(info, "gemm_bf16", 9);
  check(a, sdc_gemm_bf16(a.ptr<sdc_bf16>(0), a.ptr<sdc_bf16>(1), a.ptr(2), a.integer(3),
                         a.integer(4), a.integer(5), a.integer(6), a.real(7), a.real(8)));
  return undef(info);
}
Napi::Value RmsnormFwdX(const Napi::CallbackInfo& info) {
  CArgs a(info, "rmsnorm_fwd_x", 8);
  check(a, sdc_rmsnorm_fwd_x(a.ptr<float>(0), a.ptr<float>(1), a.ptr(2), a.integer(3),
                             a.ptr<float>(4, true), a.integer(5), a.integer(6), a.real(7)));
  return undef(info);
}
Napi::Value RopeStrided(const Napi::CallbackInfo& info) {
  CArgs a(info, "rope_strided", 10);
  check(a, sdc_rope_strided(a.ptr<float>(0), a.integer(1), a.ptr<int32_t>(2), a.integer(3),
                            a.integer(4), a.integer(5), a.integer(6), a.real(7), a.integer(8),
                            a.integer(9)));
  return undef(info);
}
Napi::Value KvAppendX(const Napi::CallbackInfo& info) {
  CArgs a(info, "kv_append_x", 8);
  check(a, sdc_kv_append_x(a.ptr(0), a.integer(1), a.ptr<float>(2), a.integer(3), a.integer(4),
                           a.integer(5), a.integer(6), a.integer(7)));
  return undef(info);
}
Napi::Value AttentionFwdX(const Napi::CallbackInfo& info) {
  CArgs a(info, "attention_fwd_x", 18);
  check(a, sdc_attention_fwd_x(a.ptr<float>(0), a.integer(1), a.ptr(2), a.ptr(3), a.integer(4),
                               a.ptr(5), a.integer(6), a.ptr<float>(7, true), a.integer(8),
                               a.integer(9), a.integer(10), a.integer(11), a.integer(12),
                               a.integer(13), a.integer(14), a.integer(15), a.integer(16),
                               a.real(17)));
  return undef(info);
}
Napi::Value SwigluRows(const Napi::CallbackInfo& info) {
  CArgs a(info, "swiglu_rows", 5);
  check(a, sdc_swiglu_rows(a.ptr<float>(0), a.ptr(1), a.integer(2), a.integer(3), a.integer(4)));
  return undef(info);
}
Napi::Value EmbeddingFwdX(const Napi::CallbackInfo& info) {
  CArgs a(info, "embedding_fwd_x", 7);
  check(a, sdc_embedding_fwd_x(a.ptr<int32_t>(0), a.ptr(1), a.integer(2), a.ptr<float>(3),
                               a.integer(4), a.integer(5), a.integer(6)));
  return undef(info);
}

}  // namespace

// Adds exports.cuda (see the file comment). Called from addon.cc's Init under SD_HAVE_CUDA.
void sd_register_cuda(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
  struct Fn {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  const Fn fns[] = {
      {"info", Info},
      {"alloc", Alloc},
      {"free", Free},
      {"upload", Upload},
      {"download", Download},
      {"copy", Copy},
      {"memset", Memset},
      {"sync", Sync},
      {"memory", Memory},
      {"empty_cache", EmptyCache},
      {"graph_begin", GraphBegin},
      {"graph_end", GraphEnd},
      {"graph_replay", GraphReplay},
      {"graph_free", GraphFree},
      {"timer_start", TimerStart},
      {"timer_stop", TimerStop},
      {"fill_uniform", FillUniform},
      {"cast", Cast},
      {"matmul", Matmul},
      {"add_bias", AddBias},
      {"bias_grad", BiasGrad},
      {"add", Add},
      {"scale", Scale},
      {"axpy", Axpy},
      {"sumsq", Sumsq},
      {"embedding_fwd", EmbeddingFwd},
      {"embedding_bwd", EmbeddingBwd},
      {"rmsnorm_fwd", RmsnormFwd},
      {"rmsnorm_bwd", RmsnormBwd},
      {"rope", Rope},
      {"attention_fwd", AttentionFwd},
      {"attention_bwd", AttentionBwd},
      {"swiglu_fwd", SwigluFwd},
      {"swiglu_bwd", SwigluBwd},
      {"xent", Xent},
      {"adamw", Adamw},
      {"kv_append", KvAppend},
      {"decode_rows", DecodeRows},
      {"gemm_bf16", GemmBf16},
      {"rmsnorm_fwd_x", RmsnormFwdX},
      {"rope_strided", RopeStrided},
      {"kv_append_x", KvAppendX},
      {"attention_fwd_x", AttentionFwdX},
      {"swiglu_rows", SwigluRows},
      {"embedding_fwd_x", EmbeddingFwdX},
  };
  for (const Fn& f : fns) c.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  exports.Set("cuda", c);
}
