// The confidence filter: strictly greater, NaN and infinities never pass, logits give exactly the
// candidates and scores of softmax-then-threshold, thresholds 0 and 1, contiguous and strided.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "facepost/facepost.hpp"
#include "reference/random_heads.hpp"
#include "reference/reference_port.hpp"

namespace {

using facepost::ScoreFormat;
using facepost::TensorView;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

struct Candidates {
  std::vector<std::uint32_t> index;
  std::vector<float> score;
};

Candidates filter(const TensorView& conf, float t, ScoreFormat f) {
  Candidates c{std::vector<std::uint32_t>(conf.rows), std::vector<float>(conf.rows)};
  const std::size_t n = facepost::filter_scores(conf, t, f, c.index.data(), c.score.data());
  c.index.resize(n);
  c.score.resize(n);
  return c;
}

// conf [N,2] from face scores (column 0 = 1 - s).
std::vector<float> probabilities(const std::vector<float>& face) {
  std::vector<float> conf(2 * face.size());
  for (std::size_t i = 0; i < face.size(); ++i) conf[2 * i] = 1.f - face[i], conf[2 * i + 1] = face[i];
  return conf;
}

// Column-major copy of an [N,2] tensor, and its view.
struct ColumnMajor {
  std::vector<float> data;
  std::size_t rows;
  explicit ColumnMajor(const std::vector<float>& conf) : data(conf.size()), rows(conf.size() / 2) {
    for (std::size_t r = 0; r < rows; ++r) data[r] = conf[2 * r], data[rows + r] = conf[2 * r + 1];
  }
  TensorView view() const { return TensorView(data.data(), rows, 2, 1, std::ptrdiff_t(rows)); }
};

bool same(const Candidates& a, const Candidates& b) {
  return a.index == b.index && a.score.size() == b.score.size() &&
         facepost_test::same_bytes(a.score.data(), b.score.data(), a.score.size() * sizeof(float));
}

// softmax(l0, l1)[1] as a float32 softmax computes it: max subtracted, then e1 / (e0 + e1), with
// the correctly rounded exp (computed in double, rounded once).
float softmax_face(float l0, float l1) {
  auto exp = [](float x) { return static_cast<float>(std::exp(static_cast<double>(x))); };
  const float m = std::max(l0, l1);
  const float e0 = exp(l0 - m), e1 = exp(l1 - m);
  return e1 / (e0 + e1);
}

// l1 such that softmax(l0, l1) lands on t exactly when some float l1 gets there, else on the
// nearest value above or below t; found by walking l1 one ulp at a time from the logit of t.
float logit_onto(float l0, float t, double logit_t) {
  float l1 = l0 + static_cast<float>(logit_t);
  const float inf = std::numeric_limits<float>::infinity();
  for (int step = 0; step < 200; ++step) {
    const float s = softmax_face(l0, l1);
    if (s == t) break;
    const float next = std::nextafter(l1, s < t ? inf : -inf);
    const float s_next = softmax_face(l0, next);
    if ((s < t) != (s_next < t) && s_next != t) break;  // t lies between two neighbouring logits
    l1 = next;
  }
  return l1;
}

}  // namespace

TEST_CASE("filter: strictly greater than the threshold, in row order", "[filter]") {
  const float t = 0.5f;
  const std::vector<float> face = {0.5f, std::nextafter(0.5f, 1.f), std::nextafter(0.5f, 0.f), 0.5f, 0.9f, 0.7f};
  const std::vector<float> conf = probabilities(face);
  const Candidates c = filter(TensorView(conf.data(), face.size(), 2), t, ScoreFormat::probabilities);
  REQUIRE(c.index == std::vector<std::uint32_t>{1, 4, 5});
  CHECK(c.score == std::vector<float>{std::nextafter(0.5f, 1.f), 0.9f, 0.7f});
}

TEST_CASE("filter: NaN and infinite scores never pass", "[filter]") {
  // 19 rows so both the vector body and the scalar tail see the specials.
  std::vector<float> face(19, 0.01f);
  face[0] = kNaN, face[1] = kInf, face[2] = -kInf, face[3] = 0.8f, face[9] = kNaN, face[10] = kInf;
  face[17] = kInf, face[18] = kNaN, face[16] = 0.6f;
  const std::vector<float> conf = probabilities(face);
  for (float t : {0.f, 0.02f, 0.5f}) {
    INFO("threshold " << t);
    const Candidates c = filter(TensorView(conf.data(), face.size(), 2), t, ScoreFormat::probabilities);
    CHECK(c.index == std::vector<std::uint32_t>(t < 0.01f ? std::vector<std::uint32_t>{3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16}
                                                           : std::vector<std::uint32_t>{3, 16}));
    const Candidates s = filter(ColumnMajor(conf).view(), t, ScoreFormat::probabilities);
    CHECK(same(c, s));
  }
  // Logits: a NaN or infinite logit gives no candidate (softmax of inf - inf is NaN).
  const std::vector<float> logits = {0.f, kNaN,  kNaN, 5.f, 0.f,  kInf, -kInf, 0.f,  kInf, kInf,
                                     0.f, 5.f,   -kInf, -kInf, 1e30f, -1e30f, -1e30f, 1e30f};
  const Candidates l = filter(TensorView(logits.data(), logits.size() / 2, 2), 0.02f, ScoreFormat::logits);
  // softmax(0, inf), (inf, inf) are NaN (inf - inf) and a NaN logit gives NaN: no candidate.
  // (-inf, 0) and (-1e30, 1e30) are certain faces (score exactly 1), (0, 5) a likely one.
  REQUIRE(l.index == std::vector<std::uint32_t>{3, 5, 8});
  CHECK(l.score[0] == 1.f);
  CHECK(l.score[1] == softmax_face(0.f, 5.f));
  CHECK(l.score[2] == 1.f);
}

