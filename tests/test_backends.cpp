// The active SIMD backend writes exactly the bits of the portable scalar kernels, stage by stage,
// on real fixtures and on hostile data.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "fixtures.hpp"

namespace {

using facepost::kernels::DecodedCandidates;

struct Candidates {
  std::vector<std::uint32_t> index;
  std::vector<float> score;
};

template <class Filter>
Candidates run_filter(Filter filter, const std::vector<float>& conf, float t) {
  const std::size_t n = conf.size() / 2;
  Candidates c{std::vector<std::uint32_t>(n + 16), std::vector<float>(n + 16)};
  const std::size_t k = filter(conf.data(), n, t, c.index.data(), c.score.data());
  c.index.resize(k);
  c.score.resize(k);
  return c;
}

bool same_bits(const float* a, const float* b, std::size_t n) { return n == 0 || std::memcmp(a, b, n * sizeof(float)) == 0; }

void check_stages(const facepost::HeadOutputs& heads, const float* priors, const facepost::DecodeContext& ctx,
                  const std::vector<float>& conf, float t) {
  const facepost::kernels::KernelTable& active = facepost::active_kernels();
  const facepost::kernels::KernelTable& scalar = facepost::kernels::scalar::kTable;
  for (bool logits : {false, true}) {
    const Candidates a = logits ? run_filter(active.filter_logits, conf, t) : run_filter(active.filter_probabilities, conf, t);
    const Candidates s = logits ? run_filter(scalar.filter_logits, conf, t) : run_filter(scalar.filter_probabilities, conf, t);
    REQUIRE(a.index == s.index);
    REQUIRE(same_bits(a.score.data(), s.score.data(), a.score.size()));

    const std::size_t n = a.index.size();
    std::vector<std::uint32_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = std::uint32_t(n - 1 - i);  // any order will do
    struct Out {
      std::vector<float> rows, x1, y1, x2, y2;
      std::vector<std::uint32_t> prior;
      explicit Out(std::size_t m) : rows(15 * m), x1(m), y1(m), x2(m), y2(m), prior(m) {}
      DecodedCandidates view() {
        return {rows.data(), x1.data(), y1.data(), x2.data(), y2.data(), prior.data()};
      }
    } oa(n), os(n);
    const std::size_t ka = active.decode_ranked(heads, priors, ctx, order.data(), n, a.index.data(), a.score.data(), oa.view());
    const std::size_t ks = scalar.decode_ranked(heads, priors, ctx, order.data(), n, s.index.data(), s.score.data(), os.view());
    REQUIRE(ka == ks);
    REQUIRE(same_bits(oa.rows.data(), os.rows.data(), 15 * ka));
    REQUIRE(std::equal(oa.prior.begin(), oa.prior.begin() + long(ka), os.prior.begin()));
  }
}

}  // namespace

TEST_CASE("backends: active kernels equal scalar kernels on the fixtures", "[backend]") {
  INFO("active backend: " << facepost::backend_name());
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const fixtures::Heads heads(fx.name);
    facepost::PriorGrid<facepost::AnchorConfig> grid(fx.anchors);
    grid.build(fx.input);
    for (const facepost::ImageMapping& m :
         {facepost::ImageMapping::resize(fx.resize), facepost::ImageMapping::letterbox(0.75f, 0.5f, 13.f, -7.25f)}) {
      const facepost::DecodeContext ctx(fx.input, fx.anchors.variance, m);
      for (float t : {0.0f, 0.02f, 0.5f, 0.9f}) check_stages(heads.view(), grid.data(), ctx, heads.conf.data, t);
    }
  }
}

TEST_CASE("backends: active kernels equal scalar kernels on hostile values", "[backend]") {
  std::mt19937 rng(2024);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {nan, inf, -inf, 0.f, -0.f, 1e-40f, 3e38f, -3e38f, 1.f, 0.5f, 0.02f, 88.f, -88.f};
  std::uniform_real_distribution<float> u(-12.f, 12.f);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = 1 + rng() % 700;
    std::vector<float> loc(4 * n), conf(2 * n), landms(10 * n), priors(4 * n);
    auto fill = [&](std::vector<float>& v) {
      for (float& x : v) x = (rng() % 9 == 0) ? specials[rng() % 13] : u(rng);
    };
    fill(loc), fill(conf), fill(landms);
    for (float& x : priors) x = std::uniform_real_distribution<float>(0.f, 1.f)(rng);
    const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), n, 4), facepost::TensorView(conf.data(), n, 2),
                                      facepost::TensorView(landms.data(), n, 10)};
    const facepost::DecodeContext ctx({640, 480}, facepost::Variance{}, facepost::ImageMapping::resize(0.4f));
    INFO("trial " << trial);
    check_stages(heads, priors.data(), ctx, conf, std::uniform_real_distribution<float>(0.f, 1.f)(rng));
  }
}

TEST_CASE("backends: the column filter (>=) equals a plain loop on every kernel set", "[backend]") {
  std::mt19937 rng(77);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {0.f, -0.f, 0.5f, 1.f, nan, inf, -inf, std::numeric_limits<float>::denorm_min(),
                            std::nextafter(0.5f, 0.f), std::nextafter(0.5f, 1.f)};
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  const facepost::kernels::KernelTable* tables[] = {&facepost::active_kernels(), &facepost::kernels::scalar::kTable};
  for (std::size_t rows : {0u, 1u, 15u, 16u, 17u, 1000u, 4099u}) {
    std::vector<float> column(rows);
    for (float& v : column) v = unit(rng) < 0.3f ? specials[rng() % 10] : unit(rng);
    for (float t : {0.f, 0.5f, 1.f}) {
      std::vector<std::uint32_t> want;
      for (std::size_t r = 0; r < rows; ++r)
        if (column[r] >= t) want.push_back(std::uint32_t(r));
      for (const facepost::kernels::KernelTable* k : tables) {
        INFO(k->name << ", " << rows << " rows, threshold " << t);
        std::vector<std::uint32_t> index(rows);
        std::vector<float> score(rows);
        const std::size_t n = k->filter_column_at_least(column.data(), rows, t, index.data(), score.data());
        index.resize(n);
        REQUIRE(index == want);
        for (std::size_t i = 0; i < n; ++i) REQUIRE(std::memcmp(&score[i], &column[index[i]], 4) == 0);
      }
    }
  }
}
