// facepost/cuda/postprocess.cuh - the CUDA backend: batched, device-resident post-processing.
//
//   facepost::cuda::CudaPostprocessor pp(facepost::to_anchor_config(facepost::presets::retinaface_mnet{}));
//   pp.enqueue(facepost::cuda::DeviceHeads<__half>{loc, conf, landms, batch, rows}, {1920, 1080},
//              facepost::ImageMapping::resize(1.f), stream);   // asynchronous on `stream`
//   ... more work on the stream ...
//   facepost::cuda::BatchDetections out = pp.download();       // copies to pinned host memory, waits once
//   for (std::size_t f = 0; f < out.size(); ++f) use(out.frame(f));   // facepost::Detections
//
// To consume the results on the device instead, make your stream wait for the batch:
//   cudaStreamWaitEvent(my_stream, pp.done_event(), 0);   // no host wait
//   ... kernels on my_stream reading pp.device_results() ...
//
// Per frame, the same pipeline and the same order as the CPU Postprocessor: filter (score > t,
// finite) -> sort (score descending, ties by ascending prior index) -> top_k -> decode (rows with
// a non-finite value dropped) -> greedy NMS (legacy +1 or continuous IoU) -> keep_top_k -> clip.
// The arithmetic is the CPU's, the same functions (arith/, through arithmetic.cuh), so the results
// are the CPU's bit for bit, logit inputs' softmax included.
//
// Kernels per batch, all on the caller's stream, no host synchronisation: memset, filter +
// compaction, segment bounds, CUB segmented radix sort, decode, NMS (one block per frame);
// done_event() is recorded after them. A single frame instead takes paths that spread it over
// the whole GPU: CUB's device-wide radix sort (keys padded, sort.cuh) and the windowed NMS of
// nms_frame.cuh (three kernels per window of 4096 ranked candidates), so that its latency does
// not grow with one SM's work on thousands of candidates. The host waits only in download() (one cudaStreamSynchronize, after the copies of
// the counts, rows and prior indices into the BatchDetections' pinned memory) and
// synchronize(), when a buffer must grow (first batch, larger batch), and when the input size
// changes (the priors' pinned staging buffer is reused). download() copies keep_capacity rows
// per frame (min(keep_top_k, top_k, priors); 64 bytes a row) whatever the detection counts, so
// that it needs no second wait: bound keep_top_k to bound the copy.
//
// Errors: a failed enqueue (bad input, a refused pointer, a failed allocation or CUDA call)
// leaves no batch: download() then returns no frames, and the object stays usable.
//
// Build: nvcc, C++17, any architecture >= sm_70 (CUDA 12; >= sm_75 with CUDA 13). Do not compile with -use_fast_math / -ftz=true
// if subnormal values must match the CPU (flush-to-zero changes them).
#pragma once

// facepost's kernels do not use Eigen. Unless the translation unit already included Eigen, keep
// it host-only here, so that nvcc does not compile (and warn about) its device annotations.
#if !defined(EIGEN_NO_CUDA) && !defined(EIGEN_CORE_H)
#define EIGEN_NO_CUDA
#endif

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cub/util_type.cuh>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "facepost/anchors.hpp"
#include "facepost/cuda/arithmetic.cuh"
#include "facepost/cuda/buffer.cuh"
#include "facepost/cuda/decode.cuh"
#include "facepost/cuda/error.cuh"
#include "facepost/cuda/filter.cuh"
#include "facepost/cuda/launch.cuh"
#include "facepost/cuda/load.cuh"
#include "facepost/cuda/nms.cuh"
#include "facepost/cuda/nms_frame.cuh"
#include "facepost/cuda/sort.cuh"
#include "facepost/cuda/workspace.cuh"
#include "facepost/detections.hpp"
#include "facepost/error.hpp"
#include "facepost/params.hpp"
#include "facepost/postprocessor.hpp"  // RunStats
#include "facepost/priors.hpp"
#include "facepost/scores.hpp"

