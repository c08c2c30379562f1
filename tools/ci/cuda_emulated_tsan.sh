#!/usr/bin/env bash
# tools/ci/cuda_emulated_tsan.sh - the CUDA backend's emulated tests (tests/cuda/emu) under
# ThreadSanitizer: the kernels run with one host thread per CUDA thread, so a missing
# __syncthreads, a shared-memory race or a host read before a stream synchronisation is reported.
# Builds build-cuda-emu-tsan with the host compiler only (-DFACEPOST_CUDA_EMULATED=ON: no nvcc)
# and runs the reduced case set tagged [tsan] (the full set is slow under TSan).
#
# Environment:
#   CXX                         the compiler (default g++)
#   FACEPOST_JOBS               parallel build jobs (default 2)
#   FACEPOST_EMU_TSAN_CASES     Catch2 test spec to run (default "[tsan]")
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
jobs=${FACEPOST_JOBS:-2}
cxx=${CXX:-g++}
cases=${FACEPOST_EMU_TSAN_CASES:-[tsan]}

run() {
  printf '+ %s\n' "$*"
  "$@"
}

quiet=""
if "$cxx" --version | grep -q "Free Software Foundation"; then quiet="-Wno-maybe-uninitialized"; fi
tsan_flags="-fsanitize=thread -fno-omit-frame-pointer"
run cmake -S . -B build-cuda-emu-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  "-DCMAKE_CXX_COMPILER=$cxx" -DFACEPOST_CUDA=OFF -DFACEPOST_CUDA_EMULATED=ON -DFACEPOST_BUILD_TESTS=OFF \
  -DFACEPOST_BUILD_TOOLS=OFF -DFACEPOST_BUILD_BENCHMARKS=OFF -DFACEPOST_BUILD_EXAMPLES=OFF -DFACEPOST_PYTHON=OFF \
  -DFACEPOST_FUZZ=OFF -DFACEPOST_INSTALL=OFF "-DCMAKE_CXX_FLAGS=$tsan_flags $quiet" \
  "-DCMAKE_EXE_LINKER_FLAGS=$tsan_flags"
run cmake --build build-cuda-emu-tsan -j "$jobs" --target facepost_cuda_emulated_tests
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
run build-cuda-emu-tsan/tests/cuda/emu/facepost_cuda_emulated_tests "$cases" --durations yes
