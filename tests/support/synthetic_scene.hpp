// tests/support/synthetic_scene.hpp - deterministic synthetic RetinaFace head outputs.
//
// Builds loc [N,4], conf [N,2] (softmax probabilities) and landms [N,10] for any anchor
// configuration and input size, shaped like what a trained network emits on a photo with F faces:
//  - each face gets a cluster of priors around it: priors whose centre is near the face centre and
//    whose anchor size matches the face score high (the best one: the face's peak, 0.6..0.999),
//    falling off with distance and scale mismatch; their regressions decode to boxes jittered
//    around the face, so NMS sees many overlapping boxes per face;
//  - every other prior is background: mostly < 0.02, a fraction `noise_fraction` in [0.02, 0.2)
//    (at anchor sizes near the faces') with small regressions: isolated low-score boxes that
//    mostly survive NMS.
// Calibrated so that a 1920x1080 retinaface_mnet scene with 1000 faces gives ~9,200 candidates at
// threshold 0.02 and ~4,000 detections after legacy NMS 0.4 (seeds 1, 99, 20240607: 9,194 to
// 9,286 and 4,031 to 4,048), like a real crowd frame (85,200 priors, ~9,300 / ~4,000), and every
// face is detected at threshold 0.5.
//
// Only std::mt19937 output is used (uniforms and normals are derived here, not by <random>'s
// implementation-defined distributions), so a seed gives the same scene with any standard library.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "facepost/anchors.hpp"
#include "facepost/priors.hpp"
#include "facepost/tensor.hpp"

namespace facepost_test {

/// One synthetic face, in network-input pixels.
struct SyntheticFace {
  float x1, y1, x2, y2;
  float peak_score;  ///< score of the best prior of its cluster (before overlap with others)
};

/// What to put in the scene. Defaults are the calibrated ones.
struct SceneOptions {
  std::size_t faces = 0;  ///< 0 .. kMaxSyntheticFaces
  std::uint32_t seed = 1;
  /// Fraction of background priors that score in [0.02, 0.2) (false-positive noise), for anchor
  /// sizes within the scene's face-size range.
  double noise_fraction = 0.052;
  /// Spread (in octaves) of the noise beyond the face-size range: the fraction of an anchor size
  /// d octaves away is scaled by exp(-d^2 / (2 noise_octaves^2)).
  double noise_octaves = 0.7;
  /// Logit drop of a cluster prior per (distance to the face centre / (face size + half the
  /// level's stride))^2.
  double distance_falloff = 80.0;
  /// Logit drop per (ln(face size / anchor size))^2.
  double scale_falloff = 10.0;
};

constexpr std::size_t kMaxSyntheticFaces = 1000;

/// The generated tensors (row-major, contiguous) and the faces they contain.
struct SyntheticScene {
  facepost::InputSize input{};
  std::size_t num_priors = 0;
  std::vector<float> loc, conf, landms;
  std::vector<SyntheticFace> faces;

