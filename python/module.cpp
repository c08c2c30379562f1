// python/module.cpp - `facepost._core`, the thin pybind11 binding under the Python package
// `facepost` (python/src/facepost/__init__.py: signatures, defaults, docstrings, argument checks).
//
// Arguments arrive here already checked and converted by the Python layer (plain ints, floats,
// strings and lists); this file still validates them with the C++ library (ValueError with the
// C++ message), so no call can reach the pipeline with an invalid configuration. Head tensors
// are viewed in place through their strides (any layout, no copy) when they are native float32;
// other dtypes are refused rather than silently converted, because the reference arithmetic is
// float32 and a float64 -> float32 cast is the caller's decision. The GIL is released while the
// pipeline runs. The stubs are _core.pyi next to the package.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "facepost/facepost.hpp"

namespace py = pybind11;
namespace fp = facepost;

namespace {

[[noreturn]] void value_error(const std::string& message) { throw py::value_error(message); }

void check(const fp::Status& s) {
  if (!s.ok()) value_error(s.message());
}

/// A float32 value as the Python float of its shortest decimal (0.02f -> 0.02, not
/// 0.019999999552965164), so that the C++ defaults read back as the numbers written in params.hpp.
double shortest(float v) {
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  double d = v;
  if (r.ec == std::errc()) std::from_chars(buf, r.ptr, d);
  return d;
}

const char* iou_name(fp::IouConvention iou) { return iou == fp::IouConvention::legacy_pixel ? "legacy" : "continuous"; }

// ---- anchors and parameters ------------------------------------------------------------------

struct PresetEntry {
  const char* name;
  fp::AnchorConfig (*make)();
};

template <class Preset>
fp::AnchorConfig make_preset() {
  return fp::to_anchor_config(Preset{});
}

// The names of facepost::presets, in the order they are declared there.
const PresetEntry kPresets[] = {
    {"retinaface_mnet", &make_preset<fp::presets::retinaface_mnet>},
    {"retinaface_r50", &make_preset<fp::presets::retinaface_r50>},
    {"fd1m_mnet", &make_preset<fp::presets::fd1m_mnet>},
    {"fd1m_slim", &make_preset<fp::presets::fd1m_slim>},
    {"fd1m_rfb", &make_preset<fp::presets::fd1m_rfb>},
};

fp::AnchorConfig make_anchors(const std::vector<std::vector<int>>& min_sizes, const std::vector<int>& steps,
                              std::pair<double, double> variance, bool clip) {
  if (min_sizes.size() != steps.size())
    value_error("steps has " + std::to_string(steps.size()) + " levels but min_sizes has " +
                std::to_string(min_sizes.size()));
  fp::AnchorConfig config;
  for (std::size_t k = 0; k < steps.size(); ++k) config.levels.push_back(fp::AnchorLevel{steps[k], min_sizes[k]});
  config.variance = fp::Variance{static_cast<float>(variance.first), static_cast<float>(variance.second)};
  config.clip = clip;
  check(fp::validate_anchors(config));
  return config;
}

py::dict anchors_dict(const fp::AnchorConfig& c) {
  py::list min_sizes, steps;
  for (const fp::AnchorLevel& level : c.levels) {
    py::list sizes;
    for (int s : level.min_sizes) sizes.append(s);
    min_sizes.append(sizes);
    steps.append(level.step);
  }
  py::dict d;
  d["min_sizes"] = min_sizes;
  d["steps"] = steps;
  d["variance"] = py::make_tuple(shortest(c.variance.center), shortest(c.variance.size));
  d["clip_priors"] = c.clip;
  return d;
}

fp::Params make_params(double threshold, double nms_threshold, const std::string& iou, std::size_t top_k,
                       std::size_t keep_top_k, bool logits) {
  fp::Params p;
  p.score_threshold = static_cast<float>(threshold);
  p.nms_threshold = nms_threshold;
  if (iou == "legacy") p.iou = fp::IouConvention::legacy_pixel;
  else if (iou == "continuous") p.iou = fp::IouConvention::continuous;
  else value_error("iou must be 'legacy' or 'continuous', got '" + iou + "'");
  p.top_k = top_k;
  p.keep_top_k = keep_top_k;
  p.score_format = logits ? fp::ScoreFormat::logits : fp::ScoreFormat::probabilities;
  check(fp::validate_params(p));
  return p;
}

/// The Python names and values of a Params (top_k / keep_top_k: 0 = no limit, as in C++).
py::dict params_dict(const fp::Params& p) {
  py::dict d;
  d["threshold"] = shortest(p.score_threshold);
  d["nms_threshold"] = p.nms_threshold;
  d["iou"] = iou_name(p.iou);
  d["top_k"] = p.top_k;
  d["keep_top_k"] = p.keep_top_k;
  d["logits"] = p.score_format == fp::ScoreFormat::logits;
  return d;
}

fp::LetterboxAnchor make_anchor(const std::string& anchor) {
  if (anchor == "centre") return fp::LetterboxAnchor::centre;
  if (anchor == "top_left") return fp::LetterboxAnchor::top_left;
  value_error("anchor must be 'centre' or 'top_left', got '" + anchor + "'");
}

fp::InputSize make_input_size(int width, int height) {
  const fp::InputSize in{width, height};
  check(fp::validate_input_size(in));
  return in;
}

// ---- tensors ---------------------------------------------------------------------------------

/// A numpy array kept alive, and the strided view facepost reads it through.
struct HeldTensor {
  py::array array;
  fp::TensorView view;
};

bool host_is_little_endian() {
  const std::uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

bool is_native_float32(const py::dtype& dt) {
  const char order = dt.byteorder();  // '=' native, '|' not applicable, '<' / '>' explicit
  const bool native = order == '=' || order == '|' || (order == '<') == host_is_little_endian();
  return dt.kind() == 'f' && dt.itemsize() == 4 && native;
}

HeldTensor hold_tensor(py::handle obj, const char* name) {
  HeldTensor t;
  t.array = py::array::ensure(obj);
  if (!t.array) {
    PyErr_Clear();
    value_error(std::string(name) + ": expected a numpy array, got " + py::repr(obj).cast<std::string>());
  }
  if (!is_native_float32(t.array.dtype()))
    value_error(std::string(name) + ": dtype " + py::str(t.array.dtype()).cast<std::string>() +
                " is not native float32; convert with .astype(numpy.float32)");
  const py::ssize_t nd = t.array.ndim();
  if (nd != 2 && nd != 3)
    value_error(std::string(name) + ": expected shape [N,C] or [1,N,C], got rank " + std::to_string(nd));
  const auto* shape = t.array.shape();
  // Shape and batch checks are the C++ API's; the view's strides are set below.
  check(nd == 2 ? fp::view_tensor(nullptr, {shape[0], shape[1]}, name, t.view)
                : fp::view_tensor(nullptr, {shape[0], shape[1], shape[2]}, name, t.view));

  const auto element_strides = [&](py::ssize_t& rs, py::ssize_t& cs) {
    const py::ssize_t bytes_r = t.array.strides(nd - 2), bytes_c = t.array.strides(nd - 1);
    const auto address = reinterpret_cast<std::uintptr_t>(t.array.data());
    if (bytes_r % 4 != 0 || bytes_c % 4 != 0 || address % alignof(float) != 0) return false;
    rs = bytes_r / 4;
    cs = bytes_c / 4;
    return true;
  };
  py::ssize_t rs = 0, cs = 0;
  if (!element_strides(rs, cs)) {
    // Strides that are not whole floats, or a misaligned buffer (views into raw bytes): the one
    // layout a float pointer cannot walk, so take a fresh (aligned, C-order) copy.
    t.array = py::array(t.array.attr("copy")());
    if (!element_strides(rs, cs)) value_error(std::string(name) + ": cannot view the array as float32");
  }
  t.view = fp::TensorView(static_cast<const float*>(t.array.data()), t.view.rows, t.view.cols, rs, cs);
  return t;
}

/// Owns the copied rows until numpy frees the array that wraps them.
py::array_t<float> to_numpy(std::unique_ptr<std::vector<float>> rows, std::size_t cols = fp::kDetectionCols) {
  const py::ssize_t k = static_cast<py::ssize_t>(rows->size() / cols);
  float* data = rows->data();
  py::capsule owner(rows.get(), [](void* p) { delete static_cast<std::vector<float>*>(p); });
  rows.release();
  return py::array_t<float>({k, static_cast<py::ssize_t>(cols)}, data, owner);
}

/// The Python-facing Postprocessor: a facepost::Postprocessor (priors and buffers kept across
/// calls) plus the lock that lets threads share it.
class Core {
 public:
  Core(fp::AnchorConfig anchors, fp::Params params) : pp_(std::move(anchors), params) {}

  /// Runs without the GIL; the lock serialising threads that share this object is taken only
  /// after the GIL is released, so the two locks never wait on each other.
  py::array_t<float> run(py::handle loc, py::handle conf, py::handle landms, int width, int height, float scale_x,
                         float scale_y, float pad_x, float pad_y, bool clip, float clip_width, float clip_height) {
    const fp::InputSize input = make_input_size(width, height);
    fp::ImageMapping mapping = fp::ImageMapping::letterbox(scale_x, scale_y, pad_x, pad_y);
    if (clip) mapping.clip_to(clip_width, clip_height);
    check(fp::validate_mapping(mapping));
    const HeldTensor l = hold_tensor(loc, "loc"), c = hold_tensor(conf, "conf"), m = hold_tensor(landms, "landms");
    const fp::HeadOutputs heads{l.view, c.view, m.view};

    fp::Status status;
    std::unique_ptr<std::vector<float>> rows;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> guard(lock_);
      fp::Detections d;
      status = pp_.try_run(heads, input, mapping, d);
      if (status.ok())
        rows = std::make_unique<std::vector<float>>(d.data(), d.data() + d.size() * fp::kDetectionCols);
    }
    check(status);
    return to_numpy(std::move(rows));
  }

  py::dict stats() {
    fp::RunStats s;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> guard(lock_);
      s = pp_.stats();
    }
    py::dict d;
    d["priors"] = s.priors;
    d["candidates"] = s.candidates;
    d["ranked"] = s.ranked;
    d["detections"] = s.detections;
    return d;
  }

