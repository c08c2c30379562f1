// facepost/isa.hpp - which instruction sets this translation unit compiles, and the namespace
// named after them.
//
// facepost is header-only, so every translation unit (TU) compiles its own copy of the library
// with its own flags. Inline functions of the same name are merged by the linker, which keeps one
// copy: if a TU built with -march=native and a portable TU shared names, the portable TU could end
// up running AVX-512 code. So everything that computes lives in an inline namespace named after
// the TU's instruction-set level and kernel selection (facepost::isa_avx2, isa_sse2,
// isa_dispatch_sse2, ...): facepost::Postprocessor is spelled the same in every TU, but TUs of
// different levels link distinct functions. The plain data types (Params, ImageMapping,
// TensorView, HeadOutputs, Detections, Status, ...) stay in `facepost` so that they pass between
// such TUs; their inline member functions carry FACEPOST_ABI_TAG, which gives them per-level
// symbol names too.
//
// Kernel selection (the `backend`):
//   - compile time (default): the best the compile target allows (-mavx2, -march=native, AArch64
//     NEON), else the portable scalar kernels. Force one with FACEPOST_BACKEND_SCALAR / _AVX2 /
//     _AVX512 / _NEON (CMake -DFACEPOST_BACKEND=...).
//   - run time: define FACEPOST_RUNTIME_DISPATCH (CMake -DFACEPOST_DISPATCH=runtime). A TU whose
//     target has no AVX2 (baseline x86-64) then compiles the scalar, AVX2 and AVX-512 kernels
//     (per-function target attributes) and picks the best the CPU and OS support at first use
//     (dispatch.hpp). Where the target already has AVX2, AVX-512 or NEON, compile-time selection
//     is kept.
#pragma once

#if defined(__FAST_MATH__)
#error "facepost needs IEEE float semantics (NaN and infinity tests, exact roundings): compile the translation units that include it without -ffast-math"
#endif

#define FACEPOST_DETAIL_CAT2(a, b) a##b
#define FACEPOST_DETAIL_CAT(a, b) FACEPOST_DETAIL_CAT2(a, b)
#define FACEPOST_DETAIL_STR2(a) #a
#define FACEPOST_DETAIL_STR(a) FACEPOST_DETAIL_STR2(a)

// ---------------------------------------------------------------------------------------------
// The compile target's level: what plain code of this TU may execute.
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define FACEPOST_ARCH_X86 1
#if defined(__AVX512F__)
#define FACEPOST_DETAIL_LEVEL avx512
#elif defined(__AVX2__)
#define FACEPOST_DETAIL_LEVEL avx2
#elif defined(__AVX__)
#define FACEPOST_DETAIL_LEVEL avx
#elif defined(__SSE4_1__)
#define FACEPOST_DETAIL_LEVEL sse4
#else
#define FACEPOST_DETAIL_LEVEL sse2
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#define FACEPOST_ARCH_ARM64 1
#if defined(__ARM_FEATURE_SVE)
#define FACEPOST_DETAIL_LEVEL sve
#else
#define FACEPOST_DETAIL_LEVEL neon
#endif
#else
#define FACEPOST_DETAIL_LEVEL generic
#endif

// ---------------------------------------------------------------------------------------------
// Kernel selection.
#if defined(FACEPOST_BACKEND_SCALAR)
#define FACEPOST_DETAIL_BACKEND scalar
#elif defined(FACEPOST_BACKEND_AVX512)
#if !defined(__AVX512F__)
#error "FACEPOST_BACKEND_AVX512 needs a compiler target with AVX-512F (e.g. -mavx512f)"
#endif
#define FACEPOST_DETAIL_BACKEND avx512
#elif defined(FACEPOST_BACKEND_AVX2)
#if !defined(__AVX2__)
#error "FACEPOST_BACKEND_AVX2 needs a compiler target with AVX2 (e.g. -mavx2)"
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
#elif defined(FACEPOST_RUNTIME_DISPATCH) && defined(FACEPOST_ARCH_X86) && defined(__x86_64__) && \
    (defined(__GNUC__) || defined(__clang__))
#define FACEPOST_DISPATCH_AT_RUNTIME 1
#define FACEPOST_DETAIL_BACKEND dispatch
#else
#define FACEPOST_DETAIL_BACKEND scalar
#endif

