// Property tests: random anchor configurations, input sizes, parameters, mappings, layouts and
// frames, each compared row for row and bit for bit (==, no tolerance) with the scalar port of
// the reference (tests/reference/reference_port.hpp). Seeds are fixed; a failure names its seed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "facepost/facepost.hpp"
#include "reference/random_heads.hpp"
#include "reference/reference_port.hpp"

namespace {

using facepost::AnchorConfig;
using facepost::ImageMapping;
using facepost::InputSize;
using facepost::Params;
using facepost_test::Layout;
using facepost_test::RandomOptions;

struct Trial {
  AnchorConfig anchors;
  InputSize input;
  Params params;
  ImageMapping mapping;
  RandomOptions options;
};

std::string describe(const Trial& t) {
  std::ostringstream s;
  s << "input " << t.input.width << "x" << t.input.height << ", levels";
  for (const facepost::AnchorLevel& l : t.anchors.levels) {
    s << " [step " << l.step << ":";
    for (int m : l.min_sizes) s << " " << m;
    s << "]";
  }
  s << ", variance " << t.anchors.variance.center << "/" << t.anchors.variance.size << (t.anchors.clip ? ", clip" : "")
    << "; threshold " << t.params.score_threshold
    << (t.params.score_format == facepost::ScoreFormat::logits ? " (logits)" : " (probabilities)") << ", top_k "
    << t.params.top_k << ", nms " << t.params.nms_threshold
    << (t.params.iou == facepost::IouConvention::legacy_pixel ? " legacy" : " continuous") << ", keep_top_k "
    << t.params.keep_top_k << "; mapping scale " << t.mapping.scale_x << "/" << t.mapping.scale_y << " pad "
    << t.mapping.pad_x << "/" << t.mapping.pad_y;
  if (t.mapping.clip) s << " clip " << t.mapping.image_width << "x" << t.mapping.image_height;
  s << "; faces " << t.options.faces << "x" << t.options.max_per_face << ", noise " << t.options.noise
    << (t.options.non_finite ? ", non-finite values" : "");
  return s.str();
}

template <class T>
T pick(std::mt19937& rng, std::initializer_list<T> values) {
  return values.begin()[rng() % values.size()];
}

Trial random_trial(std::mt19937& rng, std::size_t max_priors) {
  auto unit = [](std::mt19937& g) { return facepost_test::uniform01(g); };
  Trial t;
  // Input: 1..700 per side, small sizes more often than uniform.
  auto side = [&]() { return rng() % 5 == 0 ? 1 + int(rng() % 24) : 1 + int(rng() % 700); };
  t.input = {side(), side()};
  // Anchors: 1..5 levels, 1..4 min sizes each, any positive step (not only powers of two).
  const int levels = 1 + int(rng() % 5);
  for (int k = 0; k < levels; ++k) {
    facepost::AnchorLevel l;
    l.step = rng() % 3 == 0 ? 1 + int(rng() % 96) : (4 << (rng() % 5));
    const int sizes = 1 + int(rng() % 4);
    for (int m = 0; m < sizes; ++m) l.min_sizes.push_back(2 + int(rng() % 500));
    t.anchors.levels.push_back(l);
  }
  // Keep the frame affordable: grow the steps until the priors fit.
  for (;;) {
    const std::uint64_t n = facepost_ref::prior_count(t.anchors, t.input);
    if (n <= max_priors) break;
    for (facepost::AnchorLevel& l : t.anchors.levels) l.step = l.step * 2;
  }
  if (rng() % 4 == 0)
    t.anchors.variance = {float(0.05 + 0.3 * unit(rng)), float(0.1 + 0.3 * unit(rng))};
  t.anchors.clip = rng() % 4 == 0;

  Params& p = t.params;
  p.score_format = rng() % 2 ? facepost::ScoreFormat::logits : facepost::ScoreFormat::probabilities;
  switch (rng() % 7) {
    case 0: p.score_threshold = 0.f; break;
    case 1: p.score_threshold = 1.f; break;
    case 2: p.score_threshold = 0.5f; break;
    case 3: p.score_threshold = 0.999f; break;
    case 4: p.score_threshold = 0.02f; break;
    default: p.score_threshold = float(unit(rng)); break;
  }
  switch (rng() % 7) {
    case 0: p.nms_threshold = 0.0; break;
    case 1: p.nms_threshold = 1.0; break;
    case 2: p.nms_threshold = double(0.4f); break;
    case 3: p.nms_threshold = 0.4; break;
    case 4: p.nms_threshold = 0.5; break;
    default: p.nms_threshold = unit(rng); break;
  }
  p.iou = rng() % 2 ? facepost::IouConvention::continuous : facepost::IouConvention::legacy_pixel;
  p.top_k = pick<std::size_t>(rng, {0, 0, 5000, 1 + rng() % 300, 1});
  p.keep_top_k = pick<std::size_t>(rng, {0, 0, 750, 1 + rng() % 100, 1});

  switch (rng() % 5) {
    case 0: t.mapping = ImageMapping{}; break;
    case 1: t.mapping = ImageMapping::resize(float(0.1 + 3.0 * unit(rng))); break;
    case 2:
      t.mapping = ImageMapping::letterbox(float(0.2 + 2.0 * unit(rng)), float(0.2 + 2.0 * unit(rng)),
                                          float(100.0 * (unit(rng) - 0.3)), float(100.0 * (unit(rng) - 0.3)));
      break;
    case 3:
      t.mapping = ImageMapping::letterbox_fit(1 + int(rng() % 2000), 1 + int(rng() % 2000), t.input.width,
                                              t.input.height);
      break;
    default: t.mapping = ImageMapping::resize(0.4f); break;
  }
  if (rng() % 4 == 0) t.mapping.clip_to(float(1 + rng() % 1500), float(1 + rng() % 1500));

  RandomOptions& o = t.options;
  o.format = p.score_format;
  o.threshold = p.score_threshold;
  o.faces = rng() % 9;
  o.max_per_face = 1 + rng() % 60;
  o.noise = rng() % 250;
  o.near_threshold = rng() % 120;
  o.non_finite = rng() % 6 == 0;
  const Layout layouts[] = {Layout::row_major, Layout::row_major, Layout::padded_rows, Layout::column_major};
  if (rng() % 4 == 0) {
    o.layout_loc = layouts[rng() % 4];
    o.layout_conf = layouts[rng() % 4];
    o.layout_landms = layouts[rng() % 4];
  }
  return t;
}

// First difference between facepost's detections and the port's result, or "".
std::string difference(const facepost::Detections& d, const facepost::RunStats& stats, const facepost_ref::Result& r) {
  std::ostringstream s;
  if (stats.candidates != r.candidates) s << "candidates " << stats.candidates << " != port " << r.candidates << "; ";
  if (stats.ranked != r.ranked) s << "ranked " << stats.ranked << " != port " << r.ranked << "; ";
  if (d.size() != r.size()) {
    s << "rows " << d.size() << " != port " << r.size();
    return s.str();
  }
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d.prior_index(i) != r.prior[i]) {
      s << "row " << i << ": prior " << d.prior_index(i) << " != port " << r.prior[i];
      return s.str();
    }
    for (std::size_t c = 0; c < 15; ++c)
      if (!(d[i].row[c] == r.row(i)[c])) {
        s.precision(9);
        s << "row " << i << " (prior " << r.prior[i] << ") column " << c << ": " << d[i].row[c] << " != port "
          << r.row(i)[c];
        return s.str();
      }
  }
  return s.str();
}

