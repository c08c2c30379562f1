// python/module.cpp - `facepost._core`, the thin pybind11 binding under the Python package
// `facepost` (python/src/facepost/__init__.py: signatures, defaults, docstrings, argument checks).
//
// Arguments arrive here already checked and converted by the Python layer (plain ints, floats,
// strings and lists); this file still validates them with the C++ library (ValueError with the
// C++ message), so no call can reach the pipeline with an invalid configuration. Head tensors
// are viewed in place through their strides (any layout, no copy) when they are native float32,
// float16, int8 or uint8 (int8 / uint8 with the (scale, zero_point) of the run methods' `dequant`),
// converted to float32 by the C++ kernels as they are read; other dtypes are refused rather than
// silently converted, because the reference arithmetic is float32 and a float64 -> float32 cast
// is the caller's decision. The GIL is released while the pipeline runs. Batches (run_batch:
// [B,N,C] heads) run on threads started here, the calling thread one of them. The stubs are
// _core.pyi next to the package.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
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
//
// A head is a numpy array of float32, float16, int8 or uint8 (native byte order), viewed in place
// through its strides with the element type facepost converts as it reads (tensor.hpp). int8 and
// uint8 heads are quantized: their (scale, zero_point) comes in the run methods' `dequant`
// argument, a dict from the tensor's name ("conf", "score_8", "regressors[1]") to (scale,
// zero_point) that the Python layer builds from the caller's {head: pair or pairs}.

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

bool is_native(const py::dtype& dt) {
  const char order = dt.byteorder();  // '=' native, '|' not applicable, '<' / '>' explicit
  return order == '=' || order == '|' || (order == '<') == host_is_little_endian();
}

bool is_native_float32(const py::dtype& dt) { return dt.kind() == 'f' && dt.itemsize() == 4 && is_native(dt); }

/// `obj` as a numpy array of a head element type, and that type; any other dtype is refused, not
/// converted (float64 above all: narrowing it silently would hide a float64 pipeline).
py::array head_array(py::handle obj, const std::string& name, fp::ElementType& type) {
  py::array a = py::array::ensure(obj);
  if (!a) {
    PyErr_Clear();
    value_error(name + ": expected a numpy array, got " + py::repr(obj).cast<std::string>());
  }
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  const py::ssize_t size = dt.itemsize();
  const bool native = is_native(dt);
  if (native && kind == 'f' && size == 4) type = fp::ElementType::float32;
  else if (native && kind == 'f' && size == 2) type = fp::ElementType::float16;
  else if (native && kind == 'i' && size == 1) type = fp::ElementType::int8;
  else if (native && kind == 'u' && size == 1) type = fp::ElementType::uint8;
  else {
    const std::string dtype = py::str(py::handle(dt)).cast<std::string>();
    std::string message = name + ": dtype " + dtype + " is not float32, float16, int8 or uint8";
    if (!native) message += " in native byte order";
    message += std::string("; convert with .astype(numpy.") + (kind == 'f' && size == 2 ? "float16" : "float32") + ")";
    if (kind == 'f' && size > 4) message += " (" + dtype + " is not narrowed silently)";
    value_error(message);
  }
  return a;
}

/// The Dequant of tensor `name` of element type `type`, from `dequant` (tensor name -> (scale,
/// zero_point); `key`: the Python argument of its head, for the message). An int8 / uint8 tensor
/// needs an entry, a float one takes none; the entry's values are checked by validate_elements.
fp::Dequant head_dequant(const py::dict& dequant, const std::string& name, const char* key, fp::ElementType type) {
  const bool quantized = type == fp::ElementType::int8 || type == fp::ElementType::uint8;
  const std::string type_name = fp::element_type_name(type);
  const py::object entry = dequant.contains(name) ? py::object(dequant[py::str(name)]) : py::object(py::none());
  if (entry.is_none()) {
    if (quantized)
      value_error(name + ": " + type_name + " arrays need dequant={'" + key + "': (scale, zero_point)}");
    return {};
  }
  if (!py::isinstance<py::tuple>(entry) || py::len(entry) != 2 || !py::isinstance<py::float_>(entry[py::int_(0)]) ||
      !py::isinstance<py::int_>(entry[py::int_(1)]))
    value_error(name + ": dequant must be (scale: float, zero_point: int), got " + py::repr(entry).cast<std::string>());
  const py::tuple pair = py::reinterpret_borrow<py::tuple>(entry);
  const float scale = pair[0].cast<float>();
  const std::string zp_text = py::str(pair[1]).cast<std::string>();
  if (!quantized) {  // validate_elements' message, also for (1, 0), which it cannot tell from none
    char text[64];
    std::snprintf(text, sizeof text, "%g", double(scale));
    value_error(name + ": dequantization (scale " + text + ", zero point " + zp_text + ") given for a " + type_name +
                " tensor; only int8 and uint8 tensors are quantized");
  }
  int overflow = 0;
  const long long zp = PyLong_AsLongLongAndOverflow(pair[1].ptr(), &overflow);
  if (zp == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0 || zp < INT32_MIN || zp > INT32_MAX) {  // validate_elements' message for the rest
    const bool is_int8 = type == fp::ElementType::int8;
    value_error(name + ": zero point " + zp_text + " is outside the " + type_name + " range [" +
                (is_int8 ? "-128, 127" : "0, 255") + "]");
  }
  return fp::Dequant{scale, static_cast<std::int32_t>(zp)};
}

