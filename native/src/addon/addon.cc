// Node-API binding of the op set in include/sd_ops.h.
//
// Every op of the op table (src/bind/op_table.h) is exported under its name without the
// "sd_" prefix and with the C argument order: Float32Array / Int32Array / Uint16Array for
// pointers (null where the header says nullable), numbers for scalars. Argument types and
// every buffer's length against what the shape arguments need are checked here (the table);
// dimensions, ids and scalars again by the C layer (sd_last_error()).
#include <napi.h>

#include <string>

#include "../bind/op_table.h"
#include "sd_ops.h"
#ifdef SD_HAVE_CUDA
#include "../cuda/sd_cuda.h"
void sd_register_cuda(Napi::Env env, Napi::Object exports);  // cuda_bindings.cc
#endif

namespace {

// The addon's CallArgs: typed arrays carry their length, so every buffer is checked against what
// the op needs (src/bind/op_table.h) before a kernel sees it — also for raw calls that bypass the
// TypeScript boundary.
class NapiArgs final : public sdb::CallArgs {
 public:
  NapiArgs(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}
  size_t count() const override { return info_.Length(); }
  sdb::Buf buffer(size_t i, sdb::Elem e, bool nullable) override {
    static const napi_typedarray_type kType[] = {napi_float32_array, napi_int32_array,
                                                 napi_uint16_array};
    static const char* kName[] = {"a Float32Array", "an Int32Array", "a Uint16Array"};
    const int k = static_cast<int>(e);
    const Napi::Value v = info_[i];
    if (nullable && (v.IsNull() || v.IsUndefined())) return {nullptr, 0};
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kType[k])
      bad(i, std::string(kName[k]) + (nullable ? " or null" : ""));
    auto arr = v.As<Napi::TypedArray>();
    void* data = arr.ArrayBuffer().Data();
    // An empty array may have no storage at all; it is still a buffer (of 0 elements), not null.
    static uint64_t empty = 0;
    void* p = data ? static_cast<void*>(static_cast<uint8_t*>(data) + arr.ByteOffset())
                   : static_cast<void*>(&empty);
    return {p, static_cast<int64_t>(arr.ElementLength())};
  }
  int integer(size_t i) override {
    const double d = number(i);
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != (double)(int)d)
      bad(i, "an int32 integer");
    return (int)d;
  }
  float real(size_t i) override { return (float)number(i); }
  void fail(const std::string& message) override {
    throw Napi::RangeError::New(info_.Env(), message);
  }

 private:
  [[noreturn]] void bad(size_t i, const std::string& what) const {
    throw Napi::TypeError::New(
        info_.Env(), std::string(op_) + ": argument " + std::to_string(i) + " must be " + what);
  }
  double number(size_t i) const {
    if (!info_[i].IsNumber()) bad(i, "a number");
    return info_[i].As<Napi::Number>().DoubleValue();
  }
  const Napi::CallbackInfo& info_;
  const char* op_;
};

// One function for every row of the op table; the row rides along as the function's data.
Napi::Value CallOp(const Napi::CallbackInfo& info) {
  const auto* row = static_cast<const sdb::OpRow*>(info.Data());
  NapiArgs a(info, row->name);
  const int rc = sdb::dispatch(*row, a);
  if (rc != SD_OK) throw Napi::Error::New(info.Env(), sd_last_error());
  if (std::string(row->name) == "sumsq") return Napi::Number::New(info.Env(), a.result);
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
  NapiArgs a(info, "set_num_threads");
  if (a.count() != 1) a.fail("set_num_threads: expected 1 argument");
  sd_set_num_threads(a.integer(0));
  return info.Env().Undefined();
}
// cpu_isa(want?) → { isa, supported }: the CPU kernel variant in use (after switching to `want`,
// if given) and those this CPU can run. Builds without runtime dispatch report "native".
#pragma weak sd_cpu_isa
#pragma weak sd_cpu_isa_supported
Napi::Value CpuIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  if (!sd_cpu_isa) {
    if (info.Length() > 0 && info[0].IsString())
      throw Napi::Error::New(env, "cpu_isa: this build has no runtime CPU dispatch");
    o.Set("isa", "native");
    o.Set("supported", Napi::Array::New(env));
    return o;
  }
  std::string want;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "cpu_isa: want must be a string");
    want = info[0].As<Napi::String>().Utf8Value();
  }
  const char* isa = sd_cpu_isa(want.c_str());
  const std::string sup = sd_cpu_isa_supported();
  if (!isa)
    throw Napi::Error::New(
        env, "cpu_isa: '" + want + "' is not a kernel variant this CPU runs (" + sup + ")");
  o.Set("isa", isa);
  Napi::Array arr = Napi::Array::New(env);
  size_t n = 0, p = 0;
  while (p < sup.size()) {
    size_t q = sup.find(' ', p);
    if (q == std::string::npos) q = sup.size();
    arr.Set(n++, sup.substr(p, q - p));
    p = q + 1;
  }
  o.Set("supported", arr);
  return o;
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
#ifndef SD_CUDA_OFF_REASON  // set by CMakeLists.txt: why this build has no CUDA
#define SD_CUDA_OFF_REASON "nvcc not found at build time"
#endif
  o.Set("compiled", false);
  o.Set("devices", 0);
  o.Set("error", "the addon was built without CUDA (" SD_CUDA_OFF_REASON ")");
#endif
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const sdb::OpRow& row : sdb::kOps) {
    exports.Set(row.name,
                Napi::Function::New(env, CallOp, row.name, const_cast<sdb::OpRow*>(&row)));
  }
  exports.Set("build_info", Napi::Function::New(env, BuildInfo));
  exports.Set("get_num_threads", Napi::Function::New(env, GetNumThreads));
  exports.Set("set_num_threads", Napi::Function::New(env, SetNumThreads));
  exports.Set("cuda_info", Napi::Function::New(env, CudaInfo));
  exports.Set("cpu_isa", Napi::Function::New(env, CpuIsa));
#ifdef SD_HAVE_CUDA
  sd_register_cuda(env, exports);  // exports.cuda (src/addon/cuda_bindings.cc)
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(sd_native, Init)