// IoU of two boxes as numpy / torchvision compute it in float32.
float iou_of(const float* a, const float* b, facepost::IouConvention c) {
  const float one = c == facepost::IouConvention::legacy_pixel ? 1.f : 0.f;
  const float area_a = facepost_ref::mul((a[2] - a[0]) + one, (a[3] - a[1]) + one);
  const float area_b = facepost_ref::mul((b[2] - b[0]) + one, (b[3] - b[1]) + one);
  const float w = std::max(0.f, (std::min(a[2], b[2]) - std::max(a[0], b[0])) + one);
  const float h = std::max(0.f, (std::min(a[3], b[3]) - std::max(a[1], b[1])) + one);
  const float inter = facepost_ref::mul(w, h);
  return inter / ((area_a + area_b) - inter);
}

// Sets t.params.nms_threshold to an IoU between two of the boxes that enter NMS in this frame
// (or the double just below or above it). Returns false if no pair overlaps.
bool threshold_from_frame(std::mt19937& rng, facepost_ref::Port<>& port, const facepost_test::OwnedHeads& heads,
                          Trial& t) {
  Params all = t.params;
  all.nms_threshold = 1.0;
  all.iou = facepost::IouConvention::continuous;  // suppresses nothing: every ranked row comes back
  all.keep_top_k = 0;
  ImageMapping unclipped = t.mapping;
  unclipped.clip = false;  // NMS sees the boxes before the clamp
  const facepost_ref::Result& r = port.run(heads.view(), t.input, all, unclipped);
  std::vector<float> ious;
  const std::size_t n = std::min<std::size_t>(r.size(), 40);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const float v = iou_of(r.row(i), r.row(j), t.params.iou);
      if (v > 0.f && v < 1.f) ious.push_back(v);
    }
  if (ious.empty()) return false;
  const double v = ious[rng() % ious.size()];
  const int side = int(rng() % 3);
  t.params.nms_threshold = side == 0 ? v : std::nextafter(v, side == 1 ? 0.0 : 1.0);
  return true;
}

}  // namespace

