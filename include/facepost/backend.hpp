// facepost/backend.hpp - the one place where the CPU kernel set is chosen, at compile time.
//
// Default: the best the compiler target allows (-mavx512f/-mavx2/-march=native, AArch64 NEON),
// else the portable scalar kernels. Force one by defining FACEPOST_BACKEND_SCALAR,
// FACEPOST_BACKEND_AVX2, FACEPOST_BACKEND_AVX512 or FACEPOST_BACKEND_NEON (CMake:
// -DFACEPOST_BACKEND=scalar|avx2|avx512|neon). Every backend gives bit-identical results.
#pragma once

#if defined(FACEPOST_BACKEND_SCALAR)
#define FACEPOST_DETAIL_BACKEND scalar
#elif defined(FACEPOST_BACKEND_AVX512)
#if !defined(__AVX512F__)
#error "FACEPOST_BACKEND_AVX512 needs a compiler target with AVX-512F (e.g. -mavx512f)"
#endif
#define FACEPOST_DETAIL_BACKEND avx512
#elif defined(FACEPOST_BACKEND_AVX2)
#if !defined(__AVX2__)
#error "FACEPOST_BACKEND_AVX2 needs a compiler target with AVX2 (e.g. -mavx2 -mfma)"
#endif
#define FACEPOST_DETAIL_BACKEND avx2
#elif defined(FACEPOST_BACKEND_NEON)
#if !defined(__aarch64__)
#error "FACEPOST_BACKEND_NEON needs an AArch64 target"
#endif
#define FACEPOST_DETAIL_BACKEND neon
#elif defined(__AVX512F__)
#define FACEPOST_DETAIL_BACKEND avx512
#elif defined(__AVX2__)
#define FACEPOST_DETAIL_BACKEND avx2
#elif defined(__aarch64__) && defined(__ARM_NEON)
#define FACEPOST_DETAIL_BACKEND neon
#else
#define FACEPOST_DETAIL_BACKEND scalar
#endif

#include "facepost/kernels/scalar/simd.hpp"  // always: the strided fallback uses it
#if defined(__AVX512F__)
#include "facepost/kernels/avx512/simd.hpp"
#endif
#if defined(__AVX2__)
#include "facepost/kernels/avx2/simd.hpp"
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include "facepost/kernels/neon/simd.hpp"
#endif

namespace facepost {
namespace kernels {
/// The kernel set this translation unit uses.
namespace active = FACEPOST_DETAIL_BACKEND;
}  // namespace kernels

/// Name of the compiled-in CPU backend: "avx512", "avx2", "neon" or "scalar".
inline const char* backend_name() noexcept { return kernels::active::name; }
}  // namespace facepost
