// Node-API binding of the op set in include/sd_ops.h.
//
// Every op is exported under its name without the "sd_" prefix and with the C
// argument order: Float32Array / Int32Array for pointers (null where the header says
// nullable), numbers for scalars. Argument *types* are checked here; shapes and
// buffer lengths are checked by the TypeScript boundary (native/lib/ops.ts), and
// dimensions, ids and scalars again by the C layer (sd_last_error()).
#include <napi.h>

#include <string>

#include "sd_ops.h"
#ifdef SD_HAVE_CUDA
#include "../cuda/sd_cuda.h"
void sd_register_cuda(Napi::Env env, Napi::Object exports);  // cuda_bindings.cc
#endif

namespace {

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op, size_t count) : info_(info), op_(op) {
    if (info.Length() != count)
      throw Napi::TypeError::New(info.Env(), std::string(op) + ": expected " +
                                                 std::to_string(count) + " arguments, got " +
                                                 std::to_string(info.Length()));
  }
  float* f32(size_t i, bool nullable = false) const {
    return typed<float>(i, napi_float32_array, "Float32Array", nullable);
  }
  int32_t* i32(size_t i, bool nullable = false) const {
    return typed<int32_t>(i, napi_int32_array, "Int32Array", nullable);
  }
  uint16_t* u16(size_t i, bool nullable = false) const {
    return typed<uint16_t>(i, napi_uint16_array, "Uint16Array", nullable);
  }
  int integer(size_t i) const {
    const double d = number(i);
    if (d != (double)(int)d) bad(i, "an int32 integer");
    return (int)d;
  }
  float real(size_t i) const { return (float)number(i); }
  Napi::Env env() const { return info_.Env(); }
  const char* op() const { return op_; }

 private:
  [[noreturn]] void bad(size_t i, const char* what) const {
    throw Napi::TypeError::New(
        info_.Env(), std::string(op_) + ": argument " + std::to_string(i) + " must be " + what);
  }
  double number(size_t i) const {
    if (!info_[i].IsNumber()) bad(i, "a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }
  template <typename T>
  T* typed(size_t i, napi_typedarray_type type, const char* name, bool nullable) const {
    const Napi::Value v = info_[i];
    if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
      bad(i, nullable ? (std::string("a ") + name + " or null").c_str() : name);
    auto arr = v.As<Napi::TypedArray>();
    return reinterpret_cast<T*>(static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset());
  }
  const Napi::CallbackInfo& info_;
  const char* op_;
};

void check(const Args& a, int rc) {
  if (rc != SD_OK) throw Napi::Error::New(a.env(), sd_last_error());
}

// ---------------------------------------------------------------- ops
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Args a(info, "matmul", 10);
  check(a, sd_matmul(a.f32(0), a.f32(1), a.f32(2), a.integer(3), a.integer(4), a.integer(5),
                     a.integer(6), a.integer(7), a.real(8), a.real(9)));
  return info.Env().Undefined();
}

Napi::Value MatmulW16(const Napi::CallbackInfo& info) {
  Args a(info, "matmul_w16", 11);
  check(a, sd_matmul_w16(a.f32(0), a.u16(1), a.f32(2), a.integer(3), a.integer(4), a.integer(5),
                         a.integer(6), a.integer(7), a.real(8), a.real(9), a.integer(10)));
  return info.Env().Undefined();
}

Napi::Value RmsnormFwd(const Napi::CallbackInfo& info) {
  Args a(info, "rmsnorm_fwd", 7);
  check(a, sd_rmsnorm_fwd(a.f32(0), a.f32(1), a.f32(2), a.f32(3, true), a.integer(4), a.integer(5),
                          a.real(6)));
  return info.Env().Undefined();
}

Napi::Value RmsnormBwd(const Napi::CallbackInfo& info) {
  Args a(info, "rmsnorm_bwd", 8);
  check(a, sd_rmsnorm_bwd(a.f32(0), a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.f32(5, true),
                          a.integer(6), a.integer(7)));
  return info.Env().Undefined();
}

Napi::Value AddBias(const Napi::CallbackInfo& info) {
  Args a(info, "add_bias", 4);
  check(a, sd_add_bias(a.f32(0), a.f32(1), a.integer(2), a.integer(3)));
  return info.Env().Undefined();
}