/// The strides, in elements, of the last `axes` axes of `a` (into `out`). Strides that are not
/// whole elements, or a misaligned buffer (views into raw bytes), are the one layout an element
/// pointer cannot walk: `a` is then replaced by a fresh (aligned, C-order) copy of the same dtype.
void element_strides(py::array& a, const std::string& name, py::ssize_t axes, py::ssize_t* out) {
  const py::ssize_t size = a.itemsize();
  const auto whole = [&] {
    if (reinterpret_cast<std::uintptr_t>(a.data()) % static_cast<std::uintptr_t>(size) != 0) return false;
    for (py::ssize_t k = 0; k < axes; ++k) {
      const py::ssize_t bytes = a.strides(a.ndim() - axes + k);
      if (bytes % size != 0) return false;
      out[k] = bytes / size;
    }
    return true;
  };
  if (!whole()) {
    a = py::array(a.attr("copy")());
    if (!whole()) value_error(name + ": cannot view the array as " + py::str(a.dtype()).cast<std::string>());
  }
}

/// One frame's head: [N,C] or [1,N,C]. `owner` is the Python class whose run_batch takes a batch
/// (named in the error for [B,N,C], where the C++ message says "use the batch API"); `key` the
/// head's Python argument (named in the message for a quantized tensor without dequant).
HeldTensor hold_tensor(py::handle obj, const std::string& name, const char* owner, const py::dict& dequant,
                       const char* key) {
  HeldTensor t;
  fp::ElementType type;
  t.array = head_array(obj, name, type);
  const py::ssize_t nd = t.array.ndim();
  if (nd != 2 && nd != 3) value_error(name + ": expected shape [N,C] or [1,N,C], got rank " + std::to_string(nd));
  const auto* shape = t.array.shape();
  if (nd == 3 && shape[0] != 1)
    value_error(name + ": expected shape [1,N,C], got batch dimension " + std::to_string(shape[0]) + "; use " + owner +
                ".run_batch for batches");
  // Shape checks are the C++ API's; the view's type, strides and dequantization are set below.
  check(nd == 2 ? fp::view_tensor(nullptr, {shape[0], shape[1]}, name.c_str(), t.view)
                : fp::view_tensor(nullptr, {shape[0], shape[1], shape[2]}, name.c_str(), t.view));
  const fp::Dequant dq = head_dequant(dequant, name, key, type);
  py::ssize_t strides[2];
  element_strides(t.array, name, 2, strides);
  t.view = fp::TensorView(t.array.data(), type, t.view.rows, t.view.cols, strides[0], strides[1], dq);
  check(fp::validate_elements(t.view, name.c_str()));
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

// ---- batches ---------------------------------------------------------------------------------
//
// run_batch of every class: [B,N,C] heads (frame b at index b of the leading axis), one mapping
// for all frames or one per frame, B results. The frames run on `threads` threads started here
// (the calling thread one of them), without the GIL; each result is copied out of the C++
// buffers on its thread, and wrapped as a numpy array once the GIL is back.

/// The mapping the Python layer passes as seven values (facepost/__init__.py: _mapping), checked.
fp::ImageMapping make_mapping(float scale_x, float scale_y, float pad_x, float pad_y, bool clip, float clip_width,
                              float clip_height) {
  fp::ImageMapping mapping = fp::ImageMapping::letterbox(scale_x, scale_y, pad_x, pad_y);
  if (clip) mapping.clip_to(clip_width, clip_height);
  check(fp::validate_mapping(mapping));
  return mapping;
}

/// make_mapping's seven values, one tuple per mapping of a batch.
using MappingArgs = std::tuple<float, float, float, float, bool, float, float>;

/// A batch's per-frame value (mapping, image size): one for every frame, or one per frame.
template <class T>
const T& frame_value(const std::vector<T>& values, std::size_t frame) {
  return values[values.size() == 1 ? 0 : frame];
}

template <class T>
void check_per_frame(const std::vector<T>& values, std::size_t count, const char* what) {
  if (values.size() != 1 && values.size() != count)
    value_error(std::string("run_batch: ") + std::to_string(values.size()) + " " + what + " for " +
                std::to_string(count) + " frames (give 1 or one per frame)");
}

std::vector<fp::ImageMapping> make_mappings(const std::vector<MappingArgs>& args, std::size_t count) {
  check_per_frame(args, count, "mappings");
  std::vector<fp::ImageMapping> mappings;
  mappings.reserve(args.size());
  for (const MappingArgs& a : args) mappings.push_back(std::apply(make_mapping, a));
  return mappings;
}

/// A [B,N,C] numpy array kept alive, and the [N,C] view of each of its B frames (read in place
/// through the strides, as hold_tensor reads one frame).
struct HeldBatch {
  std::string name;
  py::array array;
  std::vector<fp::TensorView> frames;
};

HeldBatch hold_batch(py::handle obj, std::string name, const py::dict& dequant, const char* key) {
  HeldBatch b;
  b.name = std::move(name);
  fp::ElementType type;
  b.array = head_array(obj, b.name, type);
  if (b.array.ndim() != 3)
    value_error(b.name + ": expected shape [B,N,C] (frames on the leading axis), got rank " +
                std::to_string(b.array.ndim()));
  const auto* shape = b.array.shape();
  fp::TensorView frame;  // a frame's shape rules are the single-frame call's
  check(fp::view_tensor(nullptr, {1, shape[1], shape[2]}, b.name.c_str(), frame));
  const fp::Dequant dq = head_dequant(dequant, b.name, key, type);  // the same for every frame
  check(fp::validate_elements(fp::TensorView(nullptr, type, 0, 0, 0, 1, dq), b.name.c_str()));  // B = 0 too
  py::ssize_t strides[3];
  element_strides(b.array, b.name, 3, strides);
  const auto* base = static_cast<const char*>(b.array.data());
  const py::ssize_t frame_bytes = strides[0] * b.array.itemsize();
  b.frames.reserve(static_cast<std::size_t>(shape[0]));
  for (py::ssize_t f = 0; f < shape[0]; ++f)
    b.frames.emplace_back(base + f * frame_bytes, type, frame.rows, frame.cols, strides[1], strides[2], dq);
  return b;
}

/// The batch size B that every array of a batch has (ValueError listing them otherwise).
std::size_t common_batch(const std::vector<HeldBatch>& heads) {
  const std::size_t count = heads.front().frames.size();
  std::string sizes;
  bool same = true;
  for (const HeldBatch& h : heads) {
    same = same && h.frames.size() == count;
    sizes += (sizes.empty() ? "" : ", ") + h.name + " " + std::to_string(h.frames.size());
  }
  if (!same) value_error("run_batch: the arrays disagree on the batch size: " + sizes);
  return count;
}

/// How many threads run a batch: `threads` (at least 1), at most one per frame.
std::size_t shard_count(std::size_t threads, std::size_t count) {
  if (threads == 0) value_error("run_batch: threads must be at least 1");
  return std::min(threads, count);
}

/// Calls shard(s, shards) for every s in [0, shards): shard 0 on the calling thread, each other
/// on a std::thread of its own; a thread that cannot be started leaves its shard to the calling
/// thread. Call it without the GIL; `shard` must not throw.
template <class Shard>
void run_sharded(std::size_t shards, const Shard& shard) {
  std::vector<std::thread> pool;
  std::size_t s = 1;
  try {
    pool.reserve(shards - 1);
    for (; s < shards; ++s) pool.emplace_back([&shard, s, shards] { shard(s, shards); });
  } catch (const std::exception&) {  // std::system_error (no more threads) or std::bad_alloc
  }
  shard(0, shards);
  for (; s < shards; ++s) shard(s, shards);
  for (std::thread& t : pool) t.join();
}

/// One frame's result, copied out of the C++ buffers (on the frame's thread, without the GIL).
struct FrameResult {
  fp::Status status;
  std::unique_ptr<std::vector<float>> rows;
  std::size_t cols = fp::kDetectionCols;
};

void keep_rows(FrameResult& r, const float* data, std::size_t k, std::size_t cols) noexcept {
  try {
    r.rows = std::make_unique<std::vector<float>>(data, data + k * cols);
    r.cols = cols;
  } catch (const std::bad_alloc&) {
    r.status = fp::Status::failure(fp::Errc::size_overflow, "out of memory copying %zu detections", k);
  }
}

/// The B results as a list of numpy arrays, or ValueError for the first frame that failed.
py::list results_list(std::vector<FrameResult>& results) {
  for (std::size_t f = 0; f < results.size(); ++f)
    if (!results[f].status.ok()) value_error("batch frame " + std::to_string(f) + ": " + results[f].status.message());
  py::list out;
  for (FrameResult& r : results) out.append(to_numpy(std::move(r.rows), r.cols));
  return out;
}

/// The Python-facing Postprocessor: a facepost::Postprocessor (priors and buffers kept across
/// calls), a facepost::BatchPostprocessor of the same configuration for run_batch (its priors
/// and per-frame workspaces kept too), and the lock that lets threads share them.
class Core {
 public:
  Core(const fp::AnchorConfig& anchors, fp::Params params) : pp_(anchors, params), batch_(anchors, params) {}

  /// Runs without the GIL; the lock serialising threads that share this object is taken only
  /// after the GIL is released, so the two locks never wait on each other.
  py::array_t<float> run(py::handle loc, py::handle conf, py::handle landms, int width, int height, float scale_x,
                         float scale_y, float pad_x, float pad_y, bool clip, float clip_width, float clip_height,
                         const py::dict& dequant) {
    const fp::InputSize input = make_input_size(width, height);
    fp::ImageMapping mapping = fp::ImageMapping::letterbox(scale_x, scale_y, pad_x, pad_y);
    if (clip) mapping.clip_to(clip_width, clip_height);
    check(fp::validate_mapping(mapping));
    const HeldTensor l = hold_tensor(loc, "loc", kName, dequant, "loc"),
                     c = hold_tensor(conf, "conf", kName, dequant, "conf"),
                     m = hold_tensor(landms, "landms", kName, dequant, "landms");
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

  /// [B,N,C] heads: BatchPostprocessor::prepare, then run_shard(s, S) on S threads, without the
  /// GIL and under the lock. A list of B arrays.
  py::list run_batch(py::handle loc, py::handle conf, py::handle landms, int width, int height,
                     const std::vector<MappingArgs>& mapping_args, std::size_t threads, const py::dict& dequant) {
    const fp::InputSize input = make_input_size(width, height);
    const std::vector<HeldBatch> held{hold_batch(loc, "loc", dequant, "loc"), hold_batch(conf, "conf", dequant, "conf"),
                                      hold_batch(landms, "landms", dequant, "landms")};
    const std::size_t count = common_batch(held);
    const std::vector<fp::ImageMapping> mappings = make_mappings(mapping_args, count);
    if (count == 0) return py::list();
    const std::size_t shards = shard_count(threads, count);
    std::vector<fp::HeadOutputs> frames(count);
    for (std::size_t f = 0; f < count; ++f) frames[f] = {held[0].frames[f], held[1].frames[f], held[2].frames[f]};

    std::vector<FrameResult> results(count);
    fp::Status status;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> guard(lock_);
      status = batch_.prepare(frames.data(), count, input, mappings.data(), mappings.size());
      if (status.ok())
        run_sharded(shards, [&](std::size_t shard, std::size_t num_shards) {
          batch_.run_shard(shard, num_shards);
          for (std::size_t f = shard; f < count; f += num_shards) {
            const fp::Detections d = batch_.result(f);
            keep_rows(results[f], d.data(), d.size(), fp::kDetectionCols);
          }
        });
    }
    check(status);
    return results_list(results);
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
  static constexpr const char* kName = "Postprocessor";
  fp::Postprocessor pp_;
  fp::BatchPostprocessor batch_;
  std::mutex lock_;
};

// ---- detector families -----------------------------------------------------------------------

/// A fresh post-processor with the configuration of `p` (the families' objects own buffers and
/// are not copyable): run_batch's other threads each run on one.
fp::ScrfdPostprocessor same_config(const fp::ScrfdPostprocessor& p) { return fp::ScrfdPostprocessor(p.params()); }
fp::Yolov5FacePostprocessor same_config(const fp::Yolov5FacePostprocessor& p) {
  return fp::Yolov5FacePostprocessor(p.params());
}
fp::BlazefacePostprocessor same_config(const fp::BlazefacePostprocessor& p) {
  return fp::BlazefacePostprocessor(p.model(), p.params());
}
fp::YunetPostprocessor same_config(const fp::YunetPostprocessor& p) { return fp::YunetPostprocessor(p.params()); }

/// A family's object with the lock that lets threads share it. `Post` is the C++ post-processor;
/// `Run(Post&, FamilyDetections&)` runs one frame without the GIL. `name` is its Python class.
template <class Post>
class FamilyCore {
 public:
  FamilyCore(Post post, const char* name) : pp_(std::move(post)), name_(name) {}

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

  /// `count` frames on `threads` threads (at most one per frame), without the GIL and under the
  /// lock: thread s runs frames s, s + S, s + 2S, ... on its own post-processor (this object's
  /// for s = 0, same_config copies kept for the next batch for the others) and copies each
  /// result out before the next frame. `Run(Post&, frame, FamilyDetections&)` runs one frame.
  template <class Run>
  py::list run_batch(std::size_t count, std::size_t threads, const Run& run_frame) {
    if (count == 0) return py::list();
    const std::size_t shards = shard_count(threads, count);
    std::vector<FrameResult> results(count);
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> guard(lock_);
      while (workers_.size() + 1 < shards) workers_.push_back(same_config(pp_));
      run_sharded(shards, [&](std::size_t shard, std::size_t num_shards) {
        Post& pp = shard == 0 ? pp_ : workers_[shard - 1];
        for (std::size_t f = shard; f < count; f += num_shards) {
          fp::FamilyDetections d;
          results[f].status = run_frame(pp, f, d);
          if (results[f].status.ok()) keep_rows(results[f], d.data(), d.size(), d.cols());
        }
      });
    }
    return results_list(results);
  }

  const Post& post() const { return pp_; }
  const char* name() const { return name_; }

 private:
  Post pp_;
  const char* name_;
  std::vector<Post> workers_;
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
                             float clip_width, float clip_height, const py::dict& dequant) {
  const fp::InputSize input = make_input_size(width, height);
  const fp::ImageMapping mapping = make_mapping(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height);
  const HeldTensor l = hold_tensor(loc, "loc", core.name(), dequant, "loc"),
                   c = hold_tensor(conf, "conf", core.name(), dequant, "conf"),
                   i = hold_tensor(iou, "iou", core.name(), dequant, "iou");
  const fp::YunetHeads heads{l.view, c.view, i.view};
  return core.run([&](fp::YunetPostprocessor& pp, fp::FamilyDetections& d) {
    return pp.try_run(heads, input, mapping, d);
  });
}

py::list run_yunet_batch(YunetCore& core, const py::handle& loc, const py::handle& conf, const py::handle& iou,
                         int width, int height, const std::vector<MappingArgs>& mapping_args, std::size_t threads,
                         const py::dict& dequant) {
  const fp::InputSize input = make_input_size(width, height);
  const std::vector<HeldBatch> held{hold_batch(loc, "loc", dequant, "loc"), hold_batch(conf, "conf", dequant, "conf"),
                                    hold_batch(iou, "iou", dequant, "iou")};
  const std::size_t count = common_batch(held);
  const std::vector<fp::ImageMapping> mappings = make_mappings(mapping_args, count);
  return core.run_batch(count, threads, [&](fp::YunetPostprocessor& pp, std::size_t f, fp::FamilyDetections& d) {
    const fp::YunetHeads heads{held[0].frames[f], held[1].frames[f], held[2].frames[f]};
    return pp.try_run(heads, input, frame_value(mappings, f), d);
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

/// SCRFD's `kps` as a list (empty: None, a model without keypoints), after checking that each
/// head holds three per-stride arrays (8, 16, 32).
py::sequence scrfd_kps_list(const py::sequence& scores, const py::sequence& bboxes, const py::object& kps) {
  const py::sequence kps_list = kps.is_none() ? py::sequence(py::list()) : py::sequence(kps);
  if (py::len(scores) != 3 || py::len(bboxes) != 3 || (!kps.is_none() && py::len(kps_list) != 3))
    value_error("scores, bboxes and kps must each hold 3 arrays, one per stride (8, 16, 32)");
  return kps_list;
}

/// SCRFD: three per-stride arrays per head (8, 16, 32); `kps` None for a model without keypoints.
py::array_t<float> run_scrfd(ScrfdCore& core, const py::sequence& scores, const py::sequence& bboxes,
                             const py::object& kps, int width, int height, float scale_x, float scale_y, float pad_x,
                             float pad_y, bool clip, float clip_width, float clip_height, int image_width,
                             int image_height, const py::dict& dequant) {
  const fp::InputSize input = make_input_size(width, height);
  const fp::ImageMapping mapping = make_mapping(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height);
  const bool with_kps = !kps.is_none();
  const py::sequence kps_list = scrfd_kps_list(scores, bboxes, kps);
  std::vector<HeldTensor> held;
  held.reserve(9);
  fp::ScrfdHeads heads;
  for (int l = 0; l < 3; ++l) {
    const std::string s = std::to_string(fp::kScrfdStrides[l]);
    held.push_back(hold_tensor(scores[py::size_t(l)], "score_" + s, core.name(), dequant, "scores"));
    heads.score[l] = held.back().view;
    held.push_back(hold_tensor(bboxes[py::size_t(l)], "bbox_" + s, core.name(), dequant, "bboxes"));
    heads.bbox[l] = held.back().view;
    if (with_kps) {
      held.push_back(hold_tensor(kps_list[py::size_t(l)], "kps_" + s, core.name(), dequant, "kps"));
      heads.kps[l] = held.back().view;
    }
  }
  const fp::InputSize image{image_width, image_height};
  return core.run([&](fp::ScrfdPostprocessor& pp, fp::FamilyDetections& d) {
    return pp.try_run(heads, input, mapping, image, d);
  });
}

/// SCRFD's batch: the same lists, of [B,N_s,C] arrays; `image_sizes` one (width, height) for all
/// frames or one per frame ((0, 0): the image is the input).
py::list run_scrfd_batch(ScrfdCore& core, const py::sequence& scores, const py::sequence& bboxes,
                         const py::object& kps, int width, int height, const std::vector<MappingArgs>& mapping_args,
                         const std::vector<std::pair<int, int>>& image_sizes, std::size_t threads,
                         const py::dict& dequant) {
  const fp::InputSize input = make_input_size(width, height);
  const bool with_kps = !kps.is_none();
  const py::sequence kps_list = scrfd_kps_list(scores, bboxes, kps);
  std::vector<HeldBatch> held;  // per stride: score, bbox (, kps)
  held.reserve(9);
  for (int l = 0; l < 3; ++l) {
    const std::string s = std::to_string(fp::kScrfdStrides[l]);
    held.push_back(hold_batch(scores[py::size_t(l)], "score_" + s, dequant, "scores"));
    held.push_back(hold_batch(bboxes[py::size_t(l)], "bbox_" + s, dequant, "bboxes"));
    if (with_kps) held.push_back(hold_batch(kps_list[py::size_t(l)], "kps_" + s, dequant, "kps"));
  }
  const std::size_t count = common_batch(held);
  const std::vector<fp::ImageMapping> mappings = make_mappings(mapping_args, count);
  check_per_frame(image_sizes, count, "image sizes");
  const std::size_t per_stride = with_kps ? 3 : 2;
  std::vector<fp::ScrfdHeads> frames(count);
  for (std::size_t f = 0; f < count; ++f)
    for (std::size_t l = 0; l < 3; ++l) {
      frames[f].score[l] = held[per_stride * l].frames[f];
      frames[f].bbox[l] = held[per_stride * l + 1].frames[f];
      if (with_kps) frames[f].kps[l] = held[per_stride * l + 2].frames[f];
    }
  return core.run_batch(count, threads, [&](fp::ScrfdPostprocessor& pp, std::size_t f, fp::FamilyDetections& d) {
    const std::pair<int, int>& image = frame_value(image_sizes, f);
    return pp.try_run(frames[f], input, frame_value(mappings, f), fp::InputSize{image.first, image.second}, d);
  });
}

/// BlazeFace: each head one array ([896,C]) or the models' two groups ([512,C], [384,C]).
py::array_t<float> run_blazeface(BlazefaceCore& core, const py::handle& regressors, const py::handle& scores,
                                 float scale_x, float scale_y, float pad_x, float pad_y, bool clip, float clip_width,
                                 float clip_height, const py::dict& dequant) {
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
        held.push_back(
            hold_tensor(groups[py::size_t(g)], std::string(name) + (g ? "[1]" : "[0]"), core.name(), dequant, name));
        views[g] = held.back().view;
      }
    } else {
      held.push_back(hold_tensor(head, name, core.name(), dequant, name));
      views[0] = held.back().view;
    }
  };
  take(regressors, "regressors", heads.regressors);
  take(scores, "scores", heads.scores);
  return core.run([&](fp::BlazefacePostprocessor& pp, fp::FamilyDetections& d) { return pp.try_run(heads, mapping, d); });
}

/// BlazeFace's batch: each head one [B,896,C] array or the two groups ([B,512,C], [B,384,C]).
py::list run_blazeface_batch(BlazefaceCore& core, const py::handle& regressors, const py::handle& scores,
                             const std::vector<MappingArgs>& mapping_args, std::size_t threads,
                             const py::dict& dequant) {
  std::vector<HeldBatch> held;  // the regressors' groups, then the scores'
  held.reserve(4);
  const auto take = [&](const py::handle& head, const char* name) -> std::size_t {
    if (py::isinstance<py::list>(head) || py::isinstance<py::tuple>(head)) {
      const py::sequence groups = py::reinterpret_borrow<py::sequence>(head);
      if (py::len(groups) != 2)
        value_error(std::string(name) +
                    ": give one [B,896,C] array or the two output groups ([B,512,C], [B,384,C])");
      for (int g = 0; g < 2; ++g)
        held.push_back(hold_batch(groups[py::size_t(g)], std::string(name) + (g ? "[1]" : "[0]"), dequant, name));
      return 2;
    }
    held.push_back(hold_batch(head, name, dequant, name));
    return 1;
  };
  const std::size_t regressor_groups = take(regressors, "regressors"), score_groups = take(scores, "scores");
  const std::size_t count = common_batch(held);
  const std::vector<fp::ImageMapping> mappings = make_mappings(mapping_args, count);
  std::vector<fp::BlazefaceHeads> frames(count);
  for (std::size_t f = 0; f < count; ++f) {
    for (std::size_t g = 0; g < regressor_groups; ++g) frames[f].regressors[g] = held[g].frames[f];
    for (std::size_t g = 0; g < score_groups; ++g) frames[f].scores[g] = held[regressor_groups + g].frames[f];
  }
  return core.run_batch(count, threads, [&](fp::BlazefacePostprocessor& pp, std::size_t f, fp::FamilyDetections& d) {
    return pp.try_run(frames[f], frame_value(mappings, f), d);
  });
}

py::array_t<float> run_yolov5_face(Yolov5FaceCore& core, const py::handle& pred, int width, int height, float scale_x,
                                   float scale_y, float pad_x, float pad_y, bool clip, float clip_width,
                                   float clip_height, const py::dict& dequant) {
  const fp::InputSize input = make_input_size(width, height);
  const fp::ImageMapping mapping = make_mapping(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height);
  const HeldTensor p = hold_tensor(pred, "pred", core.name(), dequant, "pred");
  return core.run([&](fp::Yolov5FacePostprocessor& pp, fp::FamilyDetections& d) {
    return pp.try_run(p.view, input, mapping, d);
  });
}

py::list run_yolov5_face_batch(Yolov5FaceCore& core, const py::handle& pred, int width, int height,
                               const std::vector<MappingArgs>& mapping_args, std::size_t threads,
                               const py::dict& dequant) {
  const fp::InputSize input = make_input_size(width, height);
  const std::vector<HeldBatch> held{hold_batch(pred, "pred", dequant, "pred")};
  const std::size_t count = common_batch(held);
  const std::vector<fp::ImageMapping> mappings = make_mappings(mapping_args, count);
  return core.run_batch(count, threads, [&](fp::Yolov5FacePostprocessor& pp, std::size_t f, fp::FamilyDetections& d) {
    return pp.try_run(held[0].frames[f], input, frame_value(mappings, f), d);
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
           py::arg("clip_height"), py::arg("dequant"))
      .def("run_batch", &Core::run_batch,
           "Post-processes B frames ([B,N,C] heads; mappings: 1 or B tuples of run's seven mapping values) on "
           "`threads` threads; returns a list of B new float32 [K,15] arrays.",
           py::arg("loc"), py::arg("conf"), py::arg("landms"), py::arg("width"), py::arg("height"),
           py::arg("mappings"), py::arg("threads"), py::arg("dequant"))
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
                 fp::ScrfdPostprocessor(make_scrfd_params(threshold, nms_threshold, max_num)), "Scrfd");
           }),
           py::arg("threshold"), py::arg("nms_threshold"), py::arg("max_num"))
      .def("run", &run_scrfd, "Post-processes one frame; returns a new float32 [K,15] (or [K,5]) array.",
           py::arg("scores"), py::arg("bboxes"), py::arg("kps"), py::arg("width"), py::arg("height"),
           py::arg("scale_x"), py::arg("scale_y"), py::arg("pad_x"), py::arg("pad_y"), py::arg("clip"),
           py::arg("clip_width"), py::arg("clip_height"), py::arg("image_width"), py::arg("image_height"),
           py::arg("dequant"))
      .def("run_batch", &run_scrfd_batch,
           "Post-processes B frames ([B,N_s,C] per-stride arrays; mappings and image_sizes: 1 or B) on `threads` "
           "threads; returns a list of B new float32 arrays.",
           py::arg("scores"), py::arg("bboxes"), py::arg("kps"), py::arg("width"), py::arg("height"),
           py::arg("mappings"), py::arg("image_sizes"), py::arg("threads"), py::arg("dequant"))
      .def("params", [](const ScrfdCore& c) { return scrfd_params_dict(c.post().params()); },
           "The parameters: threshold, nms_threshold, max_num (0 = no limit).");

  py::class_<Yolov5FaceCore>(m, "Yolov5Face", "facepost::Yolov5FacePostprocessor with a lock; see facepost.Yolov5Face.")
      .def(py::init([](double conf_threshold, double iou_threshold, std::size_t max_det) {
             return std::make_unique<Yolov5FaceCore>(
                 fp::Yolov5FacePostprocessor(make_yolov5_face_params(conf_threshold, iou_threshold, max_det)),
                 "Yolov5Face");
           }),
           py::arg("conf_threshold"), py::arg("iou_threshold"), py::arg("max_det"))
      .def("run", &run_yolov5_face, "Post-processes one frame; returns a new float32 [K,15] array.", py::arg("pred"),
           py::arg("width"), py::arg("height"), py::arg("scale_x"), py::arg("scale_y"), py::arg("pad_x"),
           py::arg("pad_y"), py::arg("clip"), py::arg("clip_width"), py::arg("clip_height"), py::arg("dequant"))
      .def("run_batch", &run_yolov5_face_batch,
           "Post-processes B frames ([B,N,16]; mappings: 1 or B) on `threads` threads; returns a list of B new "
           "float32 [K,15] arrays.",
           py::arg("pred"), py::arg("width"), py::arg("height"), py::arg("mappings"), py::arg("threads"),
           py::arg("dequant"))
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
             return std::make_unique<BlazefaceCore>(fp::BlazefacePostprocessor(blazeface_model(model), p),
                                                    "Blazeface");
           }),
           py::arg("model"), py::arg("threshold"), py::arg("nms_threshold"))
      .def("run", &run_blazeface, "Post-processes one frame; returns a new float32 [K,17] array.",
           py::arg("regressors"), py::arg("scores"), py::arg("scale_x"), py::arg("scale_y"), py::arg("pad_x"),
           py::arg("pad_y"), py::arg("clip"), py::arg("clip_width"), py::arg("clip_height"), py::arg("dequant"))
      .def("run_batch", &run_blazeface_batch,
           "Post-processes B frames ([B,896,C] or the two [B,512,C], [B,384,C] groups; mappings: 1 or B) on "
           "`threads` threads; returns a list of B new float32 [K,17] arrays.",
           py::arg("regressors"), py::arg("scores"), py::arg("mappings"), py::arg("threads"), py::arg("dequant"))
      .def("params", [](const BlazefaceCore& c) { return blazeface_params_dict(c.post()); },
           "The parameters: model, threshold (the one in force), nms_threshold.");

  py::class_<YunetCore>(m, "Yunet", "facepost::YunetPostprocessor with a lock; see facepost.Yunet.")
      .def(py::init([](double threshold, double nms_threshold, std::size_t top_k) {
             check(fp::detail::check_unit_threshold(threshold, "threshold"));
             check(fp::detail::check_unit_threshold(nms_threshold, "nms_threshold"));
             return std::make_unique<YunetCore>(
                 fp::YunetPostprocessor(
                     fp::YunetParams{static_cast<float>(threshold), static_cast<float>(nms_threshold), top_k}),
                 "Yunet");
           }),
           py::arg("threshold"), py::arg("nms_threshold"), py::arg("top_k"))
      .def("run", &run_yunet, "Post-processes one frame; returns a new float32 [K,15] array.", py::arg("loc"),
           py::arg("conf"), py::arg("iou"), py::arg("width"), py::arg("height"), py::arg("scale_x"),
           py::arg("scale_y"), py::arg("pad_x"), py::arg("pad_y"), py::arg("clip"), py::arg("clip_width"),
           py::arg("clip_height"), py::arg("dequant"))
      .def("run_batch", &run_yunet_batch,
           "Post-processes B frames ([B,N,C] heads; mappings: 1 or B) on `threads` threads; returns a list of B new "
           "float32 [K,15] arrays.",
           py::arg("loc"), py::arg("conf"), py::arg("iou"), py::arg("width"), py::arg("height"), py::arg("mappings"),
           py::arg("threads"), py::arg("dequant"))
      .def("params", [](const YunetCore& c) { return yunet_params_dict(c.post().params()); },
           "The parameters: threshold, nms_threshold, top_k (0 = no limit).");
}
