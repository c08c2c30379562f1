// facepost/metal/postprocess.hpp - the Metal backend's host side, over metal-cpp (which the user
// provides; facepost does not ship it). Batched post-processing of head outputs that already
// live in Metal buffers (PyTorch MPS tensors and MLX arrays are backed by MTL::Buffer), with the
// CPU Postprocessor's results bit for bit.
//
//   facepost::metal::MetalPostprocessor pp(device, facepost::to_anchor_config(facepost::presets::retinaface_mnet{}));
//   MTL::CommandBuffer* cb = queue->commandBuffer();
//   pp.encode(cb, facepost::metal::BufferHeads{{loc, 0}, {conf, 0}, {landms, 0}, batch, rows,
//             facepost::metal::HeadType::f16}, {640, 640}, facepost::ImageMapping::resize(1.f));
//   cb->commit();
//   cb->waitUntilCompleted();                 // or a completed handler
//   facepost::metal::BatchResults r = pp.results();   // views into shared (unified) memory
//   for (std::size_t f = 0; f < r.size(); ++f) use(r.frame(f));   // facepost::Detections
//
// encode() puts the whole pipeline into one compute encoder on the caller's command buffer
// (kernels.metal, in order: prepare, filter, with top_k a radix select of the top_k-th key, sort
// of the top_k keys, decode, NMS); nothing waits. The library is
// compiled once from the embedded source (kernels_source.hpp) with fast math off, safe math mode,
// precise functions and the language version pinned (3.2: the first with
// `#pragma METAL fp contract(off)`); pipeline states are cached by name. Buffers are Shared
// storage (the CPU reads the results directly), grow to the largest batch and are reused: a
// stream of same-shape batches allocates nothing after the first. One batch in flight at a time:
// results() is valid after the command buffer completed, until the next encode().
//
// With metal-cpp older than macOS 15 / iOS 18 (no MTL::MathMode, no LanguageVersion3_2), define
// FACEPOST_METAL_CPP_BEFORE_MACOS15.
//
// metal-cpp needs NS_PRIVATE_IMPLEMENTATION / MTL_PRIVATE_IMPLEMENTATION defined in exactly one
// translation unit before its headers: define FACEPOST_METAL_IMPLEMENTATION in that one TU (before
// including this header) and nowhere else.
#pragma once

#if defined(FACEPOST_METAL_IMPLEMENTATION)
#define NS_PRIVATE_IMPLEMENTATION
#define MTL_PRIVATE_IMPLEMENTATION
#endif
#include <Foundation/Foundation.hpp>
#include <Metal/Metal.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "facepost/anchors.hpp"
#include "facepost/detections.hpp"
#include "facepost/error.hpp"
#include "facepost/iou.hpp"
#include "facepost/metal/kernels_source.hpp"
#include "facepost/metal/shared.h"
#include "facepost/params.hpp"
#include "facepost/priors.hpp"
#include "facepost/scores.hpp"

namespace facepost {
namespace metal {

enum class HeadType { f32, f16 };

/// A tensor inside a Metal buffer: `buffer` holds it from byte `offset` on.
struct BufferView {
  MTL::Buffer* buffer = nullptr;
  std::size_t offset = 0;
};

/// A batch of head outputs in Metal buffers: B frames of one input size, each tensor contiguous
/// in C order, [B, N, C] with C = 4, 2, 10, of float or half (converted exactly to float32).
struct BufferHeads {
  BufferView loc, conf, landms;
  std::size_t batch = 0;  ///< B
  std::size_t rows = 0;   ///< N: priors per frame
  HeadType type = HeadType::f32;
};

/// Per-frame counts of the last batch, as RunStats.
struct FrameStats {
  std::size_t priors = 0, candidates = 0, ranked = 0, detections = 0;
};

/// The detections of the last batch: views into the post-processor's shared buffers.
class BatchResults {
 public:
  std::size_t size() const noexcept { return stats_.size(); }
  Detections frame(std::size_t f) const noexcept {
    return Detections(rows_ + f * stride_ * kDetectionCols, prior_ + f * stride_, stats_[f].detections);
  }
  const FrameStats& stats(std::size_t f) const noexcept { return stats_[f]; }

