# facepostIsa.cmake - instruction-set flags and the build machine's CPU, in one place: the library
# target (FACEPOST_BACKEND, FACEPOST_DISPATCH), its pkg-config file, and the programs and tests
# that are built for one kernel set (tests, fuzz, mixed_isa, benchmarks) all take them from here.
# The -m flags are GCC/Clang syntax.
include_guard(GLOBAL)
include(CheckCXXCompilerFlag)

# The definitions that give a portable build runtime dispatch (the CLI, the Python module).
set(FACEPOST_PORTABLE_DEFINITIONS FACEPOST_RUNTIME_DISPATCH)

# facepost_isa_flags(<isa> <out-var>): the compile options that let the compiler target <isa>.
#   scalar, neon  none: the baseline of x86-64 and AArch64 (NEON is part of AArch64)
#   avx2          -mavx2 -mf16c -mfma
#   avx512        -mavx512f -mavx2 -mf16c -mfma
#   x86-64        -march=x86-64: baseline x86-64 whatever the host project's flags
#   native        -march=native, when the compiler takes it and the build is not a cross build
function(facepost_isa_flags isa out)
  if(isa STREQUAL "scalar" OR isa STREQUAL "neon")
    set(_flags)
  elseif(isa STREQUAL "avx2")
    set(_flags -mavx2 -mf16c -mfma)
  elseif(isa STREQUAL "avx512")
    set(_flags -mavx512f -mavx2 -mf16c -mfma)
  elseif(isa STREQUAL "x86-64")
    set(_flags -march=x86-64)
  elseif(isa STREQUAL "native")
    set(_flags)
    if(NOT CMAKE_CROSSCOMPILING)
      check_cxx_compiler_flag(-march=native FACEPOST_HAVE_MARCH_NATIVE)
      if(FACEPOST_HAVE_MARCH_NATIVE)
        set(_flags -march=native)
      endif()
    endif()
  else()
    message(FATAL_ERROR "facepost_isa_flags: unknown instruction set '${isa}'")
  endif()
  set(${out} ${_flags} PARENT_SCOPE)
endfunction()

# facepost_backend_definitions(<backend> <out-var>): FACEPOST_BACKEND_<BACKEND> for a forced
# backend (include/facepost/dispatch.hpp), nothing for auto.
function(facepost_backend_definitions backend out)
  if(backend MATCHES "^(scalar|avx2|avx512|neon)$")
    string(TOUPPER "${backend}" _upper)
    set(${out} FACEPOST_BACKEND_${_upper} PARENT_SCOPE)
  elseif(backend STREQUAL "auto")
    set(${out} "" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "FACEPOST_BACKEND must be auto, scalar, avx2, avx512 or neon (got '${backend}')")
  endif()
endfunction()

# facepost_dispatch_definitions(<static|runtime> <out-var>)
function(facepost_dispatch_definitions dispatch out)
  if(dispatch STREQUAL "runtime")
    set(${out} ${FACEPOST_PORTABLE_DEFINITIONS} PARENT_SCOPE)
  elseif(dispatch STREQUAL "static")
    set(${out} "" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "FACEPOST_DISPATCH must be static or runtime (got '${dispatch}')")
  endif()
endfunction()

# facepost_native_x86_build(<out-var>): TRUE when this build runs its programs on an x86-64 host
# it can probe (/proc/cpuinfo), with a compiler that takes the -m flags above.
function(facepost_native_x86_build out)
  set(_yes FALSE)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang" AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64"
     AND NOT CMAKE_CROSSCOMPILING AND EXISTS /proc/cpuinfo)
    set(_yes TRUE)
  endif()
  set(${out} ${_yes} PARENT_SCOPE)
endfunction()

# facepost_host_isas(<out-var>): the SIMD kernel sets beyond the baseline that this machine runs
# (avx2 needs AVX2 and FMA, avx512 also AVX-512F), best last; empty unless
# facepost_native_x86_build.
function(facepost_host_isas out)
  set(_isas)
  facepost_native_x86_build(_x86)
  if(_x86)
    file(STRINGS /proc/cpuinfo _cpu_flags REGEX "^flags" LIMIT_COUNT 1)
    if(_cpu_flags MATCHES " avx2( |$)" AND _cpu_flags MATCHES " fma( |$)")
      list(APPEND _isas avx2)
      if(_cpu_flags MATCHES " avx512f( |$)")
        list(APPEND _isas avx512)
      endif()
    endif()
  endif()
  set(${out} ${_isas} PARENT_SCOPE)
endfunction()

# facepost_host_best_isa(<out-var>): the last of facepost_host_isas, else scalar.
function(facepost_host_best_isa out)
  facepost_host_isas(_isas)
  set(_best scalar)
  if(_isas)
    list(GET _isas -1 _best)
  endif()
  set(${out} ${_best} PARENT_SCOPE)
endfunction()
