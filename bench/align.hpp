// bench/align.hpp - the face alignment benchmark rows (bench_align.cpp).
#pragma once

namespace facepost_bench {

/// Registers `align/<peer>`: the similarity of every golden detection of crowd_mnet_native
/// (reference_unlimited) onto the ArcFace 112 template, by facepost's closed form (try_align)
/// and by Eigen::umeyama (SVD), checked equal first. Counter `per_face`: seconds per face.
void register_align();

}  // namespace facepost_bench
