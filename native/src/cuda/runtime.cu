// The CUDA backend's runtime: lazy device initialisation, one non-blocking stream, a
// caching allocator, the kernel-side error word, copies, graph capture and event timers.
#include <cstdarg>
#include <cstdio>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common.cuh"

namespace sdc {
namespace {
thread_local char g_error[512] = "";
std::mutex g_mu;  // guards init, the allocator and the graph table
Ctx g_ctx;
bool g_ready = false;
std::string g_init_error;

constexpr size_t kWorkspaceBytes = 64u << 20;
constexpr int kCounters = 1 << 16;

// Caching allocator: blocks rounded to size classes, freed blocks kept per class.
std::map<size_t, std::vector<void*>> g_free;  // class size -> free blocks
std::unordered_map<void*, size_t> g_live;     // block -> class size
size_t g_in_use = 0, g_cached = 0;

std::vector<cudaGraphExec_t> g_graphs;
cudaEvent_t g_t0 = nullptr, g_t1 = nullptr;

size_t size_class(size_t bytes) {
  if (bytes < 256) bytes = 256;
  if (bytes <= (1u << 20)) {  // powers of two up to 1 MiB
    size_t c = 256;
    while (c < bytes) c <<= 1;
    return c;
  }
  const size_t g = 2u << 20;  // then whole 2 MiB pages
  return (bytes + g - 1) / g * g;
}

int cuda_fail(const char* what, cudaError_t e) {
  return fail(SD_EDEVICE, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

int init_locked() {
  if (g_ready) return SD_OK;
  if (!g_init_error.empty()) return fail(SD_EDEVICE, "%s", g_init_error.c_str());
  auto give_up = [](const char* what, cudaError_t e) {
    char buf[400];
    snprintf(buf, sizeof buf, "CUDA init: %s: %s (%s)", what, cudaGetErrorString(e),
             cudaGetErrorName(e));
    g_init_error = buf;
    return fail(SD_EDEVICE, "%s", buf);
  };
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return give_up("cudaGetDeviceCount", e);
  if (n == 0) {
    g_init_error = "CUDA init: no CUDA device";
    return fail(SD_EDEVICE, "%s", g_init_error.c_str());
  }
  if ((e = cudaSetDevice(0)) != cudaSuccess) return give_up("cudaSetDevice", e);
  cudaDeviceProp p;
  if ((e = cudaGetDeviceProperties(&p, 0)) != cudaSuccess)
    return give_up("cudaGetDeviceProperties", e);
  g_ctx.sms = p.multiProcessorCount;
  g_ctx.cc_major = p.major;
  g_ctx.cc_minor = p.minor;
  g_ctx.smem_optin = p.sharedMemPerBlockOptin;
  snprintf(g_ctx.name, sizeof g_ctx.name, "%s", p.name);
  if ((e = cudaStreamCreateWithFlags(&g_ctx.stream, cudaStreamNonBlocking)) != cudaSuccess)
    return give_up("cudaStreamCreate", e);
  if ((e = cudaMalloc(&g_ctx.ws, kWorkspaceBytes)) != cudaSuccess)
    return give_up("workspace cudaMalloc", e);
  g_ctx.ws_bytes = kWorkspaceBytes;
  if ((e = cudaMalloc((void**)&g_ctx.counters, sizeof(unsigned) * kCounters)) != cudaSuccess)
    return give_up("counter cudaMalloc", e);
  g_ctx.n_counters = kCounters;
  if ((e = cudaMalloc((void**)&g_ctx.err, sizeof(DevError))) != cudaSuccess)
    return give_up("error-word cudaMalloc", e);
  cudaMemset(g_ctx.counters, 0, sizeof(unsigned) * kCounters);
  cudaMemset(g_ctx.err, 0, sizeof(DevError));
  cudaEventCreate(&g_t0);
  cudaEventCreate(&g_t1);
  if ((e = cudaDeviceSynchronize()) != cudaSuccess) return give_up("cudaDeviceSynchronize", e);
  g_ready = true;
  return SD_OK;
}

const char* err_op_name(int op) {
  switch (op) {
    case kErrEmbFwd:
      return "embedding_fwd: ids";
    case kErrEmbBwd:
      return "embedding_bwd: ids";
    case kErrXent:
      return "xent: targets";
    case kErrXentMask:
      return "xent: targets (equal to the mask id, which has probability 0)";
    case kErrRope:
      return "rope: pos (must be >= 0)";
    case kErrDecode:
      return "decode_rows: row with no finite logit left after the mask/ban ids";
    default:
      return "kernel";
  }
}

// Reads and clears the device error word (after a stream sync).
int check_device_error() {
  DevError h;
  cudaError_t e = cudaMemcpy(&h, g_ctx.err, sizeof h, cudaMemcpyDeviceToHost);
  if (e != cudaSuccess) return cuda_fail("reading the kernel error word", e);
  if (h.code == 0) return SD_OK;
  // Cleared on our stream, so no later launch can race with the reset.
  cudaMemsetAsync(g_ctx.err, 0, sizeof(DevError), g_ctx.stream);
  cudaStreamSynchronize(g_ctx.stream);
  if (h.op == kErrDecode) return fail(SD_EINVAL, "%s (row %d)", err_op_name(h.op), h.index);
  return fail(h.code,
              "%s[%d] = %d is out of range (limit %d; reported by a kernel at the next sync)",
              err_op_name(h.op), h.index, h.value, h.limit);
}

int sync_locked(const char* what) {
  if (g_ctx.capturing)
    return fail(SD_EINVAL, "%s: cannot synchronise while a CUDA graph is being captured", what);
  cudaError_t e = cudaStreamSynchronize(g_ctx.stream);
  if (e != cudaSuccess) return cuda_fail(what, e);
  return check_device_error();
}
}  // namespace

int fail(int code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
  return code;
}

Ctx* ctx() {
  if (g_ready) return &g_ctx;
  std::lock_guard<std::mutex> lock(g_mu);
  return init_locked() == SD_OK ? &g_ctx : nullptr;
}

int launch_check(const char* op) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return cuda_fail(op, e);
  return SD_OK;
}

void* workspace(size_t bytes) { return bytes <= g_ctx.ws_bytes ? g_ctx.ws : nullptr; }

}  // namespace sdc

using namespace sdc;

const char* sdc_last_error() { return g_error; }

int sdc_init() {
  SDC_CTX();
  (void)C;
  return SD_OK;
}

int sdc_device_info(std::string* out) {
  SDC_CTX();
  char buf[400];
  snprintf(buf, sizeof buf, "%s sm_%d%d %d SMs", C->name, C->cc_major, C->cc_minor, C->sms);
  *out = buf;
  return SD_OK;
}

int sdc_malloc(size_t bytes, void** out) {
  SDC_CTX();
  (void)C;
  std::lock_guard<std::mutex> lock(g_mu);
  const size_t cls = size_class(bytes);
  auto it = g_free.find(cls);
  if (it != g_free.end() && !it->second.empty()) {
    *out = it->second.back();
    it->second.pop_back();
    g_cached -= cls;
  } else {
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, cls);
    if (e != cudaSuccess && !g_ctx.capturing) {
      // Give the cache back and try once more.
      cudaGetLastError();
      cudaStreamSynchronize(g_ctx.stream);
      for (auto& kv : g_free)
        for (void* q : kv.second) cudaFree(q);
      g_free.clear();
      g_cached = 0;
      e = cudaMalloc(&p, cls);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      return fail(SD_ENOMEM, "cuda alloc: %zu bytes: %s", bytes, cudaGetErrorString(e));
    }
    *out = p;
  }
  g_live[*out] = cls;
  g_in_use += cls;
  return SD_OK;
}

