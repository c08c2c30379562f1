// python/module.cpp - the `facepost` Python module: numpy arrays in, a float32 [K,15] array out.
//
// Inputs are viewed in place through their strides (any layout, no copy) when they are native
// float32; other dtypes are refused rather than silently converted, because the reference
// arithmetic is float32 and a float64 -> float32 cast is the caller's decision. Every input the
// C++ API rejects raises ValueError with the C++ message. The GIL is released while the
// pipeline runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "facepost/facepost.hpp"

namespace py = pybind11;
namespace fp = facepost;

namespace {

[[noreturn]] void value_error(const std::string& message) { throw py::value_error(message); }

std::string describe(py::handle h) { return py::repr(h).cast<std::string>(); }

/// A Python integer (anything with __index__, not float or str) as a long long.
long long to_integer(py::handle h, const std::string& what) {
  PyObject* index = PyNumber_Index(h.ptr());
  if (index == nullptr) {
    PyErr_Clear();
    value_error(what + " must be an integer, got " + describe(h));
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
  Py_DECREF(index);
  if (overflow != 0) value_error(what + " = " + describe(h) + " is out of range");
  return v;
}

int to_int(py::handle h, const std::string& what) {
  const long long v = to_integer(h, what);
  if (v < INT_MIN || v > INT_MAX) value_error(what + " = " + std::to_string(v) + " is out of range");
  return static_cast<int>(v);
}

double to_double(py::handle h, const std::string& what) {
  if (PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr())) value_error(what + " must be a number, got " + describe(h));
  const double v = PyFloat_AsDouble(h.ptr());
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    value_error(what + " must be a number, got " + describe(h));
  }
  return v;
}

/// The items of a list/tuple-like argument; `size` checks the length when not -1.
std::vector<py::object> to_items(py::handle h, const std::string& what, const char* expected, long size = -1) {
  if (!PySequence_Check(h.ptr()) || PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr()))
    value_error(what + " must be " + expected + ", got " + describe(h));
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(h);
  if (size >= 0 && static_cast<long>(seq.size()) != size)
    value_error(what + " must be " + expected + ", got " + std::to_string(seq.size()) + " values");
  std::vector<py::object> items;
  for (py::handle item : seq) items.push_back(py::reinterpret_borrow<py::object>(item));
  return items;
}

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

std::string preset_names() {
  std::string names;
  for (const PresetEntry& p : kPresets) names += (names.empty() ? "" : ", ") + std::string(p.name);
  return names;
}

fp::AnchorConfig preset_by_name(const std::string& name) {
  for (const PresetEntry& p : kPresets)
    if (name == p.name) return p.make();
  value_error("unknown preset '" + name + "'; known presets: " + preset_names());
}

void check(const fp::Status& s) {
  if (!s.ok()) value_error(s.message());
}

fp::AnchorConfig make_anchors(py::handle preset, py::handle min_sizes, py::handle steps, py::handle variance,
                              bool clip_priors) {
  fp::AnchorConfig config;
  if (!preset.is_none()) {
    if (!min_sizes.is_none() || !steps.is_none())
      value_error("give either preset or min_sizes/steps, not both");
    if (!PyUnicode_Check(preset.ptr())) value_error("preset must be a name (str), got " + describe(preset));
    config = preset_by_name(preset.cast<std::string>());
  } else {
    // Unset min_sizes/steps default to RetinaFace mobilenet0.25 / ResNet-50 (cfg_mnet, cfg_re50).
    const fp::AnchorConfig defaults = make_preset<fp::presets::retinaface_mnet>();
    config = defaults;
    if (!min_sizes.is_none()) {
      const std::vector<py::object> levels = to_items(min_sizes, "min_sizes", "a list of lists of integers");
      config.levels.assign(levels.size(), fp::AnchorLevel{});
      for (std::size_t k = 0; k < levels.size(); ++k) {
        const std::string what = "min_sizes[" + std::to_string(k) + "]";
        for (const py::object& size : to_items(levels[k], what, "a list of integers"))
          config.levels[k].min_sizes.push_back(to_int(size, what + " entry"));
      }
    }
    const std::size_t num_levels = config.levels.size();
    if (!steps.is_none()) {
      const std::vector<py::object> items = to_items(steps, "steps", "a list of integers");
      if (items.size() != num_levels)
        value_error("steps has " + std::to_string(items.size()) + " levels but min_sizes has " +
                    std::to_string(num_levels));
      for (std::size_t k = 0; k < num_levels; ++k)
        config.levels[k].step = to_int(items[k], "steps[" + std::to_string(k) + "]");
    } else if (num_levels != defaults.levels.size()) {
      value_error("min_sizes has " + std::to_string(num_levels) + " levels; give steps too (the default steps " +
                  "[8, 16, 32] have 3)");
    } else {
      for (std::size_t k = 0; k < num_levels; ++k) config.levels[k].step = defaults.levels[k].step;
    }
  }
  const std::vector<py::object> v = to_items(variance, "variance", "(center, size)", 2);
  config.variance = fp::Variance{static_cast<float>(to_double(v[0], "variance[0]")),
                                 static_cast<float>(to_double(v[1], "variance[1]"))};
  config.clip = clip_priors;
  check(fp::validate_anchors(config));
  return config;
}

