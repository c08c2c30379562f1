// facepost/metal/kernels.metal - the Metal backend's kernels: the CPU Postprocessor's pipeline,
// per frame of a batch, with the CPU's bits:
//   facepost_prepare      ranked key slots padded (all bits set: they sort last), counts zeroed
//   facepost_filter_*     score > threshold and finite (probabilities or logits), compaction
//                         into ranking keys (descending score, ties by ascending prior index)
//   facepost_select_*     with top_k: radix select of each frame's top_k-th key (8 bits a pass),
//                         then the keys up to it compacted into the ranked slots
//   facepost_sort_*       bitonic sort of each frame's sort_size ranked keys: threadgroup-local
//                         runs of kSortBlock keys, then global steps and threadgroup-local merges
//   facepost_decode_*     the first min(count, top_k) ranked candidates into boxes, finite flags
//   facepost_nms_*        exact greedy NMS (chunked bitmask, one threadgroup per frame),
//                         keep_top_k, detection rows mapped to the original image and clipped
// The arithmetic is facepost's one arithmetic (arith/*-inl.hpp through metal/arith.h): exp in
// soft double (Metal has no double), every float operation one IEEE operation per statement.
// Compile with fast math off (MTLMathModeSafe) and contraction off (the pragma below, MSL 3.2+;
// one operation per statement otherwise). docs/metal.md lists each exactness trap.
//
// Kernels are plain (non-template) entry points: the shim of tests/metal/shim binds them by
// name and [[buffer(i)]] (metal/shared.h: BufferIndex). Threadgroup memory is passed as
// [[threadgroup(i)]] arguments, sized by the host.
#include <metal_stdlib>
using namespace metal;

#if defined(__METAL_VERSION__) && __METAL_VERSION__ >= 320
#pragma METAL fp math_mode(safe)
#pragma METAL fp contract(off)
#endif

#include "facepost/metal/arith.h"
#include "facepost/metal/shared.h"