  const fp::Postprocessor& core() const { return pp_; }

 private:
  fp::Postprocessor pp_;
  std::mutex lock_;
};

// ---- detector families -----------------------------------------------------------------------

/// The mapping the Python layer passes as seven values (facepost/__init__.py: _mapping), checked.
fp::ImageMapping make_mapping(float scale_x, float scale_y, float pad_x, float pad_y, bool clip, float clip_width,
                              float clip_height) {
  fp::ImageMapping mapping = fp::ImageMapping::letterbox(scale_x, scale_y, pad_x, pad_y);
  if (clip) mapping.clip_to(clip_width, clip_height);
  check(fp::validate_mapping(mapping));
  return mapping;
}

/// A family's object with the lock that lets threads share it. `Post` is the C++ post-processor;
/// `Run(Post&, FamilyDetections&)` runs one frame without the GIL.
template <class Post>
class FamilyCore {
 public:
  explicit FamilyCore(Post post) : pp_(std::move(post)) {}

  template <class Run>
  py::array_t<float> run(Run&& run_frame) {
    fp::Status status;
    std::unique_ptr<std::vector<float>> rows;
    std::size_t cols = fp::kDetectionCols;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> guard(lock_);
      fp::FamilyDetections d;
      status = run_frame(pp_, d);
      if (status.ok()) {
        cols = d.cols();
        rows = std::make_unique<std::vector<float>>(d.data(), d.data() + d.size() * d.cols());
      }
    }
    check(status);
    return to_numpy(std::move(rows), cols);
  }
  const Post& post() const { return pp_; }

 private:
  Post pp_;
  std::mutex lock_;
};

