#!/usr/bin/env bash
# The whole test suite, as CI runs it (`bash .ci/run` calls this): installs the Debian packages,
# builds and runs every test. Stages, each timed:
#   1. release build: unit, golden, property, CLI, install, Python and example tests, and the
#      golden/backend tests again for every SIMD backend this CPU can run (others skip)
#   1b. the Python package: `pip install --no-build-isolation .` into a fresh venv, python/tests
#      against the installed package (tools/ci/python_package.sh)
#   2. NEON: the test suite cross-compiled for AArch64 and run under qemu-aarch64
#   3. ASan+UBSan build of the test suite; TSan over the threaded batch tests
#   4. libFuzzer targets, each for FACEPOST_FUZZ_SECONDS (default 30)
#   5. CUDA: the CUDA tests compile with nvcc when it is installed (no GPU: device tests skip);
#      the kernels and host code on the CPU emulation (label cuda_emulated), also under TSan
#   6. Metal: the kernels and host code on the MSL shim (label metal_emulated, run in stage 1)
#      under TSan
# The CMake configurations are the presets of CMakePresets.json (release, neon, cuda,
# cuda-emulated; fuzz in tools/ci/fuzz.sh).
# Environment: FACEPOST_SKIP_APT=1 skips apt-get; FACEPOST_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${FACEPOST_JOBS:-2}
export CTEST_OUTPUT_ON_FAILURE=1

stage() { echo; echo "=== $* ($(date +%T))"; }
run() { echo "+ $*"; "$@"; }

stage "dependencies"
bash tools/install-deps.sh

stage "1. release build and tests"
run cmake --preset release
# Configure generates include/facepost/version.hpp from project(VERSION): a version change must
# come with the regenerated header, which plain `-I include` users get.
if git rev-parse --is-inside-work-tree > /dev/null 2>&1 && ! git diff --quiet -- include/facepost/version.hpp; then
  git --no-pager diff -- include/facepost/version.hpp
  echo "error: configure regenerated include/facepost/version.hpp (project(VERSION) changed): commit it" >&2
  exit 1
fi
run cmake --build --preset release -j"$jobs"
run ctest --preset release -j"$jobs"

stage "1b. Python package (pip install into a venv, tests against it)"
run bash tools/ci/python_package.sh

stage "2. NEON (aarch64 cross build under qemu)"
run cmake --preset neon
run cmake --build --preset neon -j"$jobs"
run ctest --preset neon -j"$jobs"

stage "3. sanitizers"
run bash tools/ci/sanitizers.sh

stage "4. fuzzing"
FACEPOST_FUZZ_SECONDS=${FACEPOST_FUZZ_SECONDS:-30} run bash tools/ci/fuzz.sh

stage "5. CUDA (compile; device tests skip without a GPU)"
nvcc=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ -x "$nvcc" ]; then
  run cmake --preset cuda -DCMAKE_CUDA_COMPILER="$nvcc"
  run cmake --build --preset cuda -j"$jobs"
  run ctest --preset cuda
  run ctest --preset cuda-emulated-in-cuda -j"$jobs"
else
  echo "nvcc not found: CUDA compilation skipped; the emulated CUDA tests need only the host compiler"
  run cmake --preset cuda-emulated
  run cmake --build --preset cuda-emulated -j"$jobs"
  run ctest --preset cuda-emulated -j"$jobs"
fi
# The emulated CUDA tests need no nvcc: under ThreadSanitizer, the reduced [tsan] case set.
run bash tools/ci/cuda_emulated_tsan.sh

stage "6. Metal (no Mac: the kernels and host code on the MSL shim under ThreadSanitizer)"
# The metal_emulated tests themselves ran in stage 1 (default configuration).
run bash tools/ci/metal_emulated_tsan.sh

stage "all stages passed"