int sdc_free(void* p) {
  if (!p) return SD_OK;
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_live.find(p);
  if (it == g_live.end())
    return fail(SD_EINVAL, "cuda free: %p was not allocated by this backend (or freed twice)", p);
  g_free[it->second].push_back(p);
  g_in_use -= it->second;
  g_cached += it->second;
  g_live.erase(it);
  return SD_OK;
}

int sdc_empty_cache() {
  SDC_CTX();
  std::lock_guard<std::mutex> lock(g_mu);
  if (C->capturing) return fail(SD_EINVAL, "cuda empty_cache: not while a graph is being captured");
  cudaStreamSynchronize(C->stream);
  for (auto& kv : g_free)
    for (void* q : kv.second) cudaFree(q);
  g_free.clear();
  g_cached = 0;
  return SD_OK;
}

int sdc_memory(size_t* in_use, size_t* cached, size_t* dev_free, size_t* dev_total) {
  SDC_CTX();
  (void)C;
  std::lock_guard<std::mutex> lock(g_mu);
  *in_use = g_in_use;
  *cached = g_cached;
  cudaError_t e = cudaMemGetInfo(dev_free, dev_total);
  if (e != cudaSuccess) return cuda_fail("cudaMemGetInfo", e);
  return SD_OK;
}

int sdc_upload(void* dst, const void* src, size_t bytes) {
  SDC_CTX();
  if (C->capturing) return fail(SD_EINVAL, "cuda upload: not while a graph is being captured");
  if (bytes == 0) return SD_OK;
  cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, C->stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(C->stream);  // the host buffer may go away
  if (e != cudaSuccess) return cuda_fail("cuda upload", e);
  return SD_OK;
}

