// Host-side checks of the CUDA backend's arithmetic and ordering (no GPU needed): the host side
// of facepost/cuda/arithmetic.cuh is what the kernels compute, and it must agree with the CPU
// pipeline; the host emulation (reference.hpp) that the GPU tests compare with must reproduce
// the CPU Postprocessor and the goldens.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "../fixtures.hpp"
#include "facepost/cuda/arithmetic.cuh"
#include "facepost/cuda/nms_chunk.cuh"
#include "reference.hpp"

namespace {

namespace k = facepost::cuda::detail;
using cuda_reference::HostFrame;

HostFrame load_frame(const char* name) {
  const fixtures::Heads h(name);
  HostFrame f;
  f.loc = h.loc.data;
  f.conf = h.conf.data;
  f.landms = h.landms.data;
  f.rows = std::size_t(h.loc.shape[0]);
  return f;
}

/// Candidate positions in key order (ascending 64-bit keys).
std::vector<std::uint32_t> key_order(const std::vector<float>& score, const std::vector<std::uint32_t>& index,
                                     int bits) {
  std::vector<std::uint64_t> keys;
  for (std::size_t i = 0; i < score.size(); ++i) keys.push_back(k::rank_key(score[i], index[i], bits));
  std::sort(keys.begin(), keys.end());
  std::vector<std::uint32_t> prior;
  for (std::uint64_t key : keys) {
    prior.push_back(k::key_prior(key, bits));
  }
  return prior;
}

/// nms_kernel's algorithm replayed on the host, step for step (threads become loops): chunks of
/// kNmsThreads candidates; each tested against the boxes kept so far; masks over the rest of
/// the chunk; resolve_chunk. Returns the positions of the kept candidates.
template <facepost::IouConvention C>
std::vector<std::uint32_t> replay_device_nms(const std::vector<float4>& box, const std::vector<bool>& finite,
                                             unsigned limit, const k::Suppression& test) {
  constexpr unsigned T = k::kNmsThreads;
  const unsigned m = unsigned(box.size());
  std::vector<float4> kept_box;
  std::vector<float> kept_area;
  std::vector<std::uint32_t> kept;
  static unsigned long long mask[T][k::kNmsWords];
  unsigned short taken[T];
  for (unsigned start = 0; start < m && kept.size() < limit; start += T) {
    const unsigned n = std::min(T, m - start);
    bool removed[T];
    float area[T] = {};
    for (unsigned t = 0; t < T; ++t) {
      removed[t] = true;
      if (t >= n) continue;
      area[t] = k::box_area<C>(box[start + t]);
      removed[t] = !finite[start + t];
      for (std::size_t j = 0; j < kept.size() && !removed[t]; ++j)
        removed[t] = k::suppresses<C>(k::box_iou<C>(kept_box[j], kept_area[j], box[start + t], area[t]), test);
    }
    for (unsigned t = 0; t < n; ++t) {
      if (removed[t]) continue;
      for (unsigned w = 0; w < unsigned(k::kNmsWords); ++w) {
        unsigned long long word = 0;
        for (unsigned j = std::max(t + 1, 64 * w); j < std::min(n, 64 * w + 64); ++j)
          if (!removed[j] && k::suppresses<C>(k::box_iou<C>(box[start + t], area[t], box[start + j], area[j]), test))
            word |= 1ull << (j - 64 * w);
        mask[t][w] = word;
      }
    }
    unsigned long long gone[k::kNmsWords] = {};
    for (unsigned t = 0; t < T; ++t)
      if (removed[t]) gone[t / 64] |= 1ull << (t % 64);
    const unsigned got = k::resolve_chunk(gone, mask, limit - unsigned(kept.size()), taken);
    for (unsigned i = 0; i < got; ++i) {
      kept_box.push_back(box[start + taken[i]]);
      kept_area.push_back(area[taken[i]]);
      kept.push_back(start + taken[i]);
    }
  }
  return kept;
}

/// nms_greedy over the finite boxes, as positions in the full list.
std::vector<std::uint32_t> cpu_nms(const std::vector<float4>& box, const std::vector<bool>& finite, unsigned limit,
                                   double threshold, facepost::IouConvention conv) {
  std::vector<float> x1, y1, x2, y2;
  std::vector<std::uint32_t> position;
  for (std::size_t i = 0; i < box.size(); ++i)
    if (finite[i]) {
      x1.push_back(box[i].x), y1.push_back(box[i].y), x2.push_back(box[i].z), y2.push_back(box[i].w);
      position.push_back(std::uint32_t(i));
    }
  std::vector<std::uint32_t> keep(position.size() + 1);
  facepost::NmsWorkspace ws;
  const std::size_t n = facepost::nms_greedy({x1.data(), y1.data(), x2.data(), y2.data(), position.size()}, threshold,
                                             conv, limit, keep.data(), ws);
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(position[keep[i]]);
  return out;
}

}  // namespace

