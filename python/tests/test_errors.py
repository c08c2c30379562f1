"""Every bad input raises ValueError with a message naming the problem (the C++ message where the
C++ API is the one that rejects it)."""
import math

import numpy as np
import pytest

import facepost
from conftest import fixture, image_size

NAME = "group_mnet_long640"


def valid_call():
    meta, heads = fixture(NAME)
    args = dict(loc=heads["loc"], conf=heads["conf"], landms=heads["landms"], image_size=image_size(meta),
                resize=meta["resize"])
    return args


def drop_last_row(a):
    return a[:-1]


HEADS = {
    "loc_float64": ("loc", lambda a: a.astype(np.float64), r"^loc: dtype float64 is not native float32"),
    "conf_int32": ("conf", lambda a: (a * 100).astype(np.int32), r"^conf: dtype int32 is not native float32"),
    "landms_big_endian": ("landms", lambda a: a.astype(">f4"), r"^landms: dtype >f4 is not native float32"),
    "loc_float16": ("loc", lambda a: a.astype(np.float16), r"^loc: dtype float16"),
    "loc_nested_list": ("loc", lambda a: a.tolist(), r"^loc: dtype float64"),
    "loc_none": ("loc", lambda a: None, r"^loc: dtype object"),
    "conf_string": ("conf", lambda a: "conf", r"^conf: dtype <U4"),
    "conf_rank1": ("conf", lambda a: a[:, 1].copy(), r"^conf: expected shape \[N,C\] or \[1,N,C\], got rank 1"),
    "conf_rank4": ("conf", lambda a: a[None, None], r"^conf: expected shape \[N,C\] or \[1,N,C\], got rank 4"),
    "loc_batch_of_two": ("loc", lambda a: np.stack([a, a]), r"^loc: expected shape \[1,N,C\], got batch dimension 2"),
    "loc_five_columns": ("loc", lambda a: np.hstack([a, a[:, :1]]), r"^loc tensor has 5 columns, expected 4"),
    "landms_four_columns": ("landms", lambda a: a[:, :4], r"^landms tensor has 4 columns, expected 10"),
    "conf_one_row_short": ("conf", drop_last_row, r"disagree on the number of rows: loc 9520, conf 9519, landms 9520"),
    "loc_empty": ("loc", lambda a: a[:0], r"^loc tensor is empty"),
}


@pytest.mark.parametrize("case", sorted(HEADS))
def test_bad_head(case):
    head, change, message = HEADS[case]
    args = valid_call()
    args[head] = change(args[head])
    with pytest.raises(ValueError, match=message):
        facepost.postprocess(**args)


def test_all_heads_empty():
    args = valid_call()
    for head in ("loc", "conf", "landms"):
        args[head] = args[head][:0]
    with pytest.raises(ValueError, match=r"^loc tensor is empty"):
        facepost.postprocess(**args)


