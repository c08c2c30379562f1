// bench/bench_families.cpp - each detector family against the plain C++ port of its reference
// (tests/reference/family_ports.hpp), on the fixtures of tests/data/families, in one run.
// Before timing, facepost's rows and the port's are checked equal bit for bit.
#include "families.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if FACEPOST_BENCH_HAVE_OPENCV
#include <opencv2/dnn.hpp>
#endif

#include "facepost/facepost.hpp"
#include "fixtures.hpp"
#include "reference/family_ports.hpp"

namespace facepost_bench {
namespace {

using facepost::InputSize;
using facepost::TensorView;

using fixtures::view_2d;

[[noreturn]] void mismatch(const std::string& what) {
  std::fprintf(stderr, "bench_families: %s: facepost and the port disagree\n", what.c_str());
  std::exit(EXIT_FAILURE);
}

bool same(const facepost::FamilyDetections& d, const facepost_ref::FamilyRows& p) {
  return d.cols() == p.cols && d.size() == p.size() &&
         std::memcmp(d.data(), p.data.data(), p.data.size() * sizeof(float)) == 0;
}

void set_counters(benchmark::State& st, std::size_t rows, std::size_t detections) {
  st.counters["rows"] = double(rows);
  st.counters["detections"] = double(detections);
}

struct ScrfdCase {
  std::string name;
  InputSize image, input;
  float det_scale;
  fixtures::ScrfdOutputs outputs;
  facepost::ScrfdHeads heads() const { return outputs.view(); }
};

struct YoloCase {
  std::string name;
  InputSize input;
  facepost::io::NpyArray pred;
};

template <class T>
const T* keep(T value) {
  static std::vector<std::unique_ptr<T>> all;  // registered lambdas point into these
  all.push_back(std::make_unique<T>(std::move(value)));
  return all.back().get();
}

void register_row(const std::string& name, std::function<void(benchmark::State&)> fn) {
  benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& st) { fn(st); })->Unit(benchmark::kMicrosecond);
}

void register_scrfd(const char* name, InputSize image, InputSize input, float det_scale, bool with_kps) {
  const ScrfdCase* k = keep(ScrfdCase{name, image, input, det_scale,
                                       fixtures::ScrfdOutputs(std::string("families/scrfd/") + name, with_kps)});
  std::size_t rows = 0;
  for (int l = 0; l < 3; ++l) rows += k->outputs.score[l].data.size();
  for (float t : {0.5f, 0.3f}) {
    const facepost::ScrfdParams p{t, t == 0.5f ? 0.4 : 0.5, 0};
    const std::string row = "family/scrfd/" + k->name + (t == 0.5f ? "/threshold_0_5" : "/threshold_0_3_nms_0_5");
    const facepost::ScrfdHeads h = k->heads();
    auto port = [k, p, h] {
      return facepost_ref::scrfd_port(h.score, h.bbox, h.kps, k->input, k->det_scale, k->image, p.threshold,
                                      float(p.nms_threshold), p.max_num);
    };
    {
      facepost::ScrfdPostprocessor post(p);
      if (!same(post.run(h, k->input, facepost::ImageMapping::resize(k->det_scale), k->image), port())) mismatch(row);
    }
    register_row(row + "/facepost", [k, p, h, rows](benchmark::State& st) {
      facepost::ScrfdPostprocessor post(p);
      const facepost::ImageMapping m = facepost::ImageMapping::resize(k->det_scale);
      std::size_t n = 0;
      for (auto _ : st) {
        const facepost::FamilyDetections d = post.run(h, k->input, m, k->image);
        benchmark::DoNotOptimize(d.data());
        n = d.size();
      }
      set_counters(st, rows, n);
    });
    register_row(row + "/port", [port, rows](benchmark::State& st) {
      std::size_t n = 0;
      for (auto _ : st) {
        const facepost_ref::FamilyRows r = port();
        benchmark::DoNotOptimize(r.data.data());
        n = r.size();
      }
      set_counters(st, rows, n);
    });
  }
}