 private:
  friend class MetalPostprocessor;
  const float* rows_ = nullptr;
  const std::uint32_t* prior_ = nullptr;
  std::size_t stride_ = 0;
  std::vector<FrameStats> stats_;
};

namespace detail {

/// A Shared-storage buffer that grows (never shrinks); released with its owner.
class GrowingBuffer {
 public:
  GrowingBuffer() = default;
  GrowingBuffer(const GrowingBuffer&) = delete;
  GrowingBuffer& operator=(const GrowingBuffer&) = delete;
  ~GrowingBuffer() { reset(); }
  void reserve(MTL::Device* device, std::size_t bytes, const char* what) {
    bytes = std::max<std::size_t>(bytes, 16);
    if (buffer_ != nullptr && buffer_->length() >= bytes) return;
    reset();
    buffer_ = device->newBuffer(bytes, MTL::ResourceStorageModeShared);
    if (buffer_ == nullptr)
      throw Error(Errc::size_overflow, "Metal: could not allocate " + std::to_string(bytes) + " bytes for " + what);
  }
  MTL::Buffer* get() const noexcept { return buffer_; }
  void reset() noexcept {
    if (buffer_ != nullptr) buffer_->release();
    buffer_ = nullptr;
  }

 private:
  MTL::Buffer* buffer_ = nullptr;
};

inline unsigned ceil_div(std::size_t a, std::size_t b) { return static_cast<unsigned>((a + b - 1) / b); }

inline std::size_t pow2_at_least(std::size_t n) {
  std::size_t p = 2;
  while (p < n) p <<= 1;
  return p;
}

inline unsigned index_bits_for(std::size_t rows) {
  unsigned bits = 1;
  while ((std::size_t{1} << bits) < rows) ++bits;
  return bits;
}

}  // namespace detail

/// Post-processes batches of frames on a Metal device with the CPU Postprocessor's results.
/// Priors are built on the host (PriorGrid, bit-exact) and copied into a shared buffer once per
/// input size. Not thread-safe.
class MetalPostprocessor {
 public:
  explicit MetalPostprocessor(MTL::Device* device, AnchorConfig spec = {}, Params params = {})
      : device_(device), grid_(std::move(spec)), params_(params) {
    if (device_ == nullptr) throw Error(Errc::bad_argument, "Metal: no device (MTL::CreateSystemDefaultDevice failed?)");
    device_->retain();
  }
  MetalPostprocessor(const MetalPostprocessor&) = delete;
  MetalPostprocessor& operator=(const MetalPostprocessor&) = delete;
  ~MetalPostprocessor() {
    for (auto& p : pipelines_) p.second->release();
    if (library_ != nullptr) library_->release();
    device_->release();
  }

  const Params& params() const noexcept { return params_; }
  void set_params(const Params& p) noexcept { params_ = p; }
  const PriorGrid<AnchorConfig>& priors() const noexcept { return grid_; }