ARGUMENTS = {
    # image size (the network input, (height, width))
    "image_size_of_the_original": (dict(image_size=(898, 1600)),
                                   r"^tensors have 9520 rows but the anchor configuration gives \d+ priors"),
    # (height, width) swapped is not detectable: the prior count is the same.
    "image_size_slightly_smaller": (dict(image_size=(352, 640)), r"^tensors have 9520 rows but .* gives 9240 priors"),
    "image_size_zero": (dict(image_size=(0, 640)), r"image_size \(0, 640\): height and width must be positive"),
    "image_size_negative": (dict(image_size=(359, -640)), r"image_size \(359, -640\): height and width must be"),
    "image_size_huge": (dict(image_size=(359, 1 << 21)), r"each side must be at most 1048576"),
    "image_size_overflow": (dict(image_size=(1 << 70, 640)), r"image_size height = \d+ is out of range"),
    "image_size_too_many_priors": (dict(image_size=(1 << 20, 1 << 20)),
                                   r"input size 1048576x1048576 gives more than 2147483648 priors"),
    "image_size_one_value": (dict(image_size=(359,)), r"image_size must be \(height, width\), got 1 values"),
    "image_size_string": (dict(image_size="359x640"), r"image_size must be \(height, width\), got '359x640'"),
    "image_size_float": (dict(image_size=(359.5, 640)), r"image_size height must be an integer, got 359.5"),
    "image_size_none": (dict(image_size=None), r"image_size must be \(height, width\), got None"),
    # mapping back to the original image
    "resize_zero": (dict(resize=0.0), r"^mapping scale \(0, 0\) must be finite and positive"),
    "resize_negative": (dict(resize=-0.4), r"^mapping scale .* must be finite and positive"),
    "resize_nan": (dict(resize=math.nan), r"^mapping scale \(nan, nan\) must be finite and positive"),
    "resize_inf": (dict(resize=math.inf), r"^mapping scale \(inf, inf\) must be finite and positive"),
    "resize_string": (dict(resize="0.4"), r"resize must be a number, got '0.4'"),
    "letterbox_and_resize": (dict(letterbox=(0.4, 0.4, 0, 0)), r"give either resize or letterbox, not both"),
    "letterbox_three_values": (dict(resize=None, letterbox=(0.4, 0.4, 0)),
                               r"letterbox must be \(scale_x, scale_y, pad_x, pad_y\), got 3 values"),
    "letterbox_zero_scale": (dict(resize=None, letterbox=(0.4, 0.0, 0, 0)), r"^mapping scale \(0.4, 0\) must be"),
    "letterbox_nan_pad": (dict(resize=None, letterbox=(0.4, 0.4, math.nan, 0)),
                          r"^mapping padding \(nan, 0\) must be finite"),
    "clip_to_zero_width": (dict(clip_to=(0, 898)), r"^clip image size 0x898 must be finite and positive"),
    "clip_to_one_value": (dict(clip_to=(1600,)), r"clip_to must be \(width, height\), got 1 values"),
    # parameters
    "threshold_negative": (dict(threshold=-0.1), r"^score threshold -0.1 is outside \[0, 1\]"),
    "threshold_above_one": (dict(threshold=1.5), r"^score threshold 1.5 is outside \[0, 1\]"),
    "threshold_nan": (dict(threshold=math.nan), r"^score threshold nan is outside \[0, 1\]"),
    "threshold_string": (dict(threshold="high"), r"threshold must be a number, got 'high'"),
    "nms_threshold_above_one": (dict(nms_threshold=2.0), r"^NMS threshold 2 is outside \[0, 1\]"),
    "nms_threshold_nan": (dict(nms_threshold=math.nan), r"^NMS threshold nan is outside \[0, 1\]"),
    "iou_unknown": (dict(iou="fast"), r"iou must be 'legacy' \(py_cpu_nms\) or 'continuous' .*, got 'fast'"),
    "iou_not_a_string": (dict(iou=1), r"iou must be 'legacy' \(py_cpu_nms\) or 'continuous' .*, got 1$"),
    "top_k_zero": (dict(top_k=0), r"top_k must be a positive integer or None \(no limit\), got 0"),
    "top_k_negative": (dict(top_k=-5), r"top_k must be a positive integer or None \(no limit\), got -5"),
    "top_k_float": (dict(top_k=10.5), r"top_k must be an integer, got 10.5"),
    "keep_top_k_zero": (dict(keep_top_k=0), r"keep_top_k must be a positive integer or None"),
    # anchors
    "preset_unknown": (dict(preset="yolo"), r"unknown preset 'yolo'; known presets: retinaface_mnet, "),
    "preset_and_min_sizes": (dict(preset="retinaface_mnet", min_sizes=[[16, 32], [64, 128], [256, 512]]),
                             r"give either preset or min_sizes/steps, not both"),
    "preset_and_steps": (dict(preset="fd1m_slim", steps=[8, 16, 32]), r"give either preset or min_sizes/steps"),
    "preset_not_a_name": (dict(preset=3), r"preset must be a name \(str\), got 3"),
    "steps_fewer_levels": (dict(steps=[8, 16]), r"steps has 2 levels but min_sizes has 3"),
    "min_sizes_four_levels_default_steps": (dict(min_sizes=[[10], [32], [64], [128]]),
                                            r"min_sizes has 4 levels; give steps too"),
    "min_sizes_no_levels": (dict(min_sizes=[], steps=[]), r"^anchor configuration has no levels"),
    "min_sizes_empty_level": (dict(min_sizes=[[16, 32], [], [256, 512]]), r"^anchor level 1 has no min sizes"),
    "min_size_negative": (dict(min_sizes=[[16, -32], [64, 128], [256, 512]]),
                          r"^anchor level 0 has min size -32; min sizes must be positive"),
    "min_sizes_not_nested": (dict(min_sizes=[16, 32, 64]), r"min_sizes\[0\] must be a list of integers, got 16"),
    "step_zero": (dict(steps=[8, 0, 32]), r"^anchor level 1 has step 0; steps must be positive"),
    "step_out_of_int_range": (dict(steps=[8, 16, 1 << 40]), r"steps\[2\] = 1099511627776 is out of range"),
    "variance_zero": (dict(variance=(0.0, 0.2)), r"^variance \(0, 0.2\) must be finite and positive"),
    "variance_nan": (dict(variance=(0.1, math.nan)), r"^variance \(0.1, nan\) must be finite and positive"),
    "variance_one_value": (dict(variance=(0.1,)), r"variance must be \(center, size\), got 1 values"),
}


