#!/usr/bin/env bash
# tools/ci/sanitizers.sh - facepost's test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan), then the tests labelled `threads` under ThreadSanitizer (build-tsan).
#
# Run from anywhere in a clone; installs nothing (tools/install-deps.sh does). Any sanitizer
# report fails the run: -fno-sanitize-recover=all turns UBSan findings into errors, and ASan and
# TSan stop at their first report.
#
# Environment:
#   CXX                    the compiler (default g++)
#   FACEPOST_JOBS          parallel build and test jobs (default 2)
#   FACEPOST_SKIP_TSAN     set to 1 to skip the ThreadSanitizer part
#   FACEPOST_TSAN_TARGETS  targets built for TSan (default facepost_tests: the one with threads)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
jobs=${FACEPOST_JOBS:-2}
cxx=${CXX:-g++}

run() {
  printf '+ %s\n' "$*"
  "$@"
}

# -O1 -g1 halves the compile time of -O2 -g under the sanitizers. NDEBUG is left undefined, so
# Eigen's assertions run too. The Python module is left out: a sanitized extension needs the
# sanitizer runtime preloaded into the interpreter. Benchmarks and CUDA are not tests.
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_CXX_COMPILER=$cxx"
        -DFACEPOST_BUILD_TESTS=ON -DFACEPOST_BUILD_BENCHMARKS=OFF -DFACEPOST_PYTHON=OFF -DFACEPOST_CUDA=OFF
        -DFACEPOST_FUZZ=OFF)
# GCC's -Wmaybe-uninitialized misfires under the sanitizers (in libstdc++'s <regex>, which Catch2
# includes). Warnings are errors, so the warning is off here; the plain build keeps it.
quiet=""
if "$cxx" --version | grep -q "Free Software Foundation"; then quiet="-Wno-maybe-uninitialized"; fi

echo "== ASan + UBSan: the whole test suite (build-asan)"
asan_flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
run cmake -S . -B build-asan "${common[@]}" -DFACEPOST_BUILD_TOOLS=ON -DFACEPOST_BUILD_EXAMPLES=ON \
  "-DCMAKE_CXX_FLAGS=$asan_flags $quiet" "-DCMAKE_EXE_LINKER_FLAGS=$asan_flags"
run cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The install and add_subdirectory consumer tests build a separate project without these flags.
# They test packaging, not memory, and the plain build runs them.
# qemu-user cannot run sanitized programs (their shadow memory clashes with the emulator's): the
# tests labelled qemu run in the plain build only.
# The Metal emulator's fixture x golden-set sweep (90 s in Release) runs in the plain build only;
# its other cases exercise the same kernels here.
run ctest --test-dir build-asan --output-on-failure --no-tests=error -j "$jobs" \
  -E '^facepost_install_|metal emulated: every fixture' -LE qemu

if [ "${FACEPOST_SKIP_TSAN:-0}" = 1 ]; then
  echo "note: FACEPOST_SKIP_TSAN=1, ThreadSanitizer part skipped"
  exit 0
fi

echo "== TSan: the tests labelled 'threads' (build-tsan)"
tsan_flags="-fsanitize=thread -fno-omit-frame-pointer"
read -r -a tsan_targets <<< "${FACEPOST_TSAN_TARGETS:-facepost_tests}"
run cmake -S . -B build-tsan "${common[@]}" -DFACEPOST_BUILD_TOOLS=OFF -DFACEPOST_BUILD_EXAMPLES=OFF \
  "-DCMAKE_CXX_FLAGS=$tsan_flags $quiet" "-DCMAKE_EXE_LINKER_FLAGS=$tsan_flags"
run cmake --build build-tsan -j "$jobs" --target "${tsan_targets[@]}"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# `ctest -N` lists without running: "Total Tests: N".
threads_tests=$(ctest --test-dir build-tsan -N -L threads | sed -n 's/^Total Tests: *//p')
if [ "${threads_tests:-0}" = 0 ]; then
  echo "note: no test of ${tsan_targets[*]} carries the ctest label 'threads' yet, so nothing ran under TSan"
  echo "      (not an error). Label multi-threaded tests, e.g. catch_discover_tests(... TEST_SPEC \"[threads]\""
  echo "      PROPERTIES LABELS threads) or set_tests_properties(... PROPERTIES LABELS threads)."
  exit 0
fi
run ctest --test-dir build-tsan --output-on-failure -L threads -j "$jobs"