std::size_t to_limit(py::handle h, const char* what) {
  if (h.is_none()) return 0;  // facepost's "no limit"
  const long long v = to_integer(h, what);
  if (v < 1)
    value_error(std::string(what) + " must be a positive integer or None (no limit), got " + std::to_string(v));
  return static_cast<std::size_t>(v);
}

fp::Params make_params(py::handle threshold, py::handle nms_threshold, py::handle iou_name, py::handle top_k,
                       py::handle keep_top_k, bool logits) {
  const std::string iou = PyUnicode_Check(iou_name.ptr()) ? iou_name.cast<std::string>() : std::string();
  fp::Params p;
  p.score_threshold = static_cast<float>(to_double(threshold, "threshold"));
  p.nms_threshold = to_double(nms_threshold, "nms_threshold");
  if (iou == "legacy") p.iou = fp::IouConvention::legacy_pixel;
  else if (iou == "continuous") p.iou = fp::IouConvention::continuous;
  else
    value_error("iou must be 'legacy' (py_cpu_nms) or 'continuous' (torchvision.ops.nms), got " + describe(iou_name));
  p.top_k = to_limit(top_k, "top_k");
  p.keep_top_k = to_limit(keep_top_k, "keep_top_k");
  p.score_format = logits ? fp::ScoreFormat::logits : fp::ScoreFormat::probabilities;
  check(fp::validate_params(p));
  return p;
}

/// (height, width) as the reference PriorBox takes it.
fp::InputSize make_input_size(py::handle image_size) {
  const std::vector<py::object> hw = to_items(image_size, "image_size", "(height, width)", 2);
  const long long h = to_integer(hw[0], "image_size height"), w = to_integer(hw[1], "image_size width");
  const std::string given = "image_size (" + std::to_string(h) + ", " + std::to_string(w) + ")";
  if (h > fp::kMaxInputSide || w > fp::kMaxInputSide)
    value_error(given + ": each side must be at most " + std::to_string(fp::kMaxInputSide));
  if (h < 1 || w < 1) value_error(given + ": height and width must be positive");
  return fp::InputSize{static_cast<int>(w), static_cast<int>(h)};
}

