"""float16, int8 and uint8 heads (issue 15): every entry point reads them in place and gives exactly
(np.array_equal) the result of the float32 call on the same values: ``a16.astype(np.float32)`` for
float16, ``float32(q - zero_point) * float32(scale)`` for int8 / uint8 with ``dequant``. float64
and the other dtypes stay refused; a quantized head without ``dequant`` and a bad ``dequant`` raise
errors that name the head."""
import json

import numpy as np
import pytest

import facepost
from conftest import DATA, FIXTURES, anchor_kwargs, fixture, golden_sets, input_size, params_kwargs

FAMILIES = DATA / "families"


# ---- quantization, as an NPU toolchain does it, and the values facepost computes with ----------

def quant_params(x, dtype):
    """(scale, zero_point) of an asymmetric per-tensor quantization of x onto dtype's range; the
    scale is a float32 value (facepost computes with float32(scale))."""
    info = np.iinfo(dtype)
    lo, hi = float(min(x.min(), 0.0)), float(max(x.max(), 0.0))
    scale = float(np.float32((hi - lo) / (info.max - info.min) if hi > lo else 1.0))
    zero_point = int(np.clip(round(info.min - lo / scale), info.min, info.max))
    return scale, zero_point


def quantize(x, dtype, scale=None, zero_point=None):
    """(q, (scale, zero_point)): q = clip(round(x / scale) + zero_point) as dtype."""
    if scale is None:
        scale, zero_point = quant_params(x, dtype)
    info = np.iinfo(dtype)
    q = np.clip(np.round(np.asarray(x, np.float64) / scale) + zero_point, info.min, info.max).astype(dtype)
    return q, (scale, zero_point)


def dequantized(q, pair):
    """facepost's value of a quantized element: float32(q - zero_point) * scale, in float32."""
    scale, zero_point = pair
    return (q.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)


def f16(a):
    return np.asarray(a).astype(np.float16)


def assert_identical(got, want):
    assert got.dtype == want.dtype == np.float32
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.array_equal(got, want)


# ---- Postprocessor (RetinaFace family) ---------------------------------------------------------

def retina_case(name, set_name, logits=False):
    meta, heads = fixture(name)
    conf = heads["conf"]
    if logits:  # two-class logits, as test_golden.py builds them
        conf = np.log(np.maximum(conf, np.float32(1e-30))).astype(np.float32)
    pp = facepost.Postprocessor(**anchor_kwargs(meta), **params_kwargs(meta, set_name), logits=logits)
    return pp, (heads["loc"], conf, heads["landms"]), (input_size(meta), meta["resize"])


@pytest.mark.parametrize("logits", [False, True], ids=["probabilities", "logits"])
@pytest.mark.parametrize("name,set_name", golden_sets())
def test_postprocessor_float16_equals_float32_of_the_same_values(name, set_name, logits):
    pp, heads, size = retina_case(name, set_name, logits)
    halves = [f16(h) for h in heads]
    want = pp.run(*[h.astype(np.float32) for h in halves], *size)
    assert_identical(pp.run(*halves, *size), want)
    assert_identical(facepost.postprocess(*halves, *size, **anchor_kwargs(fixture(name)[0]),
                                          **params_kwargs(fixture(name)[0], set_name), logits=logits), want)
    assert len(want) > 0


@pytest.mark.parametrize("logits", [False, True], ids=["probabilities", "logits"])
@pytest.mark.parametrize("name,set_name", golden_sets())
def test_postprocessor_quantized_equals_float32_of_the_dequantized_values(name, set_name, logits):
    pp, (loc, conf, landms), size = retina_case(name, set_name, logits)
    q_loc, dq_loc = quantize(loc, np.int8)
    q_conf, dq_conf = quantize(conf, np.uint8) if not logits else quantize(conf, np.int8)
    q_landms, dq_landms = quantize(landms, np.int8)
    assert dq_landms[1] != 0 or dq_loc[1] != 0  # a zero point other than 0 is exercised
    dequant = {"loc": dq_loc, "conf": dq_conf, "landms": dq_landms}
    want = pp.run(dequantized(q_loc, dq_loc), dequantized(q_conf, dq_conf), dequantized(q_landms, dq_landms), *size)
    got = pp.run(q_loc, q_conf, q_landms, *size, dequant=dequant)
    assert_identical(got, want)
    assert_identical(pp(q_loc, q_conf, q_landms, *size, dequant=dequant), want)
    assert len(want) > 0


