"""run_batch of Postprocessor and of each family's class: [B,N,C] heads, one mapping for every frame
or one per frame, threads; each result identical to the single-frame call on that frame."""
import json

import numpy as np
import pytest

import facepost
from conftest import (DATA, FIXTURES, anchor_kwargs, assert_gil_released, assert_matches_golden, fixture, golden,
                      input_size, params_kwargs)

FAMILIES = DATA / "families"
THREADS = (1, 2, 5)  # the batches have 3 frames: 5 threads is clamped to one per frame


def rolled(a, column, shift):
    """a (read-only) with one column's rows rolled: other candidates, so another frame's result."""
    b = np.array(a, copy=True)
    b[..., column] = np.roll(a[..., column], shift, axis=-1)
    return b


def assert_same_results(got, want):
    """run_batch's list against the single-frame calls: same length, each array identical."""
    assert isinstance(got, list) and len(got) == len(want)
    for b, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype == np.float32, b
        assert g.shape == w.shape, (b, g.shape, w.shape)
        assert np.array_equal(g, w), b


# ---- Postprocessor -----------------------------------------------------------------------------

def retinaface_frames(name):
    """Three frames of one fixture's shape: the fixture, its face scores rolled, the fixture again."""
    _, heads = fixture(name)
    conf = rolled(heads["conf"], 1, 997)
    conf[:, 0] = 1 - conf[:, 1]
    return [(heads["loc"], heads["conf"], heads["landms"]), (heads["loc"], conf, heads["landms"]),
            (heads["loc"], heads["conf"], heads["landms"])]


def stack(frames):
    return [np.stack(head) for head in zip(*frames)]


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("name", FIXTURES)
def test_postprocessor_run_batch_equals_run(name, threads):
    meta, _ = fixture(name)
    pp = facepost.Postprocessor(**anchor_kwargs(meta), **params_kwargs(meta, "reference_detect"))
    frames = retinaface_frames(name)
    want = [pp.run(*f, input_size(meta), meta["resize"]) for f in frames]
    assert not np.array_equal(want[0], want[1])  # the frames differ
    got = pp.run_batch(*stack(frames), input_size(meta), meta["resize"], threads=threads)
    assert_same_results(got, want)
    assert_matches_golden(got[0], golden(name, "reference_detect"))
    assert_same_results(pp.run_batch(*stack(frames), input_size(meta), meta["resize"], threads=threads), want)


def test_postprocessor_per_frame_mappings():
    meta, _ = fixture("group_mnet_long640")
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    frames = retinaface_frames("group_mnet_long640")
    size = input_size(meta)
    resizes = [meta["resize"], 1.0, 0.5]
    want = [pp(*f, size, r) for f, r in zip(frames, resizes)]
    for threads in THREADS:
        assert_same_results(pp.run_batch(*stack(frames), size, resizes, threads=threads), want)
    assert not np.array_equal(want[0], want[2])  # frames 0 and 2 have the same heads, not the same resize
    # letterbox and clip_to per frame (a Letterbox, a tuple, none), the resize of the others too.
    lb = facepost.letterbox((1600, 898), size)
    letterboxes = [lb, (0.5, 0.5, 3.0, 4.0), None]
    clips = [lb.original_size, None, (300, 200)]
    want = [pp(*f, size, r, letterbox=b, clip_to=c)
            for f, r, b, c in zip(frames, [None, None, 0.5], letterboxes, clips)]
    got = pp.run_batch(*stack(frames), size, [None, None, 0.5], letterbox=letterboxes, clip_to=clips, threads=2)
    assert_same_results(got, want)
    # One value for every frame, each keyword.
    want = [pp(*f, size, letterbox=lb, clip_to=lb.original_size) for f in frames]
    assert_same_results(pp.run_batch(*stack(frames), size, letterbox=lb, clip_to=lb.original_size), want)
    want = [pp(*f, size, letterbox=lb.mapping, clip_to=(640, 359)) for f in frames]
    assert_same_results(pp.run_batch(*stack(frames), size, letterbox=np.array(lb.mapping),
                                     clip_to=[640, 359]), want)
    # A numpy array of per-frame values.
    want = [pp(*f, size, r) for f, r in zip(frames, resizes)]
    assert_same_results(pp.run_batch(*stack(frames), size, np.array(resizes)), want)