namespace facepost {
namespace msl {

// ---------------------------------------------------------------------------------------------
// Ranking keys: (0x7F7FFFFF - score bits) << index_bits | prior. Passing scores are finite and
// > threshold >= 0, so their bits order like their values and the key order is the CPU's.

constant constexpr uint kMaxFiniteBits = 0x7F7FFFFFu;
static_assert(kThreads == kRadix, "facepost_select_histogram: one digit counter per thread");

inline ulong rank_key(float score, uint prior, uint index_bits) {
  return (ulong(kMaxFiniteBits - as_type<uint>(score)) << index_bits) | ulong(prior);
}
inline uint key_prior(ulong key, uint index_bits) { return uint(key & ((1ul << index_bits) - 1ul)); }
inline float key_score(ulong key, uint index_bits) { return as_type<float>(kMaxFiniteBits - uint(key >> index_bits)); }

inline float load_f32(device const float* p) { return *p; }
inline float load_f32(device const half* p) { return float(*p); }  // exact

/// Frame f's count of ranked candidates: min(candidates, capacity).
inline uint ranked_count(device atomic_uint* counts, uint f, constant PipelineArgs& a) {
  const uint n = atomic_load_explicit(&counts[f], memory_order_relaxed);
  return n < a.capacity ? n : a.capacity;
}

/// This thread's slot among the SIMD group's threads with `take`, after `counter`'s previous
/// value: one atomic per SIMD group (every lane of the group must call it).
inline uint claim_slot(bool take, device atomic_uint* counter) {
  const uint mine = take ? 1u : 0u;
  const uint before = simd_prefix_exclusive_sum(mine);
  const uint total = simd_sum(mine);
  uint base = 0u;
  if (simd_is_first() && total > 0u) base = atomic_fetch_add_explicit(counter, total, memory_order_relaxed);
  return simd_broadcast(base, ushort(0)) + before;  // lane 0 is the first: every lane is active
}

// ---------------------------------------------------------------------------------------------
// Decode (arith/decode-inl.hpp), on (cx, cy, w, h) priors.

inline float to_image_x(float v, constant PipelineArgs& a) {
  return arith::to_image(v, a.input_width, a.pad_x, a.scale_x);
}
inline float to_image_y(float v, constant PipelineArgs& a) {
  return arith::to_image(v, a.input_height, a.pad_y, a.scale_y);
}

template <class T>
inline float4 decode_box(float4 prior, device const T* l, constant PipelineArgs& a) {
  const float ex = arith::exp_f32(arith::mul(load_f32(l + 2), a.variance_size));
  const float ey = arith::exp_f32(arith::mul(load_f32(l + 3), a.variance_size));
  const float w = arith::mul(prior.z, ex);
  const float h = arith::mul(prior.w, ey);
  float x1, x2, y1, y2;
  arith::decode_corners(arith::decode_center(prior.x, load_f32(l + 0), a.variance_center, prior.z), w, x1, x2);
  arith::decode_corners(arith::decode_center(prior.y, load_f32(l + 1), a.variance_center, prior.w), h, y1, y2);
  return float4(to_image_x(x1, a), to_image_y(y1, a), to_image_x(x2, a), to_image_y(y2, a));
}

template <class T>
inline float landmark(float4 prior, device const T* d, int c, constant PipelineArgs& a) {
  if (c % 2 == 0)
    return to_image_x(arith::decode_center(prior.x, load_f32(d + c), a.variance_center, prior.z), a);
  return to_image_y(arith::decode_center(prior.y, load_f32(d + c), a.variance_center, prior.w), a);
}

/// Column c of a detection row clamped as the CPU's clip_detection (x to [0, W], y to [0, H]).
inline float clip_column(float v, int c, constant PipelineArgs& a) {
  if (a.clip == 0u || c == 4) return v;
  const bool is_x = c < 4 ? (c % 2 == 0) : (c % 2 == 1);
  return arith::clamp_to(v, is_x ? a.clip_width : a.clip_height);
}

// ---------------------------------------------------------------------------------------------
// 1. Prepare: the kernels follow at the end of the file (global scope).


// ---------------------------------------------------------------------------------------------
// 2. Filter and compaction: grid (rows rounded up to kThreads, B), threadgroups of kThreads.
// One atomic per SIMD group; the slots come out in no particular order (the key carries the
// prior index, so the sort restores the CPU order).

template <class T, bool Logits>
inline void filter(constant PipelineArgs& a, device const T* conf, device ulong* keys, device atomic_uint* counts,
                   uint2 gid) {
  const uint f = gid.y, row = gid.x;
  bool pass = false;
  float score = 0.f;
  if (row < a.rows) {
    device const T* c = conf + (ulong(f) * a.rows + row) * 2ul;
    if (Logits) {
      const float l0 = load_f32(c), l1 = load_f32(c + 1);
      if (arith::logit_margin_passes(l0, l1, a.logit_cut)) {  // also drops NaN
        score = arith::softmax_face(l0, l1);
        pass = score > a.threshold;                            // NaN fails
      }
    } else {
      score = load_f32(c + 1);
      pass = arith::probability_passes(score, a.threshold);
    }
  }
  const uint slot = claim_slot(pass, &counts[f]);
  if (pass) keys[ulong(f) * a.filter_stride + slot] = rank_key(score, row, a.index_bits);
}


// ---------------------------------------------------------------------------------------------
// 3. Bitonic sort of each frame's sort_size keys, ascending. Element i of a stage (k, j) is
// compared with i ^ j, ascending where i & k == 0; k = sort_size is one ascending run. The
// stages with j < sort_block run inside a threadgroup, on threadgroup memory.

/// s[i] vs s[i ^ j] (i has bit j clear); the run's direction from the frame-wide index base + i.
/// Keys: a threadgroup or a device pointer.
template <class Keys>
inline void compare_exchange(Keys s, uint base, uint i, uint k, uint j) {
  const uint l = i ^ j;
  const ulong x = s[i], y = s[l];
  const bool ascending = ((base + i) & k) == 0u;
  if ((x > y) == ascending) {
    s[i] = y;
    s[l] = x;
  }
}

/// Loads the threadgroup's sort_block keys, runs the stages (k, j) for j < sort_block: every k
/// from 2 when `full`, else only k = merge_k, and stores them back.
inline void sort_block(constant PipelineArgs& a, device ulong* keys, threadgroup ulong* s, bool full, uint merge_k,
                       uint block, uint frame, uint t) {
  const uint n = a.sort_block, base = block * n;
  device ulong* frame_keys = keys + ulong(frame) * a.sort_size;
  s[t] = frame_keys[base + t];
  s[t + n / 2u] = frame_keys[base + t + n / 2u];
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (uint k = full ? 2u : merge_k; k <= (full ? n : merge_k); k <<= 1u) {
    for (uint j = (k >> 1u) < n ? (k >> 1u) : (n >> 1u); j > 0u; j >>= 1u) {
      // thread t takes the t-th pair (i, i ^ j) with bit j of i clear, i counted in the block
      const uint lo = t & (j - 1u), i = ((t - lo) << 1u) + lo;
      compare_exchange(s, base, i, k, j);
      threadgroup_barrier(mem_flags::mem_threadgroup);
    }
  }
  frame_keys[base + t] = s[t];
  frame_keys[base + t + n / 2u] = s[t + n / 2u];
}




// ---------------------------------------------------------------------------------------------
// 4. Decode: grid (capacity rounded up to kThreads, B). ranked[f] counts the finite rows.

template <class T>
inline void decode(constant PipelineArgs& a, device const T* loc, device const T* landms,
                   device const float4* priors, device const ulong* keys, device atomic_uint* counts,
                   device float4* boxes, device uchar* finite, uint2 gid, uint frames) {
  const uint f = gid.y, i = gid.x;
  const uint m = ranked_count(counts, f, a);
  uint ok_row = 0u;
  if (i < m) {
    const ulong key = keys[ulong(f) * a.sort_size + i];
    const uint p = key_prior(key, a.index_bits);
    const ulong row = ulong(f) * a.rows + p;
    const float4 prior = priors[p];
    const float4 box = decode_box(prior, loc + row * 4ul, a);
    bool ok = arith::is_finite(key_score(key, a.index_bits)) && arith::is_finite(box.x) &&
              arith::is_finite(box.y) && arith::is_finite(box.z) && arith::is_finite(box.w);
    for (int c = 0; c < 10; ++c) ok = ok && arith::is_finite(landmark(prior, landms + row * 10ul, c, a));
    boxes[ulong(f) * a.capacity + i] = box;
    finite[ulong(f) * a.capacity + i] = ok ? uchar(1) : uchar(0);
    ok_row = ok ? 1u : 0u;
  }
  const uint total = simd_sum(ok_row);
  if (simd_is_first() && total > 0u) atomic_fetch_add_explicit(&counts[frames + f], total, memory_order_relaxed);
}


// ---------------------------------------------------------------------------------------------
// 5. Greedy NMS, one threadgroup of kThreads per frame (grid (1, B) threadgroups), the CUDA
// backend's chunked design (cuda/nms.cuh): per chunk of 256 ranked candidates,
//   a. each thread tests its candidate against every box kept in earlier chunks;
//   b. each surviving candidate builds its 64-bit masks over the later candidates of the chunk;
//   c. thread 0 walks the chunk in order over the masks, visiting only candidates in play, and
//      stops at keep_top_k;
//   d. the kept boxes join the frame's kept list and their detection rows are written.
// Candidate j is kept iff no kept i < j suppresses it: the decisions of the O(n^2) reference.

template <int C>
inline float box_area(float4 b) {
  return arith::box_area<IouConvention(C)>(b.x, b.y, b.z, b.w);
}
template <int C>
inline bool suppresses(float4 a, float area_a, float4 b, float area_b, constant PipelineArgs& args) {
  const float iou = arith::box_iou<IouConvention(C)>(a.x, a.y, a.z, a.w, area_a, b.x, b.y, b.z, b.w, area_b);
  return arith::suppresses<IouConvention(C)>(iou, C == 0 ? args.legacy_threshold : args.continuous_threshold);
}

/// Threadgroup memory of the NMS kernel, [[threadgroup(0)]] (about 18 KiB).
struct NmsShared {
  float4 chunk_box[kThreads];
  float4 tile_box[kThreads];
  ulong mask[kThreads][kNmsWords];
  float chunk_area[kThreads];
  float tile_area[kThreads];
  ushort taken_list[kThreads];
  uchar removed[kThreads];
  uint taken_count;
};
static_assert(sizeof(NmsShared) <= kNmsSharedBytes, "the host's threadgroup length of the NMS kernel");

/// Greedy walk over a chunk: gone = candidates out of play, mask[i] = what i suppresses.
inline uint resolve_chunk(threadgroup NmsShared& s, uint room) {
  ulong gone[kNmsWords];
  for (uint w = 0; w < kNmsWords; ++w) {
    gone[w] = 0ul;
    for (uint b = 0; b < 64u; ++b)
      if (s.removed[64u * w + b] != 0) gone[w] |= 1ul << b;
  }
  uint n = 0;
  for (uint w = 0; w < kNmsWords && n < room; ++w) {
    ulong open = ~gone[w];
    while (open != 0ul && n < room) {
      const uint b = uint(ctz(open));
      const uint i = 64u * w + b;
      s.taken_list[n++] = ushort(i);
      for (uint v = w; v < kNmsWords; ++v) gone[v] |= s.mask[i][v];
      open = b == 63u ? 0ul : (~gone[w] & ~((2ul << b) - 1ul));
    }
  }
  return n;
}

template <class T, int C>
inline void nms(constant PipelineArgs& a, device const T* landms, device const float4* priors,
                device const ulong* keys, device atomic_uint* counts, device const float4* boxes,
                device const uchar* finite, device float4* kept_boxes, device float* kept_area,
                device float* out_rows, device uint* out_prior, threadgroup NmsShared& s, uint frame, uint frames,
                uint t) {
  const uint m = ranked_count(counts, frame, a);
  const uint limit = a.keep_capacity;
  const ulong in0 = ulong(frame) * a.capacity, keep0 = ulong(frame) * a.keep_capacity;
  uint kept = 0;  // the same in every thread
  for (uint start = 0; start < m && kept < limit; start += kThreads) {
    const uint n = m - start < kThreads ? m - start : kThreads;
    bool removed = true;  // past the end or non-finite: never in play
    float4 box = float4(0.f, 0.f, 0.f, 0.f);
    float area = 0.f;
    if (t < n) {
      box = boxes[in0 + start + t];
      area = box_area<C>(box);
      removed = finite[in0 + start + t] == 0;
      s.chunk_box[t] = box;
      s.chunk_area[t] = area;
    }
    // a. Against the boxes kept in earlier chunks.
    for (uint k0 = 0; k0 < kept; k0 += kThreads) {
      const uint kn = kept - k0 < kThreads ? kept - k0 : kThreads;
      threadgroup_barrier(mem_flags::mem_threadgroup);  // the previous tile has been read
      if (t < kn) {
        s.tile_box[t] = kept_boxes[keep0 + k0 + t];
        s.tile_area[t] = kept_area[keep0 + k0 + t];
      }
      threadgroup_barrier(mem_flags::mem_threadgroup);
      if (!removed)
        for (uint j = 0; j < kn; ++j)
          if (suppresses<C>(s.tile_box[j], s.tile_area[j], box, area, a)) {
            removed = true;
            break;
          }
    }
    s.removed[t] = removed ? uchar(1) : uchar(0);
    threadgroup_barrier(mem_flags::mem_threadgroup);  // chunk boxes and removed flags complete
    // b. Masks over the later candidates of the chunk still in play.
    if (!removed) {
      for (uint w = 0; w < kNmsWords; ++w) {
        ulong word = 0ul;
        const uint first = 64u * w;
        const uint lo = t + 1u > first ? t + 1u : first;
        const uint hi = n < first + 64u ? n : first + 64u;
        for (uint j = lo; j < hi; ++j) {
          if (s.removed[j] != 0) continue;
          if (suppresses<C>(box, area, s.chunk_box[j], s.chunk_area[j], a)) word |= 1ul << (j - first);
        }
        s.mask[t][w] = word;
      }
    }
    threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device);
    // c. The serial walk.
    if (t == 0) s.taken_count = resolve_chunk(s, limit - kept);
    threadgroup_barrier(mem_flags::mem_threadgroup);
    // d. Append the kept boxes; their detection rows.
    const uint taken = s.taken_count;
    if (t < taken) {
      const uint i = s.taken_list[t];
      const ulong slot = keep0 + kept + t;
      const float4 b = s.chunk_box[i];
      kept_boxes[slot] = b;
      kept_area[slot] = s.chunk_area[i];
      const ulong key = keys[ulong(frame) * a.sort_size + start + i];
      const uint p = key_prior(key, a.index_bits);
      const float4 prior = priors[p];
      device const T* d = landms + (ulong(frame) * a.rows + p) * 10ul;
      device float* out = out_rows + slot * 15ul;
      out[0] = clip_column(b.x, 0, a);
      out[1] = clip_column(b.y, 1, a);
      out[2] = clip_column(b.z, 2, a);
      out[3] = clip_column(b.w, 3, a);
      out[4] = key_score(key, a.index_bits);
      for (int c = 0; c < 10; ++c) out[5 + c] = clip_column(landmark(prior, d, c, a), 5 + c, a);
      out_prior[slot] = p;
    }
    kept += taken;
    threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device);  // kept list complete
  }
  if (t == 0) atomic_store_explicit(&counts[2u * frames + frame], kept, memory_order_relaxed);
}

}  // namespace msl
}  // namespace facepost