@pytest.mark.parametrize("name", FIXTURES)
def test_postprocessor_mixes_element_types_per_head(name):
    pp, (loc, conf, landms), size = retina_case(name, "reference_detect")
    loc16 = f16(loc)
    q_conf, dq_conf = quantize(conf, np.uint8, 1 / 255, 0)  # probabilities in 1/255 steps, as NPU exports
    q_landms, dq_landms = quantize(landms, np.int8)
    values = (loc16.astype(np.float32), dequantized(q_conf, dq_conf), dequantized(q_landms, dq_landms))
    want = pp.run(*values, *size)
    assert_identical(pp.run(loc16, q_conf, q_landms, *size, dequant={"conf": (1 / 255, 0), "landms": dq_landms}),
                     want)
    # Any one head low precision, the others float32.
    for k, low in enumerate((loc16, q_conf, q_landms)):
        heads = [values[j] if j != k else low for j in range(3)]
        dequant = {1: {"conf": dq_conf}, 2: {"landms": dq_landms}}.get(k, {})
        assert_identical(pp.run(*heads, *size, dequant=dequant), want)
    # None is no entry; numpy scalars are numbers.
    assert_identical(pp.run(loc16, q_conf, q_landms, *size,
                            dequant={"loc": None, "conf": (np.float32(1 / 255), np.int64(0)), "landms": dq_landms}),
                     want)


def layouts(a):
    """a (C-ordered) as other layouts of the same values: Fortran order, a column slice of a wider
    array, reversed columns of a reversed copy, rows of a 2-row-stride array, and an odd byte
    address (which facepost copies, as for float32)."""
    n, c = a.shape
    wide = np.zeros((n, c + 3), a.dtype)
    wide[:, 2:2 + c] = a
    every_other = np.zeros((2 * n, c), a.dtype)
    every_other[::2] = a
    raw = np.zeros(a.nbytes + 1, np.uint8)
    odd = raw[1:].view(a.dtype).reshape(a.shape)
    odd[...] = a
    return {"fortran": np.asfortranarray(a), "column_slice": wide[:, 2:2 + c],
            "reversed": np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1], "row_stride_2": every_other[::2],
            "odd_address": odd, "batched": a[None]}


@pytest.mark.parametrize("layout", ["fortran", "column_slice", "reversed", "row_stride_2", "odd_address", "batched"])
def test_postprocessor_reads_strided_float16_and_int8_views(layout):
    pp, (loc, conf, landms), size = retina_case("group_mnet_long640", "reference_detect")
    halves = [f16(h) for h in (loc, conf, landms)]
    want = pp.run(*[h.astype(np.float32) for h in halves], *size)
    views = [layouts(h)[layout] for h in halves]
    if layout != "odd_address":
        assert not all(v.flags["C_CONTIGUOUS"] for v in views) or layout == "batched"
    assert_identical(pp.run(*views, *size), want)
    q_landms, dq = quantize(landms, np.int8)
    want = pp.run(loc, conf, dequantized(q_landms, dq), *size)
    assert_identical(pp.run(loc, conf, layouts(q_landms)[layout], *size, dequant={"landms": dq}), want)


