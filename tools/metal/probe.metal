// tools/metal/probe.metal - the first thing to run on a Mac (tools/metal/probe_mac.sh): does the
// Metal compiler and GPU do what facepost's kernels rely on? Each thread writes the bits of
// IEEE operations whose correctly rounded results the host knows:
//   out[4i+0] = a / b         (division correctly rounded, not a reciprocal approximation)
//   out[4i+1] = a * b + c     (two roundings: contraction into fma would differ)
//   out[4i+2] = a * b         (subnormal products kept, not flushed to zero)
//   out[4i+3] = a - b         (subnormal differences kept)
#include <metal_stdlib>
using namespace metal;

#if defined(__METAL_VERSION__) && __METAL_VERSION__ >= 320
#pragma METAL fp math_mode(safe)
#pragma METAL fp contract(off)
#endif

kernel void facepost_probe(device const float* a [[buffer(0)]], device const float* b [[buffer(1)]],
                           device const float* c [[buffer(2)]], device uint* out [[buffer(3)]],
                           uint i [[thread_position_in_grid]]) {
  const float q = a[i] / b[i];
  const float p = a[i] * b[i];
  const float s = p + c[i];
  const float d = a[i] - b[i];
  out[4 * i + 0] = as_type<uint>(q);
  out[4 * i + 1] = as_type<uint>(s);
  out[4 * i + 2] = as_type<uint>(p);
  out[4 * i + 3] = as_type<uint>(d);
}