TEST_CASE("cuda host: the device NMS algorithm, replayed, keeps what greedy NMS keeps", "[host]") {
  using facepost::IouConvention;
  std::vector<std::vector<float4>> sets;
  // Decoded fixture candidates in rank order.
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const HostFrame f = load_frame(fx.name);
    facepost::PriorGrid<facepost::AnchorConfig> grid(fx.anchors);
    grid.build(fx.input);
    std::vector<float> score;
    std::vector<std::uint32_t> index;
    for (std::size_t r = 0; r < f.rows; ++r)
      if (f.conf[2 * r + 1] > 0.02f) score.push_back(f.conf[2 * r + 1]), index.push_back(std::uint32_t(r));
    std::vector<std::uint32_t> order(score.size());
    facepost::rank_candidates(score.data(), index.data(), score.size(), 0, order.data());
    const k::DecodeConstants kc =
        k::make_decode_constants(fx.input, fx.anchors.variance, facepost::ImageMapping::resize(fx.resize));
    std::vector<float4> boxes;
    for (std::uint32_t o : order) {
      const float* pr = grid.data() + 4 * std::size_t(index[o]);
      float b[4];
      k::decode_box(make_float4(pr[0], pr[1], pr[2], pr[3]), &f.loc[4 * std::size_t(index[o])], kc, b);
      boxes.push_back(make_float4(b[0], b[1], b[2], b[3]));
    }
    sets.push_back(boxes);
  }
  // Synthetic: a dense grid of barely overlapping boxes (thousands survive), with duplicates.
  std::mt19937 rng(5);
  std::vector<float4> dense;
  for (int i = 0; i < 6000; ++i) {
    const float x = float(rng() % 2000) * 0.5f, y = float(rng() % 1200) * 0.5f, s = 8.f + float(rng() % 64);
    dense.push_back(make_float4(x, y, x + s, y + s));
    if (i % 9 == 0) dense.push_back(make_float4(x + 1.f, y, x + s, y + s + 1.f));
  }
  sets.push_back(dense);

  std::size_t compared = 0;
  for (std::size_t si = 0; si < sets.size(); ++si) {
    const std::vector<float4>& boxes = sets[si];
    std::vector<bool> finite(boxes.size(), true);
    for (std::size_t i = 3; i < boxes.size(); i += 97) finite[i] = false;  // dropped rows
    for (unsigned limit : {0u, 1u, 150u, 255u, 256u, 257u, 750u}) {
      for (double t : {0.4, 0.3}) {
        const unsigned lim = limit == 0 ? unsigned(boxes.size()) : limit;
        INFO("set " << si << " (" << boxes.size() << " boxes), limit " << limit << ", threshold " << t);
        const k::Suppression test = k::make_suppression(t);
        CHECK(replay_device_nms<IouConvention::legacy_pixel>(boxes, finite, lim, test) ==
              cpu_nms(boxes, finite, limit, t, IouConvention::legacy_pixel));
        CHECK(replay_device_nms<IouConvention::continuous>(boxes, finite, lim, test) ==
              cpu_nms(boxes, finite, limit, t, IouConvention::continuous));
        compared += 2;
      }
    }
  }
  CHECK(compared == 2 * 7 * 2 * sets.size());
  // The synthetic set keeps more than a chunk's worth, so kept boxes span several tiles.
  CHECK(cpu_nms(dense, std::vector<bool>(dense.size(), true), 0, 0.4, IouConvention::legacy_pixel).size() > 1000);
}

