// tests/fixtures.hpp - the bundled real-network fixtures and the golden comparison.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "facepost/facepost.hpp"
#include "facepost/io/npy.hpp"

#ifndef FACEPOST_TEST_DATA
#error "FACEPOST_TEST_DATA must name the tests/data folder"
#endif

namespace fixtures {

struct Fixture {
  const char* name;
  facepost::AnchorConfig anchors;
  facepost::InputSize input;
  float resize;
};

/// The five fixtures of tests/data (values from each meta.json).
inline std::vector<Fixture> all() {
  using namespace facepost;
  const AnchorConfig mnet = to_anchor_config(presets::retinaface_mnet{});
  const AnchorConfig fd1m = to_anchor_config(presets::fd1m_mnet{});
  const AnchorConfig slim = to_anchor_config(presets::fd1m_slim{});
  return {
      {"crowd_mnet_native", mnet, {1024, 624}, 1.0f},
      {"group_mnet_long640", mnet, {640, 359}, 0.4f},
      {"family_fd1mnet_native", fd1m, {1024, 768}, 1.0f},
      {"selfie_slim_native", slim, {1024, 768}, 1.0f},
      {"crowd_rfb_long640", slim, {640, 359}, 0.4f},
  };
}

struct GoldenSet {
  const char* name;
  facepost::Params params;
};

inline std::vector<GoldenSet> golden_sets() {
  using facepost::IouConvention;
  facepost::Params detect;  // defaults = reference detect.py
  facepost::Params unlimited = facepost::Params{}.unlimited();
  facepost::Params tv = unlimited;
  tv.iou = IouConvention::continuous;
  facepost::Params t05 = unlimited;
  t05.score_threshold = 0.5f;
  return {{"reference_detect", detect}, {"reference_unlimited", unlimited}, {"torchvision_nms", tv},
          {"threshold_0_5", t05}};
}

inline std::string path(const std::string& fixture, const std::string& file) {
  return std::string(FACEPOST_TEST_DATA) + "/" + fixture + "/" + file;
}

inline facepost::io::NpyArray load(const std::string& fixture, const std::string& file) {
  facepost::io::NpyArray a;
  facepost::throw_if_error(facepost::io::read_npy(path(fixture, file), a));
  return a;
}

/// The network outputs of one fixture, kept alive with views over them.
struct Heads {
  facepost::io::NpyArray loc, conf, landms;
  explicit Heads(const std::string& fixture)
      : loc(load(fixture, "loc.npy")), conf(load(fixture, "conf.npy")), landms(load(fixture, "landms.npy")) {}
  facepost::HeadOutputs view() const {
    return {facepost::TensorView(loc.data.data(), std::size_t(loc.shape[0]), 4),
            facepost::TensorView(conf.data.data(), std::size_t(conf.shape[0]), 2),
            facepost::TensorView(landms.data.data(), std::size_t(landms.shape[0]), 10)};
  }
};

/// A [N,C] or [1,N,C] array as an [N,C] view.
inline facepost::TensorView view_2d(const facepost::io::NpyArray& a) {
  const std::size_t rank = a.shape.size();
  return facepost::TensorView(a.data.data(), std::size_t(a.shape[rank - 2]), std::size_t(a.shape[rank - 1]));
}

inline bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

/// One SCRFD fixture's per-stride outputs (tests/data/families/scrfd/<case>), and views of them.
struct ScrfdOutputs {
  facepost::io::NpyArray score[3], bbox[3], kps[3];
  ScrfdOutputs(const std::string& dir, bool with_kps) {
    for (int l = 0; l < 3; ++l) {
      const std::string s = std::to_string(facepost::kScrfdStrides[l]);
      score[l] = load(dir, "score_" + s + ".npy");
      bbox[l] = load(dir, "bbox_" + s + ".npy");
      if (with_kps) kps[l] = load(dir, "kps_" + s + ".npy");
    }
  }
  facepost::ScrfdHeads view() const {
    facepost::ScrfdHeads h;
    for (int l = 0; l < 3; ++l) {
      h.score[l] = view_2d(score[l]);
      h.bbox[l] = view_2d(bbox[l]);
      if (!kps[l].data.empty()) h.kps[l] = view_2d(kps[l]);
    }
    return h;
  }
};

/// Compares detections with a golden [K,15] array as the fixtures README says: same count,
/// rows in order, rows of exactly tied scores as a set, coordinates within `tol` px, scores within
/// `score_tol` (0: exact).
/// Returns an empty string on success, else a description of the first difference.
inline std::string compare_with_golden(const float* got, std::size_t got_rows, const float* want,
                                       std::size_t want_rows, float tol = 1e-3f, std::size_t cols = 15,
                                       float score_tol = 0.f) {
  if (got_rows != want_rows)
    return "row count " + std::to_string(got_rows) + " != golden " + std::to_string(want_rows);
  auto row_close = [&](const float* a, const float* b) {
    if (score_tol == 0.f ? a[4] != b[4] : !(std::fabs(a[4] - b[4]) <= score_tol)) return false;
    for (std::size_t c = 0; c < cols; ++c)
      if (c != 4 && !(std::fabs(a[c] - b[c]) <= tol)) return false;
    return true;
  };
  std::size_t i = 0;
  while (i < want_rows) {
    std::size_t j = i + 1;
    while (j < want_rows && want[cols * j + 4] == want[cols * i + 4]) ++j;  // tie group [i, j)
    std::vector<bool> used(j - i, false);
    for (std::size_t g = i; g < j; ++g) {
      bool found = false;
      for (std::size_t w = i; w < j && !found; ++w)
        if (!used[w - i] && row_close(got + cols * g, want + cols * w)) used[w - i] = found = true;
      if (!found) {
        std::string msg = "row " + std::to_string(g) + " (score " + std::to_string(got[cols * g + 4]) +
                          ") has no match in golden rows " + std::to_string(i) + ".." + std::to_string(j - 1) + "; got";
        for (std::size_t c = 0; c < cols; ++c) msg += " " + std::to_string(got[cols * g + c]);
        msg += "; golden";
        for (std::size_t c = 0; c < cols; ++c) msg += " " + std::to_string(want[cols * i + c]);
        return msg;
      }
    }
    i = j;
  }
  return {};
}

}  // namespace fixtures