// ---------------------------------------------------------------------------------------------
// Entry points (global scope: the names the host asks the library for).

using namespace facepost::msl;

/// Grid (sort_size rounded up to kThreads, B).
kernel void facepost_prepare(constant PipelineArgs& a [[buffer(0)]], device ulong* ranked [[buffer(14)]],
                             device atomic_uint* counts [[buffer(6)]], device ulong* select [[buffer(15)]],
                             device atomic_uint* histogram [[buffer(16)]], uint2 gid [[thread_position_in_grid]],
                             uint2 frames [[threads_per_grid]]) {
  const uint f = gid.y;
  if (gid.x < a.sort_size) ranked[ulong(f) * a.sort_size + gid.x] = ~0ul;
  if (gid.x < kRadix) atomic_store_explicit(&histogram[f * kRadix + gid.x], 0u, memory_order_relaxed);
  if (gid.x < 4u) atomic_store_explicit(&counts[gid.x * frames.y + f], 0u, memory_order_relaxed);
  if (gid.x == 0) {
    select[4u * f + 0u] = 0ul;                // prefix of the top_k-th key
    select[4u * f + 1u] = 0ul;                // bits of it known
    select[4u * f + 2u] = ulong(a.capacity);  // its rank among the keys with that prefix (1-based)
  }
}

