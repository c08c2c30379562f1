// Bad input at the size limits, beyond tests/test_errors.cpp: prior counts at and just past
// kMaxPriors, counts that would wrap in 32-bit arithmetic, .npy headers and tensor views that
// claim impossible sizes - each refused by arithmetic before anything is allocated - and the
// largest real inputs (4K, 8K) accepted, a 4K frame run end to end.
//
// "Before anything is allocated" is measured: this program replaces the global operator new with
// one that, while a test watches, records the largest request (so it is its own test program,
// like test_alloc.cpp).
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "facepost/facepost.hpp"
#include "facepost/io/npy.hpp"

namespace {

std::atomic<bool> g_watching{false};
std::atomic<std::size_t> g_largest_request{0};

void* counted_allocation(std::size_t n) {
  if (g_watching.load(std::memory_order_relaxed)) {
    std::size_t seen = g_largest_request.load(std::memory_order_relaxed);
    while (n > seen && !g_largest_request.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

/// Records the largest allocation requested while it lives.
struct AllocationWatch {
  AllocationWatch() {
    g_largest_request = 0;
    g_watching = true;
  }
  ~AllocationWatch() { g_watching = false; }
  std::size_t largest() const { return g_largest_request.load(); }
};

__extension__ typedef unsigned __int128 u128;  // exact prior counts: no overflow to reason about

constexpr std::size_t kSmallAllocation = 1 << 16;  // anything a refusal may need (a message, a vector)

facepost::AnchorConfig one_level(int step, std::vector<int> min_sizes) {
  facepost::AnchorConfig c;
  c.levels.push_back(facepost::AnchorLevel{step, std::move(min_sizes)});
  return c;
}

/// sum over levels of ceil(H/step) * ceil(W/step) * min sizes, in 128-bit arithmetic.
template <class Spec>
u128 exact_prior_count(const Spec& spec, facepost::InputSize in) {
  u128 total = 0;
  spec.for_each_level([&](int step, const int*, std::size_t n) {
    const std::int64_t fh = (std::int64_t(in.height) + step - 1) / step;
    const std::int64_t fw = (std::int64_t(in.width) + step - 1) / step;
    total += (u128)fh * (u128)fw * n;
  });
  return total;
}

}  // namespace

namespace {

// Not inlined into operator delete: GCC would otherwise pair the inlined free() with `new`
// expressions and warn (-Wmismatched-new-delete) although the pairing is ours.
#if defined(__GNUC__)
__attribute__((noinline))
#endif
void release(void* p) noexcept {
  std::free(p);
}

}  // namespace

// Every non-aligned form, so that no allocation pairs one runtime's new with another's delete.
void* operator new(std::size_t n) { return counted_allocation(n); }
void* operator new[](std::size_t n) { return counted_allocation(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_allocation(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept { return operator new(n, tag); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }

TEST_CASE("limits: prior counts that overflow 32 bits or pass kMaxPriors are refused", "[limits][bad_input]") {
  using facepost::Errc;
  using facepost::InputSize;
  std::size_t count = 123;

  SECTION("exactly kMaxPriors is accepted, one row more is refused") {
    const facepost::AnchorConfig step1 = one_level(1, {4});
    REQUIRE(facepost::count_priors(step1, InputSize{1 << 16, 1 << 15}, count).ok());
    CHECK(count == facepost::kMaxPriors);
    const facepost::Status s = facepost::count_priors(step1, InputSize{(1 << 16) + 1, 1 << 15}, count);
    CHECK(s.code() == Errc::size_overflow);
    CHECK(count == 0);
    CHECK_THAT(s.message(), Catch::Contains("more than 2147483648 priors"));
  }
  SECTION("a count that wraps to a plausible 32-bit value (2^32 + 65536) is refused") {
    const facepost::AnchorConfig step1 = one_level(1, {4});
    const InputSize in{1 << 16, (1 << 16) + 1};
    REQUIRE(exact_prior_count(step1, in) == (std::uint64_t(1) << 32) + 65536);
    CHECK(facepost::count_priors(step1, in, count).code() == Errc::size_overflow);
  }
  SECTION("levels under the limit whose sum passes it are refused") {
    facepost::AnchorConfig c = one_level(1, {4, 8, 16, 32});  // 4 * 2^30 = 2^32 alone
    c.levels[0].min_sizes.resize(1);                          // 2^30 per level
    c.levels.push_back(c.levels[0]);
    c.levels.push_back(c.levels[0]);  // 3 * 2^30 in all
    const InputSize in{1 << 15, 1 << 15};
    REQUIRE(exact_prior_count(c, in) == 3 * (std::uint64_t(1) << 30));
    CHECK(facepost::count_priors(c, in, count).code() == Errc::size_overflow);
  }
  SECTION("the largest side with the densest preset: 2^20 x 2^20 with retinaface_mnet") {
    const InputSize in{facepost::kMaxInputSide, facepost::kMaxInputSide};
    REQUIRE(exact_prior_count(facepost::presets::retinaface_mnet{}, in) > facepost::kMaxPriors);
    CHECK(facepost::count_priors(facepost::presets::retinaface_mnet{}, in, count).code() == Errc::size_overflow);
  }
  SECTION("the largest side is legal when the steps keep the count small") {
    const facepost::AnchorConfig c = one_level(1 << 20, {16});  // one cell even at 2^20 x 2^20
    CHECK(facepost::count_priors(c, InputSize{facepost::kMaxInputSide, facepost::kMaxInputSide}, count).ok());
    CHECK(count == 1);
    const facepost::Status past = facepost::count_priors(c, InputSize{facepost::kMaxInputSide + 1, 64}, count);
    CHECK(past.code() == Errc::size_overflow);
    CHECK_THAT(past.message(), Catch::Contains("each side must be at most 1048576"));
  }
  SECTION("a step of INT_MAX builds one cell, without overflowing H + step (found by fuzz_postprocess)") {
    const facepost::AnchorConfig c = one_level(std::numeric_limits<int>::max(), {16});
    facepost::PriorGrid<> grid(c);
    REQUIRE(grid.try_build(InputSize{640, 480}).ok());
    REQUIRE(grid.size() == 1);
    const double step = std::numeric_limits<int>::max();
    CHECK(grid.data()[0] == float(0.5 * step / 640.0));
    CHECK(grid.data()[1] == float(0.5 * step / 480.0));
  }
}

TEST_CASE("limits: the allocation watch sees a large request", "[limits]") {
  // Without this the "nothing large was allocated" checks below could not fail.
  AllocationWatch watch;
  std::vector<float> buffer(std::size_t(1) << 20);
  static float* volatile escape;  // the buffer is used, so the allocation cannot be elided
  escape = buffer.data();
  CHECK(escape == buffer.data());
  CHECK(watch.largest() >= 4 * buffer.size());
}

TEST_CASE("limits: oversized inputs are refused before any allocation", "[limits][bad_input]") {
  using facepost::Errc;
  facepost::Postprocessor pp(facepost::to_anchor_config(facepost::presets::retinaface_mnet{}));
  const float one_row[10] = {};
  const facepost::HeadOutputs heads{facepost::TensorView(one_row, 1, 4), facepost::TensorView(one_row, 1, 2),
                                    facepost::TensorView(one_row, 1, 10)};
  facepost::Detections d;

  SECTION("an input whose priors would need 2^35 rows") {
    AllocationWatch watch;
    const facepost::Status s =
        pp.try_run(heads, {facepost::kMaxInputSide, facepost::kMaxInputSide}, facepost::ImageMapping{}, d);
    CHECK(s.code() == Errc::size_overflow);
    CHECK(watch.largest() < kSmallAllocation);
    CHECK_THAT(s.message(), Catch::Contains("priors") && !Catch::Contains("out of memory"));
    CHECK(!pp.priors().built());
  }
  SECTION("heads that claim more rows than memory can hold are refused, not read") {
    const std::size_t huge = std::numeric_limits<std::size_t>::max() / 4;
    const facepost::HeadOutputs liar{facepost::TensorView(one_row, huge, 4), facepost::TensorView(one_row, huge, 2),
                                     facepost::TensorView(one_row, huge, 10)};
    AllocationWatch watch;
    const facepost::Status s = pp.try_run(liar, {64, 48}, facepost::ImageMapping{}, d);
    CHECK(s.code() == Errc::prior_count_mismatch);
    CHECK(watch.largest() < kSmallAllocation);  // the 128 priors of 64x48 only
  }
  SECTION("a [1, N, C] shape with N past any buffer is viewed, then refused by the prior count") {
    facepost::TensorView v;
    REQUIRE(facepost::view_tensor(one_row, {1, std::numeric_limits<std::int64_t>::max(), 4}, "loc", v).ok());
    const facepost::HeadOutputs liar{v, heads.conf, heads.landms};
    CHECK(pp.try_run(liar, {64, 48}, facepost::ImageMapping{}, d).code() == Errc::row_mismatch);
    CHECK(facepost::view_tensor(one_row, {-1, 4}, "loc", v).code() == Errc::bad_shape);
  }
}

TEST_CASE("limits: .npy headers that claim huge arrays are refused before allocating", "[limits][bad_input][npy]") {
  using facepost::Errc;
  auto npy_with_shape = [](const std::string& shape) {
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    dict.append(63 - (10 + dict.size()) % 64, ' ');
    dict += '\n';
    std::vector<unsigned char> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(dict.size()), 0};
    bytes.insert(bytes.end(), dict.begin(), dict.end());
    bytes.resize(bytes.size() + 16, 0);  // four floats of data, far fewer than claimed
    return bytes;
  };
  struct Case {
    const char* shape;
    Errc code;
    const char* message;
  };
  const Case cases[] = {
      {"(1099511627776, 1099511627776)", Errc::size_overflow, "element count overflows"},  // 2^80 elements
      {"(4294967296, 4294967296)", Errc::size_overflow, "element count overflows"},        // 2^64: wraps to 0
      {"(123456789012345678901234567890,)", Errc::size_overflow, "dimension too large"},
      {"(1099511627776,)", Errc::io_error, "truncated data"},  // 4 TiB claimed, 16 bytes present
      {"(2, 1, 3)", Errc::io_error, "truncated data"},
  };
  for (const Case& c : cases) {
    INFO(c.shape);
    const std::vector<unsigned char> bytes = npy_with_shape(c.shape);
    facepost::io::NpyArray a;
    AllocationWatch watch;
    const facepost::Status s = facepost::io::parse_npy(bytes.data(), bytes.size(), a, "huge.npy");
    CHECK(s.code() == c.code);
    CHECK_THAT(s.message(), Catch::Contains(c.message));
    CHECK(watch.largest() < kSmallAllocation);
    CHECK(a.data.empty());
  }
  const std::vector<unsigned char> fits = npy_with_shape("(2, 2)");
  facepost::io::NpyArray a;
  REQUIRE(facepost::io::parse_npy(fits.data(), fits.size(), a).ok());
  CHECK(a.data.size() == 4);
}

TEST_CASE("limits: a 3840x2160 frame with retinaface_mnet has 340,320 priors and runs", "[limits]") {
  using facepost::InputSize;
  const facepost::presets::retinaface_mnet mnet;
  const InputSize uhd{3840, 2160};
  std::size_t count = 0;
  REQUIRE(facepost::count_priors(mnet, uhd, count).ok());
  // 2 x (270x480 + 135x240 + 68x120): the last level's 2160/32 = 67.5 rounds up.
  CHECK(count == 340320);
  CHECK(count == std::size_t(exact_prior_count(mnet, uhd)));
  std::size_t count_8k = 0;
  REQUIRE(facepost::count_priors(mnet, InputSize{7680, 4320}, count_8k).ok());
  CHECK(count_8k == 1360800);

  // Background everywhere but three faces: the first prior (8 px step, 16 px box, top left),
  // one of the 64 px boxes in the middle and the last prior (512 px box, bottom right).
  std::vector<float> loc(4 * count, 0.f), landms(10 * count, 0.f), conf(2 * count);
  for (std::size_t i = 0; i < count; ++i) conf[2 * i] = 0.99f, conf[2 * i + 1] = 0.01f;
  const std::size_t level0 = 2 * 270 * 480;
  const std::size_t middle = level0 + 2 * (67 * 240 + 120);  // row 67, column 120, first min size
  const std::size_t faces[3] = {0, middle, count - 1};
  const float scores[3] = {0.9f, 0.8f, 0.7f};
  for (int k = 0; k < 3; ++k) conf[2 * faces[k]] = 1.f - scores[k], conf[2 * faces[k] + 1] = scores[k];
  const facepost::HeadOutputs heads{facepost::TensorView(loc.data(), count, 4),
                                    facepost::TensorView(conf.data(), count, 2),
                                    facepost::TensorView(landms.data(), count, 10)};

  facepost::BasicPostprocessor<facepost::presets::retinaface_mnet> pp;
  const facepost::Detections d = pp.run(heads, uhd);
  CHECK(pp.stats().priors == count);
  CHECK(pp.stats().candidates == 3);
  REQUIRE(d.size() == 3);
  // With zero regressions a detection is its prior box in pixels: centre (j+0.5)*step,
  // (i+0.5)*step, size min_size.
  struct Box {
    double cx, cy, size;
  };
  const Box want[3] = {{4, 4, 16}, {(120 + 0.5) * 16, (67 + 0.5) * 16, 64}, {(119 + 0.5) * 32, (67 + 0.5) * 32, 512}};
  for (int k = 0; k < 3; ++k) {
    INFO("face " << k);
    CHECK(d.prior_index(std::size_t(k)) == faces[k]);
    CHECK(d[std::size_t(k)].score() == scores[k]);
    CHECK(d[std::size_t(k)].x1() == Approx(want[k].cx - want[k].size / 2).margin(1e-2));
    CHECK(d[std::size_t(k)].y1() == Approx(want[k].cy - want[k].size / 2).margin(1e-2));
    CHECK(d[std::size_t(k)].x2() == Approx(want[k].cx + want[k].size / 2).margin(1e-2));
    CHECK(d[std::size_t(k)].y2() == Approx(want[k].cy + want[k].size / 2).margin(1e-2));
    CHECK(d[std::size_t(k)].landmark_x(0) == Approx(want[k].cx).margin(1e-2));
  }

}

namespace {

/// A version-1 .npy file: magic, version, header length, the dict padded to 64 bytes, `payload`.
std::vector<unsigned char> npy_file(const std::string& dict, const std::vector<float>& payload, unsigned char major = 1) {
  std::string header = dict;
  const std::size_t preamble = major == 1 ? 10 : 12;
  header.append(63 - (preamble + header.size()) % 64, ' ');
  header += '\n';
  std::vector<unsigned char> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  for (std::size_t b = 0; b < preamble - 8; ++b) bytes.push_back(static_cast<unsigned char>(header.size() >> (8 * b)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  const unsigned char* p = reinterpret_cast<const unsigned char*>(payload.data());
  bytes.insert(bytes.end(), p, p + 4 * payload.size());
  return bytes;
}

std::string dict(const std::string& descr, const std::string& fortran, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

}  // namespace

TEST_CASE("npy: malformed files are refused with io_error naming the problem", "[npy][bad_input]") {
  const std::vector<float> six = {0, 1, 2, 3, 4, 5};
  const std::vector<unsigned char> good = npy_file(dict("<f4", "False", "(2, 3)"), six);
  facepost::io::NpyArray a;
  REQUIRE(facepost::io::parse_npy(good.data(), good.size(), a).ok());  // the control
  CHECK(a.shape == std::vector<std::int64_t>{2, 3});

  struct Case {
    const char* what;
    std::vector<unsigned char> bytes;
    const char* message;
  };
  std::vector<unsigned char> bad_magic = good;
  bad_magic[1] = 'X';
  std::vector<unsigned char> version4 = good;
  version4[6] = 4;
  const std::vector<unsigned char> short_header(good.begin(), good.begin() + 40);
  const std::vector<unsigned char> short_data(good.begin(), good.end() - 8);
  std::string many_dims = "(";
  for (int d = 0; d < 33; ++d) many_dims += "1, ";
  many_dims += ")";
  const std::vector<Case> cases = {
      {"empty", {}, "not a .npy file (bad magic)"},
      {"bad magic", bad_magic, "not a .npy file (bad magic)"},
      {"nine bytes", std::vector<unsigned char>(good.begin(), good.begin() + 9), "bad magic"},
      {"version 4", version4, "unsupported .npy version 4"},
      {"version 2 cut in its length", std::vector<unsigned char>({0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0}),
       "truncated .npy header"},
      {"header cut short", short_header, "truncated .npy header"},
      {"data cut short", short_data, "truncated data (24 bytes expected, 16 present)"},
      {"float64", npy_file(dict("<f8", "False", "(3,)"), six), "dtype '<f8' is not float32 (save with .astype(np.float32))"},
      {"int32", npy_file(dict("<i4", "False", "(3,)"), six), "dtype '<i4' is not float32"},
      {"float16", npy_file(dict("<f2", "False", "(3,)"), six), "dtype '<f2' is not float32"},
      {"no shape key", npy_file("{'descr': '<f4', 'fortran_order': False, }", six), "malformed .npy header"},
      {"fortran_order not a bool", npy_file(dict("<f4", "1", "(6,)"), six), "malformed fortran_order '1'"},
      {"shape as a list", npy_file(dict("<f4", "False", "[2, 3]"), six), "malformed shape"},
      {"negative dimension", npy_file(dict("<f4", "False", "(2, -3)"), six), "malformed shape"},
      {"fractional dimension", npy_file(dict("<f4", "False", "(2.5,)"), six), "malformed shape"},
      {"33 dimensions", npy_file(dict("<f4", "False", many_dims), six), "too many dimensions"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const facepost::Status s = facepost::io::parse_npy(c.bytes.data(), c.bytes.size(), a, "x.npy");
    CHECK(s.code() == facepost::Errc::io_error);
    CHECK_THAT(s.message(), Catch::StartsWith("x.npy: ") && Catch::Contains(c.message));
    CHECK((a.shape.empty() && a.data.empty()));
  }
}

TEST_CASE("npy: big-endian, Fortran-order and version-2 files read as C-order float32", "[npy]") {
  // [[0, 1, 2], [3, 4, 5]] stored column by column, and big-endian.
  const std::vector<float> fortran = {0, 3, 1, 4, 2, 5};
  std::vector<float> swapped = fortran;
  for (float& f : swapped) {
    unsigned char b[4];
    std::memcpy(b, &f, 4);
    std::swap(b[0], b[3]);
    std::swap(b[1], b[2]);
    std::memcpy(&f, b, 4);
  }
  const std::vector<float> want = {0, 1, 2, 3, 4, 5};
  for (const auto& bytes : {npy_file(dict(">f4", "True", "(2, 3)"), swapped),
                            npy_file(dict("<f4", "True", "(2, 3)"), fortran, 2),
                            npy_file(dict("<f4", "False", "(2, 3)"), want, 3)}) {
    facepost::io::NpyArray a;
    REQUIRE(facepost::io::parse_npy(bytes.data(), bytes.size(), a).ok());
    CHECK(a.shape == std::vector<std::int64_t>{2, 3});
    CHECK(a.data == want);
  }
}

TEST_CASE("npy: missing files and unwritable paths are io_error naming the path", "[npy][bad_input]") {
  facepost::io::NpyArray a;
  const facepost::Status missing = facepost::io::read_npy("/nonexistent/facepost/loc.npy", a);
  CHECK(missing.code() == facepost::Errc::io_error);
  CHECK_THAT(missing.message(), Catch::Equals("/nonexistent/facepost/loc.npy: cannot open file"));
  const float one = 1.f;
  const facepost::Status unwritable = facepost::io::write_npy("/nonexistent/facepost/out.npy", &one, {1});
  CHECK(unwritable.code() == facepost::Errc::io_error);
  CHECK_THAT(unwritable.message(), Catch::Equals("/nonexistent/facepost/out.npy: cannot open for writing"));
}