TEST_CASE("cuda host: resolve_chunk walks only open candidates and honours the limit", "[host]") {
  static unsigned long long mask[k::kNmsThreads][k::kNmsWords] = {};
  unsigned short taken[k::kNmsThreads];
  // Candidate i suppresses i+1 (a chain): greedy keeps every other candidate.
  for (int i = 0; i + 1 < k::kNmsThreads; ++i) mask[i][(i + 1) / 64] = 1ull << ((i + 1) % 64);
  unsigned long long gone[k::kNmsWords] = {};
  REQUIRE(k::resolve_chunk(gone, mask, 1000, taken) == 128);
  for (unsigned i = 0; i < 128; ++i) REQUIRE(taken[i] == 2 * i);
  unsigned long long gone2[k::kNmsWords] = {0, ~0ull, 0, 0};  // a whole word out of play
  const unsigned n = k::resolve_chunk(gone2, mask, 40, taken);
  REQUIRE(n == 40);
  CHECK(taken[31] == 62);
  CHECK(taken[32] == 128);  // resumes after the gone word; 63 was gone, so the chain restarts at 128
  unsigned long long all_gone[k::kNmsWords] = {~0ull, ~0ull, ~0ull, ~0ull};
  CHECK(k::resolve_chunk(all_gone, mask, 10, taken) == 0);
}

TEST_CASE("cuda host: ranking keys sort like rank_candidates, ties by prior index", "[host]") {
  SECTION("fixture candidates") {
    for (const fixtures::Fixture& fx : fixtures::all()) {
      const HostFrame f = load_frame(fx.name);
      std::vector<float> score;
      std::vector<std::uint32_t> index;
      for (std::size_t r = 0; r < f.rows; ++r)
        if (k::probability_passes(f.conf[2 * r + 1], 0.02f)) {
          score.push_back(f.conf[2 * r + 1]);
          index.push_back(std::uint32_t(r));
        }
      // Present them in reverse row order: the key, not the input order, must break ties.
      std::reverse(score.begin(), score.end());
      std::reverse(index.begin(), index.end());
      std::vector<std::uint32_t> order(score.size());
      facepost::rank_candidates(score.data(), index.data(), score.size(), 0, order.data());
      const int bits = k::index_bits_for(f.rows);
      const std::vector<std::uint32_t> by_key = key_order(score, index, bits);
      INFO(fx.name);
      REQUIRE(by_key.size() == order.size());
      for (std::size_t i = 0; i < order.size(); ++i) REQUIRE(by_key[i] == index[order[i]]);
    }
  }
  SECTION("many exact ties, extreme scores, round trip") {
    std::mt19937 rng(7);
    const std::size_t rows = 100000;
    const int bits = k::index_bits_for(rows);
    REQUIRE(bits == 17);
    const float levels[] = {std::numeric_limits<float>::denorm_min(), 1e-30f, 0.25f, 0.5f,
                            std::nextafter(0.5f, 1.f), 1.f, 3.f, std::numeric_limits<float>::max()};
    std::vector<float> score;
    std::vector<std::uint32_t> index;
    for (std::uint32_t r = 0; r < rows; r += 1 + rng() % 7) {
      score.push_back(levels[rng() % 8]);
      index.push_back(r);
    }
    std::shuffle(index.begin(), index.end(), rng);
    for (std::size_t i = 0; i < score.size(); ++i) {
      const std::uint64_t key = k::rank_key(score[i], index[i], bits);
      REQUIRE(k::key_prior(key, bits) == index[i]);
      REQUIRE(k::key_score(key, bits) == score[i]);
      REQUIRE(key >> (bits + k::kScoreKeyBits) == 0);  // fits the sorted bit range
    }
    std::vector<std::uint32_t> order(score.size());
    facepost::rank_candidates(score.data(), index.data(), score.size(), 0, order.data());
    const std::vector<std::uint32_t> by_key = key_order(score, index, bits);
    for (std::size_t i = 0; i < order.size(); ++i) REQUIRE(by_key[i] == index[order[i]]);
  }
  SECTION("index bits") {
    CHECK(k::index_bits_for(1) == 1);
    CHECK(k::index_bits_for(2) == 1);
    CHECK(k::index_bits_for(3) == 2);
    CHECK(k::index_bits_for(26240) == 15);
    CHECK(k::index_bits_for(std::uint64_t{1} << 31) == 31);
  }
}

