// facepost/kernels/generic/nms-inl.hpp - exact greedy NMS, written once over an instruction set's
// lanes. Included inside a kernel namespace; no include guard on purpose.
//
// Greedy NMS keeps a box iff no earlier kept box suppresses it. Two boxes that do not intersect
// have IoU 0 (or 0/0 = NaN for two zero-area boxes under the continuous convention, which keeps),
// so they never suppress: skipping them changes nothing. While few boxes are kept, each candidate
// is tested against all of them (contiguous slots, lane-parallel). Past kNmsGridMinKept the boxes
// are filed into a loose multi-level grid (nms/grid.hpp) and a query scans, level by level, only
// the rows of cells whose boxes could reach it, skipping levels and cells the bounds of
// nms/bounds.hpp exclude. The IoU is arith's (iou-inl.hpp), so decisions are those of the O(n^2)
// loop on every input.
//
// The namespace provides F (float lanes; F::load_n(p, n) loads the first n <= F::lanes values),
// kept_lanes(flags, n) (a mask of the first n lanes whose int32 kept flag is set), and two tuning
// constants: kNmsCellScale (nms/grid.hpp) and kSkipUnkeptLanes (test the kept mask before the
// IoU: pays where a step costs more than the branch).

/// True if a kept slot in [begin, end) suppresses box q (x1 y1 x2 y2) of area qa.
template <IouConvention C>
FACEPOST_INLINE bool any_suppresses(const float* q, float qa, const SlotBoxes& s, std::size_t begin, std::size_t end,
                                    float t) noexcept {
  const F qx1(q[0]), qy1(q[1]), qx2(q[2]), qy2(q[3]), qarea(qa), tv(t);
  for (std::size_t j = begin; j < end; j += F::lanes) {
    const std::size_t n = end - j < F::lanes ? end - j : F::lanes;
    const auto kept = kept_lanes(s.kept + j, n);
    if (kSkipUnkeptLanes && !any(kept)) continue;
    const F x1 = F::load_n(s.x1 + j, n), y1 = F::load_n(s.y1 + j, n);
    const F x2 = F::load_n(s.x2 + j, n), y2 = F::load_n(s.y2 + j, n);
    const F iou = box_iou<C>(x1, y1, x2, y2, F::load_n(s.area + j, n), qx1, qy1, qx2, qy2, qarea);
    if (any(and_(suppresses<C>(iou, tv), kept))) return true;
  }
  return false;
}

