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

Napi::Value RmsnormFwd(const Napi::CallbackInfo& info) {
  Args a(info, "rmsnorm_fwd", 7);
  check(a, sd_rmsnorm_fwd(a.f32(0), a.f32(1), a.f32(2), a.f32(3, true), a.integer(4), a.integer(5),
                          a.real(6)));
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
  exports.Set("rmsnorm_fwd", Napi::Function::New(env, RmsnormFwd));
  exports.Set("build_info", Napi::Function::New(env, BuildInfo));
  exports.Set("get_num_threads", Napi::Function::New(env, GetNumThreads));
  exports.Set("set_num_threads", Napi::Function::New(env, SetNumThreads));
  exports.Set("cuda_info", Napi::Function::New(env, CudaInfo));
  return exports;
}

}  // namespace

NODE_API_MODULE(sd_native, Init)