kernel void facepost_filter_probabilities_f32(constant PipelineArgs& a [[buffer(0)]],
                                              device const float* conf [[buffer(1)]],
                                              device ulong* keys [[buffer(5)]],
                                              device atomic_uint* counts [[buffer(6)]],
                                              uint2 gid [[thread_position_in_grid]]) {
  filter<float, false>(a, conf, keys, counts, gid);
}

kernel void facepost_filter_probabilities_f16(constant PipelineArgs& a [[buffer(0)]],
                                              device const half* conf [[buffer(1)]],
                                              device ulong* keys [[buffer(5)]],
                                              device atomic_uint* counts [[buffer(6)]],
                                              uint2 gid [[thread_position_in_grid]]) {
  filter<half, false>(a, conf, keys, counts, gid);
}

kernel void facepost_filter_logits_f32(constant PipelineArgs& a [[buffer(0)]], device const float* conf [[buffer(1)]],
                                       device ulong* keys [[buffer(5)]], device atomic_uint* counts [[buffer(6)]],
                                       uint2 gid [[thread_position_in_grid]]) {
  filter<float, true>(a, conf, keys, counts, gid);
}

kernel void facepost_filter_logits_f16(constant PipelineArgs& a [[buffer(0)]], device const half* conf [[buffer(1)]],
                                       device ulong* keys [[buffer(5)]], device atomic_uint* counts [[buffer(6)]],
                                       uint2 gid [[thread_position_in_grid]]) {
  filter<half, true>(a, conf, keys, counts, gid);
}