  /// Encodes the pipeline for a batch into `command_buffer` (one compute encoder). Throws
  /// facepost::Error on bad input, checked before anything is encoded.
  void encode(MTL::CommandBuffer* command_buffer, const BufferHeads& heads, InputSize input,
              const ImageMapping& mapping = {}) {
    batch_ = 0;
    if (command_buffer == nullptr) throw Error(Errc::bad_argument, "Metal: no command buffer");
    const msl::PipelineArgs a = validate(heads, input, mapping);
    const std::size_t B = heads.batch;
    reserve(a, B);
    upload_priors();

    MTL::ComputeCommandEncoder* enc = command_buffer->computeCommandEncoder();
    if (enc == nullptr) throw Error(Errc::bad_argument, "Metal: the command buffer gave no compute encoder");
    const bool f16 = heads.type == HeadType::f16;
    enc->setBytes(&a, sizeof a, msl::kArgsBuffer);
    enc->setBuffer(heads.conf.buffer, heads.conf.offset, msl::kConfBuffer);
    enc->setBuffer(heads.loc.buffer, heads.loc.offset, msl::kLocBuffer);
    enc->setBuffer(heads.landms.buffer, heads.landms.offset, msl::kLandmsBuffer);
    enc->setBuffer(priors_.get(), 0, msl::kPriorsBuffer);
    const bool selecting = a.capacity < a.rows;  // top_k: radix select first, sort top_k keys only
    enc->setBuffer(keys_.get(), 0, msl::kKeysBuffer);
    enc->setBuffer(selecting ? ranked_.get() : keys_.get(), 0, msl::kRankedBuffer);
    enc->setBuffer(select_.get(), 0, msl::kSelectBuffer);
    enc->setBuffer(histogram_.get(), 0, msl::kHistogramBuffer);
    enc->setBuffer(counts_.get(), 0, msl::kCountsBuffer);
    enc->setBuffer(boxes_.get(), 0, msl::kBoxesBuffer);
    enc->setBuffer(finite_.get(), 0, msl::kFiniteBuffer);
    enc->setBuffer(kept_boxes_.get(), 0, msl::kKeptBoxesBuffer);
    enc->setBuffer(kept_area_.get(), 0, msl::kKeptAreaBuffer);
    enc->setBuffer(out_rows_.get(), 0, msl::kOutRowsBuffer);
    enc->setBuffer(out_prior_.get(), 0, msl::kOutPriorBuffer);
    const NS::UInteger frames = B;

    dispatch(enc, "facepost_prepare", detail::ceil_div(a.sort_size, msl::kThreads), frames, msl::kThreads);
    const bool logits = params_.score_format == ScoreFormat::logits;
    dispatch(enc,
             logits ? (f16 ? "facepost_filter_logits_f16" : "facepost_filter_logits_f32")
                    : (f16 ? "facepost_filter_probabilities_f16" : "facepost_filter_probabilities_f32"),
             detail::ceil_div(a.rows, msl::kThreads), frames, msl::kThreads);
    if (selecting) {
      // Radix select of each frame's top_k-th key, 8 bits a pass from the top of the key.
      enc->setThreadgroupMemoryLength(msl::kRadix * sizeof(unsigned), 0);
      const unsigned key_bits = 31 + a.index_bits;
      for (unsigned pass = (key_bits + 7) / 8; pass-- > 0;) {
        const msl::SortStep shift{8 * pass, 0};
        enc->setBytes(&shift, sizeof shift, msl::kStepBuffer);
        dispatch(enc, "facepost_select_histogram", detail::ceil_div(a.rows, msl::kThreads), frames, msl::kThreads);
        dispatch(enc, "facepost_select_digit", 1, frames, 1);
      }
      dispatch(enc, "facepost_select_compact", detail::ceil_div(a.rows, msl::kThreads), frames, msl::kThreads);
    }
    // Bitonic sort: runs of sort_block keys, then for each larger merge size the global steps
    // down to sort_block and one threadgroup-local merge.
    enc->setThreadgroupMemoryLength(a.sort_block * sizeof(std::uint64_t), 0);
    dispatch(enc, "facepost_sort_blocks", a.sort_size / a.sort_block, frames, a.sort_block / 2);
    for (unsigned k = 2 * a.sort_block; k <= a.sort_size; k <<= 1) {
      for (unsigned j = k / 2; j >= a.sort_block; j >>= 1) {
        const msl::SortStep step{k, j};
        enc->setBytes(&step, sizeof step, msl::kStepBuffer);
        dispatch(enc, "facepost_sort_step", detail::ceil_div(a.sort_size / 2, msl::kThreads), frames, msl::kThreads);
      }
      const msl::SortStep step{k, 0};
      enc->setBytes(&step, sizeof step, msl::kStepBuffer);
      dispatch(enc, "facepost_sort_merge_blocks", a.sort_size / a.sort_block, frames, a.sort_block / 2);
    }
    dispatch(enc, f16 ? "facepost_decode_f16" : "facepost_decode_f32", detail::ceil_div(a.capacity, msl::kThreads),
             frames, msl::kThreads);
    enc->setThreadgroupMemoryLength(msl::kNmsSharedBytes, 0);
    const bool legacy = params_.iou == IouConvention::legacy_pixel;
    dispatch(enc,
             legacy ? (f16 ? "facepost_nms_legacy_f16" : "facepost_nms_legacy_f32")
                    : (f16 ? "facepost_nms_continuous_f16" : "facepost_nms_continuous_f32"),
             1, frames, msl::kThreads);
    enc->endEncoding();
    batch_ = B;
    rows_ = a.rows;
    keep_capacity_ = a.keep_capacity;
  }

  /// The last batch's detections; call after its command buffer completed. No frames if the
  /// last encode failed or none was made.
  BatchResults results() const {
    BatchResults r;
    if (batch_ == 0) return r;
    const auto* counts = static_cast<const unsigned*>(counts_.get()->contents());
    r.rows_ = static_cast<const float*>(out_rows_.get()->contents());
    r.prior_ = static_cast<const std::uint32_t*>(out_prior_.get()->contents());
    r.stride_ = keep_capacity_;
    r.stats_.resize(batch_);
    for (std::size_t f = 0; f < batch_; ++f)
      r.stats_[f] = FrameStats{rows_, counts[f], counts[batch_ + f], counts[2 * batch_ + f]};
    return r;
  }

