// The WebAssembly module's only way in to the ops: sd_call(op, args, nargs) runs a row of the op
// table (op_table.h) with its arguments read from a double array in linear memory. Buffers are
// byte addresses that must fall inside a live allocation of sd_alloc — a handle table that knows
// each allocation's size — so a forged, freed or short buffer is an error naming the op and the
// argument, never a write outside its allocation. The raw sd_* kernels are not exported.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "../cpu/common.h"
#include "op_table.h"

namespace {

// Live allocations: start address -> size in bytes.
std::map<uintptr_t, size_t>& allocations() {
  static std::map<uintptr_t, size_t> m;
  return m;
}

/** Bytes from p to the end of the live allocation containing it (-1: none). */
int64_t bytes_left(uintptr_t p) {
  auto& m = allocations();
  auto it = m.upper_bound(p);
  if (it == m.begin()) return -1;
  --it;
  const uintptr_t end = it->first + it->second;
  if (p < it->first || p > end) return -1;
  return static_cast<int64_t>(end - p);
}

class WasmArgs final : public sdb::CallArgs {
 public:
  WasmArgs(const char* op, const double* args, size_t n) : op_(op), args_(args), n_(n) {}
  size_t count() const override { return n_; }
  sdb::Buf buffer(size_t i, sdb::Elem e, bool nullable) override {
    const double d = args_[i];
    if (d == 0) {
      if (!nullable) fail(std::string(op_) + ": argument " + std::to_string(i) + " is null");
      return {nullptr, 0};
    }
    const size_t width = e == sdb::Elem::U16 ? 2 : 4;
    if (!(d > 0 && d < 4294967296.0) || d != (double)(uint32_t)d || ((uint32_t)d) % width != 0) {
      fail(std::string(op_) + ": argument " + std::to_string(i) + " is not an aligned address");
      return {nullptr, 0};
    }
    const uintptr_t p = (uint32_t)d;
    const int64_t left = bytes_left(p);
    if (left < 0) {
      fail(std::string(op_) + ": argument " + std::to_string(i) + " (address " + std::to_string(p) +
           ") is not inside a live allocation (a forged or freed tensor)");
      return {nullptr, 0};
    }
    return {reinterpret_cast<void*>(p), left / (int64_t)width};
  }
  int integer(size_t i) override {
    const double d = args_[i];
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != (double)(int)d) {
      fail(std::string(op_) + ": argument " + std::to_string(i) + " must be an int32 integer");
      return 0;
    }
    return (int)d;
  }
  float real(size_t i) override { return (float)args_[i]; }
  void fail(const std::string& message) override {
    if (failed_) return;
    failed_ = true;
    sd::fail(SD_EINVAL, "%s", message.c_str());
  }

 private:
  const char* op_;
  const double* args_;
  size_t n_;
};

double g_result = 0;
size_t g_live_bytes = 0;

}  // namespace

extern "C" {

/** Allocates `bytes` (zeroed, at least 1) and records the allocation; 0 when out of memory. */
__attribute__((export_name("sd_alloc"))) void* sd_alloc(uint32_t bytes) {
  const size_t n = bytes ? bytes : 1;
  void* p = std::calloc(1, n);
  if (p) {
    allocations()[reinterpret_cast<uintptr_t>(p)] = n;
    g_live_bytes += n;
  }
  return p;
}

/** Frees an allocation of sd_alloc; 0 on success, SD_EINVAL for an address that is not one (double
 * free). */
__attribute__((export_name("sd_free"))) int sd_free(void* p) {
  auto& m = allocations();
  auto it = m.find(reinterpret_cast<uintptr_t>(p));
  if (it == m.end()) {
    return sd::fail(SD_EINVAL,
                    "free: address %lu is not a live allocation (freed twice, or forged)",
                    (unsigned long)reinterpret_cast<uintptr_t>(p));
  }
  g_live_bytes -= it->second;
  m.erase(it);
  std::free(p);
  return SD_OK;
}

/** Bytes held by live allocations (what a leak test watches). */
__attribute__((export_name("sd_live_bytes"))) double sd_live_bytes(void) {
  return (double)g_live_bytes;
}

/** 1 when [p, p + bytes) lies inside one live allocation. */
__attribute__((export_name("sd_buffer_ok"))) int sd_buffer_ok(uint32_t p, double bytes) {
  const int64_t left = bytes_left(p);
  return left >= 0 && bytes >= 0 && bytes <= (double)left ? 1 : 0;
}

__attribute__((export_name("sd_op_count"))) int sd_op_count(void) { return (int)sdb::kNumOps; }
__attribute__((export_name("sd_op_name"))) const char* sd_op_name(int i) {
  return i >= 0 && i < (int)sdb::kNumOps ? sdb::kOps[i].name : "";
}

/** Runs op `op` of the table on `nargs` arguments stored as doubles at `args`. */
__attribute__((export_name("sd_call"))) int sd_call(int op, const double* args, int nargs) {
  if (op < 0 || op >= (int)sdb::kNumOps) return sd::fail(SD_EINVAL, "sd_call: no op %d", op);
  sd::clear_error();
  WasmArgs a(sdb::kOps[op].name, args, nargs < 0 ? 0 : (size_t)nargs);
  const int rc = sdb::dispatch(sdb::kOps[op], a);
  g_result = a.result;
  return rc;
}

/** The scalar result of the last sd_call (sumsq). */
__attribute__((export_name("sd_call_result"))) double sd_call_result(void) { return g_result; }

}  // extern "C"
