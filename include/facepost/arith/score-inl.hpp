// facepost/arith/score-inl.hpp - the confidence predicates and the finite-value test. Included
// inside a lane namespace; no include guard on purpose.

/// Probability input: threshold < s < inf (NaN fails both).
template <class F>
FACEPOST_ARITH_FN auto probability_passes(F s, F threshold) noexcept {
  return and_(gt(s, threshold), lt(s, F(FACEPOST_DETAIL_INF)));
}

/// Logit input: rows with l1 - l0 <= cut (logit_prefilter_cut) cannot pass; NaN fails too.
template <class F>
FACEPOST_ARITH_FN auto logit_margin_passes(F l0, F l1, F cut) noexcept {
  return gt(sub(l1, l0), cut);
}

/// |x| < inf, lane by lane.
template <class F>
FACEPOST_ARITH_FN auto is_finite(F x) noexcept {
  return lt(abs(x), F(FACEPOST_DETAIL_INF));
}

/// std::min(std::max(v, 0.f), hi): the same operand on ties and signed zeros.
template <class F>
FACEPOST_ARITH_FN F clamp_to(F v, F hi) noexcept {
  const F lo = select(lt(v, F(0.f)), F(0.f), v);
  return select(lt(hi, lo), hi, lo);
}