void register_yolov5_face(const char* name, InputSize input) {
  const YoloCase* k = keep(YoloCase{name, input, fixtures::load(std::string("families/yolov5_face/") + name, "pred.npy")});
  const std::size_t rows = k->pred.data.size() / 16;
  const struct {
    const char* set;
    facepost::Yolov5FaceParams p;
  } sets[] = {{"conf_0_25_iou_0_45", {0.25f, 0.45, 0}}, {"conf_0_02_iou_0_5", {0.02f, 0.5, 0}}};
  for (const auto& s : sets) {
    const std::string row = "family/yolov5_face/" + k->name + "/" + s.set;
    const facepost::Yolov5FaceParams p = s.p;
    const TensorView pred = view_2d(k->pred);
    {
      facepost::Yolov5FacePostprocessor post(p);
      if (!same(post.run(pred, k->input), facepost_ref::yolov5_face_port(pred, p.conf_threshold, p.iou_threshold,
                                                                         p.max_det)))
        mismatch(row);
    }
    register_row(row + "/facepost", [k, p, pred, rows](benchmark::State& st) {
      facepost::Yolov5FacePostprocessor post(p);
      std::size_t n = 0;
      for (auto _ : st) {
        const facepost::FamilyDetections d = post.run(pred, k->input);
        benchmark::DoNotOptimize(d.data());
        n = d.size();
      }
      set_counters(st, rows, n);
    });
    register_row(row + "/port", [p, pred, rows](benchmark::State& st) {
      std::size_t n = 0;
      for (auto _ : st) {
        const facepost_ref::FamilyRows r =
            facepost_ref::yolov5_face_port(pred, p.conf_threshold, p.iou_threshold, p.max_det);
        benchmark::DoNotOptimize(r.data.data());
        n = r.size();
      }
      set_counters(st, rows, n);
    });
  }
}

struct BlazeCase {
  std::string name;
  facepost::BlazefaceModel model;
  facepost::io::NpyArray regressors, logits;
};

bool close(const facepost::FamilyDetections& d, const facepost_ref::FamilyRows& p) {
  return d.size() == p.size() &&
         fixtures::compare_with_golden(d.data(), d.size(), p.data.data(), p.size(), 1e-3f, 17, 1e-6f).empty();
}

void register_blazeface(const char* name, facepost::BlazefaceModel model) {
  const std::string dir = std::string("families/blazeface/") + name;
  const BlazeCase* k = keep(BlazeCase{name, model, fixtures::load(dir, "regressors.npy"),
                                      fixtures::load(dir, "classificators.npy")});
  const TensorView reg(k->regressors.data.data(), 896, 16), logits(k->logits.data.data(), 896, 1);
  const float S = float(facepost::blazeface_input_size(model));
  for (float t : {0.5f, facepost::blazeface_default_threshold(model)}) {
    const std::string row = "family/blazeface/" + k->name + (t == 0.5f ? "/threshold_0_5" : "/default");
    const facepost::BlazefacePostprocessor anchors_of(model);
    const std::vector<float> anchors(anchors_of.anchors(), anchors_of.anchors() + 4 * 896);
    auto port = [reg, logits, anchors, S, t] {
      return facepost_ref::blazeface_port(reg, logits, anchors.data(), S, t, 0.3f);
    };
    {
      facepost::BlazefacePostprocessor post(model, {t, 0.3f});
      if (!close(post.run(facepost::BlazefaceHeads(reg, logits)), port())) mismatch(row);
    }
    register_row(row + "/facepost", [model, t, reg, logits](benchmark::State& st) {
      facepost::BlazefacePostprocessor post(model, {t, 0.3f});
      const facepost::BlazefaceHeads heads(reg, logits);
      std::size_t n = 0;
      for (auto _ : st) {
        const facepost::FamilyDetections d = post.run(heads);
        benchmark::DoNotOptimize(d.data());
        n = d.size();
      }
      set_counters(st, 896, n);
    });
    register_row(row + "/port", [port](benchmark::State& st) {
      std::size_t n = 0;
      for (auto _ : st) {
        const facepost_ref::FamilyRows r = port();
        benchmark::DoNotOptimize(r.data.data());
        n = r.size();
      }
      set_counters(st, 896, n);
    });
  }
}

struct YunetCase {
  std::string name;
  InputSize input;
  facepost::io::NpyArray loc, conf, iou;
};

