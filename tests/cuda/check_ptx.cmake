# check_ptx.cmake - cmake -DPTX=<file.ptx> [-DEXPECT_VIOLATIONS=ON] -P check_ptx.cmake
#
# The guard on the CUDA kernels' float arithmetic. Fails unless, in facepost's kernels:
#  - every float32/float64 add/sub/mul carries an explicit rounding mode (.rn), which forbids
#    ptxas from fusing it into an FMA, and no fma/mad appears: each operation rounds where the CPU
#    (arith/*-inl.hpp) rounds it;
#  - no instruction flushes subnormals (.ftz: -ftz=true, -use_fast_math);
#  - no approximate or non-IEEE division, reciprocal, exp2, log2, sqrt or trig (div.approx,
#    div.full, rcp/ex2/lg2/sqrt/rsqrt/sin/cos .approx: -use_fast_math, -prec-div=false).
# With EXPECT_VIOLATIONS=ON it fails unless it finds such instructions (the fast-math build that
# shows the guard working).
if(NOT EXISTS "${PTX}")
  message(FATAL_ERROR "PTX file '${PTX}' not found")
endif()
file(STRINGS "${PTX}" lines)
set(in_facepost FALSE)
set(entries 0)
set(rounded 0)
set(bad "")
foreach(line IN LISTS lines)
  if(line MATCHES "^[.a-z ]*\\.(entry|func)[ \t]")
    if(line MATCHES "_ZN8facepost4cuda")
      set(in_facepost TRUE)
      if(line MATCHES "\\.entry")
        math(EXPR entries "${entries} + 1")
      endif()
    else()
      set(in_facepost FALSE)
    endif()
  endif()
  if(in_facepost)
    if(line MATCHES "[ \t](fma|mad)(\\.[a-z0-9]+)*\\.f(32|64)[ \t]" OR
       line MATCHES "[ \t](add|sub|mul)(\\.sat|\\.ftz)*\\.f(32|64)[ \t]" OR
       line MATCHES "[ \t][a-z0-9]+(\\.[a-z0-9]+)*\\.ftz[ .]" OR
       line MATCHES "[ \t]div\\.(approx|full)" OR
       line MATCHES "[ \t](rcp|ex2|lg2|sqrt|rsqrt|sin|cos|tanh)\\.approx")
      list(APPEND bad "${line}")
    elseif(line MATCHES "[ \t](add|sub|mul)\\.rn\\.f(32|64)[ \t]")
      math(EXPR rounded "${rounded} + 1")
    endif()
  endif()
endforeach()
if(entries LESS 8)
  message(FATAL_ERROR "only ${entries} facepost kernels found in ${PTX}; expected the whole pipeline")
endif()
list(LENGTH bad n)
if(EXPECT_VIOLATIONS)
  if(n EQUAL 0)
    message(FATAL_ERROR "the guard found nothing to refuse in ${PTX}, a build meant to violate it")
  endif()
  list(GET bad 0 first)
  message(STATUS "facepost kernels: the guard refuses this build (${n} instructions, e.g. ${first})")
  return()
endif()
if(rounded LESS 100)
  message(FATAL_ERROR "only ${rounded} rounded floating-point operations found in the facepost kernels; the check is not seeing them")
endif()
if(bad)
  list(JOIN bad "\n" text)
  message(FATAL_ERROR "${n} floating-point instructions that do not round as the CPU in facepost kernels:\n${text}")
endif()
message(STATUS "facepost kernels: ${entries} entries, ${rounded} float add/sub/mul, all with explicit rounding; no FMA, no flush-to-zero, no approximation")
