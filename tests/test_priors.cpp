// Priors: counts per preset and input size, values computed by hand, double -> float rounding,
// clip, ceil division, and the per-size cache of PriorGrid.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "facepost/facepost.hpp"
#include "reference/reference_port.hpp"

namespace {

using facepost::AnchorConfig;
using facepost::InputSize;
namespace presets = facepost::presets;

template <class Spec>
std::size_t count_of(const Spec& spec, InputSize in) {
  std::size_t n = 0;
  const facepost::Status s = facepost::count_priors(spec, in, n);
  REQUIRE(s.ok());
  return n;
}

AnchorConfig one_level(int step, std::vector<int> min_sizes, bool clip = false) {
  AnchorConfig c;
  c.levels.push_back({step, std::move(min_sizes)});
  c.clip = clip;
  return c;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("priors: count per preset and input size", "[priors]") {
  // sum over levels of ceil(H/step) * ceil(W/step) * (min sizes of the level)
  CHECK(count_of(presets::retinaface_mnet{}, {640, 640}) == 80 * 80 * 2 + 40 * 40 * 2 + 20 * 20 * 2);  // 16800
  CHECK(count_of(presets::retinaface_mnet{}, {1024, 624}) == 128 * 78 * 2 + 64 * 39 * 2 + 32 * 20 * 2);  // 26240
  CHECK(count_of(presets::retinaface_mnet{}, {640, 359}) == 80 * 45 * 2 + 40 * 23 * 2 + 20 * 12 * 2);  // 9520
  CHECK(count_of(presets::fd1m_mnet{}, {1024, 768}) == 128 * 96 * 2 + 64 * 48 * 2 + 32 * 24 * 2);  // 32256
  CHECK(count_of(presets::fd1m_slim{}, {1024, 768}) ==
        128 * 96 * 3 + 64 * 48 * 2 + 32 * 24 * 2 + 16 * 12 * 3);  // 45120
  CHECK(count_of(presets::fd1m_rfb{}, {640, 359}) == 80 * 45 * 3 + 40 * 23 * 2 + 20 * 12 * 2 + 10 * 6 * 3);  // 13300
  CHECK(count_of(presets::retinaface_mnet{}, {1, 1}) == 6);  // one cell per level
  // The runtime configuration of a preset counts the same.
  CHECK(count_of(facepost::to_anchor_config(presets::fd1m_slim{}), {1024, 768}) == 45120);
  // The fixtures' tensors have exactly these row counts (tests/data/*/meta.json num_priors).
  CHECK(count_of(presets::retinaface_mnet{}, {1024, 624}) == 26240);
  CHECK(count_of(presets::fd1m_rfb{}, {640, 359}) == 13300);
}

TEST_CASE("priors: first and last values by hand", "[priors]") {
  facepost::PriorGrid<presets::retinaface_mnet> grid;
  grid.build({640, 640});
  REQUIRE(grid.size() == 16800);
  const auto v = grid.view();
  // Level 0, cell (0,0), min size 16: ((0+0.5)*8/640, (0+0.5)*8/640, 16/640, 16/640).
  CHECK(v(0, 0) == static_cast<float>(0.00625));
  CHECK(v(0, 1) == static_cast<float>(0.00625));
  CHECK(v(0, 2) == static_cast<float>(0.025));
  CHECK(v(0, 3) == static_cast<float>(0.025));
  // Same cell, min size 32.
  CHECK(v(1, 0) == static_cast<float>(0.00625));
  CHECK(v(1, 2) == static_cast<float>(0.05));
  // Cell (0,1): x moves by one step.
  CHECK(v(2, 0) == static_cast<float>(0.01875));
  CHECK(v(2, 1) == static_cast<float>(0.00625));
  // Row 1 of level 0 starts at prior 2 * 80.
  CHECK(v(160, 0) == static_cast<float>(0.00625));
  CHECK(v(160, 1) == static_cast<float>(0.01875));
  // Level 1 starts at 12800: step 16, min size 64.
  CHECK(v(12800, 0) == static_cast<float>(0.0125));
  CHECK(v(12800, 2) == static_cast<float>(0.1));
  // Last: level 2, cell (19,19), min size 512: (19.5*32/640, 19.5*32/640, 512/640, 512/640).
  CHECK(v(16799, 0) == static_cast<float>(0.975));
  CHECK(v(16799, 1) == static_cast<float>(0.975));
  CHECK(v(16799, 2) == static_cast<float>(0.8));
  CHECK(v(16799, 3) == static_cast<float>(0.8));

  // Non-square: x uses the width, y the height.
  grid.build({1024, 624});
  const auto w = grid.view();
  CHECK(w(0, 0) == static_cast<float>(4.0 / 1024));
  CHECK(w(0, 1) == static_cast<float>(4.0 / 624));
  CHECK(w(0, 2) == static_cast<float>(16.0 / 1024));
  CHECK(w(0, 3) == static_cast<float>(16.0 / 624));
  const std::size_t last = grid.size() - 1;  // level 2: 32 x 20 cells, cell (19, 31)
  CHECK(w(Eigen::Index(last), 0) == static_cast<float>(31.5 * 32 / 1024));
  CHECK(w(Eigen::Index(last), 1) == static_cast<float>(19.5 * 32 / 624));  // 1.0: the last row overhangs
  CHECK(w(Eigen::Index(last), 3) == static_cast<float>(512.0 / 624));
}

TEST_CASE("priors: every value is the double expression rounded once to float", "[priors]") {
  // (j+0.5)*step/W and m/W in double, then one rounding to float32 (torch.Tensor(list)). The
  // product is exact, so this is also the correctly rounded quotient: any other association
  // (step/W first, j/fw, ...) would show up here as a changed bit.
  const AnchorConfig cfg = one_level(7, {9, 23});
  const InputSize in{359, 211};
  facepost::PriorGrid<AnchorConfig> grid(cfg);
  grid.build(in);
  const int fw = (359 + 6) / 7, fh = (211 + 6) / 7;
  REQUIRE(grid.size() == std::size_t(fw * fh * 2));
  for (int i = 0; i < fh; ++i)
    for (int j = 0; j < fw; ++j)
      for (int m = 0; m < 2; ++m) {
        const int size = m == 0 ? 9 : 23;
        const float* p = grid.data() + 4 * ((std::size_t(i) * fw + j) * 2 + m);
        const double cx = (j + 0.5) * 7 / 359.0, cy = (i + 0.5) * 7 / 211.0;
        CHECK(same_bits(p[0], static_cast<float>(cx)));
        CHECK(same_bits(p[1], static_cast<float>(cy)));
        CHECK(same_bits(p[2], static_cast<float>(size / 359.0)));
        CHECK(same_bits(p[3], static_cast<float>(size / 211.0)));
      }
}

TEST_CASE("priors: ceil division for sizes that are not multiples of the step", "[priors]") {
  const AnchorConfig cfg = one_level(32, {16});
  CHECK(count_of(cfg, {640, 640}) == 20 * 20);
  CHECK(count_of(cfg, {641, 640}) == 21 * 20);
  CHECK(count_of(cfg, {641, 641}) == 21 * 21);
  CHECK(count_of(cfg, {31, 33}) == 1 * 2);
  CHECK(count_of(cfg, {1, 1}) == 1);
  facepost::PriorGrid<AnchorConfig> grid(cfg);
  grid.build({641, 33});
  REQUIRE(grid.size() == 21 * 2);
  // Column 20 of 641 px: centre (20.5*32)/641 > 1 (the partial cell's centre lies outside).
  CHECK(grid.data()[4 * 20 + 0] == static_cast<float>(20.5 * 32 / 641));
  CHECK(grid.data()[4 * 20 + 0] > 1.f);
  CHECK(grid.data()[4 * 21 + 1] == static_cast<float>(1.5 * 32 / 33));
}

TEST_CASE("priors: clip clamps every value to [0, 1] after rounding", "[priors]") {
  // 10x10 input, step 8: two cells per axis, the second centred at 1.2; min size 256 -> 25.6.
  facepost::PriorGrid<AnchorConfig> clipped(one_level(8, {4, 256}, true));
  facepost::PriorGrid<AnchorConfig> raw(one_level(8, {4, 256}, false));
  clipped.build({10, 10});
  raw.build({10, 10});
  REQUIRE(clipped.size() == 8);
  for (std::size_t k = 0; k < 4 * clipped.size(); ++k) {
    CHECK(clipped.data()[k] >= 0.f);
    CHECK(clipped.data()[k] <= 1.f);
    CHECK(clipped.data()[k] == std::min(1.f, raw.data()[k]));
  }
  CHECK(raw.data()[4 * 3 + 0] == static_cast<float>(1.2));  // cell (0,1), min size 256
  CHECK(raw.data()[4 * 3 + 2] == static_cast<float>(25.6));
  CHECK(clipped.data()[4 * 3 + 0] == 1.f);
  CHECK(clipped.data()[4 * 3 + 2] == 1.f);
  CHECK(clipped.data()[4 * 0 + 2] == static_cast<float>(0.4));  // untouched
}

TEST_CASE("priors: equal to the reference port for every preset and many sizes", "[priors]") {
  const AnchorConfig configs[] = {facepost::to_anchor_config(presets::retinaface_mnet{}),
                                  facepost::to_anchor_config(presets::fd1m_mnet{}),
                                  facepost::to_anchor_config(presets::fd1m_slim{}), one_level(3, {1, 2, 5}, true)};
  const InputSize sizes[] = {{1, 1}, {7, 300}, {640, 640}, {641, 359}, {1023, 97}, {64, 65}};
  std::vector<float> want;
  for (const AnchorConfig& cfg : configs)
    for (const InputSize in : sizes) {
      INFO(in.width << "x" << in.height << ", " << cfg.levels.size() << " levels");
      facepost::PriorGrid<AnchorConfig> grid(cfg);
      grid.build(in);
      facepost_ref::build_priors(cfg, in, want);
      REQUIRE(4 * grid.size() == want.size());
      REQUIRE(std::memcmp(grid.data(), want.data(), want.size() * sizeof(float)) == 0);
    }
  // The compile-time preset generates the same bits as its runtime configuration.
  facepost::PriorGrid<presets::fd1m_slim> preset;
  facepost::PriorGrid<AnchorConfig> runtime(facepost::to_anchor_config(presets::fd1m_slim{}));
  preset.build({641, 359});
  runtime.build({641, 359});
  REQUIRE(preset.size() == runtime.size());
  CHECK(std::memcmp(preset.data(), runtime.data(), 4 * preset.size() * sizeof(float)) == 0);
}

TEST_CASE("priors: PriorGrid caches per input size", "[priors]") {
  facepost::PriorGrid<presets::retinaface_mnet> grid;
  CHECK_FALSE(grid.built());
  CHECK(grid.size() == 0);
  grid.build({640, 640});
  CHECK(grid.built());
  CHECK(grid.input_size() == InputSize{640, 640});
  const float* first = grid.data();
  const std::vector<float> snapshot(first, first + 4 * grid.size());
  // Same size again: nothing rebuilt, the same storage.
  REQUIRE(grid.try_build({640, 640}).ok());
  CHECK(grid.data() == first);
  CHECK(grid.size() == 16800);
  CHECK(std::memcmp(grid.data(), snapshot.data(), snapshot.size() * sizeof(float)) == 0);
  // Another size rebuilds; back to the first size gives the first values again.
  grid.build({320, 240});
  CHECK(grid.size() == 40 * 30 * 2 + 20 * 15 * 2 + 10 * 8 * 2);
  CHECK(grid.input_size() == InputSize{320, 240});
  grid.build({640, 640});
  REQUIRE(grid.size() == 16800);
  CHECK(std::memcmp(grid.data(), snapshot.data(), snapshot.size() * sizeof(float)) == 0);
  // A failed build keeps the priors it had.
  const float* before = grid.data();
  CHECK(grid.try_build({0, 640}).code() == facepost::Errc::bad_size);
  CHECK(grid.data() == before);
  CHECK(grid.input_size() == InputSize{640, 640});
  CHECK(grid.size() == 16800);
}

TEST_CASE("priors: the Postprocessor builds priors once per input size", "[priors]") {
  facepost::Postprocessor post(facepost::to_anchor_config(presets::retinaface_mnet{}));
  std::size_t n = 0;
  REQUIRE(facepost::count_priors(post.priors().spec(), {64, 64}, n).ok());
  std::vector<float> loc(4 * n, 0.f), conf(2 * n, 0.f), landms(10 * n, 0.f);
  const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), n, 4), facepost::TensorView(conf.data(), n, 2),
                                    facepost::TensorView(landms.data(), n, 10)};
  post.run(heads, {64, 64});
  const float* data = post.priors().data();
  post.run(heads, {64, 64});
  CHECK(post.priors().data() == data);
  CHECK(post.priors().size() == n);
}
