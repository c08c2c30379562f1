// Every fixture x every golden set: facepost reproduces the reference post-processing.
#include <catch2/catch.hpp>

#include "fixtures.hpp"

TEST_CASE("golden: all fixtures x all parameter sets", "[golden]") {
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const fixtures::Heads heads(fx.name);
    facepost::Postprocessor pp(fx.anchors);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets()) {
      const facepost::io::NpyArray golden = fixtures::load(fx.name, std::string("golden_") + gs.name + ".npy");
      pp.set_params(gs.params);
      const facepost::Detections d =
          pp.run(heads.view(), fx.input, facepost::ImageMapping::resize(fx.resize));
      INFO(fx.name << " / " << gs.name);
      REQUIRE(golden.shape.size() == 2);
      REQUIRE(golden.shape[1] == 15);
      const std::string diff =
          fixtures::compare_with_golden(d.data(), d.size(), golden.data.data(), std::size_t(golden.shape[0]));
      CHECK(diff == "");
    }
  }
}