namespace facepost {
namespace cuda {

/// A batch of head outputs in device memory (device, managed, or mapped pinned memory): B frames
/// of one input size, each tensor contiguous in C order, [B, N, C] with C = 4, 2, 10. T is float
/// or __half (converted exactly to float32 on load). conf holds probabilities (column 1 = face)
/// or logits, as Params::score_format says.
template <class T>
struct DeviceHeads {
  const T* loc = nullptr;     ///< [B, N, 4]
  const T* conf = nullptr;    ///< [B, N, 2]
  const T* landms = nullptr;  ///< [B, N, 10]
  std::size_t batch = 0;      ///< B
  std::size_t rows = 0;       ///< N: priors per frame
};

/// The detections of the last batch, still on the device: frame f's counts[f] rows start at
/// rows + f * capacity * 15 (x1 y1 x2 y2 score lx0 ly0 ... lx4 ly4), in descending score order.
/// Valid once the stream has reached the end of the batch, until the next enqueue.
struct DeviceResults {
  const float* rows = nullptr;                 ///< [batch, capacity, 15]
  const std::uint32_t* prior_index = nullptr;  ///< [batch, capacity]
  const unsigned* counts = nullptr;            ///< [batch] detections per frame
  std::size_t batch = 0;
  std::size_t capacity = 0;                    ///< rows reserved per frame
  const float* frame_rows(std::size_t f) const noexcept { return rows + f * capacity * kDetectionCols; }
};

/// Host copy of a batch's detections, in page-locked memory (the copies from the device are
/// asynchronous DMA; reused by download(out), so same-shape batches allocate nothing). Movable,
/// not copyable.
class BatchDetections {
 public:
  std::size_t size() const noexcept { return stats_.size(); }
  /// Frame f's detections (a view into this object).
  Detections frame(std::size_t f) const noexcept {
    return Detections(rows_.data() + f * stride_ * kDetectionCols, prior_.data() + f * stride_, stats_[f].detections);
  }
  const RunStats& stats(std::size_t f) const noexcept { return stats_[f]; }

 private:
  template <class>
  friend class BasicCudaPostprocessor;
  PinnedBuffer<float> rows_;            // [batch, stride_, 15]
  PinnedBuffer<std::uint32_t> prior_;   // [batch, stride_]
  std::vector<RunStats> stats_;
  std::size_t stride_ = 0;
};

namespace detail {

inline void check_device_pointer(const void* p, const char* name, int device) {
  cudaPointerAttributes a{};
  check(cudaPointerGetAttributes(&a, p), (std::string("cudaPointerGetAttributes(") + name + ")").c_str());
  if (a.type == cudaMemoryTypeDevice && a.device != device)
    throw Error(Errc::bad_argument, std::string(name) + " is memory of device " + std::to_string(a.device) +
                                        " but the current device is " + std::to_string(device) +
                                        "; call cudaSetDevice(" + std::to_string(a.device) + ") before enqueue");
  if (a.type == cudaMemoryTypeUnregistered)
    throw Error(Errc::bad_argument,
                std::string(name) + " is a pageable host pointer; pass device, managed or mapped pinned memory");
  if (a.type == cudaMemoryTypeHost && a.devicePointer != p)
    throw Error(Errc::bad_argument, std::string(name) +
                                        " is pinned host memory the device sees at another address; pass the device "
                                        "pointer (cudaHostGetDevicePointer)");
}

template <class T>
void check_alignment(const T* p, const char* name) {
  if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) != 0)
    throw Error(Errc::bad_argument, std::string(name) + " is not aligned to its element type");
}

inline unsigned blocks_for(std::size_t items, unsigned threads) {
  return static_cast<unsigned>((items + threads - 1) / threads);
}

}  // namespace detail

/// Post-processes batches of frames on the GPU with the CPU Postprocessor's results. Priors are
/// built on the host (PriorGrid, bit-exact) and uploaded once per input size; device buffers
/// grow to the largest batch and are reused. Not thread-safe; one batch in flight at a time
/// (a later enqueue on another stream waits for the previous batch on the device, not the host).
template <class Spec = AnchorConfig>
class BasicCudaPostprocessor {
 public:
  explicit BasicCudaPostprocessor(Spec spec = {}, Params params = {}) : grid_(std::move(spec)), params_(params) {}

  const Params& params() const noexcept { return params_; }
  void set_params(const Params& p) noexcept { params_ = p; }
  const PriorGrid<Spec>& priors() const noexcept { return grid_; }
  const Workspace& workspace() const noexcept { return ws_; }

  /// Queues the whole pipeline for a batch on `stream` and returns without waiting. Throws
  /// facepost::Error on bad input (checked before anything is queued) or a failed CUDA call.
  /// The inputs must stay valid until the stream has passed this batch.
  template <class T>
  void enqueue(const DeviceHeads<T>& heads, InputSize input, const ImageMapping& mapping = {},
               cudaStream_t stream = nullptr) {
    static_assert(is_head_type<T>::value, "DeviceHeads<T>: T must be float or __half");
    const BatchShape shape = validate(heads, input, mapping);
    launch(heads, shape, input, mapping, stream);
  }