def channels_first(a):
    """[B,N,C] read through a [B,C,N] buffer, transposed without a copy."""
    return np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)


def every_other_frame(a):
    big = np.full((2 * a.shape[0],) + a.shape[1:], np.nan, np.float32)
    big[::2] = a
    return big[::2]


def misaligned(a):
    raw = np.zeros(a.nbytes + 1, np.uint8)
    view = raw[1:].view(np.float32).reshape(a.shape)
    view[...] = a
    return view


BATCH_LAYOUTS = {
    "c_order": np.ascontiguousarray,
    "fortran": np.asfortranarray,
    "channels_first_transposed": channels_first,
    "every_other_frame": every_other_frame,
    "reversed_frames": lambda a: a[::-1].copy()[::-1],
    "misaligned": misaligned,
}


@pytest.mark.parametrize("layout", sorted(BATCH_LAYOUTS))
def test_postprocessor_run_batch_reads_any_layout(layout):
    meta, _ = fixture("crowd_mnet_native")
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    frames = retinaface_frames("crowd_mnet_native")
    want = [pp(*f, input_size(meta)) for f in frames]
    heads = [BATCH_LAYOUTS[layout](h) for h in stack(frames)]
    before = [h.copy() for h in heads]
    assert_same_results(pp.run_batch(*heads, input_size(meta), threads=2), want)
    for h, b in zip(heads, before):
        np.testing.assert_array_equal(h, b)  # inputs untouched


def test_postprocessor_batch_of_one_and_interleaved_runs():
    """A [1,N,C] batch is the frame run takes; run and run_batch share one object's lock and do not
    disturb each other's buffers."""
    meta, heads = fixture("selfie_slim_native")
    pp = facepost.Postprocessor(**anchor_kwargs(meta), **params_kwargs(meta, "reference_detect"))
    args = (heads["loc"], heads["conf"], heads["landms"])
    one = pp(*args, input_size(meta), meta["resize"])
    stats = pp.stats
    assert_same_results(pp.run_batch(*(a[None] for a in args), input_size(meta), meta["resize"]), [one])
    assert pp.stats == stats  # run's counts
    np.testing.assert_array_equal(pp(*(a[None] for a in args), input_size(meta), meta["resize"]), one)


def test_empty_batch_gives_an_empty_list():
    meta, heads = fixture("group_mnet_long640")
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    empty = [heads[h][None][:0] for h in ("loc", "conf", "landms")]
    assert pp.run_batch(*empty, input_size(meta)) == []
    assert pp.run_batch(*empty, input_size(meta), [], letterbox=[], clip_to=[], threads=4) == []
    assert facepost.Yolov5Face().run_batch(np.zeros((0, 25200, 16), np.float32), threads=3) == []
    assert facepost.Yunet().run_batch(*(np.zeros((0, 4385, c), np.float32) for c in (14, 2, 1)), (320, 240)) == []
    assert facepost.Blazeface().run_batch(np.zeros((0, 896, 16), np.float32), np.zeros((0, 896, 1), np.float32)) == []
    zeros = lambda c: [np.zeros((0, n, c), np.float32) for n in (12800, 3200, 800)]  # noqa: E731
    assert facepost.Scrfd().run_batch(zeros(1), zeros(4), zeros(10)) == []


# ---- errors ------------------------------------------------------------------------------------

def batch_args(count=2):
    meta, heads = fixture("group_mnet_long640")
    return [np.stack([heads[h]] * count) for h in ("loc", "conf", "landms")], input_size(meta)


