// facepost_bench: float16 and int8 heads against float32, end to end (bench_low_precision.cpp).
#pragma once

namespace facepost_bench {
void register_low_precision();
}