int sdc_download(void* dst, const void* src, size_t bytes) {
  SDC_CTX();
  if (C->capturing) return fail(SD_EINVAL, "cuda download: not while a graph is being captured");
  if (bytes > 0) {
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, C->stream);
    if (e != cudaSuccess) return cuda_fail("cuda download", e);
  }
  return sync_locked("cuda download");
}

int sdc_copy(void* dst, const void* src, size_t bytes) {
  SDC_CTX();
  if (bytes == 0) return SD_OK;
  cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, C->stream);
  if (e != cudaSuccess) return cuda_fail("cuda copy", e);
  return SD_OK;
}

int sdc_memset(void* dst, int byte, size_t bytes) {
  SDC_CTX();
  if (bytes == 0) return SD_OK;
  cudaError_t e = cudaMemsetAsync(dst, byte, bytes, C->stream);
  if (e != cudaSuccess) return cuda_fail("cuda memset", e);
  return SD_OK;
}

int sdc_sync() {
  SDC_CTX();
  (void)C;
  return sync_locked("cuda sync");
}

int sdc_graph_begin() {
  SDC_CTX();
  if (C->capturing) return fail(SD_EINVAL, "cuda graph_begin: a capture is already open");
  cudaError_t e = cudaStreamBeginCapture(C->stream, cudaStreamCaptureModeRelaxed);
  if (e != cudaSuccess) return cuda_fail("cuda graph_begin", e);
  C->capturing = true;
  return SD_OK;
}

int sdc_graph_end(int* id) {
  SDC_CTX();
  if (!C->capturing) return fail(SD_EINVAL, "cuda graph_end: no capture is open");
  C->capturing = false;
  cudaGraph_t g = nullptr;
  cudaError_t e = cudaStreamEndCapture(C->stream, &g);
  if (e != cudaSuccess) return cuda_fail("cuda graph_end (a launch inside the capture failed?)", e);
  cudaGraphExec_t x = nullptr;
  e = cudaGraphInstantiate(&x, g, 0);
  cudaGraphDestroy(g);
  if (e != cudaSuccess) return cuda_fail("cuda graph instantiate", e);
  std::lock_guard<std::mutex> lock(g_mu);
  for (size_t i = 0; i < g_graphs.size(); ++i)
    if (!g_graphs[i]) {
      g_graphs[i] = x;
      *id = (int)i;
      return SD_OK;
    }
  g_graphs.push_back(x);
  *id = (int)g_graphs.size() - 1;
  return SD_OK;
}

int sdc_graph_replay(int id) {
  SDC_CTX();
  if (id < 0 || id >= (int)g_graphs.size() || !g_graphs[id])
    return fail(SD_EINVAL, "cuda graph_replay: no graph %d", id);
  cudaError_t e = cudaGraphLaunch(g_graphs[id], C->stream);
  if (e != cudaSuccess) return cuda_fail("cuda graph_replay", e);
  return SD_OK;
}