@pytest.mark.parametrize("call", ["run", "__call__", "postprocess"])
def test_single_frame_calls_name_run_batch_for_a_batch(call):
    (loc, conf, landms), size = batch_args(2)
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    target = {"run": pp.run, "__call__": pp, "postprocess": facepost.postprocess}[call]
    with pytest.raises(ValueError, match=r"^loc: expected shape \[1,N,C\], got batch dimension 2; "
                                         r"use Postprocessor\.run_batch for batches$"):
        target(loc, conf[0], landms[0], size)
    with pytest.raises(ValueError, match=r"^landms: .*got batch dimension 2; use Postprocessor\.run_batch"):
        target(loc[0], conf[0], landms, size)


def test_family_single_frame_calls_name_their_run_batch():
    pred = np.load(FAMILIES / "yolov5_face" / "family_640x512" / "pred.npy")
    with pytest.raises(ValueError, match=r"^pred: .*got batch dimension 2; use Yolov5Face\.run_batch for batches"):
        facepost.Yolov5Face().run(np.concatenate([pred, pred]), (640, 512))
    reg, cls, _ = blazeface_case("front_3faces")
    with pytest.raises(ValueError, match=r"^scores: .*got batch dimension 3; use Blazeface\.run_batch"):
        facepost.blazeface(reg, np.concatenate([cls] * 3))
    loc, conf, iou = yunet_heads("family_320x240")
    with pytest.raises(ValueError, match=r"^iou: .*got batch dimension 2; use Yunet\.run_batch"):
        facepost.Yunet()(loc, conf, np.stack([iou, iou]), (320, 240))
    scores, bboxes, kps, _ = scrfd_heads("family_640x640")
    with pytest.raises(ValueError, match=r"^kps_16: .*got batch dimension 2; use Scrfd\.run_batch"):
        facepost.Scrfd()(scores, bboxes, [kps[0], np.stack([kps[1]] * 2), kps[2]])


@pytest.mark.parametrize("change,error,message", [
    (dict(conf=3), ValueError, r"^Postprocessor\.run_batch: the arrays disagree on the batch size: "
                               r"loc 2, conf 3, landms 2$"),
    (dict(resize=[1.0, 1.0, 1.0]), ValueError, r"^Postprocessor\.run_batch: resize has 3 values for 2 frames"),
    (dict(resize=[1.0]), ValueError, r"^Postprocessor\.run_batch: resize has 1 values for 2 frames"),
    (dict(letterbox=[(1, 1, 0, 0)] * 3), ValueError, r"^Postprocessor\.run_batch: letterbox has 3 values for 2"),
    (dict(clip_to=[(640, 359)]), ValueError, r"^Postprocessor\.run_batch: clip_to has 1 values for 2 frames"),
    (dict(resize=[1.0, -2.0]), ValueError, r"^Postprocessor\.run_batch: frame 1: resize must be finite and "
                                           r"positive, got -2.0"),
    (dict(resize=[1.0, 2.0], letterbox=[None, (1, 1, 0, 0)]), ValueError,
     r"^Postprocessor\.run_batch: frame 1: give either resize or letterbox, not both"),
    (dict(resize="1"), TypeError, r"^resize must be a number, got '1'"),
    (dict(threads=-1), ValueError, r"^threads must be a positive integer \(0 or None: one per CPU core\), got -1"),
    (dict(threads=1.0), TypeError, r"^threads must be an integer, got 1.0 \(float\)"),
    (dict(threads=True), TypeError, r"^threads must be an integer, got True \(bool\)"),
    (dict(threads="2"), TypeError, r"^threads must be an integer, got '2' \(str\)"),
    (dict(rank2=True), ValueError, r"^loc: Postprocessor\.run_batch takes \[B,N,C\] arrays .*got shape \(9520, 4\)"),
    (dict(float64=True), ValueError, r"^conf: dtype float64 is not float32, float16, int8 or uint8; convert with "
                                     r"\.astype\(numpy\.float32\) \(float64 is not narrowed silently\)$"),
    (dict(input_size=(640, 640)), ValueError, r"^input_size \(640, 640\): batch frame 0: tensors have 9520 rows"),
    (dict(landms_cols=4), ValueError, r"^batch frame 0: landms tensor has 4 columns, expected 10"),
])
def test_run_batch_errors(change, error, message):
    (loc, conf, landms), size = batch_args(2)
    kwargs = {}
    for key, value in change.items():
        if key == "conf":
            conf = np.concatenate([conf, conf[:1]])
        elif key == "rank2":
            loc = loc[0]
        elif key == "float64":
            conf = conf.astype(np.float64)
        elif key == "input_size":
            size = value
        elif key == "landms_cols":
            landms = landms[..., :value]
        else:
            kwargs[key] = value
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    with pytest.raises(error, match=message):
        pp.run_batch(loc, conf, landms, size, **kwargs)
    (loc, conf, landms), size = batch_args(2)
    assert len(pp.run_batch(loc, conf, landms, size)) == 2  # still usable