using ScrfdCore = FamilyCore<fp::ScrfdPostprocessor>;
using Yolov5FaceCore = FamilyCore<fp::Yolov5FacePostprocessor>;
using BlazefaceCore = FamilyCore<fp::BlazefacePostprocessor>;
using YunetCore = FamilyCore<fp::YunetPostprocessor>;

py::dict yunet_params_dict(const fp::YunetParams& p) {
  py::dict d;
  d["threshold"] = shortest(p.threshold);
  d["nms_threshold"] = shortest(p.nms_threshold);
  d["top_k"] = p.top_k;
  return d;
}

py::array_t<float> run_yunet(YunetCore& core, const py::handle& loc, const py::handle& conf, const py::handle& iou,
                             int width, int height, float scale_x, float scale_y, float pad_x, float pad_y, bool clip,
                             float clip_width, float clip_height) {
  const fp::InputSize input = make_input_size(width, height);
  const fp::ImageMapping mapping = make_mapping(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height);
  const HeldTensor l = hold_tensor(loc, "loc"), c = hold_tensor(conf, "conf"), i = hold_tensor(iou, "iou");
  const fp::YunetHeads heads{l.view, c.view, i.view};
  return core.run([&](fp::YunetPostprocessor& pp, fp::FamilyDetections& d) {
    return pp.try_run(heads, input, mapping, d);
  });
}

fp::BlazefaceModel blazeface_model(const std::string& name) {
  if (name == "front") return fp::BlazefaceModel::front;
  if (name == "back") return fp::BlazefaceModel::back;
  value_error("model must be 'front' (short range, 128x128) or 'back' (full range, 256x256), got '" + name + "'");
}

