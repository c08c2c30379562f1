// After a warm-up frame, frames of the same input size allocate nothing: every global operator
// new (all variants: plain, array, aligned, nothrow) is replaced by a counting one.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "facepost/facepost.hpp"
#include "fixtures.hpp"
#include "reference/random_heads.hpp"

namespace {

std::atomic<std::size_t> g_allocations{0};

void* counted_alloc(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* counted_aligned_alloc(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = std::max(static_cast<std::size_t>(align), sizeof(void*));
  void* p = nullptr;
  if (posix_memalign(&p, a, size == 0 ? 1 : size) != 0) return nullptr;
  return p;
}

// Not inlined into the replaced operator delete: GCC would otherwise pair the inlined free()
// with `new` expressions and warn (-Wmismatched-new-delete) although the pairing is ours.
#if defined(__GNUC__)
__attribute__((noinline))
#endif
void counted_free(void* p) noexcept {
  std::free(p);
}

/// Allocations made while `f` runs.
template <class F>
std::size_t allocations_during(F&& f) {
  const std::size_t before = g_allocations.load();
  f();
  return g_allocations.load() - before;
}

}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = counted_aligned_alloc(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = counted_aligned_alloc(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc(size, align);
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

struct alignas(64) OverAligned {
  float v[16];
};

// Another frame of the fixture's size: scores rescaled and regressions jittered, so the
// candidate and detection counts differ from the fixture's.
facepost_test::OwnedHeads perturbed(const fixtures::Heads& h, std::uint32_t seed, float score_scale) {
  const facepost::HeadOutputs v = h.view();
  const std::size_t n = v.loc.rows;
  facepost_test::OwnedHeads out(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> jitter(-0.05f, 0.05f);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < 4; ++c) out.loc.set(r, c, v.loc(r, c) + jitter(rng));
    for (std::size_t c = 0; c < 10; ++c) out.landms.set(r, c, v.landms(r, c) + jitter(rng));
    out.set_score(r, std::min(1.f, v.conf(r, 1) * score_scale));
  }
  return out;
}

}  // namespace

TEST_CASE("alloc: the counting operators see every kind of allocation", "[alloc]") {
  // Without this the zero counts below could not fail. The pointers go through volatile
  // variables: a compiler may otherwise elide a new/delete pair (clang does).
  CHECK(allocations_during([] {
          int* volatile p = new int(1);
          delete p;
        }) == 1);
  CHECK(allocations_during([] {
          float* volatile p = new float[10];
          delete[] p;
        }) == 1);
  CHECK(allocations_during([] {
          int* volatile p = new (std::nothrow) int(2);
          delete p;
        }) == 1);
  CHECK(allocations_during([] {
          OverAligned* volatile p = new OverAligned{};
          delete p;
        }) == 1);
  CHECK(allocations_during([] {
          OverAligned* volatile p = new OverAligned[3];
          delete[] p;
        }) == 1);
  CHECK(allocations_during([] {
          std::vector<double> v(100);
          double* volatile p = v.data();
          (void)p;
        }) == 1);
}

TEST_CASE("alloc: same-size frames after the first allocate nothing (runtime configuration)", "[alloc]") {
  const fixtures::Fixture f = fixtures::all()[1];  // group_mnet_long640
  const fixtures::Heads fixture(f.name);
  const facepost_test::OwnedHeads more = perturbed(fixture, 1, 1.6f), fewer = perturbed(fixture, 2, 0.5f);
  const facepost::ImageMapping m = facepost::ImageMapping::resize(f.resize);
  for (const facepost::Params& p : {facepost::Params{}, facepost::Params{}.unlimited()}) {
    facepost::Params q = p;
    for (facepost::IouConvention c : {facepost::IouConvention::legacy_pixel, facepost::IouConvention::continuous}) {
      q.iou = c;
      facepost::Postprocessor post(f.anchors, q);
      std::size_t first = 0, candidates[3] = {};
      const std::size_t warm = allocations_during([&] { post.run(fixture.view(), f.input, m); });
      first = post.stats().candidates;
      CHECK(warm > 0);  // priors and buffers
      const std::size_t a2 = allocations_during([&] { post.run(more.view(), f.input, m); });
      candidates[0] = post.stats().candidates;
      const std::size_t a3 = allocations_during([&] { post.run(fewer.view(), f.input, m); });
      candidates[1] = post.stats().candidates;
      const std::size_t a4 = allocations_during([&] { post.run(fixture.view(), f.input, m); });
      candidates[2] = post.stats().candidates;
      CHECK(a2 == 0);
      CHECK(a3 == 0);
      CHECK(a4 == 0);
      // The frames really differ: more, then fewer candidates than the fixture.
      CHECK(candidates[0] > first);
      CHECK(candidates[1] < first);
      CHECK(candidates[2] == first);
      // try_run, a clip mapping and a parameter change allocate nothing either.
      facepost::Detections d;
      facepost::Params r = q;
      r.score_threshold = 0.3f;
      r.keep_top_k = 5;
      const std::size_t a5 = allocations_during([&] {
        post.set_params(r);
        (void)post.try_run(more.view(), f.input, facepost::ImageMapping::resize(f.resize).clip_to(800.f, 400.f), d);
      });
      CHECK(a5 == 0);
      CHECK(d.size() == 5);
    }
  }
}

TEST_CASE("alloc: same-size frames after the first allocate nothing (compile-time preset)", "[alloc]") {
  const facepost::InputSize in{640, 640};
  facepost::PriorGrid<facepost::presets::retinaface_mnet> grid;
  grid.build(in);
  const std::vector<float> priors(grid.data(), grid.data() + 4 * grid.size());
  const facepost::Variance var{};
  std::mt19937 rng(3);
  facepost_test::RandomOptions o;
  o.faces = 20;
  o.max_per_face = 50;
  o.noise = 800;
  const facepost_test::OwnedHeads a = facepost_test::random_heads(rng, priors, var, o);
  o.faces = 40;
  o.noise = 2000;
  const facepost_test::OwnedHeads b = facepost_test::random_heads(rng, priors, var, o);
  o.faces = 2;
  o.noise = 10;
  o.non_finite = true;
  const facepost_test::OwnedHeads c = facepost_test::random_heads(rng, priors, var, o);

  facepost::BasicPostprocessor<facepost::presets::retinaface_mnet> post(facepost::presets::retinaface_mnet{},
                                                                        facepost::Params{}.unlimited());
  std::size_t candidates[3] = {};
  CHECK(allocations_during([&] { post.run(a.view(), in); }) > 0);
  candidates[0] = post.stats().candidates;
  CHECK(allocations_during([&] { post.run(b.view(), in); }) == 0);
  candidates[1] = post.stats().candidates;
  CHECK(allocations_during([&] { post.run(c.view(), in); }) == 0);
  candidates[2] = post.stats().candidates;
  CHECK(allocations_during([&] { post.run(a.view(), in); }) == 0);
  CHECK(candidates[0] < candidates[1]);
  CHECK(candidates[2] < candidates[0]);
  // A smaller input reuses the larger buffers; only the priors are rebuilt (no new storage).
  const facepost::InputSize small{320, 320};
  facepost::PriorGrid<facepost::presets::retinaface_mnet> small_grid;
  small_grid.build(small);
  const facepost_test::OwnedHeads s = facepost_test::random_heads(
      rng, std::vector<float>(small_grid.data(), small_grid.data() + 4 * small_grid.size()), var, o);
  CHECK(allocations_during([&] { post.run(s.view(), small); }) == 0);
}

TEST_CASE("alloc: rejected input allocates nothing", "[alloc]") {
  const fixtures::Fixture f = fixtures::all()[1];
  const fixtures::Heads fixture(f.name);
  facepost::Postprocessor post(f.anchors);
  post.run(fixture.view(), f.input);
  facepost::Detections d;
  // The message lives inside Status: an error costs no allocation.
  CHECK(allocations_during([&] { (void)post.try_run(fixture.view(), {1600, 898}, {}, d); }) == 0);
  facepost::HeadOutputs bad = fixture.view();
  bad.conf.cols = 3;
  CHECK(allocations_during([&] { (void)post.try_run(bad, f.input, {}, d); }) == 0);
  // A prior count past the limit is refused before any storage is reserved.
  facepost::AnchorConfig tiny_step;
  tiny_step.levels = {{1, {4}}};
  facepost::Postprocessor huge(tiny_step);
  facepost::Status s;
  CHECK(allocations_during([&] { s = huge.try_run(fixture.view(), {facepost::kMaxInputSide, 40000}, {}, d); }) == 0);
  CHECK(s.code() == facepost::Errc::size_overflow);
}

TEST_CASE("alloc: BlazeFace frames after the first allocate nothing", "[alloc][blazeface]") {
  const std::string dir = "families/blazeface/back_selfie_crowd";
  const facepost::io::NpyArray reg = fixtures::load(dir, "regressors.npy");
  const facepost::io::NpyArray cls = fixtures::load(dir, "classificators.npy");
  const facepost::BlazefaceHeads heads(facepost::TensorView(reg.data.data(), 896, 16),
                                       facepost::TensorView(cls.data.data(), 896, 1));
  facepost::BlazefacePostprocessor post(facepost::BlazefaceModel::back, {0.5f, 0.3f});
  CHECK(allocations_during([&] { post.run(heads); }) > 0);
  // More candidates than the first frame (threshold 0: all 896), then a rejected frame.
  post.set_params({0.f, 0.3f});
  CHECK(allocations_during([&] { post.run(heads); }) == 0);
  facepost::FamilyDetections d;
  facepost::BlazefaceHeads bad = heads;
  bad.scores[0].rows = 895;
  CHECK(allocations_during([&] { (void)post.try_run(bad, {}, d); }) == 0);
  // A fresh object refusing its first frame allocates nothing either.
  facepost::BlazefacePostprocessor fresh(facepost::BlazefaceModel::front);
  CHECK(allocations_during([&] { (void)fresh.try_run(bad, {}, d); }) == 0);
}

TEST_CASE("alloc: YuNet frames after the first of a size allocate nothing", "[alloc][yunet]") {
  auto load = [](const char* name, const char* file) {
    return fixtures::load(std::string("families/yunet/") + name, file);
  };
  const facepost::io::NpyArray loc = load("mosaic_crowd_960x540", "loc.npy");
  const facepost::io::NpyArray conf = load("mosaic_crowd_960x540", "conf.npy");
  const facepost::io::NpyArray iou = load("mosaic_crowd_960x540", "iou.npy");
  const facepost::YunetHeads heads{facepost::TensorView(loc.data.data(), 29400, 14),
                                   facepost::TensorView(conf.data.data(), 29400, 2),
                                   facepost::TensorView(iou.data.data(), 29400, 1)};
  const facepost::InputSize in{960, 540};
  facepost::YunetPostprocessor post;
  CHECK(allocations_during([&] { post.run(heads, in); }) > 0);
  // More candidates (threshold 0.6, no top_k: all 1693 enter NMS), then a rejected frame.
  post.set_params({0.6f, 0.45f, 0});
  CHECK(allocations_during([&] { post.run(heads, in); }) == 0);
  CHECK(post.stats().ranked == 1693u);
  facepost::FamilyDetections d;
  facepost::YunetHeads bad = heads;
  bad.iou.rows = 29399;
  CHECK(allocations_during([&] { (void)post.try_run(bad, in, {}, d); }) == 0);
  // A smaller size reuses the buffers; only the priors are regenerated in place.
  const facepost::io::NpyArray sl = load("family_320x240", "loc.npy");
  const facepost::io::NpyArray sc = load("family_320x240", "conf.npy");
  const facepost::io::NpyArray si = load("family_320x240", "iou.npy");
  const facepost::YunetHeads small{facepost::TensorView(sl.data.data(), 4385, 14),
                                   facepost::TensorView(sc.data.data(), 4385, 2),
                                   facepost::TensorView(si.data.data(), 4385, 1)};
  CHECK(allocations_during([&] { post.run(small, {320, 240}); }) == 0);
  CHECK(allocations_during([&] { post.run(heads, in); }) == 0);
  // A fresh object refusing its first frame allocates nothing either.
  facepost::YunetPostprocessor fresh;
  CHECK(allocations_during([&] { (void)fresh.try_run(bad, in, {}, d); }) == 0);
}
