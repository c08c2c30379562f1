// The reference port itself reproduces the Python goldens (so it is a faithful stand-in for the
// reference), and facepost equals the port bit for bit on every fixture, golden parameter set and
// a spread of other parameters and mappings.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>

#include "facepost/facepost.hpp"
#include "fixtures.hpp"
#include "reference/random_heads.hpp"
#include "reference/reference_port.hpp"

TEST_CASE("reference port: reproduces every golden of every fixture", "[reference]") {
  for (const fixtures::Fixture& f : fixtures::all()) {
    const fixtures::Heads heads(f.name);
    facepost_ref::Port<> port(f.anchors);
    for (const fixtures::GoldenSet& g : fixtures::golden_sets()) {
      INFO(f.name << " / " << g.name);
      const facepost::io::NpyArray golden = fixtures::load(f.name, std::string("golden_") + g.name + ".npy");
      const facepost_ref::Result& r =
          port.run(heads.view(), f.input, g.params, facepost::ImageMapping::resize(f.resize));
      CHECK(fixtures::compare_with_golden(r.rows.data(), r.size(), golden.data.data(),
                                          std::size_t(golden.shape[0])) == "");
    }
  }
}

TEST_CASE("reference port: the C library's exp gives the same detections on the fixtures", "[reference]") {
  // LibmExp (what the benchmarks' scalar peer may use) differs from the correctly rounded exp by
  // at most one ulp; on the fixtures that moves no detection by more than the golden tolerance.
  const fixtures::Fixture f = fixtures::all()[0];
  const fixtures::Heads heads(f.name);
  facepost_ref::Port<facepost_ref::LibmExp> port(f.anchors);
  const fixtures::GoldenSet g = fixtures::golden_sets()[0];
  const facepost::io::NpyArray golden = fixtures::load(f.name, std::string("golden_") + g.name + ".npy");
  const facepost_ref::Result& r = port.run(heads.view(), f.input, g.params, facepost::ImageMapping::resize(f.resize));
  CHECK(fixtures::compare_with_golden(r.rows.data(), r.size(), golden.data.data(), std::size_t(golden.shape[0])) ==
        "");
}

TEST_CASE("reference port: facepost equals the port bit for bit on the fixtures", "[reference][property]") {
  std::mt19937 rng(4242);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (const fixtures::Fixture& f : fixtures::all()) {
    const fixtures::Heads heads(f.name);
    facepost_ref::Port<> port(f.anchors);
    facepost::Postprocessor post(f.anchors);
    std::vector<std::pair<std::string, facepost::Params>> sets;
    for (const fixtures::GoldenSet& g : fixtures::golden_sets()) sets.emplace_back(g.name, g.params);
    for (int k = 0; k < 6; ++k) {
      facepost::Params p;
      p.score_threshold = k == 0 ? 0.f : 0.01f + unit(rng) * 0.6f;
      p.nms_threshold = k == 1 ? 0.0 : k == 2 ? 1.0 : double(unit(rng));
      p.iou = k % 2 ? facepost::IouConvention::continuous : facepost::IouConvention::legacy_pixel;
      p.top_k = k == 0 ? 3000 : k == 3 ? 300 : 0;  // threshold 0: every row is a candidate
      p.keep_top_k = k == 4 ? 40 : 0;
      sets.emplace_back("random " + std::to_string(k), p);
    }
    const facepost::ImageMapping mappings[] = {facepost::ImageMapping::resize(f.resize),
                                               facepost::ImageMapping::letterbox(0.37f, 0.61f, 13.f, -9.5f),
                                               facepost::ImageMapping::resize(f.resize).clip_to(500.f, 300.f)};
    for (const auto& set : sets)
      for (const facepost::ImageMapping& m : mappings) {
        INFO(f.name << " / " << set.first << " / mapping scale " << m.scale_x);
        post.set_params(set.second);
        const facepost::Detections d = post.run(heads.view(), f.input, m);
        const facepost_ref::Result& r = port.run(heads.view(), f.input, set.second, m);
        REQUIRE(d.size() == r.size());
        CHECK(post.stats().candidates == r.candidates);
        CHECK(facepost_test::same_bytes(d.data(), r.rows.data(), r.rows.size() * sizeof(float)));
        bool same_prior = true;
        for (std::size_t i = 0; i < d.size(); ++i) same_prior = same_prior && d.prior_index(i) == r.prior[i];
        CHECK(same_prior);
      }
  }
}