/// Grid (filter_stride rounded up to kThreads, B), threadgroups of kThreads, threadgroup memory
/// kRadix atomic_uint. One pass of the radix select (shift = step.k): counts, by the digit at
/// `shift`, the frame's keys that carry the prefix found so far. Frames with at most top_k
/// candidates skip the selection.
kernel void facepost_select_histogram(constant PipelineArgs& a [[buffer(0)]], device const ulong* keys [[buffer(5)]],
                                      device atomic_uint* counts [[buffer(6)]],
                                      constant SortStep& step [[buffer(13)]],
                                      device const ulong* select [[buffer(15)]],
                                      device atomic_uint* histogram [[buffer(16)]],
                                      threadgroup atomic_uint* local [[threadgroup(0)]],
                                      uint2 gid [[thread_position_in_grid]],
                                      uint t [[thread_index_in_threadgroup]]) {
  const uint f = gid.y;
  const uint n = atomic_load_explicit(&counts[f], memory_order_relaxed);
  atomic_store_explicit(&local[t], 0u, memory_order_relaxed);  // kThreads == kRadix
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (n > a.capacity && gid.x < n) {
    const ulong key = keys[ulong(f) * a.filter_stride + gid.x];
    if ((key & select[4u * f + 1u]) == select[4u * f + 0u])
      atomic_fetch_add_explicit(&local[uint(key >> step.k) & (kRadix - 1u)], 1u, memory_order_relaxed);
  }
  threadgroup_barrier(mem_flags::mem_threadgroup);
  const uint c = atomic_load_explicit(&local[t], memory_order_relaxed);
  if (c > 0u) atomic_fetch_add_explicit(&histogram[f * kRadix + t], c, memory_order_relaxed);
}

