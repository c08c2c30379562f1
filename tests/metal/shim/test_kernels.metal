// test_kernels.metal (tests/metal/shim) - kernels of the Metal shim's own tests: a threadgroup
// reduction with barriers, a SIMD-group ballot compaction with atomics, the SIMD-group
// functions against a host reference, threadgroup-memory poison, positions of a non-uniform
// dispatch, and a two-pass pair for encoder ordering. Plain MSL: it should compile with Apple's
// compiler as it is.
#include <metal_stdlib>
using namespace metal;

struct ReduceParams {
  uint n;     // elements
  uint scale; // every element is multiplied by it
};

// Each threadgroup sums its slice of `in` (tree reduction in threadgroup memory).
kernel void reduce_sum(device const uint* in [[buffer(0)]],
                       device uint* partial [[buffer(1)]],
                       constant ReduceParams& p [[buffer(2)]],
                       threadgroup uint* scratch [[threadgroup(0)]],
                       uint gid [[thread_position_in_grid]],
                       uint tid [[thread_index_in_threadgroup]],
                       uint group [[threadgroup_position_in_grid]],
                       uint size [[threads_per_threadgroup]]) {
  scratch[tid] = gid < p.n ? in[gid] * p.scale : 0u;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (uint stride = size / 2; stride > 0; stride /= 2) {
    if (tid < stride) scratch[tid] += scratch[tid + stride];
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  if (tid == 0) partial[group] = scratch[0];
}

// Stream compaction: the indices of the values above the threshold, in any order. One atomic
// per simdgroup reserves its slots; lanes take theirs by their rank among the voting lanes.
kernel void compact(device const float* values [[buffer(0)]],
                    device uint* out [[buffer(1)]],
                    device atomic_uint* count [[buffer(2)]],
                    constant float& threshold [[buffer(3)]],
                    constant uint& n [[buffer(4)]],
                    uint gid [[thread_position_in_grid]],
                    ushort lane [[thread_index_in_simdgroup]]) {
  const bool keep = gid < n && values[gid] > threshold;
  const simd_vote vote = simd_ballot(keep);
  const ulong bits = static_cast<simd_vote::vote_t>(vote);
  const uint rank = popcount(uint(bits & ((1ul << lane) - 1ul))) + popcount(uint((bits & ((1ul << lane) - 1ul)) >> 32));
  const uint prefix = simd_prefix_exclusive_sum(keep ? 1u : 0u);
  uint base = 0;
  if (simd_is_first()) base = atomic_fetch_add_explicit(count, popcount(uint(bits)) + popcount(uint(bits >> 32)), memory_order_relaxed);
  const ulong active = static_cast<simd_vote::vote_t>(simd_ballot(true));
  base = simd_broadcast(base, ushort(ctz(active)));  // from the first active lane
  if (keep) out[base + rank] = gid;
  if (keep && prefix != rank) out[base + rank] = 0xDEADBEEFu;  // the two ranks must agree
}

// The SIMD-group functions, one output row of 16 values per thread.
kernel void simd_ops(device const uint* in [[buffer(0)]],
                     device uint* out [[buffer(1)]],
                     uint gid [[thread_position_in_grid]],
                     uint lane [[thread_index_in_simdgroup]],
                     uint width [[threads_per_simdgroup]],
                     uint sg [[simdgroup_index_in_threadgroup]],
                     uint sgs [[simdgroups_per_threadgroup]]) {
  const uint v = in[gid];
  device uint* o = out + gid * 16;
  o[0] = simd_sum(v);
  o[1] = simd_prefix_exclusive_sum(v);
  o[2] = simd_prefix_inclusive_sum(v);
  o[3] = simd_max(v);
  o[4] = simd_min(v);
  o[5] = simd_or(v);
  o[6] = simd_and(v);
  const uint lanes = min(width, 16u);
  o[7] = simd_shuffle(v, ushort((lane * 3u) % lanes));
  o[8] = simd_broadcast(v, ushort(lanes - 1u));
  o[9] = simd_shuffle_down(v, ushort(1));
  o[10] = simd_shuffle_up(v, ushort(2));
  o[11] = uint(static_cast<simd_vote::vote_t>(simd_ballot((v & 1u) != 0u)));
  o[12] = (simd_all(v < 1000u) ? 1u : 0u) | (simd_any(v == 7u) ? 2u : 0u) | (simd_is_first() ? 4u : 0u);
  simdgroup_barrier(mem_flags::mem_none);
  const float2 f = float2(float(v), 0.5f) * 2.0f;
  o[13] = as_type<uint>(simd_shuffle_xor(f, ushort(1)).x);
  o[14] = mulhi(v * 0x10001u, 0x80000001u) ^ clz(v) ^ (ctz(v) << 8);
  o[15] = sg | (sgs << 16);
}

// Threadgroup memory is poisoned before every threadgroup: group 0 writes it, the others read
// what is there.
kernel void tg_poison(device uint* out [[buffer(0)]],
                      threadgroup uint* tg [[threadgroup(0)]],
                      uint gid [[thread_position_in_grid]],
                      uint tid [[thread_position_in_threadgroup]],
                      uint group [[threadgroup_position_in_grid]]) {
  if (group == 0) tg[tid] = tid;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[gid] = tg[tid];
}

// Positions of a (non-uniform) 2-D dispatch: 4 uints per thread, at its grid position.
kernel void positions(device uint4* out [[buffer(0)]],
                      constant uint& row_length [[buffer(1)]],
                      uint2 gid [[thread_position_in_grid]],
                      uint2 tptg [[threads_per_threadgroup]],
                      uint2 grid [[threads_per_grid]],
                      uint index [[thread_index_in_threadgroup]]) {
  out[gid.y * row_length + gid.x] = uint4(tptg.x, tptg.y, grid.x * 1000u + grid.y, index);
}

// Two passes: `second` reads what `first` wrote (needs the order of a serial encoder, or a
// memory barrier in a concurrent one).
kernel void first(device uint* data [[buffer(0)]], uint gid [[thread_position_in_grid]]) {
  data[gid] = gid + 1u;
}
kernel void second(device const uint* data [[buffer(0)]], device uint* out [[buffer(1)]],
                   uint gid [[thread_position_in_grid]]) {
  out[gid] = data[gid] * 2u;
}

// Atomics on device and threadgroup memory: a histogram of 8 bins per threadgroup, merged.
kernel void histogram(device const uint* in [[buffer(0)]],
                      device atomic_uint* bins [[buffer(1)]],
                      device atomic_int* lowest [[buffer(2)]],
                      threadgroup atomic_uint* local [[threadgroup(0)]],
                      uint gid [[thread_position_in_grid]],
                      uint tid [[thread_index_in_threadgroup]]) {
  if (tid < 8) atomic_store_explicit(&local[tid], 0u, memory_order_relaxed);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  const uint v = in[gid];
  atomic_fetch_add_explicit(&local[v % 8u], 1u, memory_order_relaxed);
  atomic_fetch_min_explicit(lowest, int(v) - 100, memory_order_relaxed);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (tid < 8) {
    const uint c = atomic_load_explicit(&local[tid], memory_order_relaxed);
    atomic_fetch_add_explicit(&bins[tid], c, memory_order_relaxed);
    uint expected = atomic_load_explicit(&bins[8 + tid], memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&bins[8 + tid], &expected, max(expected, c),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
    atomic_fetch_or_explicit(&bins[16], 1u << tid, memory_order_relaxed);
    atomic_exchange_explicit(&bins[17], 42u, memory_order_relaxed);
    atomic_fetch_max_explicit(&bins[18], c, memory_order_relaxed);
  }
}
