// Runtime CPU dispatch (x86-64 addon only; the WASM build and SD_CPU_DISPATCH=OFF builds do not
// compile this file). CMakeLists.txt compiles every src/cpu/*.cpp once per variant (base, avx2,
// avx512) with the public functions renamed sd_<op>__<variant>. Here each public sd_<op> is a
// two-instruction trampoline, `jmp *sd_<op>__ptr(%rip)`, so the caller's arguments pass through
// untouched whatever the signature, and the pointers are set once when the addon loads to the
// widest variant this CPU (and its OS: CPUID + XGETBV, via libgcc) supports. SD_CPU_ISA forces a
// narrower one for comparisons; sd_cpu_isa() switches between calls (tests, benchmarks).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sd_ops.h"

extern "C" {
#define SD_OP(fn)                                           \
  extern decltype(fn) fn##__base, fn##__avx2, fn##__avx512; \
  __attribute__((visibility("hidden"))) void* fn##__ptr = (void*)&fn##__base;
#include "sd_isa_ops.h"
#undef SD_OP
const char* sd_build_info__base(void);
const char* sd_build_info__avx2(void);
const char* sd_build_info__avx512(void);
}

// The trampolines (endbr64 keeps them valid under CET indirect-branch tracking; a NOP elsewhere).
#define SD_OP(fn)                                                               \
  asm(".text\n\t.p2align 4\n\t.globl " #fn "\n\t.type " #fn ", @function\n" #fn \
      ":\n\t"                                                                   \
      "endbr64\n\tjmp *" #fn "__ptr(%rip)\n\t.size " #fn ", .-" #fn "\n");
#include "sd_isa_ops.h"
#undef SD_OP

namespace {

enum Isa { kBase = 0, kAvx2 = 1, kAvx512 = 2 };
const char* const kNames[] = {"base", "avx2", "avx512"};

bool supported(int isa) {
  __builtin_cpu_init();
  switch (isa) {
    case kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512cd") && supported(kAvx2);
    case kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
    default:
      return true;
  }
}

void install(int isa) {
  switch (isa) {
#define SD_OP(fn) fn##__ptr = (void*)&fn##__avx512;
    case kAvx512:
#include "sd_isa_ops.h"
      break;
#undef SD_OP
#define SD_OP(fn) fn##__ptr = (void*)&fn##__avx2;
    case kAvx2:
#include "sd_isa_ops.h"
      break;
#undef SD_OP
#define SD_OP(fn) fn##__ptr = (void*)&fn##__base;
    default:
#include "sd_isa_ops.h"
      break;
#undef SD_OP
  }
}

int g_isa = kBase;
int g_best = kBase;
char g_reason[256] = "";
char g_info[512] = "";

int parse(const char* s) {
  for (int i = 0; i < 3; ++i)
    if (!std::strcmp(s, kNames[i])) return i;
  return -1;
}

__attribute__((constructor)) void choose_at_load() {
  g_best = supported(kAvx512) ? kAvx512 : supported(kAvx2) ? kAvx2 : kBase;
  const char* why = g_best == kAvx512 ? "CPUID: AVX-512 F/BW/DQ/VL/CD"
                    : g_best == kAvx2 ? "CPUID: AVX2+FMA+F16C, no AVX-512"
                                      : "CPUID: no AVX2/FMA";
  int isa = g_best;
  const char* env = std::getenv("SD_CPU_ISA");
  if (env && *env) {
    const int want = parse(env);
    if (want < 0)
      std::snprintf(g_reason, sizeof g_reason, "%s; SD_CPU_ISA=%s ignored (base|avx2|avx512)", why,
                    env);
    else if (want > g_best)
      std::snprintf(g_reason, sizeof g_reason, "%s; SD_CPU_ISA=%s not supported by this CPU", why,
                    env);
    else {
      isa = want;
      std::snprintf(g_reason, sizeof g_reason, "%s; forced by SD_CPU_ISA=%s", why, env);
    }
  } else {
    std::snprintf(g_reason, sizeof g_reason, "%s", why);
  }
  g_isa = isa;
  install(isa);
}

}  // namespace

extern "C" const char* sd_cpu_isa(const char* want) {
  if (want && *want) {
    const int w = parse(want);
    if (w < 0 || w > g_best) return nullptr;
    if (w != g_isa) {
      g_isa = w;
      install(w);
      std::snprintf(g_reason, sizeof g_reason, "set by sd_cpu_isa(\"%s\")", want);
    }
  }
  return kNames[g_isa];
}

extern "C" const char* sd_cpu_isa_supported(void) {
  return g_best == kAvx512 ? "base avx2 avx512" : g_best == kAvx2 ? "base avx2" : "base";
}

extern "C" const char* sd_build_info(void) {
  const char* (*variant)(void) = g_isa == kAvx512 ? sd_build_info__avx512
                                 : g_isa == kAvx2 ? sd_build_info__avx2
                                                  : sd_build_info__base;
  std::snprintf(g_info, sizeof g_info, "%s; isa %s (%s)", variant(), kNames[g_isa], g_reason);
  return g_info;
}
