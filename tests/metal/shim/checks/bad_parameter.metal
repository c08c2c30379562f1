// gen_bindings.py must refuse this file, naming the kernel and the parameter (a parameter
// without an attribute).
#include <metal_stdlib>
using namespace metal;
kernel void no_attribute(device float* out [[buffer(0)]], uint gid) { out[gid] = 0.0f; }