def test_threads_zero_or_none_mean_one_per_core_and_more_threads_than_frames_is_fine():
    (loc, conf, landms), size = batch_args(2)
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    want = [pp(loc[b], conf[b], landms[b], size) for b in range(2)]
    for threads in (0, None, 2, 64, 10 ** 30):
        assert_same_results(pp.run_batch(loc, conf, landms, size, threads=threads), want)


def test_family_run_batch_errors():
    pred = np.load(FAMILIES / "yolov5_face" / "family_640x512" / "pred.npy")
    det = facepost.Yolov5Face()
    with pytest.raises(ValueError, match=r"^Yolov5Face\.run_batch: resize has 3 values for 2 frames"):
        det.run_batch(np.concatenate([pred, pred]), (640, 512), resize=[1, 2, 3])
    with pytest.raises(ValueError, match=r"^batch frame 0: pred tensor has 20160 rows but input size 640x640"):
        det.run_batch(np.concatenate([pred, pred]))
    with pytest.raises(ValueError, match=r"^threads must be a positive integer"):
        det.run_batch(pred, (640, 512), threads=-3)
    loc, conf, iou = yunet_heads("family_320x240")
    with pytest.raises(ValueError, match=r"^Yunet\.run_batch: the arrays disagree on the batch size: "
                                         r"loc 2, conf 1, iou 2"):
        facepost.Yunet().run_batch(np.stack([loc] * 2), conf[None], np.stack([iou] * 2), (320, 240))
    reg, cls, _ = blazeface_case("front_3faces")
    with pytest.raises(ValueError, match=r"^Blazeface\.run_batch: the arrays disagree on the batch size: "
                                         r"regressors\[0\] 1, regressors\[1\] 1, scores 2"):
        facepost.Blazeface().run_batch((reg[:, :512], reg[:, 512:]), np.concatenate([cls, cls]))
    with pytest.raises(ValueError, match=r"^regressors: Blazeface\.run_batch takes \[B,N,C\] arrays"):
        facepost.Blazeface().run_batch(reg[0], cls)
    scores, bboxes, kps, _ = scrfd_heads("family_640x640")
    batched = [[np.stack([a] * 2) for a in head] for head in (scores, bboxes, kps)]
    with pytest.raises(ValueError, match=r"^Scrfd\.run_batch: image_size has 3 values for 2 frames"):
        facepost.Scrfd().run_batch(*batched, image_size=[(640, 640)] * 3)
    with pytest.raises(ValueError, match=r"^Scrfd\.run_batch: frame 1: give either scale or letterbox"):
        facepost.Scrfd().run_batch(*batched, scale=[1.0, 0.5], letterbox=[None, (1, 1, 0, 0)])
    with pytest.raises(ValueError, match=r"3 arrays, one per stride"):
        facepost.Scrfd().run_batch(batched[0][:2], batched[1], batched[2])


# ---- families ----------------------------------------------------------------------------------

def _cases(family):
    return sorted(p.name for p in (FAMILIES / family).iterdir() if (p / "meta.json").is_file())


def _meta(family, case):
    return json.loads((FAMILIES / family / case / "meta.json").read_text())


def scrfd_heads(case):
    folder, meta = FAMILIES / "scrfd" / case, _meta("scrfd", case)
    load = lambda head: [np.load(folder / f"{head}_{s}.npy") for s in (8, 16, 32)]  # noqa: E731
    return load("score"), load("bbox"), (load("kps") if meta["use_kps"] else None), meta