// Which kernel namespaces this TU compiles (scalar always: the reference for the others).
#if defined(FACEPOST_DISPATCH_AT_RUNTIME)
#define FACEPOST_HAVE_AVX2_KERNELS 1
#define FACEPOST_HAVE_AVX512_KERNELS 1
#else
#if defined(__AVX2__) && !defined(FACEPOST_BACKEND_SCALAR)
#define FACEPOST_HAVE_AVX2_KERNELS 1
#endif
#if defined(__AVX512F__) && !defined(FACEPOST_BACKEND_SCALAR) && !defined(FACEPOST_BACKEND_AVX2)
#define FACEPOST_HAVE_AVX512_KERNELS 1
#endif
#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(FACEPOST_BACKEND_SCALAR)
#define FACEPOST_HAVE_NEON_KERNELS 1
#endif
#endif

// ---------------------------------------------------------------------------------------------
// The namespace: isa_<level> when the kernels are the level's own, isa_<backend>_<level> when a
// backend was forced or is dispatched at run time.
#if (defined(FACEPOST_BACKEND_SCALAR) || defined(FACEPOST_BACKEND_AVX2) || defined(FACEPOST_DISPATCH_AT_RUNTIME))
#define FACEPOST_ABI_NS \
  FACEPOST_DETAIL_CAT(FACEPOST_DETAIL_CAT(FACEPOST_DETAIL_CAT(isa_, FACEPOST_DETAIL_BACKEND), _), FACEPOST_DETAIL_LEVEL)
#else
#define FACEPOST_ABI_NS FACEPOST_DETAIL_CAT(isa_, FACEPOST_DETAIL_LEVEL)
#endif
#define FACEPOST_ABI_NAME FACEPOST_DETAIL_STR(FACEPOST_ABI_NS)
#define FACEPOST_ABI_BEGIN inline namespace FACEPOST_ABI_NS {
#define FACEPOST_ABI_END }

// Member functions of the shared data types: per-level symbol names (GCC and clang abi_tag).
#if defined(__GNUC__) || defined(__clang__)
#define FACEPOST_ABI_TAG __attribute__((abi_tag(FACEPOST_ABI_NAME)))
#else
#define FACEPOST_ABI_TAG
#endif

// ---------------------------------------------------------------------------------------------
// Inlining and host/device annotations.
#if defined(__CUDACC__)
#define FACEPOST_HD __host__ __device__
#else
#define FACEPOST_HD
#endif
// Lane operations and the generic algorithms built on them are always inlined into the kernel
// entry points: no out-of-line copy of them exists, and they compile for the entry point's
// instruction set.
#if defined(__CUDACC__)
#define FACEPOST_INLINE __forceinline__
#elif defined(__GNUC__) || defined(__clang__)
#define FACEPOST_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define FACEPOST_INLINE __forceinline
#else
#define FACEPOST_INLINE inline
#endif

// ---------------------------------------------------------------------------------------------
// Target regions: the kernels of an instruction set the compile target lacks (runtime dispatch)
// are compiled for it function by function. Every function defined between BEGIN and END,
// templates and lambdas included, gets the target.
#if defined(FACEPOST_DISPATCH_AT_RUNTIME)
#if defined(__clang__)
#define FACEPOST_TARGET_AVX2_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx2,f16c,bmi,bmi2,lzcnt,popcnt\"))), apply_to = function)")
#define FACEPOST_TARGET_AVX512_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx2,f16c,bmi,bmi2,lzcnt,popcnt\"))), apply_to = function)")
#define FACEPOST_TARGET_END _Pragma("clang attribute pop")
#else
#define FACEPOST_TARGET_AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,f16c,bmi,bmi2,lzcnt,popcnt\")")
#define FACEPOST_TARGET_AVX512_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx2,f16c,bmi,bmi2,lzcnt,popcnt\")")
#define FACEPOST_TARGET_END _Pragma("GCC pop_options")
#endif
#else
#define FACEPOST_TARGET_AVX2_BEGIN
#define FACEPOST_TARGET_AVX512_BEGIN
#define FACEPOST_TARGET_END
#endif
