#!/usr/bin/env bash
# tools/metal/syntax_check.sh METAL_CPP_DIR [extra clang flags] - type-checks the Metal host code
# (include/facepost/metal/postprocess.hpp, through syntax_check_host.cpp) on Linux against real
# metal-cpp headers, with stubs for the few Apple system headers they include (apple_stubs/).
# metal-cpp is not shipped and cannot be downloaded in CI, so this is run by hand. For metal-cpp
# older than macOS 15, pass -DFACEPOST_METAL_CPP_BEFORE_MACOS15.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
metal_cpp=${1:?usage: syntax_check.sh METAL_CPP_DIR [clang flags]}
shift
clang=${CLANGXX:-$(command -v clang++-14 || command -v clang++)}
"$clang" -std=c++17 -fsyntax-only -fblocks -Wall -Wextra -include "$here/apple_stubs/prelude.h" \
  -isystem "$here/apple_stubs" -isystem "$metal_cpp" -I"$here/../../include" -I/usr/include/eigen3 "$@" \
  "$here/syntax_check_host.cpp"
echo "metal host code type-checks against $metal_cpp"
