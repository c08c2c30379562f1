// facepost/cpu_features.hpp - what the CPU and the operating system let this process run (x86:
// CPUID, plus XGETBV for the register state the OS saves on a context switch).
#pragma once

#include "facepost/isa.hpp"

#if defined(FACEPOST_ARCH_X86) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace facepost {
FACEPOST_ABI_BEGIN
namespace detail {

struct CpuFeatures {
  bool avx2 = false;    ///< AVX2, F16C, BMI1/2, LZCNT, POPCNT (x86-64-v3 less FMA), YMM state saved by the OS
  bool avx512 = false;  ///< AVX-512 F/BW/CD/DQ/VL on top of avx2 (x86-64-v4), ZMM state saved by the OS
};

inline CpuFeatures detect_cpu_features() noexcept {
  CpuFeatures f;
#if defined(FACEPOST_ARCH_X86) && (defined(__GNUC__) || defined(__clang__))
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1u, avx = (c >> 28) & 1u, popcnt = (c >> 23) & 1u, f16c = (c >> 29) & 1u;
  if (!osxsave || !avx || !popcnt || !f16c) return f;
  unsigned xcr0_lo = 0;  // the state bits facepost needs are all in the low word
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo) : "c"(0) : "edx");
  const bool ymm_state = (xcr0_lo & 0x6u) == 0x6u;             // SSE and AVX state
  const bool zmm_state = (xcr0_lo & 0xE6u) == 0xE6u;           // plus opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  unsigned ea = 0, eb = 0, ec = 0, ed = 0;
  const bool lzcnt = __get_cpuid(0x80000001u, &ea, &eb, &ec, &ed) && ((ec >> 5) & 1u);
  __cpuid_count(7, 0, a, b, c, d);
  auto bit = [&](unsigned n) { return ((b >> n) & 1u) != 0; };
  f.avx2 = ymm_state && lzcnt && bit(5) && bit(3) && bit(8);                       // AVX2, BMI1, BMI2
  f.avx512 = f.avx2 && zmm_state && bit(16) && bit(17) && bit(28) && bit(30) && bit(31);  // F DQ CD BW VL
#endif
  return f;
}

}  // namespace detail
FACEPOST_ABI_END
}  // namespace facepost