def test_float16_reads_every_positive_half_as_numpy_converts_it():
    """The probabilities format's score is conf[:, 1] itself: with every finite positive binary16
    value as a face score (and every other one, which the threshold or the finite check drops),
    the detections' scores are numpy's float32 of those halves, bit for bit. (The negative halves,
    zeros, infinities and NaNs, and every kernel set, are in the C++ test low precision:
    f16_to_f32 is exact for every binary16 value.)"""
    bits = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    halves = bits.view(np.float16)
    chunk = 4096  # 64 x 64 priors at step 8 of a 512 x 512 input: cells that do not overlap
    pp = facepost.Postprocessor(min_sizes=[[8]], steps=[8], threshold=0.0, nms_threshold=0.5, iou="continuous",
                                top_k=None, keep_top_k=None)
    scores = []
    for start in range(0, halves.size, chunk):
        conf = np.zeros((chunk, 2), np.float16)
        conf[:, 1] = halves[start:start + chunk]
        loc, landms = np.zeros((chunk, 4), np.float16), np.zeros((chunk, 10), np.float16)
        got = pp.run(loc, conf, landms, (512, 512))
        assert_identical(got, pp.run(loc.astype(np.float32), conf.astype(np.float32), landms.astype(np.float32),
                                     (512, 512)))
        scores.append(got[:, 4])
    got = np.sort(np.concatenate(scores))
    values = halves.astype(np.float32)
    want = np.sort(values[np.isfinite(values) & (values > 0)])
    assert want.size == 0x7bff  # 0x0001 (the smallest subnormal) to 0x7bff (65504)
    assert got.view(np.uint32).tolist() == want.view(np.uint32).tolist()


def test_postprocessor_run_batch_float16_and_int8_frames_equal_single_frame_calls():
    pp, (loc, conf, landms), size = retina_case("crowd_mnet_native", "reference_detect")
    rolled = np.array(conf, copy=True)
    rolled[:, 1] = np.roll(conf[:, 1], 997)
    rolled[:, 0] = 1 - rolled[:, 1]
    frames = [(loc, conf, landms), (loc, rolled, landms)]
    stacked = [np.stack(head) for head in zip(*frames)]
    halves = [f16(h) for h in stacked]
    want = [pp.run(*(h[b] for h in halves), *size) for b in range(2)]
    assert not np.array_equal(want[0], want[1])
    for threads in (1, 2):
        got = pp.run_batch(*halves, *size, threads=threads)
        assert len(got) == 2 and all(np.array_equal(g, w) for g, w in zip(got, want))
    # One dequant for every frame; the frames as a Fortran-ordered int8 batch.
    q_conf, dq = quantize(stacked[1], np.uint8, 1 / 255, 0)
    q_loc, dq_loc = quantize(stacked[0], np.int8)
    want = [pp.run(dequantized(q_loc[b], dq_loc), dequantized(q_conf[b], dq), stacked[2][b], *size) for b in range(2)]
    got = pp.run_batch(np.asfortranarray(q_loc), q_conf, stacked[2], *size, threads=2,
                       dequant={"loc": dq_loc, "conf": dq})
    assert len(got) == 2 and all(np.array_equal(g, w) for g, w in zip(got, want))
    assert len(want[0]) > 0
    # B = 0: nothing to run, the dequant still checked.
    empty = [h[:0] for h in (q_loc, stacked[1], stacked[2])]
    assert pp.run_batch(*empty, *size, dequant={"loc": dq_loc}) == []
    with pytest.raises(ValueError, match=r"^loc: dequantization scale must be finite and > 0, got 0$"):
        pp.run_batch(*empty, *size, dequant={"loc": (0.0, 0)})
    with pytest.raises(ValueError, match=r"^loc: int8 arrays need dequant=\{'loc': \(scale, zero_point\)\}$"):
        pp.run_batch(*empty, *size)


# ---- the detector families ---------------------------------------------------------------------

def _cases(family):
    return sorted(p.name for p in (FAMILIES / family).iterdir() if (p / "meta.json").is_file())


def _meta(family, case):
    return json.loads((FAMILIES / family / case / "meta.json").read_text())