  facepost::HeadOutputs heads() const {
    return {facepost::TensorView(loc.data(), num_priors, 4), facepost::TensorView(conf.data(), num_priors, 2),
            facepost::TensorView(landms.data(), num_priors, 10)};
  }
};

namespace detail {

/// Uniform and normal variates from raw mt19937 words (portable across standard libraries).
class SceneRng {
 public:
  explicit SceneRng(std::uint32_t seed) : gen_(seed) {}
  /// Uniform in [0, 1).
  double uniform() { return double(gen_()) * (1.0 / 4294967296.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Box-Muller, both values used).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 6.283185307179586 * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

 private:
  std::mt19937 gen_;
  double spare_ = 0;
  bool has_spare_ = false;
};

/// Where one anchor level's priors sit in the [N,4] prior array.
struct LevelLayout {
  int step;
  std::vector<int> sizes;
  std::size_t offset;  ///< index of the level's first prior
  int fw, fh;
};

inline std::vector<LevelLayout> level_layouts(const facepost::AnchorConfig& cfg, facepost::InputSize in) {
  std::vector<LevelLayout> out;
  std::size_t offset = 0;
  for (const facepost::AnchorLevel& l : cfg.levels) {
    const int fw = (in.width + l.step - 1) / l.step, fh = (in.height + l.step - 1) / l.step;
    out.push_back(LevelLayout{l.step, l.min_sizes, offset, fw, fh});
    offset += std::size_t(fw) * std::size_t(fh) * l.min_sizes.size();
  }
  return out;
}

inline void store_probabilities(float* conf_row, double face) {
  const float p = static_cast<float>(face);
  conf_row[0] = 1.f - p;
  conf_row[1] = p;
}

}  // namespace detail

/// Builds a scene for `spec` (a facepost::presets type or an AnchorConfig) at network input size
/// `input`. Throws facepost::Error for an invalid configuration or size and std::invalid_argument
/// for invalid options.
template <class Spec>
SyntheticScene make_synthetic_scene(const Spec& spec, facepost::InputSize input, const SceneOptions& opt = {}) {
  if (opt.faces > kMaxSyntheticFaces)
    throw std::invalid_argument("synthetic scene: " + std::to_string(opt.faces) + " faces requested, at most " +
                                std::to_string(kMaxSyntheticFaces) + " are supported");
  if (!(opt.noise_fraction >= 0.0 && opt.noise_fraction <= 1.0))
    throw std::invalid_argument("synthetic scene: noise_fraction " + std::to_string(opt.noise_fraction) +
                                " is outside [0, 1]");
  for (double v : {opt.distance_falloff, opt.scale_falloff, opt.noise_octaves})
    if (!(v > 0.0 && std::isfinite(v)))
      throw std::invalid_argument(
          "synthetic scene: distance_falloff, scale_falloff and noise_octaves must be finite and positive");

  const facepost::AnchorConfig cfg = facepost::to_anchor_config(spec);
  facepost::PriorGrid<facepost::AnchorConfig> grid(cfg);
  grid.build(input);  // validates the configuration and the size
  const std::size_t n = grid.size();
  const float* priors = grid.data();
  const double W = input.width, H = input.height;
  const double v0 = cfg.variance.center, v1 = cfg.variance.size;

  SyntheticScene scene;
  scene.input = input;
  scene.num_priors = n;
  scene.loc.resize(4 * n);
  scene.conf.resize(2 * n);
  scene.landms.resize(10 * n);
  detail::SceneRng rng(opt.seed);

  // Face sizes follow the anchors (a little beyond the smallest and largest), no larger than the
  // image allows, and no larger than a crowd of F faces leaves room for.
  int min_anchor = cfg.levels.front().min_sizes.front(), max_anchor = min_anchor;
  for (const facepost::AnchorLevel& l : cfg.levels)
    for (int m : l.min_sizes) min_anchor = std::min(min_anchor, m), max_anchor = std::max(max_anchor, m);
  const double image_cap = 0.8 * std::min(W, H);
  const double smin = std::max(1.0, std::min(0.75 * min_anchor, image_cap));
  double smax = std::min(1.25 * max_anchor, image_cap);
  if (opt.faces > 0) smax = std::min(smax, 0.8 * std::sqrt(W * H / double(opt.faces)));
  smax = std::max(smax, smin);

  // Background: log-uniform scores in [1e-4, 0.02); a noise fraction in [0.02, 0.2), skewed
  // towards 0.02 as real false positives are; regressions ~ N(0, 1) as measured on the bundled
  // fixtures. Real networks' false positives come from anchors near the scale of the faces in the
  // picture (the fixtures: anchors several octaves larger than every face fire almost never), so
  // the noise fraction of an anchor size falls off with its distance in octaves from [smin, smax].
  const std::vector<detail::LevelLayout> layouts = detail::level_layouts(cfg, input);
  for (const detail::LevelLayout& l : layouts) {
    const std::size_t nm = l.sizes.size();
    std::vector<double> noise(nm);
    for (std::size_t m = 0; m < nm; ++m) {
      const double octaves = l.sizes[m] < smin   ? std::log2(smin / l.sizes[m])
                             : l.sizes[m] > smax ? std::log2(l.sizes[m] / smax)
                                                 : 0.0;
      noise[m] = opt.noise_fraction * std::exp(-0.5 * octaves * octaves / (opt.noise_octaves * opt.noise_octaves));
    }
    const std::size_t end = l.offset + std::size_t(l.fw) * std::size_t(l.fh) * nm;
    for (std::size_t r = l.offset; r < end; ++r) {
      double s;
      if (rng.uniform() < noise[(r - l.offset) % nm]) {
        const double v = rng.uniform();
        s = 0.02 * std::pow(10.0, v * v);
      } else {
        s = std::pow(10.0, -4.0 + rng.uniform() * (std::log10(0.02) + 4.0));
      }
      detail::store_probabilities(&scene.conf[2 * r], s);
      for (int c = 0; c < 4; ++c) scene.loc[4 * r + c] = static_cast<float>(rng.normal());
      for (int c = 0; c < 10; ++c) scene.landms[10 * r + c] = static_cast<float>(rng.normal());
    }
  }

  // Place faces; centres closer than 0.35 x (sum of sizes) are retried a few times, so crowds
  // overlap only where the image is too small for them.
  struct Placed {
    double cx, cy, w, h, size, peak_logit;
  };
  std::vector<Placed> placed;
  placed.reserve(opt.faces);
  for (std::size_t f = 0; f < opt.faces; ++f) {
    Placed p{};
    for (int attempt = 0; attempt < 16; ++attempt) {
      p.size = smin * std::pow(smax / smin, rng.uniform());
      const double aspect = rng.uniform(1.0, 1.3);  // faces are taller than wide
      p.w = p.size / std::sqrt(aspect);
      p.h = p.size * std::sqrt(aspect);
      p.cx = p.w < W ? rng.uniform(p.w / 2, W - p.w / 2) : W / 2;
      p.cy = p.h < H ? rng.uniform(p.h / 2, H - p.h / 2) : H / 2;
      bool clear = true;
      for (const Placed& q : placed)
        if (std::hypot(p.cx - q.cx, p.cy - q.cy) < 0.35 * (p.size + q.size)) {
          clear = false;
          break;
        }
      if (clear) break;
    }
    const double u = rng.uniform();
    const double peak = 0.999 - 0.399 * u * u * u;  // most faces confident, some hard ones
    p.peak_logit = std::log(peak / (1.0 - peak));
    placed.push_back(p);
  }

  // Face clusters. The penalty of a prior grows with its distance to the face centre (in face
  // sizes, widened by half a stride so coarse levels still reach small faces) and with the
  // mismatch between its anchor size and the face. The best prior of a face scores its peak; the
  // others score peak - (penalty - best penalty) + noise. A prior takes the face's score and
  // regressions when that beats what it has (background or another face).
  static constexpr double kLandmarkTemplate[5][2] = {{0.32, 0.40}, {0.68, 0.40}, {0.50, 0.58}, {0.36, 0.76}, {0.64, 0.76}};
  const double min_logit = std::log(0.005 / 0.995);  // below this the background stays
  struct Near {
    std::size_t row;
    double penalty, dn;
  };
  std::vector<Near> near;
  for (const Placed& p : placed) {
    scene.faces.push_back(SyntheticFace{float(p.cx - p.w / 2), float(p.cy - p.h / 2), float(p.cx + p.w / 2),
                                        float(p.cy + p.h / 2), float(1.0 / (1.0 + std::exp(-p.peak_logit)))});
    near.clear();
    const double budget = p.peak_logit - min_logit + 2.0;  // largest useful penalty, noise included
    for (const detail::LevelLayout& l : layouts) {
      const double radius = p.size + 0.5 * l.step;
      const double reach = radius * std::sqrt(budget / opt.distance_falloff) + l.step;
      const int nm = int(l.sizes.size());
      const int j0 = std::max(0, int(std::floor((p.cx - reach) / l.step)));
      const int j1 = std::min(l.fw - 1, int(std::ceil((p.cx + reach) / l.step)));
      const int i0 = std::max(0, int(std::floor((p.cy - reach) / l.step)));
      const int i1 = std::min(l.fh - 1, int(std::ceil((p.cy + reach) / l.step)));
      for (int m = 0; m < nm; ++m) {
        const double ls = std::log(p.size / l.sizes[std::size_t(m)]);
        const double scale_penalty = opt.scale_falloff * ls * ls;
        if (scale_penalty > budget) continue;
        for (int i = i0; i <= i1; ++i)
          for (int j = j0; j <= j1; ++j) {
            const std::size_t r = l.offset + (std::size_t(i) * std::size_t(l.fw) + std::size_t(j)) * std::size_t(nm) +
                                  std::size_t(m);
            const double pcx = double(priors[4 * r]) * W, pcy = double(priors[4 * r + 1]) * H;
            const double dn = std::hypot(pcx - p.cx, pcy - p.cy) / radius;
            const double penalty = scale_penalty + opt.distance_falloff * dn * dn;
            if (penalty <= budget) near.push_back(Near{r, penalty, dn});
          }
      }
    }
    if (near.empty()) continue;
    std::size_t best = 0;
    for (std::size_t k = 1; k < near.size(); ++k)
      if (near[k].penalty < near[best].penalty) best = k;
    const double best_penalty = near[best].penalty;
    for (std::size_t k = 0; k < near.size(); ++k) {
      const std::size_t r = near[k].row;
      const double logit = p.peak_logit - (near[k].penalty - best_penalty) + (k == best ? 0.0 : 0.3 * rng.normal());
      if (logit < min_logit) continue;
      const double score = 1.0 / (1.0 + std::exp(-logit));
      if (score <= double(scene.conf[2 * r + 1])) continue;
      detail::store_probabilities(&scene.conf[2 * r], score);
      // Regress towards the face, less precisely the farther off-centre the prior is.
      const float* prior = priors + 4 * r;
      const double pcx = double(prior[0]) * W, pcy = double(prior[1]) * H;
      const double pw = double(prior[2]) * W, ph = double(prior[3]) * H;  // prior size, pixels
      const double jitter = (0.03 + 0.08 * near[k].dn) * p.size;
      const double tcx = p.cx + jitter * rng.normal(), tcy = p.cy + jitter * rng.normal();
      const double tw = p.w * std::exp(0.06 * rng.normal()), th = p.h * std::exp(0.06 * rng.normal());
      float* loc = &scene.loc[4 * r];
      loc[0] = static_cast<float>((tcx - pcx) / (v0 * pw));
      loc[1] = static_cast<float>((tcy - pcy) / (v0 * ph));
      loc[2] = static_cast<float>(std::log(tw / pw) / v1);
      loc[3] = static_cast<float>(std::log(th / ph) / v1);
      float* lm = &scene.landms[10 * r];
      for (int c = 0; c < 5; ++c) {
        const double lx = tcx + (kLandmarkTemplate[c][0] - 0.5) * tw + 0.02 * p.size * rng.normal();
        const double ly = tcy + (kLandmarkTemplate[c][1] - 0.5) * th + 0.02 * p.size * rng.normal();
        lm[2 * c] = static_cast<float>((lx - pcx) / (v0 * pw));
        lm[2 * c + 1] = static_cast<float>((ly - pcy) / (v0 * ph));
      }
    }
  }
  return scene;
}

}  // namespace facepost_test
