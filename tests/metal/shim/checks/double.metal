// Must not compile with the shim: MSL has no double (tests/metal/CMakeLists.txt expects the
// shim's message).
#include <metal_stdlib>
using namespace metal;
kernel void uses_double(device float* out [[buffer(0)]], uint gid [[thread_position_in_grid]]) {
  double x = out[gid];
  out[gid] = float(x * 2);
}