def yunet_heads(case):
    folder = FAMILIES / "yunet" / case
    return [np.load(folder / f"{h}.npy").reshape(-1, c) for h, c in (("loc", 14), ("conf", 2), ("iou", 1))]


def blazeface_case(case):
    folder = FAMILIES / "blazeface" / case
    return np.load(folder / "regressors.npy"), np.load(folder / "classificators.npy"), _meta("blazeface", case)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("case", _cases("scrfd"))
def test_scrfd_run_batch_equals_run(case, threads):
    scores, bboxes, kps, meta = scrfd_heads(case)
    g = next(iter(meta["golden"].values()))
    det = facepost.Scrfd(threshold=g["threshold"], nms_threshold=g["nms_threshold"], max_num=g["max_num"])
    size, scale = (meta["input_width"], meta["input_height"]), meta["det_scale"]
    other = [rolled(s, 0, 331) for s in scores]
    frames = [(scores, bboxes, kps), (other, bboxes, kps), (scores, bboxes, kps)]
    want = [det.run(*f, size, scale) for f in frames]
    stacked = lambda k: [np.stack([f[k][s] for f in frames]) for s in range(3)]  # noqa: E731
    got = det.run_batch(stacked(0), stacked(1), None if kps is None else stacked(2), size, scale, threads=threads)
    assert_same_results(got, want)
    assert_matches_golden(got[0], np.load(FAMILIES / "scrfd" / case / g["file"]))
    # Per frame: scale, image_size (max_num's centre), letterbox, clip_to.
    det = facepost.Scrfd(threshold=0.3, max_num=4)
    scales, images = [scale, 1.0, None], [(2, 2), None, size]
    clips = [None, (300, 200), None]
    want = [det.run(*f, size, s, i, clip_to=c) for f, s, i, c in zip(frames, scales, images, clips)]
    got = det.run_batch(stacked(0), stacked(1), None if kps is None else stacked(2), size, scales, images,
                        clip_to=clips, threads=threads)
    assert_same_results(got, want)


@pytest.mark.parametrize("threads", THREADS)
def test_yolov5_face_run_batch_equals_run(threads):
    # Two fixtures of one input size and a copy with other objectness scores.
    preds = [np.load(FAMILIES / "yolov5_face" / c / "pred.npy")[0]
             for c in ("selfie_crowd_640x640", "noface_640x640_planted")]
    preds.append(rolled(preds[0], 4, 1237))
    det = facepost.Yolov5Face(conf_threshold=0.02, iou_threshold=0.5)
    want = [det.run(p) for p in preds]
    assert_same_results(det.run_batch(np.stack(preds), threads=threads), want)
    meta = _meta("yolov5_face", "selfie_crowd_640x640")
    assert_matches_golden(want[0], np.load(FAMILIES / "yolov5_face" / "selfie_crowd_640x640" /
                                           meta["golden"]["conf_0_02_iou_0_5"]["file"]))
    letterboxes = [(0.5, 0.5, 10, 20), None, (2, 2, 0, 0)]
    resizes = [None, 0.25, None]
    want = [det.run(p, letterbox=b, resize=r, clip_to=(800, 600)) for p, b, r in zip(preds, letterboxes, resizes)]
    assert_same_results(det.run_batch(np.stack(preds), letterbox=letterboxes, resize=resizes, clip_to=(800, 600),
                                      threads=threads), want)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("model", ["front", "back"])
def test_blazeface_run_batch_equals_run(model, threads):
    cases = [blazeface_case(c) for c in _cases("blazeface") if c.startswith(model)]
    regs = [r[0] for r, _, _ in cases] + [cases[0][0][0]]
    logits = [c[0] for _, c, _ in cases] + [rolled(cases[0][1][0], 0, 101)]
    det = facepost.Blazeface(model, threshold=0.5)
    want = [det.run(r, c) for r, c in zip(regs, logits)]
    reg, cls = np.stack(regs), np.stack(logits)
    assert_same_results(det.run_batch(reg, cls, threads=threads), want)
    # The two output groups, and a resize per frame.
    groups = (reg[:, :512], reg[:, 512:]), (cls[:, :512], cls[:, 512:])
    assert_same_results(det.run_batch(*groups, threads=threads), want)
    resizes = [0.5 * (b + 1) for b in range(len(regs))]
    want = [det.run(r, c, resize=s) for r, c, s in zip(regs, logits, resizes)]
    assert_same_results(det.run_batch(reg, cls, resize=resizes, threads=threads), want)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("case", _cases("yunet"))