TEST_CASE("filter: threshold 0 keeps every positive score, threshold 1 keeps nothing valid", "[filter]") {
  const std::vector<float> face = {0.f, -0.f, std::numeric_limits<float>::denorm_min(), 1e-30f, 1.f, 0.5f, -0.1f};
  const std::vector<float> conf = probabilities(face);
  const TensorView view(conf.data(), face.size(), 2);
  CHECK(filter(view, 0.f, ScoreFormat::probabilities).index == std::vector<std::uint32_t>{2, 3, 4, 5});
  // Threshold 1: a probability is never greater than 1 (numpy `scores > 1.0`).
  CHECK(filter(view, 1.f, ScoreFormat::probabilities).index.empty());
  // Logits at 0 and 1: softmax is in [0, 1]; > 0 unless it underflows to 0.
  const std::vector<float> logits = {0.f, 0.f, 0.f, -200.f, 0.f, -50.f, 200.f, 0.f, 0.f, 100.f};
  const TensorView lv(logits.data(), 5, 2);
  const Candidates at0 = filter(lv, 0.f, ScoreFormat::logits);
  CHECK(at0.index == std::vector<std::uint32_t>{0, 2, 4});  // exp(-200) flushes to 0: score 0 is not > 0
  CHECK(at0.score[0] == 0.5f);
  CHECK(at0.score[1] == softmax_face(0.f, -50.f));
  CHECK(filter(lv, 1.f, ScoreFormat::logits).index.empty());
}

TEST_CASE("filter: logits give exactly the candidates and scores of softmax-then-threshold", "[filter]") {
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.f, 3.f);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  const float thresholds[] = {0.f, 1e-6f, 0.02f, 0.1f, 0.3f, 0.5f, 0.7f, 0.9f, 0.999f, 0.99999f, 1.f};
  for (float t : thresholds) {
    INFO("threshold " << t);
    // 10007 rows: most scattered, many placed within a few ulps of the threshold in logit space.
    const std::size_t n = 10007;
    std::vector<float> logits(2 * n), face(n);
    const double logit_t = (t > 0.f && t < 1.f) ? std::log(double(t) / (1.0 - double(t))) : 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const float l0 = normal(rng);
      float d;
      switch (i % 4) {
        case 0: d = normal(rng) * 3.f; break;
        case 1: d = 0.f; break;  // below: softmax on (or next to) the threshold
        case 2: {                           // a few ulps of the difference either side
          d = float(logit_t);
          for (int k = int(rng() % 9) - 4; k != 0; k += k > 0 ? -1 : 1) d = std::nextafter(d, k > 0 ? kInf : -kInf);
          break;
        }
        default: d = float(logit_t) + (unit(rng) - 0.5f) * 1e-3f; break;
      }
      logits[2 * i] = l0;
      logits[2 * i + 1] = i % 4 == 1 && t > 0.f && t < 1.f ? logit_onto(l0, t, logit_t) : l0 + d;
      face[i] = softmax_face(logits[2 * i], logits[2 * i + 1]);
    }
    const std::vector<float> probs = probabilities(face);
    const Candidates want = filter(TensorView(probs.data(), n, 2), t, ScoreFormat::probabilities);
    const Candidates got = filter(TensorView(logits.data(), n, 2), t, ScoreFormat::logits);
    CHECK(same(got, want));
    CHECK(same(filter(ColumnMajor(logits).view(), t, ScoreFormat::logits), want));
    // Rows within 64 ulps on both sides of the threshold (a softmax cannot land on every
    // float; where it can, some rows sit exactly on it), so the test can tell > from >=.
    if (t > 0.f && t < 1.f) {
      const float window = 64.f * (std::nextafter(t, 2.f) - t);
      std::size_t at_or_below = 0, above = 0, on = 0;
      for (float s : face) {
        at_or_below += s <= t && s >= t - window;
        above += s > t && s <= t + window;
        on += s == t;
      }
      CHECK(at_or_below > 0);
      CHECK(above > 0);
      if (t == 0.3f || t == 0.5f) CHECK(on > 0);
    }
    // The port scores every row the same way.
    for (std::size_t i = 0; i < n; i += 97)
      CHECK(facepost_ref::face_score(TensorView(logits.data(), n, 2), i, ScoreFormat::logits) == face[i]);
  }
}

TEST_CASE("filter: contiguous and strided views take the same decisions", "[filter]") {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (std::size_t n : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 33u, 1000u, 4099u}) {
    std::vector<float> face(n);
    for (float& s : face) s = unit(rng) < 0.3f ? 0.3f : unit(rng);  // ties at the threshold too
    const std::vector<float> conf = probabilities(face);
    // A padded layout: rows of 5 floats, conf in columns 3 and 4.
    std::vector<float> padded(5 * n, -1.f);
    for (std::size_t r = 0; r < n; ++r) padded[5 * r + 3] = conf[2 * r], padded[5 * r + 4] = conf[2 * r + 1];
    for (ScoreFormat f : {ScoreFormat::probabilities, ScoreFormat::logits}) {
      INFO("rows " << n << " format " << int(f));
      const Candidates a = filter(TensorView(conf.data(), n, 2), 0.3f, f);
      CHECK(same(a, filter(ColumnMajor(conf).view(), 0.3f, f)));
      CHECK(same(a, filter(TensorView(padded.data() + 3, n, 2, 5, 1), 0.3f, f)));
      for (std::size_t k = 0; k + 1 < a.index.size(); ++k) CHECK(a.index[k] < a.index[k + 1]);
    }
  }
}
