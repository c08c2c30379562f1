#!/usr/bin/env bash
# tools/ci/fuzz.sh - builds facepost's libFuzzer targets with clang and runs each for a bounded
# time over its seed corpus and past crashes (tests/fuzz/corpus, tests/fuzz/regressions).
# Prints the executions per target; fails if any target finds a crash, a leak, a timeout or an
# invariant violation (the input is then under build-fuzz/tests/fuzz/artifacts/: add it to
# tests/fuzz/regressions/<corpus>/ with the fix).
#
# Run from anywhere in a clone; installs nothing (tools/install-deps.sh does).
# Environment:
#   FACEPOST_FUZZ_SECONDS   seconds per target (default 60)
#   FACEPOST_FUZZ_PARALLEL  targets run at once, one core each (default 2)
#   FACEPOST_FUZZ_CXX       the clang++ with libFuzzer (default clang++-14)
#   FACEPOST_JOBS           parallel build jobs (default 2)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seconds=${FACEPOST_FUZZ_SECONDS:-60}
parallel=${FACEPOST_FUZZ_PARALLEL:-2}
cxx=${FACEPOST_FUZZ_CXX:-clang++-14}
jobs=${FACEPOST_JOBS:-2}
build=build-fuzz

run() {
  printf '+ %s\n' "$*"
  "$@"
}

# The fuzz preset of CMakePresets.json (its binaryDir is build-fuzz), with this compiler.
run cmake --preset fuzz "-DCMAKE_CXX_COMPILER=$cxx"
run cmake --build --preset fuzz -j "$jobs"

dir=$build/tests/fuzz
# tests/fuzz/CMakeLists.txt writes <target>.args: libFuzzer options and corpus folders, one a line.
mapfile -t targets < <(cd "$dir" && ls -- *.args | sed 's/\.args$//')
if [ ${#targets[@]} -eq 0 ]; then
  echo "error: no fuzz targets were configured under $dir" >&2
  exit 1
fi
mkdir -p "$dir/artifacts"

# Runs one target; its libFuzzer output goes to <target>.log, its exit status to <target>.rc.
fuzz_target() {
  local target=$1 a
  local work=$dir/ci-corpus/$target  # new inputs go here; the committed corpus is only read
  local -a args corpora options
  mapfile -t args < "$dir/$target.args"
  rm -rf "$work"
  mkdir -p "$work"
  corpora=("$work")
  options=()
  for a in "${args[@]}"; do
    if [[ $a == -* ]]; then
      options+=("$a")
    elif [ -d "$a" ]; then
      corpora+=("$a")
    fi
  done
  local rc=0
  run "$dir/$target" "${options[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$target-" "${corpora[@]}" > "$dir/$target.log" 2>&1 || rc=$?
  echo "$rc" > "$dir/$target.rc"
}

echo "== running ${#targets[@]} targets for ${seconds} s each, $parallel at a time"
for ((i = 0; i < ${#targets[@]}; i += parallel)); do
  for target in "${targets[@]:i:parallel}"; do
    fuzz_target "$target" &
  done
  wait
done

failed=()
echo "== executions per target"
for target in "${targets[@]}"; do
  log=$dir/$target.log
  rc=$(cat "$dir/$target.rc")
  # libFuzzer's final statistics, else its last "#N DONE" line.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ -z "$execs" ]; then
    execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n 1)
  fi
  line="$target: ${execs:-?} executions in ${seconds} s, $(find "$dir/ci-corpus/$target" -type f | wc -l) new inputs"
  if [ "$rc" -ne 0 ]; then
    failed+=("$target")
    echo "---- $target failed (exit $rc); end of $log:"
    grep -v -e '^#' -e 'NEW_FUNC' "$log" | tail -n 40
    line="$line: FAILED (exit $rc)"
  fi
  echo "$line"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "error: findings in ${failed[*]}; inputs under $dir/artifacts/" >&2
  exit 1
fi
echo "no findings"
