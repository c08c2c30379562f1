// The smallest facepost program: one face on a 32x32 input, through facepost::Postprocessor.
// Exits 0 when the detection is the expected one.
#include <cmath>
#include <cstdio>
#include <vector>

#include <facepost/facepost.hpp>

static_assert(FACEPOST_VERSION ==
                  FACEPOST_VERSION_MAJOR * 10000 + FACEPOST_VERSION_MINOR * 100 + FACEPOST_VERSION_PATCH,
              "FACEPOST_VERSION packs MAJOR.MINOR.PATCH");

int main() {
  const facepost::AnchorConfig anchors = facepost::to_anchor_config(facepost::presets::retinaface_mnet{});
  const facepost::InputSize input{32, 32};
  facepost::Postprocessor post(anchors);
  std::size_t n = 0;  // 4*4*2 + 2*2*2 + 1*1*2 = 42
  facepost::throw_if_error(facepost::count_priors(anchors, input, n));

  // Zero regressions: every box is its prior. Only prior 0 (centre (4,4) px, 16x16 px) is a face.
  std::vector<float> loc(4 * n, 0.f), landms(10 * n, 0.f), conf(2 * n);
  for (std::size_t i = 0; i < n; ++i) conf[2 * i] = 1.f, conf[2 * i + 1] = 0.f;
  conf[0] = 0.1f, conf[1] = 0.9f;
  const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), n, 4), facepost::TensorView(conf.data(), n, 2),
                                    facepost::TensorView(landms.data(), n, 10)};
  facepost::Detections d;
  const facepost::Status s = post.try_run(heads, input, facepost::ImageMapping{}, d);
  if (!s.ok()) {
    std::fprintf(stderr, "facepost %s: %s (%s)\n", FACEPOST_VERSION_STRING, s.message(), facepost::errc_name(s.code()));
    return 1;
  }
  const bool ok = d.size() == 1 && d.prior_index(0) == 0 && d[0].score() == 0.9f && d[0].x1() == -4.f &&
                  d[0].y1() == -4.f && d[0].x2() == 12.f && d[0].y2() == 12.f && d[0].landmark_x(0) == 4.f;
  std::printf("facepost %s (%s backend): %zu detection(s)", FACEPOST_VERSION_STRING, facepost::backend_name(), d.size());
  if (d.size() > 0)
    std::printf(", first %g %g %g %g score %g", double(d[0].x1()), double(d[0].y1()), double(d[0].x2()),
                double(d[0].y2()), double(d[0].score()));
  std::printf(" -> %s\n", ok ? "ok" : "UNEXPECTED");
  return ok ? 0 : 1;
}
