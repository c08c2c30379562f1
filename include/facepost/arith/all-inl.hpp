// facepost/arith/all-inl.hpp - the arithmetic files, for inclusion inside a lane namespace (no
// include guard on purpose). FACEPOST_ARITH_FN, if defined, annotates their functions (arith.hpp:
// host and device); else they are host functions, always inlined (the CPU kernel namespaces).
#if !defined(FACEPOST_ARITH_FN)
#define FACEPOST_ARITH_FN FACEPOST_INLINE
#define FACEPOST_DETAIL_ARITH_FN_DEFAULT
#endif
#include "facepost/arith/decode-inl.hpp"
#include "facepost/arith/exp-inl.hpp"
#include "facepost/arith/iou-inl.hpp"
#include "facepost/arith/score-inl.hpp"
#if defined(FACEPOST_DETAIL_ARITH_FN_DEFAULT)
#undef FACEPOST_ARITH_FN
#undef FACEPOST_DETAIL_ARITH_FN_DEFAULT
#endif