/// Grid (1, B), one thread a frame: the digit at step.k of the top_k-th key, from the histogram
/// (which it clears for the next pass).
kernel void facepost_select_digit(constant PipelineArgs& a [[buffer(0)]], device atomic_uint* counts [[buffer(6)]],
                                  constant SortStep& step [[buffer(13)]], device ulong* select [[buffer(15)]],
                                  device atomic_uint* histogram [[buffer(16)]],
                                  uint2 group [[threadgroup_position_in_grid]]) {
  const uint f = group.y;
  if (atomic_load_explicit(&counts[f], memory_order_relaxed) <= a.capacity) return;
  ulong rank = select[4u * f + 2u];
  uint digit = 0u;
  for (; digit < kRadix; ++digit) {
    const ulong c = ulong(atomic_load_explicit(&histogram[f * kRadix + digit], memory_order_relaxed));
    if (rank <= c) break;
    rank -= c;
  }
  for (uint d = 0u; d < kRadix; ++d) atomic_store_explicit(&histogram[f * kRadix + d], 0u, memory_order_relaxed);
  select[4u * f + 0u] |= ulong(digit) << step.k;
  select[4u * f + 1u] |= ulong(kRadix - 1u) << step.k;
  select[4u * f + 2u] = rank;
}

/// Grid (filter_stride rounded up to kThreads, B). After the last pass the prefix is the top_k-th
/// key itself (keys are unique): the keys up to it, or all the frame's keys when it has at most
/// top_k, go to the ranked slots, in no particular order.
kernel void facepost_select_compact(constant PipelineArgs& a [[buffer(0)]], device const ulong* keys [[buffer(5)]],
                                    device atomic_uint* counts [[buffer(6)]], device ulong* ranked [[buffer(14)]],
                                    device const ulong* select [[buffer(15)]], uint2 gid [[thread_position_in_grid]],
                                    uint2 grid [[threads_per_grid]]) {
  const uint f = gid.y;
  const uint n = atomic_load_explicit(&counts[f], memory_order_relaxed);
  bool take = false;
  ulong key = 0ul;
  if (gid.x < n) {
    key = keys[ulong(f) * a.filter_stride + gid.x];
    take = n <= a.capacity || key <= select[4u * f + 0u];
  }
  const uint slot = claim_slot(take, &counts[3u * grid.y + f]);
  if (take) ranked[ulong(f) * a.sort_size + slot] = key;
}