void register_yunet(const char* name, InputSize input) {
  const std::string dir = std::string("families/yunet/") + name;
  const YunetCase* k = keep(YunetCase{name, input, fixtures::load(dir, "loc.npy"), fixtures::load(dir, "conf.npy"),
                                      fixtures::load(dir, "iou.npy")});
  const std::size_t n = k->loc.data.size() / 14;
  const TensorView loc(k->loc.data.data(), n, 14), conf(k->conf.data.data(), n, 2), iou(k->iou.data.data(), n, 1);
  for (float t : {0.9f, 0.6f}) {
    const float nms = t == 0.9f ? 0.3f : 0.45f;
    const std::string row = "family/yunet/" + k->name + (t == 0.9f ? "/default" : "/threshold_0_6_nms_0_45");
    auto port = [loc, conf, iou, input, t, nms] { return facepost_ref::yunet_port(loc, conf, iou, input, t, nms, 5000); };
    {
      facepost::YunetPostprocessor post({t, nms, 5000});
      const facepost::FamilyDetections d = post.run({loc, conf, iou}, input);
      const facepost_ref::FamilyRows p = port();
      if (d.size() != p.size() ||
          !fixtures::compare_with_golden(d.data(), d.size(), p.data.data(), p.size(), 1e-3f, 15).empty())
        mismatch(row);
    }
    register_row(row + "/facepost", [loc, conf, iou, input, t, nms, n](benchmark::State& st) {
      facepost::YunetPostprocessor post({t, nms, 5000});
      std::size_t kept = 0;
      for (auto _ : st) {
        const facepost::FamilyDetections d = post.run({loc, conf, iou}, input);
        benchmark::DoNotOptimize(d.data());
        kept = d.size();
      }
      set_counters(st, n, kept);
    });
    register_row(row + "/port", [port, n](benchmark::State& st) {
      std::size_t kept = 0;
      for (auto _ : st) {
        const facepost_ref::FamilyRows r = port();
        benchmark::DoNotOptimize(r.data.data());
        kept = r.size();
      }
      set_counters(st, n, kept);
    });
#if FACEPOST_BENCH_HAVE_OPENCV
    // FaceDetectorYN::postProcess's steps with OpenCV's own cv::dnn::NMSBoxes (FaceDetectorYN itself
    // takes an image and a network, not head outputs).
    auto opencv_nms = [](const std::vector<int>& boxes, const std::vector<float>& scores, float threshold,
                         float nms_threshold, int top_k) {
      std::vector<cv::Rect> rects(scores.size());
      for (std::size_t i = 0; i < scores.size(); ++i)
        rects[i] = cv::Rect(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]);
      std::vector<int> kept;
      cv::dnn::NMSBoxes(rects, scores, threshold, nms_threshold, kept, 1.f, top_k);
      return std::vector<std::size_t>(kept.begin(), kept.end());
    };
    auto opencv = [loc, conf, iou, input, t, nms, opencv_nms] {
      return facepost_ref::yunet_port_with(loc, conf, iou, input, t, nms, 5000, opencv_nms);
    };
    if (opencv().data != port().data) mismatch(row + " (cv::dnn::NMSBoxes)");
    register_row(row + "/opencv_postprocess", [opencv, n](benchmark::State& st) {
      std::size_t kept = 0;
      for (auto _ : st) {
        const facepost_ref::FamilyRows r = opencv();
        benchmark::DoNotOptimize(r.data.data());
        kept = r.size();
      }
      set_counters(st, n, kept);
    });
#endif
  }
}

/// RetinaFace through the family interface against BasicPostprocessor directly, same frames.
void register_retinaface(const fixtures::Fixture& fx) {
  const fixtures::Heads* heads = keep(fixtures::Heads(fx.name));
  const std::string row = std::string("family/retinaface/") + fx.name + "/reference_detect";
  const facepost::ImageMapping m = facepost::ImageMapping::resize(fx.resize);
  {
    facepost::RetinafacePostprocessor family(fx.anchors);
    facepost::Postprocessor pipeline(fx.anchors);
    const facepost::FamilyDetections d = family.run(heads->view(), fx.input, m);
    const facepost::Detections p = pipeline.run(heads->view(), fx.input, m);
    if (d.size() != p.size() || (d.size() && std::memcmp(d.data(), p.data(), d.size() * 15 * sizeof(float)) != 0))
      mismatch(row);
  }
  register_row(row + "/family", [fx, heads, m](benchmark::State& st) {
    facepost::RetinafacePostprocessor post(fx.anchors);
    std::size_t n = 0;
    for (auto _ : st) {
      const facepost::FamilyDetections d = post.run(heads->view(), fx.input, m);
      benchmark::DoNotOptimize(d.data());
      n = d.size();
    }
    set_counters(st, heads->loc.data.size() / 4, n);
  });
  register_row(row + "/postprocessor", [fx, heads, m](benchmark::State& st) {
    facepost::Postprocessor post(fx.anchors);
    std::size_t n = 0;
    for (auto _ : st) {
      const facepost::Detections d = post.run(heads->view(), fx.input, m);
      benchmark::DoNotOptimize(d.data());
      n = d.size();
    }
    set_counters(st, heads->loc.data.size() / 4, n);
  });
}

}  // namespace

void register_families() {
  for (const fixtures::Fixture& fx : fixtures::all()) register_retinaface(fx);
  register_scrfd("family_640x640", {640, 640}, {640, 640}, 1.f, true);
  register_scrfd("mosaic_crowd_3200x1796", {3200, 1796}, {960, 544}, float(0.29955456570155903), true);
  register_yolov5_face("family_640x512", {640, 512});
  register_yolov5_face("selfie_crowd_640x640", {640, 640});
  register_yunet("selfie_640x480", {640, 480});
  register_yunet("mosaic_crowd_960x540", {960, 540});
  register_blazeface("front_astronaut_planted", facepost::BlazefaceModel::front);
  register_blazeface("back_selfie_crowd", facepost::BlazefaceModel::back);
}

}  // namespace facepost_bench
