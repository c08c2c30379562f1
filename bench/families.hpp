// bench/families.hpp - the detector families' benchmark rows (bench_families.cpp).
#pragma once

namespace facepost_bench {

/// Registers `family/<family>/<case>/<set>/{facepost,port}`: facepost against the plain port of
/// the family's reference (tests/reference/family_ports.hpp) on each fixture, checked first.
void register_families();

}  // namespace facepost_bench