/// Grid (sort_size / sort_block, B) threadgroups of sort_block / 2 threads.
kernel void facepost_sort_blocks(constant PipelineArgs& a [[buffer(0)]], device ulong* keys [[buffer(14)]],
                                 threadgroup ulong* s [[threadgroup(0)]],
                                 uint2 group [[threadgroup_position_in_grid]],
                                 uint t [[thread_index_in_threadgroup]]) {
  sort_block(a, keys, s, true, 0u, group.x, group.y, t);
}

/// The stages j < sort_block of the merge of size k (> sort_block); grid as facepost_sort_blocks.
kernel void facepost_sort_merge_blocks(constant PipelineArgs& a [[buffer(0)]], device ulong* keys [[buffer(14)]],
                                       constant SortStep& step [[buffer(13)]],
                                       threadgroup ulong* s [[threadgroup(0)]],
                                       uint2 group [[threadgroup_position_in_grid]],
                                       uint t [[thread_index_in_threadgroup]]) {
  sort_block(a, keys, s, false, step.k, group.x, group.y, t);
}

/// One stage (k, j >= sort_block) across threadgroups: grid (sort_size / 2, B) threads.
kernel void facepost_sort_step(constant PipelineArgs& a [[buffer(0)]], device ulong* keys [[buffer(14)]],
                               constant SortStep& step [[buffer(13)]], uint2 gid [[thread_position_in_grid]]) {
  const uint t = gid.x;
  if (t >= a.sort_size / 2u) return;
  const uint lo = t & (step.j - 1u), i = ((t - lo) << 1u) + lo;
  compare_exchange(keys + ulong(gid.y) * a.sort_size, 0u, i, step.k, step.j);
}

kernel void facepost_decode_f32(constant PipelineArgs& a [[buffer(0)]], device const float* loc [[buffer(2)]],
                                device const float* landms [[buffer(3)]], device const float4* priors [[buffer(4)]],
                                device const ulong* keys [[buffer(14)]], device atomic_uint* counts [[buffer(6)]],
                                device float4* boxes [[buffer(7)]], device uchar* finite [[buffer(8)]],
                                uint2 gid [[thread_position_in_grid]], uint2 grid [[threads_per_grid]]) {
  decode<float>(a, loc, landms, priors, keys, counts, boxes, finite, gid, grid.y);
}

kernel void facepost_decode_f16(constant PipelineArgs& a [[buffer(0)]], device const half* loc [[buffer(2)]],
                                device const half* landms [[buffer(3)]], device const float4* priors [[buffer(4)]],
                                device const ulong* keys [[buffer(14)]], device atomic_uint* counts [[buffer(6)]],
                                device float4* boxes [[buffer(7)]], device uchar* finite [[buffer(8)]],
                                uint2 gid [[thread_position_in_grid]], uint2 grid [[threads_per_grid]]) {
  decode<half>(a, loc, landms, priors, keys, counts, boxes, finite, gid, grid.y);
}