 private:
  msl::PipelineArgs validate(const BufferHeads& h, InputSize input, const ImageMapping& mapping) {
    throw_if_error(validate_params(params_));
    throw_if_error(validate_mapping(mapping));
    throw_if_error(grid_.try_build(input));
    if (h.batch == 0) throw Error(Errc::empty_tensor, "batch has no frames");
    if (h.rows != grid_.size())
      throw Error(Errc::prior_count_mismatch,
                  "tensors have " + std::to_string(h.rows) + " rows per frame but the anchor configuration gives " +
                      std::to_string(grid_.size()) + " priors for a " + std::to_string(input.width) + "x" +
                      std::to_string(input.height) + " input");
    if (h.rows > (std::size_t{1} << 24) || h.batch > 65535)
      throw Error(Errc::size_overflow, "Metal: batch of " + std::to_string(h.batch) + " x " + std::to_string(h.rows) +
                                           " priors; at most 65535 frames of 2^24 priors");
    const std::size_t element = h.type == HeadType::f16 ? 2 : 4;
    check_view(h.loc, "loc", h.batch * h.rows * 4 * element, element);
    check_view(h.conf, "conf", h.batch * h.rows * 2 * element, element);
    check_view(h.landms, "landms", h.batch * h.rows * 10 * element, element);

    msl::PipelineArgs a{};
    a.rows = static_cast<unsigned>(h.rows);
    const std::size_t capacity = params_.top_k == 0 ? h.rows : std::min(params_.top_k, h.rows);
    a.capacity = static_cast<unsigned>(capacity);
    a.keep_capacity =
        static_cast<unsigned>(params_.keep_top_k == 0 ? capacity : std::min(params_.keep_top_k, capacity));
    a.sort_size = static_cast<unsigned>(detail::pow2_at_least(capacity));
    a.filter_stride = capacity < h.rows ? a.rows : a.sort_size;
    a.sort_block = std::min<unsigned>(a.sort_size, msl::kSortBlock);
    a.index_bits = detail::index_bits_for(h.rows);
    a.threshold = params_.score_threshold;
    a.logit_cut = logit_prefilter_cut(params_.score_threshold);
    const SuppressionTest test(params_.nms_threshold);
    a.legacy_threshold = test.threshold_legacy;
    a.continuous_threshold = test.threshold_continuous;
    a.input_width = float(input.width);
    a.input_height = float(input.height);
    a.variance_center = grid_.spec().variance.center;
    a.variance_size = grid_.spec().variance.size;
    a.scale_x = mapping.scale_x;
    a.scale_y = mapping.scale_y;
    a.pad_x = mapping.pad_x;
    a.pad_y = mapping.pad_y;
    a.clip = mapping.clip ? 1u : 0u;
    a.clip_width = mapping.image_width;
    a.clip_height = mapping.image_height;
    return a;
  }

  static void check_view(const BufferView& v, const char* name, std::size_t bytes, std::size_t element) {
    if (v.buffer == nullptr) throw Error(Errc::empty_tensor, std::string(name) + " tensor has no buffer");
    if (v.offset % element != 0)
      throw Error(Errc::bad_argument, std::string(name) + " offset " + std::to_string(v.offset) +
                                          " is not a multiple of the element size");
    if (v.offset > v.buffer->length() || v.buffer->length() - v.offset < bytes)
      throw Error(Errc::bad_shape, std::string(name) + " needs " + std::to_string(bytes) + " bytes from offset " +
                                            std::to_string(v.offset) + " but its buffer holds " +
                                            std::to_string(v.buffer->length()));
  }

  void reserve(const msl::PipelineArgs& a, std::size_t B) {
    keys_.reserve(device_, B * a.filter_stride * sizeof(std::uint64_t), "candidate keys");
    if (a.capacity < a.rows) ranked_.reserve(device_, B * a.sort_size * sizeof(std::uint64_t), "ranked keys");
    select_.reserve(device_, B * 4 * sizeof(std::uint64_t), "top_k selection state");
    histogram_.reserve(device_, B * msl::kRadix * sizeof(unsigned), "top_k selection histogram");
    counts_.reserve(device_, 4 * B * sizeof(unsigned), "counts");
    boxes_.reserve(device_, B * a.capacity * 16, "ranked boxes");
    finite_.reserve(device_, B * a.capacity, "finite flags");
    kept_boxes_.reserve(device_, B * a.keep_capacity * 16, "kept boxes");
    kept_area_.reserve(device_, B * a.keep_capacity * sizeof(float), "kept areas");
    out_rows_.reserve(device_, B * a.keep_capacity * kDetectionCols * sizeof(float), "detection rows");
    out_prior_.reserve(device_, B * a.keep_capacity * sizeof(std::uint32_t), "prior indices");
  }

