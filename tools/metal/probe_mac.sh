#!/usr/bin/env bash
# tools/metal/probe_mac.sh - the first run on a Mac (never run yet: no Apple machine was available
# where facepost is developed). Needs Xcode (xcrun metal) and metal-cpp (METAL_CPP=<dir holding
# Foundation/ and Metal/>). It
#   1. compiles the real kernels (flattened, as the host passes them) and probe.metal offline to
#      AIR text and fails if any fused multiply-add appears (the counterpart of the CUDA PTX guard);
#   2. runs probe.metal on the GPU and compares division, contraction and subnormal results bit
#      for bit with the CPU (probe_main.cpp);
#   3. runs the Metal backend's tests on the real GPU if a build is given (FACEPOST_BUILD=<dir>).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${WORK:-$(mktemp -d)}
: "${METAL_CPP:?set METAL_CPP to the metal-cpp directory}"

python3 "$root/tools/embed_metal.py" flatten "$root/include/facepost/metal/kernels.metal" "$work/kernels.metal"
status=0
for src in "$work/kernels.metal" "$here/probe.metal"; do
  name=$(basename "$src" .metal)
  xcrun -sdk macosx metal -std=metal3.2 -fno-fast-math -S -emit-llvm "$src" -o "$work/$name.ll"
  echo "AIR of $name: $work/$name.ll"
  if grep -nE 'llvm\.fma|llvm\.fmuladd|air\.fma|fmul fast|fadd fast|\bcontract\b|\bafn\b|\breassoc\b' "$work/$name.ll"; then
    echo "FAIL: $name's AIR holds a fused multiply-add or fast-math flags"
    status=1
  fi
done
clang++ -std=c++17 -O2 -ffp-contract=off -I"$METAL_CPP" "$here/probe_main.cpp" -o "$work/probe" \
  -framework Metal -framework Foundation -framework QuartzCore
"$work/probe" "$here/probe.metal" || status=1
exit $status