fp::ImageMapping make_mapping(py::handle resize, py::handle letterbox, py::handle clip_to) {
  fp::ImageMapping m;
  if (!letterbox.is_none()) {
    if (!resize.is_none()) value_error("give either resize or letterbox, not both");
    const std::vector<py::object> v = to_items(letterbox, "letterbox", "(scale_x, scale_y, pad_x, pad_y)", 4);
    m = fp::ImageMapping::letterbox(static_cast<float>(to_double(v[0], "letterbox scale_x")),
                                    static_cast<float>(to_double(v[1], "letterbox scale_y")),
                                    static_cast<float>(to_double(v[2], "letterbox pad_x")),
                                    static_cast<float>(to_double(v[3], "letterbox pad_y")));
  } else if (!resize.is_none()) {
    m = fp::ImageMapping::resize(static_cast<float>(to_double(resize, "resize")));
  }
  if (!clip_to.is_none()) {
    const std::vector<py::object> wh = to_items(clip_to, "clip_to", "(width, height)", 2);
    m.clip_to(static_cast<float>(to_double(wh[0], "clip_to width")),
              static_cast<float>(to_double(wh[1], "clip_to height")));
  }
  check(fp::validate_mapping(m));
  return m;
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
    value_error(std::string(name) + ": expected a numpy array, got " + describe(obj));
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
py::array_t<float> to_numpy(std::unique_ptr<std::vector<float>> rows) {
  const py::ssize_t k = static_cast<py::ssize_t>(rows->size() / fp::kDetectionCols);
  float* data = rows->data();
  py::capsule owner(rows.get(), [](void* p) { delete static_cast<std::vector<float>*>(p); });
  rows.release();
  return py::array_t<float>({k, static_cast<py::ssize_t>(fp::kDetectionCols)}, data, owner);
}

/// Runs `pp` without the GIL. `lock` (when given) serialises threads sharing one Postprocessor;
/// it is taken only after the GIL is released, so the two locks never wait on each other.
py::array_t<float> run_pipeline(fp::Postprocessor& pp, std::mutex* lock, py::handle loc, py::handle conf,
                                py::handle landms, py::handle image_size, py::handle resize, py::handle letterbox,
                                py::handle clip_to) {
  const fp::InputSize input = make_input_size(image_size);
  const fp::ImageMapping mapping = make_mapping(resize, letterbox, clip_to);
  const HeldTensor l = hold_tensor(loc, "loc"), c = hold_tensor(conf, "conf"), m = hold_tensor(landms, "landms");
  const fp::HeadOutputs heads{l.view, c.view, m.view};

  fp::Status status;
  std::unique_ptr<std::vector<float>> rows;
  {
    py::gil_scoped_release nogil;
    std::unique_lock<std::mutex> guard;
    if (lock != nullptr) guard = std::unique_lock<std::mutex>(*lock);
    fp::Detections d;
    status = pp.try_run(heads, input, mapping, d);
    if (status.ok()) rows = std::make_unique<std::vector<float>>(d.data(), d.data() + d.size() * fp::kDetectionCols);
  }
  check(status);
  return to_numpy(std::move(rows));
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
  d["variance"] = py::make_tuple(c.variance.center, c.variance.size);
  d["clip"] = c.clip;
  return d;
}

/// The Python Postprocessor: a facepost::Postprocessor (priors and buffers kept across calls)
/// plus the lock that lets threads share it.
class PyPostprocessor {
 public:
  PyPostprocessor(fp::AnchorConfig anchors, fp::Params params) : pp_(std::move(anchors), params) {}

  py::array_t<float> run(py::handle loc, py::handle conf, py::handle landms, py::handle image_size,
                         py::handle resize, py::handle letterbox, py::handle clip_to) {
    return run_pipeline(pp_, &lock_, loc, conf, landms, image_size, resize, letterbox, clip_to);
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

const char* const kPostprocessDoc = R"doc(postprocess(loc, conf, landms, image_size, resize=None, *, preset=None,
            min_sizes=None, steps=None, variance=(0.1, 0.2), clip_priors=False, threshold=0.02,
            nms_threshold=0.4, iou='legacy', top_k=None, keep_top_k=None, logits=False,
            letterbox=None, clip_to=None) -> numpy.ndarray

Decodes one frame of RetinaFace-family head outputs into detections: priors, decode, score
threshold, top_k, greedy NMS, keep_top_k - the reference detect.py block in one call.

loc, conf, landms: float32 arrays of shape [N,4], [N,2], [N,10] or [1,N,C] (model outputs as
  they come), any strides (sliced, Fortran-ordered, transposed views are read in place). Other
  dtypes raise ValueError: convert with .astype(numpy.float32).
image_size: the network input as (height, width), as the reference PriorBox takes it.
resize: input = original x resize (the reference's `resize`); outputs are divided by it. Default 1.
preset: anchor preset name (facepost.PRESETS); excludes min_sizes/steps. Without either, the
  RetinaFace mobilenet0.25/ResNet-50 anchors min_sizes=[[16, 32], [64, 128], [256, 512]],
  steps=[8, 16, 32] are used.
variance: box-regression variances (center, size). clip_priors: clamp priors to [0, 1].
threshold: keep scores strictly greater. nms_threshold: suppress when IoU is greater.
iou: 'legacy' (py_cpu_nms, +1 pixel widths) or 'continuous' (torchvision.ops.nms).
top_k, keep_top_k: best candidates kept before / detections kept after NMS; None = no limit.
  The reference detect.py uses top_k=5000, keep_top_k=750.
logits: conf holds raw two-class logits instead of softmax probabilities.
letterbox: (scale_x, scale_y, pad_x, pad_y): the original was scaled, then padded left/top;
  excludes resize. See facepost.letterbox_fit.
clip_to: (width, height) of the original image: clamp boxes and landmarks to it.

Returns a new float32 array [K,15]: x1 y1 x2 y2 score, then 5 landmarks (x, y), in original-image
pixels, best score first. Raises ValueError naming the problem for any invalid input. The GIL
is released while it runs. The priors are rebuilt on each call; use facepost.Postprocessor to
keep them (and every buffer) across frames.)doc";

const char* const kRunDoc =
    R"doc(run(loc, conf, landms, image_size, resize=None, *, letterbox=None, clip_to=None) -> numpy.ndarray

Post-processes one frame with this object's anchors and parameters (see facepost.postprocess for
the arguments and the result). Priors are built once per input size and reused, buffers too.
Threads may share one Postprocessor (calls are serialised); one per thread runs in parallel.)doc";

}  // namespace