  void upload_priors() {
    if (priors_valid_ && priors_size_ == grid_.input_size() && priors_count_ == grid_.size()) return;
    priors_.reserve(device_, grid_.size() * 4 * sizeof(float), "priors");
    std::memcpy(priors_.get()->contents(), grid_.data(), grid_.size() * 4 * sizeof(float));
    priors_size_ = grid_.input_size();
    priors_count_ = grid_.size();
    priors_valid_ = true;
  }

  MTL::ComputePipelineState* pipeline(const char* name) {
    auto it = pipelines_.find(std::string_view(name));  // no string built per dispatch
    if (it != pipelines_.end()) return it->second;
    if (library_ == nullptr) compile_library();
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();  // the name string
    MTL::Function* fn = library_->newFunction(NS::String::string(name, NS::UTF8StringEncoding));
    pool->release();
    if (fn == nullptr) throw Error(Errc::device_error, std::string("Metal: the library has no function ") + name);
    NS::Error* error = nullptr;
    MTL::ComputePipelineState* ps = device_->newComputePipelineState(fn, &error);
    fn->release();
    if (ps == nullptr)
      throw Error(Errc::device_error, std::string("Metal: no pipeline state for ") + name + ": " + describe(error));
    pipelines_.emplace(name, ps);
    return ps;
  }

  void compile_library() {
    MTL::CompileOptions* options = MTL::CompileOptions::alloc()->init();
    options->setFastMathEnabled(false);  // no reassociation, no flush to zero, IEEE division
#if defined(FACEPOST_METAL_CPP_BEFORE_MACOS15)
    // metal-cpp before macOS 15 / iOS 18 has no math-mode API and no MSL 3.2: contraction is then
    // kept out by one operation per statement only (docs/metal.md).
    options->setLanguageVersion(MTL::LanguageVersion3_1);
#else
    options->setMathMode(MTL::MathModeSafe);
    options->setMathFloatingPointFunctions(MTL::MathFloatingPointFunctionsPrecise);
    options->setLanguageVersion(MTL::LanguageVersion3_2);  // #pragma METAL fp contract(off)
#endif
    NS::Error* error = nullptr;
    NS::AutoreleasePool* pool = NS::AutoreleasePool::alloc()->init();  // the source string, the error
    library_ = device_->newLibrary(NS::String::string(kernel_source().c_str(), NS::UTF8StringEncoding), options, &error);
    options->release();
    const std::string why = library_ == nullptr ? describe(error) : std::string();
    pool->release();
    if (library_ == nullptr) throw Error(Errc::device_error, "Metal: the kernels did not compile: " + why);
  }

  static std::string describe(NS::Error* e) {
    if (e == nullptr || e->localizedDescription() == nullptr) return "no description";
    return e->localizedDescription()->utf8String();
  }

  void dispatch(MTL::ComputeCommandEncoder* enc, const char* name, NS::UInteger groups_x, NS::UInteger groups_y,
                NS::UInteger threads) {
    enc->setComputePipelineState(pipeline(name));
    enc->dispatchThreadgroups(MTL::Size(groups_x, groups_y, 1), MTL::Size(threads, 1, 1));
  }

  MTL::Device* device_;
  PriorGrid<AnchorConfig> grid_;
  Params params_;
  MTL::Library* library_ = nullptr;
  std::map<std::string, MTL::ComputePipelineState*, std::less<>> pipelines_;
  detail::GrowingBuffer priors_, keys_, ranked_, select_, histogram_, counts_;
  detail::GrowingBuffer boxes_, finite_, kept_boxes_, kept_area_, out_rows_, out_prior_;
  InputSize priors_size_{};
  std::size_t priors_count_ = 0;
  bool priors_valid_ = false;
  std::size_t batch_ = 0, rows_ = 0, keep_capacity_ = 0;
};

}  // namespace metal
}  // namespace facepost