int sdc_graph_free(int id) {
  SDC_CTX();
  (void)C;
  std::lock_guard<std::mutex> lock(g_mu);
  if (id < 0 || id >= (int)g_graphs.size() || !g_graphs[id])
    return fail(SD_EINVAL, "cuda graph_free: no graph %d", id);
  cudaGraphExecDestroy(g_graphs[id]);
  g_graphs[id] = nullptr;
  return SD_OK;
}

int sdc_timer_start() {
  SDC_CTX();
  cudaError_t e = cudaEventRecord(g_t0, C->stream);
  if (e != cudaSuccess) return cuda_fail("cuda timer_start", e);
  return SD_OK;
}

int sdc_timer_stop(float* ms) {
  SDC_CTX();
  cudaError_t e = cudaEventRecord(g_t1, C->stream);
  if (e == cudaSuccess) e = cudaEventSynchronize(g_t1);
  if (e == cudaSuccess) e = cudaEventElapsedTime(ms, g_t0, g_t1);
  if (e != cudaSuccess) return cuda_fail("cuda timer_stop", e);
  return check_device_error();
}

// ---------------------------------------------------------------- fill and cast
namespace sdc_fill {
__device__ __forceinline__ uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}
template <typename T>
__global__ void fill_uniform_kernel(T* p, size_t n, uint64_t seed, float lo, float span) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const uint64_t h = mix64(seed * 0x9e3779b97f4a7c15ull + i);
    const float u = (float)(h >> 40) * (1.0f / 16777216.0f);  // 24 bits in [0, 1)
    store_f<T>(p, i, lo + span * u);
  }
}
template <typename S, typename D>
__global__ void cast_kernel(const S* src, D* dst, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    store_f<D>(dst, i, load_f<S>(src, i));
}
}  // namespace sdc_fill
using namespace sdc_fill;

int sdc_fill_uniform(void* p, int dtype, size_t n, uint64_t seed, float lo, float hi) {
  const char* op = "fill_uniform";
  SDC_PTR(op, "p", p);
  SDC_DTYPE(op, "dtype", dtype);
  SDC_FINITE(op, "lo", lo);
  SDC_FINITE(op, "hi", hi);
  SDC_CTX();
  if (n == 0) return SD_OK;
  const unsigned g = blocks_for(n, 256, (unsigned)C->sms * 16);
  if (dtype == SDC_F32)
    fill_uniform_kernel<float><<<g, 256, 0, C->stream>>>((float*)p, n, seed, lo, hi - lo);
  else
    fill_uniform_kernel<uint16_t><<<g, 256, 0, C->stream>>>((uint16_t*)p, n, seed, lo, hi - lo);
  return launch_check(op);
}

int sdc_cast(const void* src, int src_dtype, void* dst, int dst_dtype, size_t n) {
  const char* op = "cast";
  SDC_PTR(op, "src", src);
  SDC_PTR(op, "dst", dst);
  SDC_DTYPE(op, "src_dtype", src_dtype);
  SDC_DTYPE(op, "dst_dtype", dst_dtype);
  SDC_CTX();
  if (n == 0) return SD_OK;
  const unsigned g = blocks_for(n, 256, (unsigned)C->sms * 16);
  if (src_dtype == SDC_F32 && dst_dtype == SDC_BF16)
    cast_kernel<float, uint16_t><<<g, 256, 0, C->stream>>>((const float*)src, (uint16_t*)dst, n);
  else if (src_dtype == SDC_BF16 && dst_dtype == SDC_F32)
    cast_kernel<uint16_t, float><<<g, 256, 0, C->stream>>>((const uint16_t*)src, (float*)dst, n);
  else if (src_dtype == SDC_F32)
    cast_kernel<float, float><<<g, 256, 0, C->stream>>>((const float*)src, (float*)dst, n);
  else
    cast_kernel<uint16_t, uint16_t>
        <<<g, 256, 0, C->stream>>>((const uint16_t*)src, (uint16_t*)dst, n);
  return launch_check(op);
}