kernel void facepost_nms_legacy_f32(constant PipelineArgs& a [[buffer(0)]], device const float* landms [[buffer(3)]],
                                 device const float4* priors [[buffer(4)]], device const ulong* keys [[buffer(14)]],
                                 device atomic_uint* counts [[buffer(6)]], device const float4* boxes [[buffer(7)]],
                                 device const uchar* finite [[buffer(8)]], device float4* kept_boxes [[buffer(9)]],
                                 device float* kept_area [[buffer(10)]], device float* out_rows [[buffer(11)]],
                                 device uint* out_prior [[buffer(12)]], threadgroup NmsShared* s [[threadgroup(0)]],
                                 uint2 group [[threadgroup_position_in_grid]],
                                 uint2 groups [[threadgroups_per_grid]], uint t [[thread_index_in_threadgroup]]) {
  nms<float, 0>(a, landms, priors, keys, counts, boxes, finite, kept_boxes, kept_area, out_rows, out_prior, *s, group.y,
           groups.y, t);
}
kernel void facepost_nms_legacy_f16(constant PipelineArgs& a [[buffer(0)]], device const half* landms [[buffer(3)]],
                                 device const float4* priors [[buffer(4)]], device const ulong* keys [[buffer(14)]],
                                 device atomic_uint* counts [[buffer(6)]], device const float4* boxes [[buffer(7)]],
                                 device const uchar* finite [[buffer(8)]], device float4* kept_boxes [[buffer(9)]],
                                 device float* kept_area [[buffer(10)]], device float* out_rows [[buffer(11)]],
                                 device uint* out_prior [[buffer(12)]], threadgroup NmsShared* s [[threadgroup(0)]],
                                 uint2 group [[threadgroup_position_in_grid]],
                                 uint2 groups [[threadgroups_per_grid]], uint t [[thread_index_in_threadgroup]]) {
  nms<half, 0>(a, landms, priors, keys, counts, boxes, finite, kept_boxes, kept_area, out_rows, out_prior, *s, group.y,
           groups.y, t);
}
kernel void facepost_nms_continuous_f32(constant PipelineArgs& a [[buffer(0)]], device const float* landms [[buffer(3)]],
                                 device const float4* priors [[buffer(4)]], device const ulong* keys [[buffer(14)]],
                                 device atomic_uint* counts [[buffer(6)]], device const float4* boxes [[buffer(7)]],
                                 device const uchar* finite [[buffer(8)]], device float4* kept_boxes [[buffer(9)]],
                                 device float* kept_area [[buffer(10)]], device float* out_rows [[buffer(11)]],
                                 device uint* out_prior [[buffer(12)]], threadgroup NmsShared* s [[threadgroup(0)]],
                                 uint2 group [[threadgroup_position_in_grid]],
                                 uint2 groups [[threadgroups_per_grid]], uint t [[thread_index_in_threadgroup]]) {
  nms<float, 1>(a, landms, priors, keys, counts, boxes, finite, kept_boxes, kept_area, out_rows, out_prior, *s, group.y,
           groups.y, t);
}
kernel void facepost_nms_continuous_f16(constant PipelineArgs& a [[buffer(0)]], device const half* landms [[buffer(3)]],
                                 device const float4* priors [[buffer(4)]], device const ulong* keys [[buffer(14)]],
                                 device atomic_uint* counts [[buffer(6)]], device const float4* boxes [[buffer(7)]],
                                 device const uchar* finite [[buffer(8)]], device float4* kept_boxes [[buffer(9)]],
                                 device float* kept_area [[buffer(10)]], device float* out_rows [[buffer(11)]],
                                 device uint* out_prior [[buffer(12)]], threadgroup NmsShared* s [[threadgroup(0)]],
                                 uint2 group [[threadgroup_position_in_grid]],
                                 uint2 groups [[threadgroups_per_grid]], uint t [[thread_index_in_threadgroup]]) {
  nms<half, 1>(a, landms, priors, keys, counts, boxes, finite, kept_boxes, kept_area, out_rows, out_prior, *s, group.y,
           groups.y, t);
}