def _scrfd(case):
    folder, meta = FAMILIES / "scrfd" / case, _meta("scrfd", case)
    load = lambda head: [np.load(folder / f"{head}_{s}.npy") for s in (8, 16, 32)]  # noqa: E731
    g = next(iter(meta["golden"].values()))
    det = facepost.Scrfd(threshold=g["threshold"], nms_threshold=g["nms_threshold"], max_num=g["max_num"])
    size = dict(input_size=(meta["input_width"], meta["input_height"]), scale=meta["det_scale"])
    return det, load("score"), load("bbox"), (load("kps") if meta["use_kps"] else None), size


@pytest.mark.parametrize("case", _cases("scrfd"))
def test_scrfd_float16_and_quantized_equal_float32(case):
    det, scores, bboxes, kps, size = _scrfd(case)
    with_kps = kps is not None
    heads16 = [[f16(a) for a in head] if head is not None else None for head in (scores, bboxes, kps)]
    as32 = [[a.astype(np.float32) for a in head] if head is not None else None for head in heads16]
    assert_identical(det.run(*heads16, **size), det.run(*as32, **size))
    assert_identical(facepost.scrfd(*heads16, threshold=det.params["threshold"],
                                    nms_threshold=det.params["nms_threshold"], max_num=det.params["max_num"],
                                    **size), det.run(*as32, **size))
    # uint8 scores with one pair for the three strides; int8 boxes with one pair per stride; int8
    # keypoints with one pair for all.
    q_scores = [quantize(a, np.uint8, 1 / 255, 0)[0] for a in scores]
    q_bboxes, bbox_pairs = zip(*(quantize(a, np.int8) for a in bboxes))
    dequant = {"scores": (1 / 255, 0), "bboxes": list(bbox_pairs)}
    heads = [q_scores, list(q_bboxes), None]
    values = [[dequantized(q, (1 / 255, 0)) for q in q_scores],
              [dequantized(q, p) for q, p in zip(q_bboxes, bbox_pairs)], None]
    if with_kps:
        kps_pair = quant_params(np.concatenate([a.ravel() for a in kps]), np.int8)
        heads[2] = [quantize(a, np.int8, *kps_pair)[0] for a in kps]
        values[2] = [dequantized(q, kps_pair) for q in heads[2]]
        dequant["kps"] = kps_pair
    want = det.run(*values, **size)
    assert_identical(det.run(*heads, **size, dequant=dequant), want)
    if case != "noface_640x480":
        assert len(want) > 0
    # Mixed per stride: stride 16's boxes float16 (None in the list), the others int8.
    mixed = [q_bboxes[0], f16(bboxes[1]), q_bboxes[2]]
    mixed_values = [values[1][0], mixed[1].astype(np.float32), values[1][2]]
    assert_identical(det.run(scores, mixed, kps, **size, dequant={"bboxes": [bbox_pairs[0], None, bbox_pairs[2]]}),
                     det.run(scores, mixed_values, kps, **size))


def test_scrfd_run_batch_with_float16_and_uint8():
    det, scores, bboxes, kps, size = _scrfd("family_640x640")
    second = [np.roll(a, 37, axis=0) for a in scores]
    batch = [[f16(np.stack([a, b])) for a, b in zip(first, other)]
             for first, other in ((scores, second), (bboxes, bboxes), (kps, kps))]
    want = [det.run(*[[a[b] for a in head] for head in batch], **size) for b in range(2)]
    got = det.run_batch(*batch, threads=2, **size)
    assert len(got) == 2 and all(np.array_equal(g, w) for g, w in zip(got, want))
    q_scores = [quantize(a, np.uint8, 1 / 255, 0)[0] for a in batch[0]]
    want = [det.run([a[b] for a in q_scores], [a[b] for a in batch[1]], [a[b] for a in batch[2]], **size,
                    dequant={"scores": (1 / 255, 0)}) for b in range(2)]
    got = det.run_batch(q_scores, *batch[1:], threads=2, dequant={"scores": (1 / 255, 0)}, **size)
    assert len(got) == 2 and all(np.array_equal(g, w) for g, w in zip(got, want))
    assert not np.array_equal(want[0], want[1]) and len(want[0]) > 0


