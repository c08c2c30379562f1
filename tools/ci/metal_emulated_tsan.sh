#!/usr/bin/env bash
# tools/ci/metal_emulated_tsan.sh - the Metal shim's tests (tests/metal) under ThreadSanitizer:
# the kernels run with one host thread per GPU thread and the fake metal-cpp runs command
# buffers on a worker thread, so a missing threadgroup_barrier, a threadgroup-memory race or a
# host read before waitUntilCompleted is reported. Builds build-metal-emu-tsan with the host
# compiler only and runs the case set tagged [tsan] at SIMD widths 32 and 8.
#
# Environment:
#   CXX                           the compiler (default g++)
#   FACEPOST_JOBS                 parallel build jobs (default 2)
#   FACEPOST_METAL_TSAN_CASES     Catch2 test spec to run (default "[tsan]")
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
jobs=${FACEPOST_JOBS:-2}
cxx=${CXX:-g++}
cases=${FACEPOST_METAL_TSAN_CASES:-[tsan]}

run() {
  printf '+ %s\n' "$*"
  "$@"
}

quiet=""
if "$cxx" --version | grep -q "Free Software Foundation"; then quiet="-Wno-maybe-uninitialized"; fi
tsan_flags="-fsanitize=thread -fno-omit-frame-pointer"
run cmake -S . -B build-metal-emu-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  "-DCMAKE_CXX_COMPILER=$cxx" -DFACEPOST_METAL_EMULATED=ON -DFACEPOST_BUILD_TESTS=OFF \
  -DFACEPOST_BUILD_TOOLS=OFF -DFACEPOST_BUILD_BENCHMARKS=OFF -DFACEPOST_BUILD_EXAMPLES=OFF -DFACEPOST_PYTHON=OFF \
  -DFACEPOST_FUZZ=OFF -DFACEPOST_INSTALL=OFF "-DCMAKE_CXX_FLAGS=$tsan_flags $quiet" \
  "-DCMAKE_EXE_LINKER_FLAGS=$tsan_flags"
run cmake --build build-metal-emu-tsan -j "$jobs" --target facepost_metal_emulated_tests
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
for width in 32 8; do
  run build-metal-emu-tsan/tests/metal/facepost_metal_emulated_tests --simd-width "$width" "$cases" --durations yes
done