Napi::Value BiasGrad(const Napi::CallbackInfo& info) {
  Args a(info, "bias_grad", 4);
  check(a, sd_bias_grad(a.f32(0), a.f32(1), a.integer(2), a.integer(3)));
  return info.Env().Undefined();
}

Napi::Value Add(const Napi::CallbackInfo& info) {
  Args a(info, "add", 4);
  check(a, sd_add(a.f32(0), a.f32(1), a.f32(2), a.integer(3)));
  return info.Env().Undefined();
}

Napi::Value Scale(const Napi::CallbackInfo& info) {
  Args a(info, "scale", 3);
  check(a, sd_scale(a.f32(0), a.real(1), a.integer(2)));
  return info.Env().Undefined();
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy", 4);
  check(a, sd_axpy(a.real(0), a.f32(1), a.f32(2), a.integer(3)));
  return info.Env().Undefined();
}

// Returns the double (the C out-pointer becomes the return value).
Napi::Value Sumsq(const Napi::CallbackInfo& info) {
  Args a(info, "sumsq", 2);
  double out = 0;
  check(a, sd_sumsq(a.f32(0), a.integer(1), &out));
  return Napi::Number::New(info.Env(), out);
}

Napi::Value EmbeddingFwd(const Napi::CallbackInfo& info) {
  Args a(info, "embedding_fwd", 6);
  check(a,
        sd_embedding_fwd(a.i32(0), a.f32(1), a.f32(2), a.integer(3), a.integer(4), a.integer(5)));
  return info.Env().Undefined();
}

Napi::Value EmbeddingBwd(const Napi::CallbackInfo& info) {
  Args a(info, "embedding_bwd", 6);
  check(a,
        sd_embedding_bwd(a.i32(0), a.f32(1), a.f32(2), a.integer(3), a.integer(4), a.integer(5)));
  return info.Env().Undefined();
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  Args a(info, "rope", 9);
  check(a, sd_rope(a.f32(0), a.i32(1), a.integer(2), a.integer(3), a.integer(4), a.integer(5),
                   a.real(6), a.integer(7), a.integer(8)));
  return info.Env().Undefined();
}

Napi::Value AttentionFwd(const Napi::CallbackInfo& info) {
  Args a(info, "attention_fwd", 15);
  check(a, sd_attention_fwd_v(a.f32(0), a.f32(1), a.f32(2), a.f32(3), a.f32(4, true), a.integer(5),
                              a.integer(6), a.integer(7), a.integer(8), a.integer(9), a.integer(10),
                              a.integer(11), a.integer(12), a.integer(13), a.real(14)));
  return info.Env().Undefined();
}

Napi::Value AttentionBwd(const Napi::CallbackInfo& info) {
  Args a(info, "attention_bwd", 19);
  check(a, sd_attention_bwd_v(a.f32(0), a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.f32(5), a.f32(6),
                              a.f32(7), a.f32(8), a.integer(9), a.integer(10), a.integer(11),
                              a.integer(12), a.integer(13), a.integer(14), a.integer(15),
                              a.integer(16), a.integer(17), a.real(18)));
  return info.Env().Undefined();
}

Napi::Value SwigluFwd(const Napi::CallbackInfo& info) {
  Args a(info, "swiglu_fwd", 4);
  check(a, sd_swiglu_fwd(a.f32(0), a.f32(1), a.f32(2), a.integer(3)));
  return info.Env().Undefined();
}

Napi::Value SwigluBwd(const Napi::CallbackInfo& info) {
  Args a(info, "swiglu_bwd", 6);
  check(a, sd_swiglu_bwd(a.f32(0), a.f32(1), a.f32(2), a.f32(3), a.f32(4), a.integer(5)));
  return info.Env().Undefined();
}

Napi::Value Xent(const Napi::CallbackInfo& info) {
  Args a(info, "xent", 9);
  check(a, sd_xent(a.f32(0), a.i32(1), a.f32(2), a.f32(3), a.f32(4, true), a.integer(5),
                   a.integer(6), a.integer(7), a.real(8)));
  return info.Env().Undefined();
}

Napi::Value Adamw(const Napi::CallbackInfo& info) {
  Args a(info, "adamw", 12);
  check(a, sd_adamw(a.f32(0), a.f32(1), a.f32(2), a.f32(3), a.integer(4), a.real(5), a.real(6),
                    a.real(7), a.real(8), a.real(9), a.real(10), a.integer(11)));
  return info.Env().Undefined();
}