PYBIND11_MODULE(facepost, m) {
  // The docstrings carry hand-written signatures (pybind11's would show every argument as `handle`).
  py::options options;
  options.disable_function_signatures();
  m.doc() =
      "facepost: post-processing for RetinaFace-family face detectors (priors, decode, threshold, NMS), "
      "bit-compatible with the reference Python code.";
  m.attr("__version__") = FACEPOST_VERSION_STRING;
  m.attr("backend") = fp::backend_name();
  {
    py::list names;
    for (const PresetEntry& p : kPresets) names.append(p.name);
    m.attr("PRESETS") = py::tuple(names);
  }

  m.def(
      "postprocess",
      [](py::handle loc, py::handle conf, py::handle landms, py::handle image_size, py::handle resize,
         py::handle preset, py::handle min_sizes, py::handle steps, py::handle variance, bool clip_priors,
         py::handle threshold, py::handle nms_threshold, py::handle iou, py::handle top_k,
         py::handle keep_top_k, bool logits, py::handle letterbox, py::handle clip_to) {
        fp::Postprocessor pp(make_anchors(preset, min_sizes, steps, variance, clip_priors),
                             make_params(threshold, nms_threshold, iou, top_k, keep_top_k, logits));
        return run_pipeline(pp, nullptr, loc, conf, landms, image_size, resize, letterbox, clip_to);
      },
      kPostprocessDoc, py::arg("loc"), py::arg("conf"), py::arg("landms"), py::arg("image_size"),
      py::arg("resize") = py::none(), py::kw_only(), py::arg("preset") = py::none(),
      py::arg("min_sizes") = py::none(), py::arg("steps") = py::none(), py::arg("variance") = py::make_tuple(0.1, 0.2),
      py::arg("clip_priors") = false, py::arg("threshold") = 0.02, py::arg("nms_threshold") = 0.4,
      py::arg("iou") = "legacy", py::arg("top_k") = py::none(), py::arg("keep_top_k") = py::none(),
      py::arg("logits") = false, py::arg("letterbox") = py::none(), py::arg("clip_to") = py::none());

  py::class_<PyPostprocessor>(m, "Postprocessor",
                              "Reusable post-processor: anchors and parameters fixed at construction, priors "
                              "cached per input size, buffers reused across frames.")
      .def(py::init([](py::handle preset, py::handle min_sizes, py::handle steps, py::handle variance,
                       bool clip_priors, py::handle threshold, py::handle nms_threshold, py::handle iou,
                       py::handle top_k, py::handle keep_top_k, bool logits) {
             return std::make_unique<PyPostprocessor>(
                 make_anchors(preset, min_sizes, steps, variance, clip_priors),
                 make_params(threshold, nms_threshold, iou, top_k, keep_top_k, logits));
           }),
           "Postprocessor(*, preset=None, min_sizes=None, steps=None, variance=(0.1, 0.2), clip_priors=False, "
           "threshold=0.02, nms_threshold=0.4, iou='legacy', top_k=None, keep_top_k=None, logits=False)\n\n"
           "Arguments as in facepost.postprocess; invalid ones raise ValueError here.",
           py::kw_only(), py::arg("preset") = py::none(), py::arg("min_sizes") = py::none(),
           py::arg("steps") = py::none(), py::arg("variance") = py::make_tuple(0.1, 0.2),
           py::arg("clip_priors") = false, py::arg("threshold") = 0.02, py::arg("nms_threshold") = 0.4,
           py::arg("iou") = "legacy", py::arg("top_k") = py::none(), py::arg("keep_top_k") = py::none(),
           py::arg("logits") = false)
      .def("run", &PyPostprocessor::run, kRunDoc, py::arg("loc"), py::arg("conf"), py::arg("landms"),
           py::arg("image_size"), py::arg("resize") = py::none(), py::kw_only(), py::arg("letterbox") = py::none(),
           py::arg("clip_to") = py::none())
      .def("__call__", &PyPostprocessor::run,
           "__call__(loc, conf, landms, image_size, resize=None, *, letterbox=None, clip_to=None) -> numpy.ndarray\n\n"
           "Same as run().",
           py::arg("loc"), py::arg("conf"), py::arg("landms"),
           py::arg("image_size"), py::arg("resize") = py::none(), py::kw_only(), py::arg("letterbox") = py::none(),
           py::arg("clip_to") = py::none())
      .def_property_readonly("stats", &PyPostprocessor::stats,
                             "Counts of the last run: priors, candidates (above the threshold), ranked "
                             "(entering NMS), detections.")
      .def_property_readonly("anchors", [](const PyPostprocessor& p) { return anchors_dict(p.core().priors().spec()); },
                             "The anchor configuration: min_sizes, steps, variance, clip.")
      .def_property_readonly(
          "params",
          [](const PyPostprocessor& p) {
            const fp::Params& q = p.core().params();
            py::dict d;
            d["threshold"] = q.score_threshold;
            d["nms_threshold"] = q.nms_threshold;
            d["iou"] = q.iou == fp::IouConvention::legacy_pixel ? "legacy" : "continuous";
            d["top_k"] = q.top_k == 0 ? py::object(py::none()) : py::int_(q.top_k);
            d["keep_top_k"] = q.keep_top_k == 0 ? py::object(py::none()) : py::int_(q.keep_top_k);
            d["logits"] = q.score_format == fp::ScoreFormat::logits;
            return d;
          },
          "The post-processing parameters.");

  m.def(
      "preset_anchors", [](const std::string& name) { return anchors_dict(preset_by_name(name)); },
      "preset_anchors(name) -> dict: min_sizes, steps, variance and clip of a preset (facepost.PRESETS).",
      py::arg("name"));

  m.def(
      "letterbox_fit",
      [](py::handle original_size, py::handle input_size) {
        const std::vector<py::object> o = to_items(original_size, "original_size", "(height, width)", 2);
        const std::vector<py::object> i = to_items(input_size, "input_size", "(height, width)", 2);
        const int oh = to_int(o[0], "original_size height"), ow = to_int(o[1], "original_size width");
        const int ih = to_int(i[0], "input_size height"), iw = to_int(i[1], "input_size width");
        if (oh <= 0 || ow <= 0 || ih <= 0 || iw <= 0) value_error("letterbox_fit: every size must be positive");
        const fp::ImageMapping lb = fp::ImageMapping::letterbox_fit(ow, oh, iw, ih);
        return py::make_tuple(lb.scale_x, lb.scale_y, lb.pad_x, lb.pad_y);
      },
      "letterbox_fit(original_size, input_size) -> (scale_x, scale_y, pad_x, pad_y)\n\n"
      "The letterbox argument for an original of (height, width) fitted into a network input of "
      "(height, width) with one scale and centred padding (facepost::ImageMapping::letterbox_fit). "
      "Use it only if your pre-processing pads exactly that way (fractional padding included).",
      py::arg("original_size"), py::arg("input_size"));
}