def test_yunet_run_batch_equals_run(case, threads):
    meta = _meta("yunet", case)
    loc, conf, iou = yunet_heads(case)
    size = (meta["input_width"], meta["input_height"])
    g = next(iter(meta["golden"].values()))
    det = facepost.Yunet(threshold=g["threshold"], nms_threshold=g["nms_threshold"], top_k=g["top_k"])
    frames = [(loc, conf, iou), (loc, rolled(conf, 1, 211), iou), (loc, conf, iou)]
    want = [det.run(*f, size) for f in frames]
    assert_same_results(det.run_batch(*stack(frames), size, threads=threads), want)
    assert_matches_golden(want[0], np.load(FAMILIES / "yunet" / case / g["file"]))
    want = [det.run(*f, size, resize=r) for f, r in zip(frames, (1.0, 0.5, 2.0))]
    assert_same_results(det.run_batch(*stack(frames), size, resize=(1.0, 0.5, 2.0), threads=threads), want)


# ---- the GIL -----------------------------------------------------------------------------------

def heavy_retinaface_batch(side, count=3):
    """`count` synthetic RetinaFace frames whose post-processing is long: every prior a candidate."""
    rng = np.random.default_rng(0)
    n = sum(((side + s - 1) // s) ** 2 * 2 for s in (8, 16, 32))
    loc = rng.normal(0, 1, (count, n, 4)).astype(np.float32)
    conf = np.empty((count, n, 2), np.float32)
    conf[..., 1] = rng.uniform(0.1, 1.0, (count, n))
    conf[..., 0] = 1 - conf[..., 1]
    return loc, conf, np.zeros((count, n, 10), np.float32), (side, side)


def heavy_yolov5_face_batch(side, count=2):
    """`count` synthetic YOLOv5-face frames: every row a candidate, random boxes."""
    rng = np.random.default_rng(0)
    n = 3 * sum((side // s) ** 2 for s in (8, 16, 32))
    pred = np.empty((count, n, 16), np.float32)
    pred[..., 0:2] = rng.uniform(0, side, (count, n, 2))
    pred[..., 2:4] = rng.uniform(4, 64, (count, n, 2))
    pred[..., 4] = rng.uniform(0.3, 1.0, (count, n))
    pred[..., 5:15] = rng.uniform(0, side, (count, n, 10))
    pred[..., 15] = 1.0
    return pred, (side, side)


def long_batches():
    """(name, a run_batch call on synthetic frames) for growing frames, per class."""
    pp = facepost.Postprocessor(preset="retinaface_mnet", threshold=0.0, top_k=None, keep_top_k=None)
    yolo = facepost.Yolov5Face(iou_threshold=1.0)

    def retinaface(side):
        loc, conf, landms, size = heavy_retinaface_batch(side)
        return lambda: pp.run_batch(loc, conf, landms, size, threads=1)

    def yolov5_face(side):
        pred, size = heavy_yolov5_face_batch(side)
        return lambda: yolo.run_batch(pred, size, threads=1)

    return {"Postprocessor": (retinaface, (2048, 4096, 8192)), "Yolov5Face": (yolov5_face, (1024, 2048, 4096))}


@pytest.mark.parametrize("name", ["Postprocessor", "Yolov5Face"])
def test_other_python_threads_run_during_run_batch(name):
    """As test_threads.py's test for run, with threads=1: the calling thread is the only one
    computing, and another Python thread keeps running (conftest.assert_gil_released)."""
    make, sides = long_batches()[name]
    assert_gil_released(make, sides, f"{name}.run_batch")