  /// No-throw variant of enqueue.
  template <class T>
  Status try_enqueue(const DeviceHeads<T>& heads, InputSize input, const ImageMapping& mapping = {},
                     cudaStream_t stream = nullptr) noexcept {
    try {
      enqueue(heads, input, mapping, stream);
    } catch (const Error& e) {
      return Status::failure(e.code(), "%s", e.what());
    } catch (const std::bad_alloc&) {
      return Status::failure(Errc::size_overflow, "out of host memory");
    }
    return Status{};
  }

  /// The last batch's results on the device (no waiting; see DeviceResults).
  DeviceResults device_results() const noexcept {
    return DeviceResults{ws_.out_rows(), ws_.out_prior(), ws_.counts() + 2 * shape_.batch, shape_.batch,
                         shape_.keep_capacity};
  }

  /// Blocks until the last batch is done.
  void synchronize() const { done_.synchronize(); }

  /// The event recorded on the stream right after the last batch's kernels (nullptr before the
  /// first batch): cudaStreamWaitEvent(s, done_event(), 0) makes stream s wait for the batch
  /// (to read device_results() there) without blocking the host. The same event is re-recorded by
  /// the next enqueue: wait on it before that.
  cudaEvent_t done_event() const noexcept { return done_.get(); }

  /// Copies the last batch's counts, detection rows and prior indices into `out`'s pinned
  /// buffers (reused: a stream of same-shape batches allocates nothing after the first) and
  /// waits for them: one host synchronisation. No frames if no batch was enqueued or the last
  /// enqueue failed.
  void download(BatchDetections& out) {
    out.stats_.clear();
    out.stride_ = 0;
    const std::size_t b = shape_.batch;
    if (b == 0) return;
    const std::size_t cap = shape_.keep_capacity;
    out.rows_.reserve(b * cap * kDetectionCols, "detection rows (host)");
    out.prior_.reserve(b * cap, "detection prior indices (host)");
    unsigned* host = ws_.host_counts();
    FACEPOST_CUDA_CHECK(cudaMemcpyAsync(host, ws_.counts(), 3 * b * sizeof(unsigned), cudaMemcpyDeviceToHost, stream_));
    if (cap > 0) {
      FACEPOST_CUDA_CHECK(cudaMemcpyAsync(out.rows_.data(), ws_.out_rows(), b * cap * kDetectionCols * sizeof(float),
                                          cudaMemcpyDeviceToHost, stream_));
      FACEPOST_CUDA_CHECK(cudaMemcpyAsync(out.prior_.data(), ws_.out_prior(), b * cap * sizeof(std::uint32_t),
                                          cudaMemcpyDeviceToHost, stream_));
    }
    FACEPOST_CUDA_CHECK(cudaStreamSynchronize(stream_));
    out.stats_.resize(b);
    for (std::size_t f = 0; f < b; ++f) {
      RunStats& s = out.stats_[f];
      s.priors = shape_.rows;
      s.candidates = host[f];
      s.ranked = host[b + f];
      s.detections = host[2 * b + f];
    }
    out.stride_ = cap;
  }

  BatchDetections download() {
    BatchDetections out;
    download(out);
    return out;
  }

 private:
  /// Everything that can be checked without touching the device, then the pointers.
  template <class T>
  BatchShape validate(const DeviceHeads<T>& heads, InputSize input, const ImageMapping& mapping) {
    throw_if_error(validate_params(params_));
    throw_if_error(validate_mapping(mapping));
    try {
      throw_if_error(grid_.try_build(input));
    } catch (const std::bad_alloc&) {
      throw Error(Errc::size_overflow, "out of memory building the priors of a " + std::to_string(input.width) + "x" +
                                           std::to_string(input.height) + " input");
    }
    if (heads.batch == 0) throw Error(Errc::empty_tensor, "batch has no frames");
    if (heads.loc == nullptr) throw Error(Errc::empty_tensor, "loc tensor is empty (null pointer)");
    if (heads.conf == nullptr) throw Error(Errc::empty_tensor, "conf tensor is empty (null pointer)");
    if (heads.landms == nullptr) throw Error(Errc::empty_tensor, "landms tensor is empty (null pointer)");
    if (heads.rows != grid_.size())
      throw Error(Errc::prior_count_mismatch,
                  "tensors have " + std::to_string(heads.rows) + " rows per frame but the anchor configuration gives " +
                      std::to_string(grid_.size()) + " priors for a " + std::to_string(input.width) + "x" +
                      std::to_string(input.height) +
                      " input (were the priors built for the original image instead of the network input?)");
    if (heads.batch > 65535)
      throw Error(Errc::size_overflow, "batch of " + std::to_string(heads.batch) + " frames; at most 65535 per launch");
    if (heads.rows > std::size_t(INT_MAX) / heads.batch)
      throw Error(Errc::size_overflow, "batch of " + std::to_string(heads.batch) + " x " + std::to_string(heads.rows) +
                                           " priors exceeds 2^31-1 rows in all; split the batch");
    detail::check_alignment(heads.loc, "loc");
    detail::check_alignment(heads.conf, "conf");
    detail::check_alignment(heads.landms, "landms");

    BatchShape s;
    s.batch = heads.batch;
    s.rows = heads.rows;
    s.capacity = params_.top_k == 0 ? s.rows : std::min(params_.top_k, s.rows);
    s.keep_capacity = params_.keep_top_k == 0 ? s.capacity : std::min(params_.keep_top_k, s.capacity);
    s.index_bits = detail::index_bits_for(s.rows);
    if (s.batch == 1)
      s.window = std::min<std::size_t>(detail::kFrameWindowMax, (std::max<std::size_t>(s.capacity, 1) + 63) / 64 * 64);
    return s;
  }