def _yunet(case):
    folder, meta = FAMILIES / "yunet" / case, _meta("yunet", case)
    g = next(iter(meta["golden"].values()))
    det = facepost.Yunet(threshold=g["threshold"], nms_threshold=g["nms_threshold"], top_k=g["top_k"])
    heads = [np.load(folder / f"{h}.npy") for h in ("loc", "conf", "iou")]
    return det, heads, (meta["input_width"], meta["input_height"])


@pytest.mark.parametrize("case", _cases("yunet"))
def test_yunet_float16_and_quantized_equal_float32(case):
    det, heads, size = _yunet(case)
    halves = [f16(h) for h in heads]
    want = det.run(*[h.astype(np.float32) for h in halves], size)
    assert_identical(det.run(*halves, size), want)
    assert_identical(facepost.yunet(*halves, size, **det.params), want)
    quantized = [quantize(heads[0], np.int8), quantize(heads[1], np.uint8, 1 / 255, 0), quantize(heads[2], np.uint8)]
    dequant = dict(zip(("loc", "conf", "iou"), (pair for _, pair in quantized)))
    want = det.run(*[dequantized(q, pair) for q, pair in quantized], size)
    assert_identical(det.run(*[q for q, _ in quantized], size, dequant=dequant), want)
    if case != "noface_640x640":
        assert len(want) > 0
    # Mixed, non-contiguous: loc float16 Fortran-ordered, conf uint8, iou float32.
    assert_identical(det.run(np.asfortranarray(halves[0]), quantized[1][0], heads[2], size,
                             dequant={"conf": quantized[1][1]}),
                     det.run(halves[0].astype(np.float32), dequantized(*quantized[1]), heads[2], size))
    batch = [np.concatenate([f16(h).reshape(1, *h.shape[-2:])] * 2) for h in heads]
    got = det.run_batch(*batch, size, threads=2)
    assert len(got) == 2 and all(np.array_equal(g, det.run(*halves, size)) for g in got)


def _blaze(case):
    folder = FAMILIES / "blazeface" / case
    det = facepost.Blazeface("back" if case.startswith("back") else "front", threshold=0.5)
    return det, np.load(folder / "regressors.npy"), np.load(folder / "classificators.npy")


@pytest.mark.parametrize("case", _cases("blazeface"))
def test_blazeface_float16_and_quantized_equal_float32(case):
    det, reg, cls = _blaze(case)
    reg16, cls16 = f16(reg), f16(cls)
    want = det.run(reg16.astype(np.float32), cls16.astype(np.float32))
    assert_identical(det.run(reg16, cls16), want)
    assert_identical(facepost.blazeface(reg16, cls16, model=det.params["model"], threshold=0.5), want)
    (q_reg, dq_reg), (q_cls, dq_cls) = quantize(reg, np.int8), quantize(cls, np.int8)
    want = det.run(dequantized(q_reg, dq_reg), dequantized(q_cls, dq_cls))
    assert_identical(det.run(q_reg, q_cls, dequant={"regressors": dq_reg, "scores": dq_cls}), want)
    if "noface" not in case:
        assert len(want) > 0
    # The two groups: one pair for both, or one per group (None: the float16 one).
    groups = lambda a: (a[0, :512], a[0, 512:])  # noqa: E731
    assert_identical(det.run(groups(q_reg), groups(q_cls), dequant={"regressors": dq_reg, "scores": [dq_cls, dq_cls]}),
                     want)
    mixed = (q_cls[0, :512], cls16[0, 512:])
    assert_identical(det.run(groups(reg16), mixed, dequant={"scores": [dq_cls, None]}),
                     det.run(groups(reg16.astype(np.float32)),
                             (dequantized(q_cls[0, :512], dq_cls), cls16[0, 512:].astype(np.float32))))
    batch = np.concatenate([q_reg, q_reg]), np.concatenate([q_cls, q_cls])
    got = det.run_batch(*batch, threads=2, dequant={"regressors": dq_reg, "scores": dq_cls})
    assert len(got) == 2 and all(np.array_equal(g, want) for g in got)