TEST_CASE("property: random configurations and frames equal the reference port bit for bit", "[property]") {
#ifdef FACEPOST_TEST_EXPECT_BACKEND
  REQUIRE(std::string(facepost::backend_name()) == FACEPOST_TEST_EXPECT_BACKEND);
#endif
#ifndef FACEPOST_TEST_PROPERTY_TRIALS
#define FACEPOST_TEST_PROPERTY_TRIALS 1500
#endif
  const std::uint32_t kTrials = FACEPOST_TEST_PROPERTY_TRIALS;
  std::size_t rows_compared = 0, frames_with_suppression = 0, exact_threshold_frames = 0;
  for (std::uint32_t seed = 1; seed <= kTrials; ++seed) {
    std::mt19937 rng(seed);
    Trial t = random_trial(rng, 60000);
    INFO("seed " << seed << ": " << describe(t));
    facepost::Postprocessor post(t.anchors, t.params);
    facepost_ref::Port<> port(t.anchors);
    const std::vector<float>& priors = port.priors(t.input);
    // Two frames through the same objects (buffers and priors reused), the second sometimes
    // with other parameters.
    for (int frame = 0; frame < 2; ++frame) {
      INFO("frame " << frame);
      if (frame == 1 && rng() % 2) {
        t.params.iou = t.params.iou == facepost::IouConvention::legacy_pixel ? facepost::IouConvention::continuous
                                                                            : facepost::IouConvention::legacy_pixel;
        t.params.keep_top_k = rng() % 2 ? 0 : 1 + rng() % 20;
        post.set_params(t.params);
      }
      const facepost_test::OwnedHeads heads = facepost_test::random_heads(rng, priors, t.anchors.variance, t.options);
      if (rng() % 3 == 0) {
        // An NMS threshold equal to (or one double beside) an IoU that occurs in this frame, so
        // decisions are taken exactly at the threshold.
        if (threshold_from_frame(rng, port, heads, t)) ++exact_threshold_frames;
        post.set_params(t.params);
      }
      INFO("nms threshold " << std::setprecision(17) << t.params.nms_threshold
                            << (t.params.iou == facepost::IouConvention::legacy_pixel ? " legacy" : " continuous")
                            << ", keep_top_k " << t.params.keep_top_k);
      facepost::Detections d;
      const facepost::Status s = post.try_run(heads.view(), t.input, t.mapping, d);
      REQUIRE(s.ok());
      const facepost_ref::Result& r = port.run(heads.view(), t.input, t.params, t.mapping);
      const std::string diff = difference(d, post.stats(), r);
      CHECK(diff == "");
      rows_compared += r.size();
      frames_with_suppression += r.size() < r.ranked;
      for (std::size_t i = 0; i < 15 * d.size(); ++i) REQUIRE(std::isfinite(d.data()[i]));
    }
  }
  // The generator gave NMS real work.
  CHECK(rows_compared > 10000);
  CHECK(frames_with_suppression > kTrials / 2);
  CHECK(exact_threshold_frames > kTrials / 10);
}

TEST_CASE("property: the presets' sizes and parameters on clustered frames", "[property]") {
  // Realistic configurations: every preset, common input sizes, defaults and unlimited, many
  // faces, both conventions; the compile-time preset and the runtime configuration both checked.
  const InputSize sizes[] = {{640, 640}, {640, 359}, {320, 240}, {1024, 624}};
  std::uint32_t seed = 1000;
  for (const InputSize in : sizes)
    for (int preset = 0; preset < 3; ++preset) {
      const AnchorConfig a = preset == 0   ? facepost::to_anchor_config(facepost::presets::retinaface_mnet{})
                             : preset == 1 ? facepost::to_anchor_config(facepost::presets::fd1m_mnet{})
                                           : facepost::to_anchor_config(facepost::presets::fd1m_slim{});
      facepost_ref::Port<> port(a);
      facepost::Postprocessor runtime(a);
      facepost::BasicPostprocessor<facepost::presets::retinaface_mnet> mnet;
      const std::vector<float>& priors = port.priors(in);
      for (int variant = 0; variant < 4; ++variant, ++seed) {
        std::mt19937 rng(seed);
        Params p = variant % 2 ? Params{}.unlimited() : Params{};
        p.iou = variant / 2 ? facepost::IouConvention::continuous : facepost::IouConvention::legacy_pixel;
        RandomOptions o;
        o.faces = 8 + rng() % 30;
        o.max_per_face = 60;
        o.noise = 1500;
        const facepost_test::OwnedHeads heads = facepost_test::random_heads(rng, priors, a.variance, o);
        INFO("seed " << seed << " preset " << preset << " input " << in.width << "x" << in.height << " variant "
                     << variant);
        runtime.set_params(p);
        const ImageMapping m = ImageMapping::resize(0.4f);
        const facepost::Detections d = runtime.run(heads.view(), in, m);
        const facepost_ref::Result& r = port.run(heads.view(), in, p, m);
        CHECK(difference(d, runtime.stats(), r) == "");
        CHECK(r.size() > 20);
        if (preset == 0) {
          mnet.set_params(p);
          const facepost::Detections e = mnet.run(heads.view(), in, m);
          CHECK(difference(e, mnet.stats(), r) == "");
        }
      }
    }
}
