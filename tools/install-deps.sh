#!/usr/bin/env bash
# Installs everything facepost's build, tests, examples and benchmarks use, from Debian 12
# packages. Run as root. Set FACEPOST_SKIP_APT=1 to skip (e.g. when the packages are present).
set -euo pipefail
if [ "${FACEPOST_SKIP_APT:-0}" = 1 ]; then exit 0; fi
packages=(
  cmake g++ make                       # build
  libeigen3-dev                        # the library's one dependency
  pkgconf git                          # install tests: facepost.pc consumer, source tarball
  catch2 libbenchmark-dev              # tests, benchmarks
  pybind11-dev python3-dev python3-numpy python3-pytest  # Python module and its tests
  python3-skbuild python3-venv         # `pip install --no-build-isolation .` into a venv (check.sh 1b)
  libopencv-dev python3-opencv         # detect_faces (cv::dnn), Python pipeline test, OpenCV NMS peer
  python3-matplotlib                   # tools/bench_report.py plot
  python3-skimage                      # python/tests/test_align.py: skimage.transform.SimilarityTransform
  g++-aarch64-linux-gnu qemu-user      # NEON build, run under qemu
  clang-14 libclang-rt-14-dev          # libFuzzer targets
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "+ apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