/// The grid phase: boxes [first, size) decided with the grid; the nk boxes in keep[] were kept
/// before it was built.
template <IouConvention C>
std::size_t nms_grid(const BoxesSoA& b, const SuppressionTest& test, std::size_t max_keep, std::uint32_t* keep,
                     NmsWorkspace& ws, std::size_t first, std::size_t nk) noexcept {
  detail::NmsGrid g;
  const std::size_t cells = g.setup(b, kNmsCellScale);
  g.file(b, cells, ws);
  const std::int32_t* start = ws.cell_start.data();
  const std::int32_t* level_of = ws.level_of.data();
  const std::int32_t* slot_of = ws.slot_of.data();
  for (std::size_t k = 0; k < nk; ++k) {
    const std::size_t i = keep[k];
    ws.kept[std::size_t(slot_of[i])] = ~0;
    g.level[level_of[i]].add_kept(ws.area[i]);
  }

  // Legacy only: a box whose +1 width or height is <= 0 has an area <= 0, and two areas that
  // sum to 0 make 0/0, a NaN IoU, which py_cpu_nms counts as suppression at any distance. Decode
  // never makes such boxes; when one is the query or has been kept, every kept box is tested.
  auto irregular = [](float area) { return C == IouConvention::legacy_pixel && !(area > 0.f); };
  std::size_t irregular_kept = 0;
  for (std::size_t k = 0; k < nk; ++k) irregular_kept += irregular(ws.area[keep[k]]) ? 1u : 0u;

  const SlotBoxes slots = ws.slot_boxes();
  const float t = test.threshold<C>();
  const double t_low = detail::nms_bound_threshold(t);
  const double one = C == IouConvention::legacy_pixel ? 1.0 : 0.0;
  for (std::size_t i = first; i < b.size && nk < max_keep; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    const float area = ws.area[i];
    const int own = level_of[i];
    const bool brute_force = irregular_kept > 0 || irregular(area);
    bool suppressed = brute_force && any_suppresses<C>(box, area, slots, 0, b.size, t);
    // The window shrinks to boxes overlapping the query by more than t times its sides, and only
    // levels whose boxes' longer sides lie within a factor t of the query's are visited.
    double need_x = 0, need_y = 0;
    int lo = 0, hi = g.levels - 1;
    const double wq = double(box[2]) - double(box[0]) + one, hq = double(box[3]) - double(box[1]) + one;
    if (!brute_force && detail::side_bounds_apply(wq, hq, area)) {
      need_x = detail::overlap_needed(t_low, wq, box[0], box[2]);
      need_y = detail::overlap_needed(t_low, hq, box[1], box[3]);
      // Level L files boxes whose longer side (plus `one`) is at most c_L - 2 + one and, above
      // level 0, more than (c_{L-1} - 2) / (1 + 1e-9) + one (NmsGrid::level_of).
      const double uq = std::max(wq, hq);
      lo = own, hi = own;
      while (lo > 0 && !detail::level_too_small(g.level[lo - 1].cell - 2.0 + one, t_low, uq)) --lo;
      while (hi + 1 < g.levels &&
             !detail::level_too_large((g.level[hi].cell - 2.0) / (1.0 + 1e-9) + one, t_low, uq))
        ++hi;
    }
    // Visit the box's own level first, then outwards: the kept box that suppresses a candidate
    // is almost always of similar size, so suppressed candidates stop after one level.
    const int steps = 2 * std::max(own - lo, hi - own) + 1;
    for (int step = 0; step < steps && !suppressed && !brute_force; ++step) {
      const int L = own + ((step & 1) ? -(step + 1) / 2 : step / 2);
      if (L < lo || L > hi) continue;
      const detail::NmsGrid::Level& l = g.level[L];
      if (l.count == 0) continue;
      if (!detail::size_can_suppress(l.min_area, l.max_area, area, t)) continue;
      // A box filed at (x1, y1) spans at most one cell: it overlaps the query by more than
      // need_x only if its x1 lies in [q.x1 + need_x - cell, q.x2 - need_x] (plus slack), likewise y.
      const double sx = detail::cell_window_slack(box[0], box[2], l.cell);
      const double sy = detail::cell_window_slack(box[1], box[3], l.cell);
      const std::int64_t cx0 = g.cell_x(l, double(box[0]) + need_x - l.cell - sx);
      const std::int64_t cx1 = g.cell_x(l, double(box[2]) - need_x + sx);
      const std::int64_t cy0 = g.cell_y(l, double(box[1]) + need_y - l.cell - sy);
      const std::int64_t cy1 = g.cell_y(l, double(box[3]) - need_y + sy);
      if (cx0 > cx1 || cy0 > cy1) continue;  // a level of cells smaller than the overlap needed
      for (std::int64_t cy = cy0; cy <= cy1 && !suppressed; ++cy) {
        const std::size_t row = l.offset + std::size_t(cy * l.gx);
        suppressed = any_suppresses<C>(box, area, slots, std::size_t(start[row + std::size_t(cx0)]),
                                       std::size_t(start[row + std::size_t(cx1) + 1]), t);
      }
    }
    if (suppressed) continue;
    irregular_kept += irregular(area) ? 1u : 0u;
    ws.kept[std::size_t(slot_of[i])] = ~0;
    g.level[own].add_kept(area);
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  return nk;
}

/// nms_greedy (nms.hpp) for a threshold >= 0, `ws` reserved for b.size boxes.
template <IouConvention C>
std::size_t nms_greedy(const BoxesSoA& b, const SuppressionTest& test, std::size_t max_keep, std::uint32_t* keep,
                       NmsWorkspace& ws) noexcept {
  bool finite = true;
  for (std::size_t i = 0; i < b.size; ++i) {
    ws.area[i] = arith::box_area<C>(b.x1[i], b.y1[i], b.x2[i], b.y2[i]);
    // x - x is 0 for a finite x and NaN for an infinite or NaN one.
    finite &= ((b.x1[i] - b.x1[i]) + (b.y1[i] - b.y1[i])) + ((b.x2[i] - b.x2[i]) + (b.y2[i] - b.y2[i])) == 0.f;
  }
  // The grid needs finite coordinates; the pipeline never passes others, a direct caller may.
  if (!finite) return detail::nms_all_pairs<C>(b, test, max_keep, keep, ws);
  // Few kept boxes: each candidate against all of them, kept boxes in slots [0, nk).
  const SlotBoxes slots = ws.slot_boxes();
  const float t = test.threshold<C>();
  std::size_t nk = 0, i = 0;
  for (; i < b.size && nk < max_keep && nk < kNmsGridMinKept; ++i) {
    const float box[4] = {b.x1[i], b.y1[i], b.x2[i], b.y2[i]};
    if (any_suppresses<C>(box, ws.area[i], slots, 0, nk, t)) continue;
    ws.store_slot(nk, box, ws.area[i]);
    ws.kept[nk] = ~0;
    keep[nk++] = static_cast<std::uint32_t>(i);
  }
  if (i == b.size || nk == max_keep) return nk;
  return nms_grid<C>(b, test, max_keep, keep, ws, i, nk);  // many kept: the grid, from box i on
}
