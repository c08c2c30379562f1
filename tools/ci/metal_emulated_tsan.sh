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
cases=${FACEPOST_METAL_TSAN_CASES:-[tsan]}
# shellcheck source=tools/ci/tsan_build.sh
source tools/ci/tsan_build.sh
tsan_build build-metal-emu-tsan facepost_metal_emulated_tests -DFACEPOST_METAL_EMULATED=ON -DFACEPOST_CUDA_EMULATED=OFF
for width in 32 8; do
  run build-metal-emu-tsan/tests/metal/facepost_metal_emulated_tests --simd-width "$width" "$cases" --durations yes
done