  template <class T>
  void launch(const DeviceHeads<T>& heads, const BatchShape& s, InputSize input, const ImageMapping& mapping,
              cudaStream_t stream) {
    int device = 0;
    FACEPOST_CUDA_CHECK(cudaGetDevice(&device));
    if (ws_.device() >= 0 && ws_.device() != device)
      throw Error(Errc::bad_argument, "the workspace lives on device " + std::to_string(ws_.device()) +
                                          " but the current device is " + std::to_string(device));
    detail::check_device_pointer(heads.loc, "loc", device);
    detail::check_device_pointer(heads.conf, "conf", device);
    detail::check_device_pointer(heads.landms, "landms", device);
    ws_.set_device(device);

    // From here the previous batch's results are gone (its buffers may be freed by a growth that
    // then fails): no batch until this one is fully queued.
    shape_ = BatchShape{};
    done_.make_wait(stream);  // the previous batch (perhaps on another stream) owns the buffers
    ws_.reserve(s, done_);
    ws_.upload_priors(grid_, stream, done_);

    const unsigned B = static_cast<unsigned>(s.batch);
    const unsigned N = static_cast<unsigned>(s.rows);
    unsigned* candidates = ws_.counts();
    unsigned* ranked = candidates + B;
    unsigned* detections = candidates + 2 * B;
    FACEPOST_CUDA_CHECK(cudaMemsetAsync(candidates, 0, 3 * s.batch * sizeof(unsigned), stream));
    const bool single = s.window > 0;
    if (single)  // the device-wide sort takes all `rows` slots: the unwritten ones sort last
      FACEPOST_CUDA_CHECK(
          cudaMemsetAsync(ws_.keys(0), detail::kPaddingKeyByte, s.rows * sizeof(std::uint64_t), stream));

    // 1. Filter + compaction into ranking keys.
    const detail::FilterArgs fa{N, params_.score_threshold, logit_prefilter_cut(params_.score_threshold), s.index_bits};
    const dim3 filter_grid(detail::blocks_for(s.rows, detail::kFilterThreads), B);
    if (params_.score_format == ScoreFormat::probabilities)
      detail::launch(detail::filter_kernel<T, ScoreFormat::probabilities>, filter_grid, detail::kFilterThreads, stream,
                     heads.conf, fa, ws_.keys(0), candidates);
    else
      detail::launch(detail::filter_kernel<T, ScoreFormat::logits>, filter_grid, detail::kFilterThreads, stream,
                     heads.conf, fa, ws_.keys(0), candidates);
    check_launch("facepost::cuda::detail::filter_kernel");

    // 2. Per-frame sort of the keys.
    cub::DoubleBuffer<std::uint64_t> keys(ws_.keys(0), ws_.keys(1));
    if (single) {
      detail::sort_frame_keys(ws_.sort_temp(), ws_.sort_temp_bytes(), keys, s.rows, s.index_bits, stream);
    } else {
      int* begin = ws_.segments();
      int* end = begin + B;
      detail::launch(detail::segment_bounds_kernel<>, detail::blocks_for(B, 128), 128, stream, candidates, B, N, begin,
                     end);
      check_launch("facepost::cuda::detail::segment_bounds_kernel");
      detail::sort_keys(ws_.sort_temp(), ws_.sort_temp_bytes(), keys, s.batch, s.rows, begin, end, s.index_bits,
                        stream);
    }
    const std::uint64_t* sorted = keys.Current();

    // 3. Decode the ranked candidates (top_k of each frame).
    const detail::RankedLayout layout{N, static_cast<unsigned>(s.capacity), static_cast<unsigned>(s.keep_capacity),
                                      s.index_bits};
    const detail::DecodeConstants k = detail::make_decode_constants(input, grid_.spec().variance, mapping);
    const unsigned decode_x =
        std::max(1u, std::min(detail::blocks_for(s.capacity, detail::kDecodeThreads), std::max(1u, 1024u / B)));
    detail::launch(detail::decode_kernel<T>, dim3(decode_x, B), detail::kDecodeThreads, stream,
        heads.loc, heads.landms, ws_.priors(), sorted, candidates, layout, k, ws_.boxes(), ws_.finite(), ranked);
    check_launch("facepost::cuda::detail::decode_kernel");

    // 4. NMS, keep_top_k, detection rows.
    const detail::Suppression test = detail::make_suppression(params_.nms_threshold);
    if (single) {
      if (params_.iou == IouConvention::legacy_pixel)
        launch_frame_nms<T, IouConvention::legacy_pixel>(heads, sorted, s, layout, k, test, stream);
      else
        launch_frame_nms<T, IouConvention::continuous>(heads, sorted, s, layout, k, test, stream);
    } else if (params_.iou == IouConvention::legacy_pixel) {
      detail::launch(detail::nms_kernel<T, IouConvention::legacy_pixel>, B, detail::kNmsThreads, stream,
          ws_.boxes(), ws_.finite(), sorted, candidates, heads.landms, ws_.priors(), layout, k, test,
          ws_.kept_boxes(), ws_.kept_area(), ws_.out_rows(), ws_.out_prior(), detections);
    } else {
      detail::launch(detail::nms_kernel<T, IouConvention::continuous>, B, detail::kNmsThreads, stream,
          ws_.boxes(), ws_.finite(), sorted, candidates, heads.landms, ws_.priors(), layout, k, test,
          ws_.kept_boxes(), ws_.kept_area(), ws_.out_rows(), ws_.out_prior(), detections);
    }
    if (!single) check_launch("facepost::cuda::detail::nms_kernel");

    done_.record(stream);
    stream_ = stream;
    shape_ = s;
  }