@pytest.mark.parametrize("case", _cases("yolov5_face"))
def test_yolov5_face_float16_and_quantized_equal_float32(case):
    meta = _meta("yolov5_face", case)
    size = (meta["input_width"], meta["input_height"])
    pred = np.load(FAMILIES / "yolov5_face" / case / "pred.npy")
    det = facepost.Yolov5Face()
    pred16 = f16(pred)
    want = det.run(pred16.astype(np.float32), size)
    assert_identical(det.run(pred16, size), want)
    assert_identical(det.run(np.asfortranarray(pred16[0]), size), want)
    assert_identical(facepost.yolov5_face(pred16, size), want)
    if "noface" not in case:
        assert len(want) > 0
    for dtype in (np.int8, np.uint8):
        q, pair = quantize(pred, dtype)
        assert_identical(det.run(q, size, dequant={"pred": pair}), det.run(dequantized(q, pair), size))
    got = det.run_batch(np.concatenate([pred16, pred16]), size, threads=2)
    assert len(got) == 2 and all(np.array_equal(g, want) for g in got)


def test_yolov5_face_quantized_detections():
    """pred quantized per tensor keeps its boxes only at a coarse step (pixels and scores share one
    scale); here values that uint8 / int8 hold exactly, with faces kept: obj and cls in {0.5, 1}."""
    rng = np.random.default_rng(15)
    n = 25200
    q = np.zeros((n, 16), np.uint8)
    q[:, 0:2] = rng.integers(20, 240, (n, 2))  # centre, in steps of 0.5: 10..120 pixels
    q[:, 2:4] = rng.integers(10, 60, (n, 2))
    q[:, 5:15] = rng.integers(0, 255, (n, 10))
    q[:, 4] = rng.choice([0, 0, 0, 1, 2], n)
    q[:, 15] = rng.choice([1, 2], n)
    det = facepost.Yolov5Face()
    want = det.run(dequantized(q, (0.5, 0)), (640, 640))
    assert len(want) > 10
    assert_identical(det.run(q, (640, 640), dequant={"pred": (0.5, 0)}), want)
    q8 = (q.astype(np.int32) - 128).astype(np.int8)  # the same values with zero point -128
    assert_identical(det.run(q8, (640, 640), dequant={"pred": (0.5, -128)}), want)
    got = det.run_batch(np.stack([q8, q8]), (640, 640), dequant={"pred": (0.5, -128)}, threads=2)
    assert len(got) == 2 and all(np.array_equal(g, want) for g in got)


# ---- refusals ----------------------------------------------------------------------------------

def retina_args(**change):
    _, (loc, conf, landms), (size, resize) = retina_case("group_mnet_long640", "reference_detect")
    heads = dict(loc=loc, conf=conf, landms=landms)
    for head, value in change.items():
        heads[head] = value(heads[head]) if callable(value) else value
    return heads, size, resize


U8 = lambda a: quantize(a, np.uint8, 1 / 255, 0)[0]  # noqa: E731
I8 = lambda a: quantize(a, np.int8, 0.05, 0)[0]  # noqa: E731