py::dict blazeface_params_dict(const fp::BlazefacePostprocessor& pp) {
  py::dict d;
  d["model"] = pp.model() == fp::BlazefaceModel::back ? "back" : "front";
  d["threshold"] = shortest(pp.params().threshold_for(pp.model()));
  d["nms_threshold"] = shortest(pp.params().nms_threshold);
  return d;
}

py::dict scrfd_params_dict(const fp::ScrfdParams& p) {
  py::dict d;
  d["threshold"] = shortest(p.threshold);
  d["nms_threshold"] = p.nms_threshold;
  d["max_num"] = p.max_num;
  return d;
}

py::dict yolov5_face_params_dict(const fp::Yolov5FaceParams& p) {
  py::dict d;
  d["conf_threshold"] = shortest(p.conf_threshold);
  d["iou_threshold"] = p.iou_threshold;
  d["max_det"] = p.max_det;
  return d;
}

fp::ScrfdParams make_scrfd_params(double threshold, double nms_threshold, std::size_t max_num) {
  const fp::ScrfdParams p{static_cast<float>(threshold), nms_threshold, max_num};
  check(fp::detail::check_unit_threshold(threshold, "threshold"));
  check(fp::detail::check_unit_threshold(nms_threshold, "nms_threshold"));
  return p;
}

fp::Yolov5FaceParams make_yolov5_face_params(double conf_threshold, double iou_threshold, std::size_t max_det) {
  const fp::Yolov5FaceParams p{static_cast<float>(conf_threshold), iou_threshold, max_det};
  check(fp::detail::check_unit_threshold(conf_threshold, "conf_threshold"));
  check(fp::detail::check_unit_threshold(iou_threshold, "iou_threshold"));
  return p;
}

/// SCRFD: three per-stride arrays per head (8, 16, 32); `kps` None for a model without keypoints.
py::array_t<float> run_scrfd(ScrfdCore& core, const py::sequence& scores, const py::sequence& bboxes,
                             const py::object& kps, int width, int height, float scale_x, float scale_y, float pad_x,
                             float pad_y, bool clip, float clip_width, float clip_height, int image_width,
                             int image_height) {
  const fp::InputSize input = make_input_size(width, height);
  const fp::ImageMapping mapping = make_mapping(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height);
  const bool with_kps = !kps.is_none();
  const py::sequence kps_list = with_kps ? py::sequence(kps) : py::sequence(py::list());
  if (py::len(scores) != 3 || py::len(bboxes) != 3 || (with_kps && py::len(kps_list) != 3))
    value_error("scores, bboxes and kps must each hold 3 arrays, one per stride (8, 16, 32)");
  std::vector<HeldTensor> held;
  held.reserve(9);
  fp::ScrfdHeads heads;
  for (int l = 0; l < 3; ++l) {
    const std::string s = std::to_string(fp::kScrfdStrides[l]);
    held.push_back(hold_tensor(scores[py::size_t(l)], ("score_" + s).c_str()));
    heads.score[l] = held.back().view;
    held.push_back(hold_tensor(bboxes[py::size_t(l)], ("bbox_" + s).c_str()));
    heads.bbox[l] = held.back().view;
    if (with_kps) {
      held.push_back(hold_tensor(kps_list[py::size_t(l)], ("kps_" + s).c_str()));
      heads.kps[l] = held.back().view;
    }
  }
  const fp::InputSize image{image_width, image_height};
  return core.run([&](fp::ScrfdPostprocessor& pp, fp::FamilyDetections& d) {
    return pp.try_run(heads, input, mapping, image, d);
  });
}

/// BlazeFace: each head one array ([896,C]) or the models' two groups ([512,C], [384,C]).
py::array_t<float> run_blazeface(BlazefaceCore& core, const py::handle& regressors, const py::handle& scores,
                                 float scale_x, float scale_y, float pad_x, float pad_y, bool clip, float clip_width,
                                 float clip_height) {
  const fp::ImageMapping mapping = make_mapping(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height);
  std::vector<HeldTensor> held;
  held.reserve(4);
  fp::BlazefaceHeads heads;
  const auto take = [&](const py::handle& head, const char* name, fp::TensorView* views) {
    if (py::isinstance<py::list>(head) || py::isinstance<py::tuple>(head)) {
      const py::sequence groups = py::reinterpret_borrow<py::sequence>(head);
      if (py::len(groups) != 2)
        value_error(std::string(name) + ": give one [896,C] array or the two output groups ([512,C], [384,C])");
      for (int g = 0; g < 2; ++g) {
        held.push_back(hold_tensor(groups[py::size_t(g)], (std::string(name) + (g ? "[1]" : "[0]")).c_str()));
        views[g] = held.back().view;
      }
    } else {
      held.push_back(hold_tensor(head, name));
      views[0] = held.back().view;
    }
  };
  take(regressors, "regressors", heads.regressors);
  take(scores, "scores", heads.scores);
  return core.run([&](fp::BlazefacePostprocessor& pp, fp::FamilyDetections& d) { return pp.try_run(heads, mapping, d); });
}

