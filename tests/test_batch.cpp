// The batch API: results identical to one frame at a time, on one thread or on caller threads.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "fixtures.hpp"

namespace {

bool same_rows(const facepost::Detections& a, const facepost::Detections& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size() * facepost::kDetectionCols; ++i)
    if (a.data()[i] != b.data()[i]) return false;
  return true;
}

// Frames of one input size: the two RetinaFace-mnet 640x359 and the two 1024x768 fixtures give
// distinct data; a batch mixes each fixture with perturbed copies of itself.
struct Batch {
  std::vector<fixtures::Heads> heads;
  std::vector<std::vector<float>> conf_copies;
  std::vector<facepost::HeadOutputs> frames;
};

Batch make_batch(const std::string& fixture, std::size_t count) {
  Batch b;
  b.heads.emplace_back(fixture);
  const facepost::HeadOutputs base = b.heads[0].view();
  b.conf_copies.reserve(count);
  for (std::size_t f = 0; f < count; ++f) {
    // Frame f: scores scaled so each frame has a different candidate set.
    std::vector<float> conf(b.heads[0].conf.data);
    const float scale = 1.0f - 0.05f * float(f % 7);
    for (std::size_t i = 1; i < conf.size(); i += 2) conf[i] *= scale;
    b.conf_copies.push_back(std::move(conf));
    facepost::HeadOutputs h = base;
    h.conf = facepost::TensorView(b.conf_copies.back().data(), base.conf.rows, 2);
    b.frames.push_back(h);
  }
  return b;
}

}  // namespace

TEST_CASE("batch: identical to one frame at a time", "[batch]") {
  for (const fixtures::Fixture& fx : fixtures::all()) {
    const Batch b = make_batch(fx.name, 9);
    const facepost::ImageMapping m = facepost::ImageMapping::resize(fx.resize);
    facepost::BatchPostprocessor batch(fx.anchors);
    batch.run(b.frames.data(), b.frames.size(), fx.input, m);
    REQUIRE(batch.size() == b.frames.size());
    facepost::Postprocessor single(fx.anchors);
    for (std::size_t f = 0; f < b.frames.size(); ++f) {
      INFO(fx.name << " frame " << f);
      const facepost::Detections one = single.run(b.frames[f], fx.input, m);
      CHECK(same_rows(batch.result(f), one));
      CHECK(batch.stats(f).candidates == single.stats().candidates);
    }
  }
}

TEST_CASE("batch: caller threads give the same results as one thread", "[batch][threads]") {
  const fixtures::Fixture fx = fixtures::all()[0];
  const Batch b = make_batch(fx.name, 12);
  const facepost::ImageMapping m = facepost::ImageMapping::resize(fx.resize);
  facepost::BatchPostprocessor serial(fx.anchors, facepost::Params{}.unlimited());
  serial.run(b.frames.data(), b.frames.size(), fx.input, m);
  for (std::size_t threads : {2u, 3u, 5u}) {
    facepost::BatchPostprocessor parallel(fx.anchors, facepost::Params{}.unlimited());
    REQUIRE(parallel.prepare(b.frames.data(), b.frames.size(), fx.input, &m).ok());
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back([&, t] { parallel.run_shard(t, threads); });
    for (std::thread& t : pool) t.join();
    for (std::size_t f = 0; f < b.frames.size(); ++f) {
      INFO(threads << " threads, frame " << f);
      CHECK(same_rows(parallel.result(f), serial.result(f)));
    }
  }
}

TEST_CASE("batch: bad frames and mapping counts are refused with the frame named", "[batch]") {
  const fixtures::Fixture fx = fixtures::all()[0];
  Batch b = make_batch(fx.name, 3);
  b.frames[2].landms.rows -= 1;
  facepost::BatchPostprocessor batch(fx.anchors);
  const facepost::ImageMapping m{};
  facepost::Status s = batch.prepare(b.frames.data(), 3, fx.input, &m);
  CHECK(s.code() == facepost::Errc::row_mismatch);
  CHECK(std::string(s.message()).find("frame 2") != std::string::npos);
  CHECK(batch.size() == 0);
  const facepost::ImageMapping two[2] = {m, m};
  s = batch.prepare(b.frames.data(), 3, fx.input, two, 2);
  CHECK(s.code() == facepost::Errc::bad_argument);
  CHECK_THROWS_AS(batch.run(b.frames.data(), 3, fx.input, m), facepost::Error);
}
