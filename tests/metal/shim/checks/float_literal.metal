// Must not compile with the shim's flags: 0.1 is a double in C++, so `x * 0.1` would be computed
// in double here and in float on the GPU (-Werror=double-promotion).
#include <metal_stdlib>
using namespace metal;
kernel void unsuffixed(device float* out [[buffer(0)]], uint gid [[thread_position_in_grid]]) {
  out[gid] = out[gid] * 0.1;
}