RETINA_ERRORS = {
    "int8_without_dequant": (dict(conf=I8), None, ValueError,
                             r"^conf: int8 arrays need dequant=\{'conf': \(scale, zero_point\)\}$"),
    "uint8_without_its_entry": (dict(conf=U8, loc=I8), {"conf": (1 / 255, 0)}, ValueError,
                                r"^loc: int8 arrays need dequant=\{'loc': \(scale, zero_point\)\}$"),
    "dequant_for_float32": (dict(), {"loc": (0.5, 0)}, ValueError,
                            r"^loc: dequantization \(scale 0\.5, zero point 0\) given for a float32 tensor; only int8 "
                            r"and uint8 tensors are quantized$"),
    "dequant_for_float16": (dict(landms=f16), {"landms": (1.0, 0)}, ValueError,
                            r"^landms: dequantization \(scale 1, zero point 0\) given for a float16 tensor"),
    "unknown_head": (dict(), {"lco": (0.5, 0)}, ValueError,
                     r"^dequant: unknown head 'lco' \(heads: loc, conf, landms\)$"),
    "not_a_dict": (dict(conf=U8), [("conf", (1 / 255, 0))], TypeError,
                   r"^dequant must be a dict from head name to \(scale, zero_point\), got \["),
    "one_value": (dict(conf=U8), {"conf": (0.5,)}, ValueError,
                  r"^dequant\['conf'\] must be a \(scale, zero_point\) pair, got 1 values"),
    "scale_only": (dict(conf=U8), {"conf": 0.5}, TypeError,
                   r"^dequant\['conf'\] must be a \(scale, zero_point\) pair, got 0\.5 \(float\)"),
    "float_zero_point": (dict(conf=U8), {"conf": (0.5, 1.5)}, TypeError,
                         r"^dequant\['conf'\] zero_point must be an integer, got 1\.5 \(float\)"),
    "string_scale": (dict(conf=U8), {"conf": ("0.5", 0)}, TypeError, r"^dequant\['conf'\] scale must be a number"),
    "zero_scale": (dict(conf=U8), {"conf": (0.0, 0)}, ValueError,
                   r"^conf: dequantization scale must be finite and > 0, got 0$"),
    "negative_scale": (dict(conf=U8), {"conf": (-0.5, 0)}, ValueError,
                       r"^conf: dequantization scale must be finite and > 0, got -0\.5$"),
    "nan_scale": (dict(conf=U8), {"conf": (float("nan"), 0)}, ValueError,
                  r"^conf: dequantization scale must be finite and > 0, got nan$"),
    "scale_beyond_float32": (dict(conf=U8), {"conf": (1e39, 0)}, ValueError,
                             r"^conf: dequantization scale must be finite and > 0, got inf$"),
    "int8_zero_point_128": (dict(conf=I8), {"conf": (0.5, 128)}, ValueError,
                            r"^conf: zero point 128 is outside the int8 range \[-128, 127\]$"),
    "uint8_zero_point_negative": (dict(conf=U8), {"conf": (0.5, -1)}, ValueError,
                                  r"^conf: zero point -1 is outside the uint8 range \[0, 255\]$"),
    "huge_zero_point": (dict(conf=U8), {"conf": (0.5, 2 ** 70)}, ValueError,
                        r"^conf: zero point 1180591620717411303424 is outside the uint8 range \[0, 255\]$"),
    "float64": (dict(loc=lambda a: a.astype(np.float64)), None, ValueError,
                r"^loc: dtype float64 is not float32, float16, int8 or uint8; convert with \.astype\(numpy\.float32\) "
                r"\(float64 is not narrowed silently\)$"),
    "int16": (dict(conf=lambda a: a.astype(np.int16)), {"conf": (0.5, 0)}, ValueError,
              r"^conf: dtype int16 is not float32, float16, int8 or uint8"),
}


@pytest.mark.parametrize("case", sorted(RETINA_ERRORS))
def test_postprocessor_refusals(case):
    change, dequant, error, message = RETINA_ERRORS[case]
    heads, size, resize = retina_args(**change)
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    with pytest.raises(error, match=message):
        pp.run(**heads, input_size=size, resize=resize, dequant=dequant)
    with pytest.raises(error, match=message):
        facepost.postprocess(**heads, input_size=size, resize=resize, dequant=dequant)
    batch = {k: v[None] for k, v in heads.items()}
    with pytest.raises(error, match=message):
        pp.run_batch(**batch, input_size=size, resize=resize, dequant=dequant)
    assert len(pp.run(**retina_args()[0], input_size=size, resize=resize)) > 0  # still usable