py::array_t<float> run_yolov5_face(Yolov5FaceCore& core, const py::handle& pred, int width, int height, float scale_x,
                                   float scale_y, float pad_x, float pad_y, bool clip, float clip_width,
                                   float clip_height) {
  const fp::InputSize input = make_input_size(width, height);
  const fp::ImageMapping mapping = make_mapping(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height);
  const HeldTensor p = hold_tensor(pred, "pred");
  return core.run([&](fp::Yolov5FacePostprocessor& pp, fp::FamilyDetections& d) {
    return pp.try_run(p.view, input, mapping, d);
  });
}

// ---- alignment -------------------------------------------------------------------------------

py::array_t<double> template_array(const fp::AlignTemplate& t) {
  py::array_t<double> a({static_cast<py::ssize_t>(t.count), py::ssize_t{2}});
  std::memcpy(a.mutable_data(), t.xy, 2 * t.count * sizeof(double));
  return a;
}

/// facepost::try_align_rows over a C-contiguous [K,C] float32 or float64 array whose points start
/// at column first_col, onto a C-contiguous float64 [P,2] template; a new float64 [K,2,3].
template <class T>
py::array_t<double> align_rows(const py::array& rows, std::size_t first_col, const fp::AlignTemplate& t) {
  const std::size_t k = static_cast<std::size_t>(rows.shape(0)), cols = static_cast<std::size_t>(rows.shape(1));
  std::vector<fp::Similarity2D> out(k);
  fp::Status s;
  {
    py::gil_scoped_release nogil;
    s = fp::try_align_rows(static_cast<const T*>(rows.data()), k, cols, first_col, t, out.data(), out.size());
  }
  check(s);
  py::array_t<double> result({static_cast<py::ssize_t>(k), py::ssize_t{2}, py::ssize_t{3}});
  if (k > 0) std::memcpy(result.mutable_data(), out.data(), k * sizeof(fp::Similarity2D));
  return result;
}

