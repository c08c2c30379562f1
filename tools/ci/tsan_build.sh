# tools/ci/tsan_build.sh - sourced by the *_emulated_tsan.sh scripts: `run` (echo, then run) and
# `tsan_build DIR TARGET [cmake options]`, a host-compiler-only ThreadSanitizer build of one test
# target (RelWithDebInfo at -O1 -g1, every optional part of the project off).
# Environment: CXX (default g++), FACEPOST_JOBS (default 2).

run() {
  printf '+ %s\n' "$*"
  "$@"
}

tsan_build() {
  local dir=$1 target=$2
  shift 2
  local cxx=${CXX:-g++} quiet=""
  if "$cxx" --version | grep -q "Free Software Foundation"; then quiet="-Wno-maybe-uninitialized"; fi
  local tsan_flags="-fsanitize=thread -fno-omit-frame-pointer"
  run cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
    "-DCMAKE_CXX_COMPILER=$cxx" -DFACEPOST_BUILD_TESTS=OFF -DFACEPOST_BUILD_TOOLS=OFF -DFACEPOST_BUILD_BENCHMARKS=OFF \
    -DFACEPOST_BUILD_EXAMPLES=OFF -DFACEPOST_PYTHON=OFF -DFACEPOST_FUZZ=OFF -DFACEPOST_INSTALL=OFF \
    "-DCMAKE_CXX_FLAGS=$tsan_flags $quiet" "-DCMAKE_EXE_LINKER_FLAGS=$tsan_flags" "$@"
  run cmake --build "$dir" -j "${FACEPOST_JOBS:-2}" --target "$target"
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
}