TEST_CASE("cuda host: decode arithmetic equals decode.hpp bit for bit", "[host]") {
  std::size_t rows_checked = 0;
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const HostFrame f = load_frame(fx.name);
    facepost::PriorGrid<facepost::AnchorConfig> grid(fx.anchors);
    grid.build(fx.input);
    const facepost::ImageMapping mappings[] = {facepost::ImageMapping::resize(fx.resize),
                                               facepost::ImageMapping::letterbox(0.75f, 0.8f, 13.5f, -7.25f)};
    for (const facepost::ImageMapping& m : mappings) {
      const facepost::DecodeContext ctx(fx.input, fx.anchors.variance, m);
      const k::DecodeConstants kc = k::make_decode_constants(fx.input, fx.anchors.variance, m);
      for (std::size_t r = 0; r < f.rows; ++r) {
        if (!(f.conf[2 * r + 1] > 0.02f)) continue;  // the rows that get decoded
        const float* pr = grid.data() + 4 * r;
        const float4 pf = make_float4(pr[0], pr[1], pr[2], pr[3]);
        float cpu[14], host[14];
        facepost::decode_box(pr, facepost::RowRef{&f.loc[4 * r], 1}, ctx, cpu);
        facepost::decode_landmarks(pr, facepost::RowRef{&f.landms[10 * r], 1}, ctx, cpu + 4);
        k::decode_box(pf, &f.loc[4 * r], kc, host);
        k::decode_landmarks(pf, &f.landms[10 * r], kc, host + 4);
        ++rows_checked;
        INFO(fx.name << " row " << r);
        for (int c = 0; c < 14; ++c) REQUIRE(cuda_reference::same_bits(cpu[c], host[c]));
      }
    }
  }
  CHECK(rows_checked > 10000);
}

