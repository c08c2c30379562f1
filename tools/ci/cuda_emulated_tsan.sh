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
cases=${FACEPOST_EMU_TSAN_CASES:-[tsan]}
# shellcheck source=tools/ci/tsan_build.sh
source tools/ci/tsan_build.sh
tsan_build build-cuda-emu-tsan facepost_cuda_emulated_tests -DFACEPOST_CUDA=OFF -DFACEPOST_CUDA_EMULATED=ON -DFACEPOST_METAL_EMULATED=OFF
run build-cuda-emu-tsan/tests/cuda/emu/facepost_cuda_emulated_tests "$cases" --durations yes