Napi::Value KvAppend(const Napi::CallbackInfo& info) {
  Args a(info, "kv_append", 6);
  check(a,
        sd_kv_append(a.f32(0), a.f32(1), a.integer(2), a.integer(3), a.integer(4), a.integer(5)));
  return info.Env().Undefined();
}

Napi::Value KvScatter(const Napi::CallbackInfo& info) {
  Args a(info, "kv_scatter", 6);
  check(a, sd_kv_scatter(a.f32(0), a.f32(1), a.i32(2), a.integer(3), a.integer(4), a.integer(5)));
  return info.Env().Undefined();
}

Napi::Value AttentionPagedFwd(const Napi::CallbackInfo& info) {
  Args a(info, "attention_paged_fwd", 13);
  check(a, sd_attention_paged_fwd(a.f32(0), a.f32(1), a.f32(2), a.f32(3), a.i32(4), a.i32(5),
                                  a.integer(6), a.integer(7), a.integer(8), a.integer(9),
                                  a.integer(10), a.integer(11), a.real(12)));
  return info.Env().Undefined();
}

Napi::Value DecodeRows(const Napi::CallbackInfo& info) {
  Args a(info, "decode_rows", 13);
  check(a, sd_decode_rows(a.f32(0), a.integer(1), a.integer(2), a.integer(3), a.integer(4),
                          a.real(5), a.integer(6), a.real(7), a.f32(8, true), a.i32(9),
                          a.f32(10, true), a.f32(11, true), a.f32(12, true)));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- runtime info
Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), sd_build_info());
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), sd_get_num_threads());
}
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args a(info, "set_num_threads", 1);
  sd_set_num_threads(a.integer(0));
  return info.Env().Undefined();
}
// { compiled, devices, name, error }: never throws, even without a driver.
Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
#ifdef SD_HAVE_CUDA
  std::string why, name;
  const int n = sd_cuda_device_count(&why, &name);
  o.Set("compiled", true);
  o.Set("devices", n);
  if (!name.empty()) o.Set("name", name);
  if (!why.empty()) o.Set("error", why);
#else
  o.Set("compiled", false);
  o.Set("devices", 0);
  o.Set("error", "the addon was built without CUDA (nvcc not found at build time)");
#endif
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul));
  exports.Set("matmul_w16", Napi::Function::New(env, MatmulW16));
  exports.Set("rmsnorm_fwd", Napi::Function::New(env, RmsnormFwd));
  exports.Set("rmsnorm_bwd", Napi::Function::New(env, RmsnormBwd));
  exports.Set("add_bias", Napi::Function::New(env, AddBias));
  exports.Set("bias_grad", Napi::Function::New(env, BiasGrad));
  exports.Set("add", Napi::Function::New(env, Add));
  exports.Set("scale", Napi::Function::New(env, Scale));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("sumsq", Napi::Function::New(env, Sumsq));
  exports.Set("embedding_fwd", Napi::Function::New(env, EmbeddingFwd));
  exports.Set("embedding_bwd", Napi::Function::New(env, EmbeddingBwd));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("attention_fwd", Napi::Function::New(env, AttentionFwd));
  exports.Set("attention_bwd", Napi::Function::New(env, AttentionBwd));
  exports.Set("swiglu_fwd", Napi::Function::New(env, SwigluFwd));
  exports.Set("swiglu_bwd", Napi::Function::New(env, SwigluBwd));
  exports.Set("xent", Napi::Function::New(env, Xent));
  exports.Set("adamw", Napi::Function::New(env, Adamw));
  exports.Set("kv_append", Napi::Function::New(env, KvAppend));
  exports.Set("decode_rows", Napi::Function::New(env, DecodeRows));
  exports.Set("kv_scatter", Napi::Function::New(env, KvScatter));
  exports.Set("attention_paged_fwd", Napi::Function::New(env, AttentionPagedFwd));
  exports.Set("build_info", Napi::Function::New(env, BuildInfo));
  exports.Set("get_num_threads", Napi::Function::New(env, GetNumThreads));
  exports.Set("set_num_threads", Napi::Function::New(env, SetNumThreads));
  exports.Set("cuda_info", Napi::Function::New(env, CudaInfo));
#ifdef SD_HAVE_CUDA
  sd_register_cuda(env, exports);  // exports.cuda (src/addon/cuda_bindings.cc)
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(sd_native, Init)