TEST_CASE("cuda host: IoU and suppression decisions equal iou.hpp", "[host]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> pos(-50.f, 1500.f), size(-3.f, 400.f);
  auto random_box = [&] {
    const float x = pos(rng), y = pos(rng);
    float4 b = make_float4(x, y, x + size(rng), y + size(rng));
    switch (rng() % 8) {
      case 0: b.z = b.x; break;                                      // zero width
      case 1: b = make_float4(b.x, b.y, b.x - 1.f, b.y - 1.f); break;  // legacy area 0
      case 2: b.x = std::floor(b.x), b.z = std::floor(b.z); break;    // integral coordinates
      default: break;
    }
    return b;
  };
  const double thresholds[] = {0.4, 0.3, 0.5, 0.0, 1.0, 0.7000000000000001};
  std::size_t decisions = 0, suppressions = 0;
  for (int it = 0; it < 200000; ++it) {
    float4 a = random_box(), b = random_box();
    if (it % 5 == 0) b = make_float4(a.x + float(rng() % 5), a.y, a.z, a.w + float(rng() % 3));  // near-duplicates
    const float fa[4] = {a.x, a.y, a.z, a.w}, fb[4] = {b.x, b.y, b.z, b.w};
    const double t = thresholds[it % 6];
    const k::Suppression test = k::make_suppression(t);
    const facepost::SuppressionTest cpu_test(t);
    {
      using facepost::IouConvention;
      constexpr IouConvention C = IouConvention::legacy_pixel;
      const float aa = facepost::box_area<C>(fa[0], fa[1], fa[2], fa[3]), ab = facepost::box_area<C>(fb[0], fb[1], fb[2], fb[3]);
      REQUIRE(cuda_reference::same_bits(k::box_area<C>(a), aa));
      const float cpu = facepost::box_iou<C>(fa, aa, fb, ab), host = k::box_iou<C>(a, aa, b, ab);
      REQUIRE((cuda_reference::same_bits(cpu, host) || (std::isnan(cpu) && std::isnan(host))));
      REQUIRE(k::suppresses<C>(host, test) == cpu_test.suppresses<C>(cpu));
      suppressions += k::suppresses<C>(host, test) ? 1 : 0;
    }
    {
      using facepost::IouConvention;
      constexpr IouConvention C = IouConvention::continuous;
      const float aa = facepost::box_area<C>(fa[0], fa[1], fa[2], fa[3]), ab = facepost::box_area<C>(fb[0], fb[1], fb[2], fb[3]);
      REQUIRE(cuda_reference::same_bits(k::box_area<C>(a), aa));
      const float cpu = facepost::box_iou<C>(fa, aa, fb, ab), host = k::box_iou<C>(a, aa, b, ab);
      REQUIRE((cuda_reference::same_bits(cpu, host) || (std::isnan(cpu) && std::isnan(host))));
      REQUIRE(k::suppresses<C>(host, test) == cpu_test.suppresses<C>(cpu));
      suppressions += k::suppresses<C>(host, test) ? 1 : 0;
    }
    decisions += 2;
  }
  // Both outcomes occur, so the comparison above means something.
  CHECK(suppressions > decisions / 20);
  CHECK(suppressions < decisions - decisions / 20);
  SECTION("NaN IoU: legacy suppresses, continuous keeps") {
    const k::Suppression test = k::make_suppression(0.4);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(k::suppresses<facepost::IouConvention::legacy_pixel>(nan, test));
    CHECK_FALSE(k::suppresses<facepost::IouConvention::continuous>(nan, test));
  }
  SECTION("threshold compared in float (legacy) and in double (continuous)") {
    const k::Suppression test = k::make_suppression(0.4);
    const float f = 0.4f;  // 0.4f > 0.4 in double
    CHECK_FALSE(k::suppresses<facepost::IouConvention::legacy_pixel>(f, test));
    CHECK(k::suppresses<facepost::IouConvention::continuous>(f, test));
  }
}

TEST_CASE("cuda host: clip equals the CPU's clamp", "[host]") {
  facepost::ImageMapping m = facepost::ImageMapping::resize(1.f);
  m.clip_to(100.f, 50.f);
  const k::DecodeConstants kc = k::make_decode_constants({64, 64}, facepost::Variance{}, m);
  const float values[] = {-5.f, -0.f, 0.f, 20.f, 50.f, 75.f, 100.f, 1e9f};
  for (int c = 0; c < 15; ++c)
    for (float v : values) {
      const bool x = c == 0 || c == 2 || (c >= 5 && c % 2 == 1);
      const float want = c == 4 ? v : std::min(std::max(v, 0.f), x ? 100.f : 50.f);
      INFO("column " << c << " value " << v);
      REQUIRE(cuda_reference::same_bits(k::clip_column(v, c, kc), want));
    }
}

TEST_CASE("cuda host: the host emulation is the CPU Postprocessor, bit for bit, and matches the goldens", "[host]") {
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const HostFrame f = load_frame(fx.name);
    for (const fixtures::GoldenSet& gs : fixtures::golden_sets()) {
      facepost::Postprocessor cpu(fx.anchors, gs.params);
      const facepost::ImageMapping mapping = facepost::ImageMapping::resize(fx.resize);
      const facepost::Detections d = cpu.run(f.view(), fx.input, mapping);
      const cuda_reference::FrameResult e =
          cuda_reference::run(f, cpu.priors().data(), gs.params, fx.input, fx.anchors.variance, mapping);
      INFO(fx.name << " / " << gs.name);
      CHECK(cuda_reference::compare_exact(cuda_reference::as_detections(e), e.stats, d, cpu.stats()) == "");
      const facepost::io::NpyArray golden = fixtures::load(fx.name, std::string("golden_") + gs.name + ".npy");
      CHECK(fixtures::compare_with_golden(e.rows.data(), e.size(), golden.data.data(), std::size_t(golden.shape[0])) ==
            "");
    }
  }
}