  /// The windowed NMS of a single frame (nms_frame.cuh): three kernels per window, enough
  /// windows for `capacity` candidates; those past the frame's count return at once.
  template <class T, IouConvention C>
  void launch_frame_nms(const DeviceHeads<T>& heads, const std::uint64_t* sorted, const BatchShape& s,
                        const detail::RankedLayout& layout, const detail::DecodeConstants& k, const detail::Suppression& test, cudaStream_t stream) {
    const unsigned width = static_cast<unsigned>(s.window);
    const unsigned windows = detail::blocks_for(s.capacity, width);
    const unsigned* counts = ws_.counts();
    unsigned* kept = ws_.counts() + 2;  // detections of frame 0
    for (unsigned w = 0; w < windows; ++w) {
      detail::launch(detail::window_cross_kernel<C>, detail::blocks_for(width, detail::kCrossThreads),
                     detail::kCrossThreads, stream, ws_.boxes(), ws_.finite(), counts, layout, w, width, test,
                     ws_.kept_boxes(), ws_.kept_area(), kept, ws_.window_gone());
      check_launch("facepost::cuda::detail::window_cross_kernel");
      detail::launch(detail::window_mask_kernel<C>, detail::kMaskBlocks, detail::kMaskThreads, stream, ws_.boxes(),
                     counts, layout, w, width, test, kept, ws_.window_gone(), ws_.window_mask());
      check_launch("facepost::cuda::detail::window_mask_kernel");
      detail::launch(detail::window_resolve_kernel<T, C>, 1, detail::kResolveThreads, stream, ws_.boxes(), sorted,
                     counts, heads.landms, ws_.priors(), layout, k, w, width, ws_.window_gone(), ws_.window_mask(),
                     ws_.kept_boxes(), ws_.kept_area(), ws_.out_rows(), ws_.out_prior(), kept);
      check_launch("facepost::cuda::detail::window_resolve_kernel");
    }
  }

  PriorGrid<Spec> grid_;
  Params params_;
  Workspace ws_;
  Event done_;
  cudaStream_t stream_ = nullptr;
  BatchShape shape_{};
};

/// CUDA post-processor for a runtime anchor configuration.
using CudaPostprocessor = BasicCudaPostprocessor<AnchorConfig>;

}  // namespace cuda
}  // namespace facepost