@pytest.mark.parametrize("case", sorted(ARGUMENTS))
def test_bad_argument(case):
    change, message = ARGUMENTS[case]
    args = valid_call()
    args.update(change)
    with pytest.raises(ValueError, match=message):
        facepost.postprocess(**args)


CONSTRUCTOR = ["threshold_nan", "nms_threshold_above_one", "iou_unknown", "top_k_zero", "preset_unknown",
               "preset_and_min_sizes", "steps_fewer_levels", "step_zero", "variance_zero"]


@pytest.mark.parametrize("case", CONSTRUCTOR)
def test_postprocessor_rejects_bad_configuration_when_built(case):
    change, message = ARGUMENTS[case]
    with pytest.raises(ValueError, match=message):
        facepost.Postprocessor(**change)


@pytest.mark.parametrize("case", ["conf_one_row_short", "loc_float64", "loc_batch_of_two"])
def test_postprocessor_rejects_bad_heads_and_stays_usable(case):
    meta, heads = fixture(NAME)
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    good = pp(heads["loc"], heads["conf"], heads["landms"], image_size(meta), meta["resize"])
    head, change, message = HEADS[case]
    args = valid_call()
    args[head] = change(args[head])
    with pytest.raises(ValueError, match=message):
        pp(**args)
    with pytest.raises(ValueError, match=r"^tensors have 9520 rows"):
        pp(heads["loc"], heads["conf"], heads["landms"], (640, 640), meta["resize"])
    again = pp(heads["loc"], heads["conf"], heads["landms"], image_size(meta), meta["resize"])
    np.testing.assert_array_equal(again, good)


def test_letterbox_fit_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"letterbox_fit: every size must be positive"):
        facepost.letterbox_fit((0, 512), (640, 640))
    with pytest.raises(ValueError, match=r"original_size must be \(height, width\)"):
        facepost.letterbox_fit(512, (640, 640))
    with pytest.raises(ValueError, match=r"unknown preset 'x'"):
        facepost.preset_anchors("x")


def test_non_finite_heads_give_finite_detections():
    """NaN and infinite regressions and scores never reach the output: every value stays finite."""
    args = valid_call()
    rng = np.random.default_rng(5)
    for head in ("loc", "conf", "landms"):
        a = args[head].copy()
        rows = rng.choice(a.shape[0], 400, replace=False)
        a[rows, rng.integers(0, a.shape[1], 400)] = rng.choice([np.nan, np.inf, -np.inf, 3e38], 400)
        args[head] = a
    dets = facepost.postprocess(**args)
    assert dets.shape[0] > 0
    assert np.isfinite(dets).all()


def test_a_3840x2160_frame_runs():
    """A huge but legal input: 340,320 priors with RetinaFace-mnet; one confident face comes back."""
    n = sum(((3840 + s - 1) // s) * ((2160 + s - 1) // s) * 2 for s in (8, 16, 32))
    assert n == 340320
    loc = np.zeros((n, 4), np.float32)
    conf = np.tile(np.array([1.0, 0.0], np.float32), (n, 1))
    conf[n // 2] = (0.01, 0.99)
    dets = facepost.postprocess(loc, conf, np.zeros((n, 10), np.float32), image_size=(2160, 3840),
                                preset="retinaface_mnet")
    assert dets.shape == (1, 15)
    assert dets[0, 4] == np.float32(0.99)
