// facepost/dispatch.hpp - the one place where the CPU kernel set is chosen (isa.hpp says how).
//
//   active_kernels()  the KernelTable everything runs: chosen at compile time, or with runtime
//                     dispatch at first use from the CPU's features (cpu_features.hpp)
//   backend_name()    its name: "avx512", "avx2", "neon" or "scalar"
// Every kernel set gives bit-identical results.
#pragma once

#include "facepost/cpu_features.hpp"
#include "facepost/isa.hpp"
#include "facepost/kernels/scalar/lanes.hpp"
#if defined(FACEPOST_HAVE_AVX2_KERNELS)
#include "facepost/kernels/avx2/lanes.hpp"
#endif
#if defined(FACEPOST_HAVE_AVX512_KERNELS)
#include "facepost/kernels/avx512/lanes.hpp"
#endif
#if defined(FACEPOST_HAVE_NEON_KERNELS)
#include "facepost/kernels/neon/lanes.hpp"
#endif

namespace facepost {
FACEPOST_ABI_BEGIN

namespace detail {
/// The best kernel set this CPU runs among those compiled in.
inline const kernels::KernelTable& select_kernels() noexcept {
#if defined(FACEPOST_DISPATCH_AT_RUNTIME)
  const CpuFeatures cpu = detect_cpu_features();
  if (cpu.avx512) return kernels::avx512::kTable;
  if (cpu.avx2) return kernels::avx2::kTable;
  return kernels::scalar::kTable;
#else
  return kernels::FACEPOST_DETAIL_BACKEND::kTable;
#endif
}
}  // namespace detail

/// The kernels this translation unit runs.
inline const kernels::KernelTable& active_kernels() noexcept {
#if defined(FACEPOST_DISPATCH_AT_RUNTIME)
  static const kernels::KernelTable& table = detail::select_kernels();  // once, thread-safe
  return table;
#else
  return kernels::FACEPOST_DETAIL_BACKEND::kTable;
#endif
}

/// Name of the CPU backend that runs: "avx512", "avx2", "neon" or "scalar".
inline const char* backend_name() noexcept { return active_kernels().name; }

/// True when this translation unit chooses its kernels at run time (FACEPOST_RUNTIME_DISPATCH on
/// a target without AVX2).
constexpr bool runtime_dispatch() noexcept {
#if defined(FACEPOST_DISPATCH_AT_RUNTIME)
  return true;
#else
  return false;
#endif
}

FACEPOST_ABI_END
}  // namespace facepost
