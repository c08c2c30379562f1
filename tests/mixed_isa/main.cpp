// tests/mixed_isa/main.cpp - a program made of a portable and an AVX2/AVX-512 translation unit
// (part.cpp twice), in either link order. Each part must report and run its own kernels and give
// the golden detections, the two parts the same bits.
//
//   mixed_isa --expect-native avx512 [--portable-only]
// --portable-only runs only the portable part: under `qemu-x86_64 -cpu max` (no AVX-512) the
// program dies with SIGILL if any of the portable part's code is the AVX-512 object's.
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "facepost/facepost.hpp"
#include "facepost/io/npy.hpp"
#include "fixtures.hpp"
#include "part.hpp"

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) ++failures;
}

std::vector<float> load(const std::string& fixture, const char* file) {
  facepost::io::NpyArray a;
  facepost::throw_if_error(facepost::io::read_npy(std::string(FACEPOST_TEST_DATA) + "/" + fixture + "/" + file, a));
  return a.data;
}

}  // namespace

int main(int argc, char** argv) {
  bool portable_only = false;
  std::string expect_native;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--portable-only") == 0) portable_only = true;
    else if (std::strcmp(argv[i], "--expect-native") == 0 && i + 1 < argc) expect_native = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s --expect-native avx2|avx512 [--portable-only]\n", argv[0]);
      return 2;
    }
  }
  // crowd_mnet_native, reference detect.py parameters (tests/data/README.md).
  const std::string fx = "crowd_mnet_native";
  const std::vector<float> loc = load(fx, "loc.npy"), conf = load(fx, "conf.npy"), landms = load(fx, "landms.npy");
  const std::vector<float> golden = load(fx, "golden_reference_detect.npy");
  const std::size_t n = loc.size() / 4;
  const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), n, 4), facepost::TensorView(conf.data(), n, 2),
                                    facepost::TensorView(landms.data(), n, 10)};
  const facepost::AnchorConfig anchors = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
  const facepost::InputSize input{1024, 624};
  const facepost::Params params;
  const facepost::ImageMapping mapping = facepost::ImageMapping::resize(1.f);
  const std::size_t want = golden.size() / facepost::kDetectionCols;

  auto run = [&](const char* name, auto part, const std::string& expect) {
    std::vector<float> rows(want * facepost::kDetectionCols + facepost::kDetectionCols);
    const mixed_isa::PartResult r = part(heads, input, anchors, params, mapping, rows.data(), want + 1);
    std::printf("%s part: backend %s, namespace facepost::%s, %zu detections\n", name, r.backend, r.abi, r.detections);
    check(expect == r.backend, std::string(name) + " part runs the " + expect + " kernels");
    const std::string diff = fixtures::compare_with_golden(rows.data(), r.detections, golden.data(), want);
    check(diff.empty(), std::string(name) + " part gives the golden detections" + (diff.empty() ? "" : ": " + diff));
    rows.resize(r.detections * facepost::kDetectionCols);
    return std::make_pair(std::string(r.abi), rows);
  };
  const auto portable = run("portable", mixed_isa::portable_part, "scalar");
  if (!portable_only) {
    const auto native = run("native", mixed_isa::native_part, expect_native);
    check(native.first != portable.first, "the parts live in different instruction-set namespaces");
    check(native.second == portable.second, "both parts give the same detections bit for bit");
  }
  std::printf("%d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