def test_family_refusals_name_the_head():
    _, scores, bboxes, kps, size = _scrfd("family_640x640")
    u8 = [U8(a) for a in scores]
    with pytest.raises(ValueError, match=r"^score_8: uint8 arrays need dequant=\{'scores': \(scale, zero_point\)\}$"):
        facepost.scrfd(u8, bboxes, kps, **size)
    with pytest.raises(ValueError, match=r"^score_16: uint8 arrays need dequant=\{'scores'"):
        facepost.scrfd(u8, bboxes, kps, **size, dequant={"scores": [(1 / 255, 0), None, None]})
    with pytest.raises(ValueError, match=r"^dequant\['scores'\] must be a \(scale, zero_point\) pair for all 3 arrays "
                                         r"of scores, or a list of one pair \(None: not quantized\) per array; got 2 "
                                         r"entries for 3 arrays$"):
        facepost.scrfd(u8, bboxes, kps, **size, dequant={"scores": [(1 / 255, 0), (1 / 255, 0)]})
    with pytest.raises(ValueError, match=r"^dequant: unknown head 'score' \(heads: scores, bboxes, kps\)$"):
        facepost.scrfd(u8, bboxes, kps, **size, dequant={"score": (1 / 255, 0)})
    with pytest.raises(ValueError, match=r"^dequant: 'kps' given, but kps is None$"):
        facepost.scrfd(scores, bboxes, None, **size, dequant={"kps": (0.1, 0)})
    with pytest.raises(ValueError, match=r"^bbox_32: dequantization \(scale 0\.1, zero point 0\) given for a float32"):
        facepost.Scrfd().run(scores, bboxes, kps, **size, dequant={"bboxes": [None, None, (0.1, 0)]})
    with pytest.raises(ValueError, match=r"^score_8: uint8 arrays need dequant=\{'scores'"):
        facepost.Scrfd().run_batch([a[None] for a in u8], [a[None] for a in bboxes], [a[None] for a in kps], **size)

    _, reg, cls = _blaze("front_3faces")
    with pytest.raises(ValueError, match=r"^scores\[0\]: int8 arrays need dequant=\{'scores': \(scale, "
                                         r"zero_point\)\}$"):
        facepost.blazeface(reg, (I8(cls[0, :512]), I8(cls[0, 512:])))
    with pytest.raises(TypeError, match=r"^dequant\['scores'\] scale must be a number, got \(0\.05, 0\) \(tuple\)"):
        facepost.blazeface(reg, I8(cls), dequant={"scores": [(0.05, 0), (0.05, 0)]})  # one array, one pair
    with pytest.raises(ValueError, match=r"^dequant: unknown head 'classificators' \(heads: regressors, scores\)$"):
        facepost.Blazeface().run_batch(reg, cls, dequant={"classificators": (0.05, 0)})

    _, heads, ysize = _yunet("family_320x240")
    with pytest.raises(ValueError, match=r"^iou: uint8 arrays need dequant=\{'iou': \(scale, zero_point\)\}$"):
        facepost.yunet(heads[0], heads[1], U8(heads[2]), ysize)
    with pytest.raises(ValueError, match=r"^dequant: unknown head 'landms' \(heads: loc, conf, iou\)$"):
        facepost.Yunet().run_batch(*(h[None] for h in heads), ysize, dequant={"landms": (0.05, 0)})

    pred = np.load(FAMILIES / "yolov5_face" / "family_640x512" / "pred.npy")
    with pytest.raises(ValueError, match=r"^pred: int8 arrays need dequant=\{'pred': \(scale, zero_point\)\}$"):
        facepost.Yolov5Face().run_batch(I8(pred), (640, 512))
    with pytest.raises(ValueError, match=r"^pred: zero point -129 is outside the int8 range \[-128, 127\]$"):
        facepost.yolov5_face(I8(pred), (640, 512), dequant={"pred": (0.05, -129)})
    with pytest.raises(ValueError, match=r"^pred: dtype float64 is not float32, float16, int8 or uint8; convert with "
                                         r"\.astype\(numpy\.float32\) \(float64 is not narrowed silently\)$"):
        facepost.Yolov5Face().run(pred.astype(np.float64), (640, 512))
