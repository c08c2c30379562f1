// tests/consumer/strict_consumer.cpp - a consumer built the strictest way a user might build:
// -fno-exceptions and -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Werror,
// with g++ and clang (tests/CMakeLists.txt). It uses the no-throw API, which must compile and
// work without exceptions, and checks that bad input still comes back as a Status.
#include <facepost/facepost.hpp>

#include <cstdio>
#include <vector>

int main() {
  const facepost::AnchorConfig anchors = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
  const facepost::InputSize input{320, 240};
  std::size_t rows = 0;
  if (!facepost::count_priors(anchors, input, rows).ok()) return 1;
  std::vector<float> loc(rows * 4, 0.f), conf(rows * 2, 0.f), landms(rows * 10, 0.f);
  for (std::size_t r = 0; r < rows; ++r) conf[2 * r] = 1.f;  // background everywhere
  conf[1] = 0.9f;                                            // one face
  conf[0] = 0.1f;
  const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), rows, 4), facepost::TensorView(conf.data(), rows, 2),
                                    facepost::TensorView(landms.data(), rows, 10)};

  facepost::Postprocessor pp(anchors);
  facepost::Detections out;
  facepost::Status s = pp.try_run(heads, input, facepost::ImageMapping::resize(1.f), out);
  if (!s.ok() || out.size() != 1) {
    std::printf("try_run: %s, %zu detections\n", s.message(), out.size());
    return 1;
  }
  facepost::BatchPostprocessor batch(anchors);
  s = batch.try_run(&heads, 1, input, facepost::ImageMapping::resize(1.f));
  if (!s.ok() || batch.result(0).size() != 1) return 1;
  // Bad input: the wrong size gives a Status naming the problem, not an exception.
  s = pp.try_run(heads, facepost::InputSize{640, 480}, facepost::ImageMapping::resize(1.f), out);
  if (s.ok() || s.code() != facepost::Errc::prior_count_mismatch) return 1;
  std::printf("strict consumer: ok (%s)\n", s.message());
  return 0;
}