py::array_t<double> align(const py::array& rows, std::size_t first_col, const py::array& tmpl) {
  static_assert(sizeof(fp::Similarity2D) == 6 * sizeof(double), "Similarity2D is six doubles");
  if (rows.ndim() != 2 || !(rows.flags() & py::array::c_style))
    value_error("align: landmarks must be a C-contiguous [K,C] array");
  if (tmpl.ndim() != 2 || tmpl.shape(1) != 2 || !(tmpl.flags() & py::array::c_style) ||
      !py::isinstance<py::array_t<double>>(tmpl))
    value_error("align: the template must be a C-contiguous float64 [P,2] array");
  const fp::AlignTemplate t{static_cast<const double*>(tmpl.data()), static_cast<std::size_t>(tmpl.shape(0))};
  if (is_native_float32(rows.dtype())) return align_rows<float>(rows, first_col, t);
  if (py::isinstance<py::array_t<double>>(rows)) return align_rows<double>(rows, first_col, t);
  value_error("align: landmarks must be float32 or float64, got " + py::str(rows.dtype()).cast<std::string>());
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "facepost's C++ extension (private: use the package `facepost`).";
  m.attr("__version__") = FACEPOST_VERSION_STRING;
  m.attr("MAX_INPUT_SIDE") = fp::kMaxInputSide;

  m.def("backend_name", [] { return std::string(fp::backend_name()); },
        "The CPU kernels in use: 'avx512', 'avx2', 'neon' or 'scalar'.");
  m.def("runtime_dispatch", [] { return fp::runtime_dispatch(); },
        "True when the kernels are chosen at run time for the CPU (the portable build).");

  m.def(
      "defaults",
      [] {
        py::dict d = params_dict(fp::Params{});
        const fp::AnchorConfig anchors;  // AnchorConfig{}'s variance and clip
        d["variance"] = py::make_tuple(shortest(anchors.variance.center), shortest(anchors.variance.size));
        d["clip_priors"] = anchors.clip;
        return d;
      },
      "facepost::Params{} and AnchorConfig{} as Python values: threshold, nms_threshold, iou, top_k, keep_top_k "
      "(0 = no limit), logits, variance, clip_priors.");

  m.def(
      "presets",
      [] {
        py::dict d;
        for (const PresetEntry& p : kPresets) d[p.name] = anchors_dict(p.make());
        return d;
      },
      "Every facepost::presets configuration by name, in declaration order: min_sizes, steps, variance, clip_priors.");

  m.def(
      "count_priors",
      [](const std::vector<std::vector<int>>& min_sizes, const std::vector<int>& steps, int width, int height) {
        std::size_t n = 0;
        check(fp::count_priors(make_anchors(min_sizes, steps, {0.1, 0.2}, false), make_input_size(width, height), n));
        return n;
      },
      "The prior count of an anchor configuration for a network input of width x height.", py::arg("min_sizes"),
      py::arg("steps"), py::arg("width"), py::arg("height"));

  m.def(
      "priors",
      [](const std::vector<std::vector<int>>& min_sizes, const std::vector<int>& steps, bool clip, int width,
         int height) {
        fp::PriorGrid<fp::AnchorConfig> grid(make_anchors(min_sizes, steps, {0.1, 0.2}, clip));
        check(grid.try_build(make_input_size(width, height)));
        auto rows = std::make_unique<std::vector<float>>(grid.data(), grid.data() + 4 * grid.size());
        const py::ssize_t n = static_cast<py::ssize_t>(grid.size());
        float* data = rows->data();
        py::capsule owner(rows.get(), [](void* p) { delete static_cast<std::vector<float>*>(p); });
        rows.release();
        return py::array_t<float>({n, py::ssize_t{4}}, data, owner);
      },
      "The priors [N,4] (cx, cy, w, h; normalised) for a network input of width x height.", py::arg("min_sizes"),
      py::arg("steps"), py::arg("clip"), py::arg("width"), py::arg("height"));

  m.def(
      "letterbox_fit",
      [](int original_width, int original_height, int input_width, int input_height) {
        check(fp::validate_letterbox_sizes(original_width, original_height, input_width, input_height));
        const fp::ImageMapping lb =
            fp::ImageMapping::letterbox_fit(original_width, original_height, input_width, input_height);
        return py::make_tuple(lb.scale_x, lb.scale_y, lb.pad_x, lb.pad_y);
      },
      "facepost::ImageMapping::letterbox_fit(ow, oh, iw, ih) as (scale_x, scale_y, pad_x, pad_y).",
      py::arg("original_width"), py::arg("original_height"), py::arg("input_width"), py::arg("input_height"));

  m.def(
      "letterbox",
      [](int ow, int oh, int iw, int ih, const std::string& fit, const std::string& anchor) {
        const fp::LetterboxAnchor a = make_anchor(anchor);
        py::dict d;
        if (fit == "integer") {
          fp::Letterbox lb;
          check(fp::Letterbox::try_fit(ow, oh, iw, ih, a, lb));
          const fp::ImageMapping mapping = lb.mapping();
          d["resized_size"] = py::make_tuple(lb.resized_width, lb.resized_height);
          d["pad"] = py::make_tuple(lb.pad_left, lb.pad_top, lb.pad_right(), lb.pad_bottom());
          d["mapping"] = py::make_tuple(mapping.scale_x, mapping.scale_y, mapping.pad_x, mapping.pad_y);
        } else if (fit == "exact") {
          check(fp::validate_letterbox_sizes(ow, oh, iw, ih));
          const fp::ImageMapping mapping = fp::ImageMapping::letterbox_fit(ow, oh, iw, ih, a);
          // The exact sizes (not original x the float scale): the input's side on the axis that
          // limits the scale, original * input' / original' on the other.
          const bool width_limits = std::int64_t(iw) * oh <= std::int64_t(ih) * ow;
          const double rw = width_limits ? double(iw) : double(ow) * double(ih) / double(oh);
          const double rh = width_limits ? double(oh) * double(iw) / double(ow) : double(ih);
          const bool centre = a == fp::LetterboxAnchor::centre;
          const double left = centre ? (double(iw) - rw) / 2 : 0.0, top = centre ? (double(ih) - rh) / 2 : 0.0;
          d["resized_size"] = py::make_tuple(rw, rh);
          d["pad"] = py::make_tuple(left, top, double(iw) - rw - left, double(ih) - rh - top);
          d["mapping"] = py::make_tuple(mapping.scale_x, mapping.scale_y, mapping.pad_x, mapping.pad_y);
        } else {
          value_error("fit must be 'integer' or 'exact', got '" + fit + "'");
        }
        return d;
      },
      "fit 'integer': facepost::Letterbox::try_fit, 'exact': ImageMapping::letterbox_fit; anchor 'centre' or "
      "'top_left'. A dict: resized_size (w, h), pad (left, top, right, bottom), mapping (scale_x, scale_y, pad_x, "
      "pad_y).",
      py::arg("original_width"), py::arg("original_height"), py::arg("input_width"), py::arg("input_height"),
      py::arg("fit"), py::arg("anchor"));

  py::class_<Core>(m, "Postprocessor", "facepost::Postprocessor with a lock; see facepost.Postprocessor.")
      .def(py::init([](const std::vector<std::vector<int>>& min_sizes, const std::vector<int>& steps,
                       std::pair<double, double> variance, bool clip_priors, double threshold, double nms_threshold,
                       const std::string& iou, std::size_t top_k, std::size_t keep_top_k, bool logits) {
             return std::make_unique<Core>(make_anchors(min_sizes, steps, variance, clip_priors),
                                           make_params(threshold, nms_threshold, iou, top_k, keep_top_k, logits));
           }),
           py::arg("min_sizes"), py::arg("steps"), py::arg("variance"), py::arg("clip_priors"), py::arg("threshold"),
           py::arg("nms_threshold"), py::arg("iou"), py::arg("top_k"), py::arg("keep_top_k"), py::arg("logits"))
      .def("run", &Core::run, "Post-processes one frame; returns a new float32 [K,15] array.", py::arg("loc"),
           py::arg("conf"), py::arg("landms"), py::arg("width"), py::arg("height"), py::arg("scale_x"),
           py::arg("scale_y"), py::arg("pad_x"), py::arg("pad_y"), py::arg("clip"), py::arg("clip_width"),
           py::arg("clip_height"))
      .def("stats", &Core::stats, "Counts of the last run: priors, candidates, ranked, detections.")
      .def("anchors", [](const Core& c) { return anchors_dict(c.core().priors().spec()); },
           "The anchor configuration: min_sizes, steps, variance, clip_priors.")
      .def("params", [](const Core& c) { return params_dict(c.core().params()); },
           "The parameters: threshold, nms_threshold, iou, top_k, keep_top_k (0 = no limit), logits.");

  m.def(
      "arcface_template",
      [](int size) {
        fp::ArcfaceTemplate t;
        check(fp::try_arcface_template(size, t));
        return template_array(t.view());
      },
      "facepost::try_arcface_template: insightface's ArcFace points for size x size crops, float64 [5,2].",
      py::arg("size"));
  m.def("align", &align,
        "facepost::try_align_rows: the similarity of each row's points (from column first_col) onto the "
        "template; a new float64 [K,2,3].",
        py::arg("rows"), py::arg("first_col"), py::arg("template"));

  m.def(
      "family_defaults",
      [] {
        py::dict d;
        d["scrfd"] = scrfd_params_dict(fp::ScrfdParams{});
        d["yolov5_face"] = yolov5_face_params_dict(fp::Yolov5FaceParams{});
        py::dict blaze;
        blaze["threshold_front"] = shortest(fp::blazeface_default_threshold(fp::BlazefaceModel::front));
        blaze["threshold_back"] = shortest(fp::blazeface_default_threshold(fp::BlazefaceModel::back));
        blaze["nms_threshold"] = shortest(fp::BlazefaceParams{}.nms_threshold);
        d["blazeface"] = blaze;
        d["yunet"] = yunet_params_dict(fp::YunetParams{});
        return d;
      },
      "Each detector family's default parameters (its C++ params struct), by family name.");

  m.def(
      "scrfd_resize",
      [](int image_width, int image_height, int input_width, int input_height) {
        const fp::ScrfdResize r = fp::scrfd_resize(make_input_size(image_width, image_height),
                                                   make_input_size(input_width, input_height));
        return py::make_tuple(r.width, r.height, r.scale);
      },
      "facepost::scrfd_resize: SCRFD.detect's resized (width, height) and det_scale.", py::arg("image_width"),
      py::arg("image_height"), py::arg("input_width"), py::arg("input_height"));

  py::class_<ScrfdCore>(m, "Scrfd", "facepost::ScrfdPostprocessor with a lock; see facepost.Scrfd.")
      .def(py::init([](double threshold, double nms_threshold, std::size_t max_num) {
             return std::make_unique<ScrfdCore>(
                 fp::ScrfdPostprocessor(make_scrfd_params(threshold, nms_threshold, max_num)));
           }),
           py::arg("threshold"), py::arg("nms_threshold"), py::arg("max_num"))
      .def("run", &run_scrfd, "Post-processes one frame; returns a new float32 [K,15] (or [K,5]) array.",
           py::arg("scores"), py::arg("bboxes"), py::arg("kps"), py::arg("width"), py::arg("height"),
           py::arg("scale_x"), py::arg("scale_y"), py::arg("pad_x"), py::arg("pad_y"), py::arg("clip"),
           py::arg("clip_width"), py::arg("clip_height"), py::arg("image_width"), py::arg("image_height"))
      .def("params", [](const ScrfdCore& c) { return scrfd_params_dict(c.post().params()); },
           "The parameters: threshold, nms_threshold, max_num (0 = no limit).");

  py::class_<Yolov5FaceCore>(m, "Yolov5Face", "facepost::Yolov5FacePostprocessor with a lock; see facepost.Yolov5Face.")
      .def(py::init([](double conf_threshold, double iou_threshold, std::size_t max_det) {
             return std::make_unique<Yolov5FaceCore>(
                 fp::Yolov5FacePostprocessor(make_yolov5_face_params(conf_threshold, iou_threshold, max_det)));
           }),
           py::arg("conf_threshold"), py::arg("iou_threshold"), py::arg("max_det"))
      .def("run", &run_yolov5_face, "Post-processes one frame; returns a new float32 [K,15] array.", py::arg("pred"),
           py::arg("width"), py::arg("height"), py::arg("scale_x"), py::arg("scale_y"), py::arg("pad_x"),
           py::arg("pad_y"), py::arg("clip"), py::arg("clip_width"), py::arg("clip_height"))
      .def("params", [](const Yolov5FaceCore& c) { return yolov5_face_params_dict(c.post().params()); },
           "The parameters: conf_threshold, iou_threshold, max_det (0 = no limit).");

  py::class_<BlazefaceCore>(m, "Blazeface", "facepost::BlazefacePostprocessor with a lock; see facepost.Blazeface.")
      .def(py::init([](const std::string& model, py::object threshold, double nms_threshold) {
             fp::BlazefaceParams p;
             if (!threshold.is_none()) {
               const double t = threshold.cast<double>();
               check(fp::detail::check_unit_threshold(t, "threshold"));
               p.threshold = static_cast<float>(t);
             }
             check(fp::detail::check_unit_threshold(nms_threshold, "nms_threshold"));
             p.nms_threshold = static_cast<float>(nms_threshold);
             return std::make_unique<BlazefaceCore>(fp::BlazefacePostprocessor(blazeface_model(model), p));
           }),
           py::arg("model"), py::arg("threshold"), py::arg("nms_threshold"))
      .def("run", &run_blazeface, "Post-processes one frame; returns a new float32 [K,17] array.",
           py::arg("regressors"), py::arg("scores"), py::arg("scale_x"), py::arg("scale_y"), py::arg("pad_x"),
           py::arg("pad_y"), py::arg("clip"), py::arg("clip_width"), py::arg("clip_height"))
      .def("params", [](const BlazefaceCore& c) { return blazeface_params_dict(c.post()); },
           "The parameters: model, threshold (the one in force), nms_threshold.");

  py::class_<YunetCore>(m, "Yunet", "facepost::YunetPostprocessor with a lock; see facepost.Yunet.")
      .def(py::init([](double threshold, double nms_threshold, std::size_t top_k) {
             check(fp::detail::check_unit_threshold(threshold, "threshold"));
             check(fp::detail::check_unit_threshold(nms_threshold, "nms_threshold"));
             return std::make_unique<YunetCore>(fp::YunetPostprocessor(
                 fp::YunetParams{static_cast<float>(threshold), static_cast<float>(nms_threshold), top_k}));
           }),
           py::arg("threshold"), py::arg("nms_threshold"), py::arg("top_k"))
      .def("run", &run_yunet, "Post-processes one frame; returns a new float32 [K,15] array.", py::arg("loc"),
           py::arg("conf"), py::arg("iou"), py::arg("width"), py::arg("height"), py::arg("scale_x"),
           py::arg("scale_y"), py::arg("pad_x"), py::arg("pad_y"), py::arg("clip"), py::arg("clip_width"),
           py::arg("clip_height"))
      .def("params", [](const YunetCore& c) { return yunet_params_dict(c.post().params()); },
           "The parameters: threshold, nms_threshold, top_k (0 = no limit).");
}
