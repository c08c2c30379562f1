"""Every bad input raises TypeError (wrong type) or ValueError (wrong value) with a message naming
the argument: checked in Python before the extension is called, except the head tensors and the
prior count, which the C++ library checks (its messages)."""
import math

import numpy as np
import pytest

import facepost
from conftest import fixture, input_size

NAME = "group_mnet_long640"


def valid_call():
    meta, heads = fixture(NAME)
    args = dict(loc=heads["loc"], conf=heads["conf"], landms=heads["landms"], input_size=input_size(meta),
                resize=meta["resize"])
    return args


def drop_last_row(a):
    return a[:-1]


HEADS = {
    "loc_float64": ("loc", lambda a: a.astype(np.float64),
                    r"^loc: dtype float64 is not float32, float16, int8 or uint8; convert with "
                    r"\.astype\(numpy\.float32\) \(float64 is not narrowed silently\)$"),
    "conf_int32": ("conf", lambda a: (a * 100).astype(np.int32),
                   r"^conf: dtype int32 is not float32, float16, int8 or uint8; convert with "
                   r"\.astype\(numpy\.float32\)$"),
    "conf_bool": ("conf", lambda a: a > 0.5, r"^conf: dtype bool is not float32, float16, int8 or uint8"),
    "landms_big_endian": ("landms", lambda a: a.astype(">f4"),
                          r"^landms: dtype >f4 is not float32, float16, int8 or uint8 in native byte order; "
                          r"convert with \.astype\(numpy\.float32\)$"),
    "loc_float16_big_endian": ("loc", lambda a: a.astype(">f2"),
                               r"^loc: dtype >f2 is not float32, float16, int8 or uint8 in native byte order; "
                               r"convert with \.astype\(numpy\.float16\)$"),
    "conf_uint8_without_dequant": ("conf", lambda a: (a * 255).astype(np.uint8),
                                   r"^conf: uint8 arrays need dequant=\{'conf': \(scale, zero_point\)\}$"),
    "loc_nested_list": ("loc", lambda a: a.tolist(), r"^loc: dtype float64"),
    "loc_none": ("loc", lambda a: None, r"^loc: dtype object"),
    "conf_string": ("conf", lambda a: "conf", r"^conf: dtype <U4"),
    "conf_rank1": ("conf", lambda a: a[:, 1].copy(), r"^conf: expected shape \[N,C\] or \[1,N,C\], got rank 1"),
    "conf_rank4": ("conf", lambda a: a[None, None], r"^conf: expected shape \[N,C\] or \[1,N,C\], got rank 4"),
    "loc_batch_of_two": ("loc", lambda a: np.stack([a, a]), r"^loc: expected shape \[1,N,C\], got batch dimension 2; "
                                                             r"use Postprocessor\.run_batch for batches$"),
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


# case: (change to a valid call, exception type, message). TypeError for a wrong type, ValueError
# for a wrong value; the message names the argument.
ARGUMENTS = {
    # input size (the network input, (width, height))
    "input_size_of_the_original": (dict(input_size=(1600, 898)), ValueError,
                                   r"^input_size \(1600, 898\): tensors have 9520 rows but the anchor configuration "
                                   r"gives \d+ priors"),
    # (width, height) swapped cannot be detected: the prior count is the same (test_input_size.py).
    "input_size_slightly_smaller": (dict(input_size=(640, 352)), ValueError,
                                    r"^input_size \(640, 352\): tensors have 9520 rows but .* gives 9240 priors"),
    "input_size_zero": (dict(input_size=(640, 0)), ValueError, r"input_size \(640, 0\): width and height must be positive"),
    "input_size_negative": (dict(input_size=(-640, 359)), ValueError, r"input_size \(-640, 359\): width and height must be"),
    "input_size_huge": (dict(input_size=(1 << 21, 359)), ValueError, r"each side must be at most 1048576"),
    "input_size_overflow": (dict(input_size=(640, 1 << 70)), ValueError, r"each side must be at most 1048576"),
    "input_size_too_many_priors": (dict(input_size=(1 << 20, 1 << 20)), ValueError,
                                   r"input size 1048576x1048576 gives more than 2147483648 priors"),
    "input_size_one_value": (dict(input_size=(640,)), ValueError, r"input_size must be \(width, height\), got 1 values"),
    "input_size_string": (dict(input_size="640x359"), TypeError, r"input_size must be \(width, height\), got '640x359'"),
    "input_size_float": (dict(input_size=(640.5, 359)), TypeError, r"input_size width must be an integer, got 640.5"),
    "input_size_bool": (dict(input_size=(640, True)), TypeError, r"input_size height must be an integer, got True"),
    "input_size_none": (dict(input_size=None), TypeError, r"input_size must be \(width, height\), got None"),
    # mapping back to the original image
    "resize_zero": (dict(resize=0.0), ValueError, r"^resize must be finite and positive, got 0.0"),
    "resize_negative": (dict(resize=-0.4), ValueError, r"^resize must be finite and positive, got -0.4"),
    "resize_nan": (dict(resize=math.nan), ValueError, r"^resize must be finite and positive, got nan"),
    "resize_inf": (dict(resize=math.inf), ValueError, r"^resize must be finite and positive, got inf"),
    "resize_string": (dict(resize="0.4"), TypeError, r"resize must be a number, got '0.4'"),
    "letterbox_and_resize": (dict(letterbox=(0.4, 0.4, 0, 0)), ValueError, r"give either resize or letterbox, not both"),
    "letterbox_three_values": (dict(resize=None, letterbox=(0.4, 0.4, 0)), ValueError,
                               r"letterbox must be \(scale_x, scale_y, pad_x, pad_y\), got 3 values"),
    "letterbox_zero_scale": (dict(resize=None, letterbox=(0.4, 0.0, 0, 0)), ValueError,
                             r"^letterbox scale_y must be finite and positive, got 0.0"),
    "letterbox_nan_pad": (dict(resize=None, letterbox=(0.4, 0.4, math.nan, 0)), ValueError,
                          r"^letterbox padding \(nan, 0\) must be finite"),
    "clip_to_zero_width": (dict(clip_to=(0, 898)), ValueError, r"^clip_to width must be finite and positive, got 0"),
    "clip_to_one_value": (dict(clip_to=(1600,)), ValueError, r"clip_to must be \(width, height\), got 1 values"),
    # parameters
    "threshold_negative": (dict(threshold=-0.1), ValueError, r"^threshold must be in \[0, 1\], got -0.1"),
    "threshold_above_one": (dict(threshold=1.5), ValueError, r"^threshold must be in \[0, 1\], got 1.5"),
    "threshold_nan": (dict(threshold=math.nan), ValueError, r"^threshold must be in \[0, 1\], got nan"),
    "threshold_string": (dict(threshold="high"), TypeError, r"threshold must be a number, got 'high'"),
    "nms_threshold_above_one": (dict(nms_threshold=2.0), ValueError, r"^nms_threshold must be in \[0, 1\], got 2.0"),
    "nms_threshold_nan": (dict(nms_threshold=math.nan), ValueError, r"^nms_threshold must be in \[0, 1\], got nan"),
    "iou_unknown": (dict(iou="fast"), ValueError, r"iou must be 'legacy' \(py_cpu_nms\) or 'continuous' .*, got 'fast'"),
    "iou_not_a_string": (dict(iou=1), TypeError, r"iou must be 'legacy' \(py_cpu_nms\) or 'continuous' .*, got 1$"),
    "top_k_negative": (dict(top_k=-5), ValueError, r"top_k must be a non-negative integer \(0 or None: no limit\), got -5"),
    "top_k_float": (dict(top_k=10.5), TypeError, r"top_k must be an integer, got 10.5"),
    "keep_top_k_negative": (dict(keep_top_k=-1), ValueError, r"keep_top_k must be a non-negative integer"),
    "keep_top_k_string": (dict(keep_top_k="all"), TypeError, r"keep_top_k must be an integer, got 'all'"),
    "logits_string": (dict(logits="yes"), TypeError, r"logits must be True or False, got 'yes'"),
    "clip_priors_int": (dict(clip_priors=1), TypeError, r"clip_priors must be True or False, got 1"),
    # anchors
    "preset_unknown": (dict(preset="yolo"), ValueError, r"unknown preset 'yolo'; known presets: retinaface_mnet, "),
    "preset_cli_spelling": (dict(preset="retinaface-mnet"), ValueError, r"unknown preset 'retinaface-mnet'"),
    "preset_and_min_sizes": (dict(preset="retinaface_mnet", min_sizes=[[16, 32], [64, 128], [256, 512]]), ValueError,
                             r"give either preset or min_sizes/steps, not both"),
    "preset_and_steps": (dict(preset="fd1m_slim", steps=[8, 16, 32]), ValueError,
                         r"give either preset or min_sizes/steps"),
    "preset_not_a_name": (dict(preset=3), TypeError, r"preset must be a name \(str\), got 3"),
    "steps_fewer_levels": (dict(steps=[8, 16]), ValueError, r"steps has 2 levels but min_sizes has 3"),
    "min_sizes_four_levels_default_steps": (dict(min_sizes=[[10], [32], [64], [128]]), ValueError,
                                            r"min_sizes has 4 levels; give steps too"),
    "min_sizes_no_levels": (dict(min_sizes=[], steps=[]), ValueError, r"^min_sizes has no levels"),
    "min_sizes_empty_level": (dict(min_sizes=[[16, 32], [], [256, 512]]), ValueError,
                              r"^min_sizes\[1\] is empty: every level needs at least one min size"),
    "min_size_negative": (dict(min_sizes=[[16, -32], [64, 128], [256, 512]]), ValueError,
                          r"^min_sizes\[0\] = \[16, -32\]: min sizes must be positive"),
    "min_sizes_not_nested": (dict(min_sizes=[16, 32, 64]), TypeError, r"min_sizes\[0\] must be a list of integers, got 16"),
    "step_zero": (dict(steps=[8, 0, 32]), ValueError, r"^steps\[1\] = 0: steps must be in \[1, 1048576\]"),
    "step_out_of_int_range": (dict(steps=[8, 16, 1 << 40]), ValueError, r"steps\[2\] = 1099511627776: steps must be in"),
    "variance_zero": (dict(variance=(0.0, 0.2)), ValueError, r"^variance \(0.0, 0.2\) must be finite and positive"),
    "variance_nan": (dict(variance=(0.1, math.nan)), ValueError, r"^variance \(0.1, nan\) must be finite and positive"),
    "variance_one_value": (dict(variance=(0.1,)), ValueError, r"variance must be \(center, size\), got 1 values"),
    "variance_strings": (dict(variance=("0.1", "0.2")), TypeError, r"variance center must be a number, got '0.1'"),
    # old spellings are gone
    "image_size_keyword": (dict(image_size=(640, 359)), TypeError, r"unexpected keyword argument 'image_size'"),
}


@pytest.mark.parametrize("case", sorted(ARGUMENTS))
def test_bad_argument(case):
    change, error, message = ARGUMENTS[case]
    args = valid_call()
    args.update(change)
    with pytest.raises(error, match=message):
        facepost.postprocess(**args)


CONSTRUCTOR = ["threshold_nan", "threshold_string", "nms_threshold_above_one", "iou_unknown", "top_k_negative",
               "preset_unknown", "preset_and_min_sizes", "steps_fewer_levels", "step_zero", "variance_zero",
               "logits_string"]


@pytest.mark.parametrize("case", CONSTRUCTOR)
def test_postprocessor_rejects_bad_configuration_when_built(case):
    change, error, message = ARGUMENTS[case]
    with pytest.raises(error, match=message):
        facepost.Postprocessor(**change)


def test_the_extension_checks_again():
    """facepost._core validates with the C++ library too (the C++ messages), for callers that
    bypass the Python checks."""
    from facepost import _core
    ok = dict(min_sizes=[[16, 32]], steps=[8], variance=(0.1, 0.2), clip_priors=False, threshold=0.02,
              nms_threshold=0.4, iou="legacy", top_k=0, keep_top_k=0, logits=False)
    for change, message in ((dict(threshold=-0.1), r"^score threshold -0.1 is outside \[0, 1\]"),
                            (dict(nms_threshold=2.0), r"^NMS threshold 2 is outside \[0, 1\]"),
                            (dict(steps=[0]), r"^anchor level 0 has step 0; steps must be positive"),
                            (dict(min_sizes=[[]]), r"^anchor level 0 has no min sizes"),
                            (dict(variance=(0.0, 0.2)), r"^variance \(0, 0.2\) must be finite and positive"),
                            (dict(iou="fast"), r"iou must be 'legacy' or 'continuous', got 'fast'")):
        with pytest.raises(ValueError, match=message):
            _core.Postprocessor(**{**ok, **change})
    core = _core.Postprocessor(**ok)
    _, heads = fixture(NAME)
    with pytest.raises(ValueError, match=r"^input size 0x64: width and height must be positive"):
        core.run(heads["loc"], heads["conf"], heads["landms"], 0, 64, 1.0, 1.0, 0.0, 0.0, False, 0.0, 0.0, {})
    with pytest.raises(ValueError, match=r"^mapping scale \(0, 1\) must be finite and positive"):
        core.run(heads["loc"], heads["conf"], heads["landms"], 640, 359, 0.0, 1.0, 0.0, 0.0, False, 0.0, 0.0, {})
    conf8 = (heads["conf"] * 255).astype(np.uint8)
    for dequant, message in (({"conf": (0.0, 0)}, r"^conf: dequantization scale must be finite and > 0, got 0$"),
                             ({"conf": (0.5, 256)}, r"^conf: zero point 256 is outside the uint8 range \[0, 255\]$"),
                             ({"conf": (0.5, 2 ** 40)}, r"^conf: zero point 1099511627776 is outside the uint8 range"),
                             ({"conf": (1, 0)}, r"^conf: dequant must be \(scale: float, zero_point: int\), "
                                                r"got \(1, 0\)"),
                             ({"loc": (1.0, 0)}, r"^loc: dequantization \(scale 1, zero point 0\) given for a float32 "
                                                 r"tensor; only int8 and uint8 tensors are quantized$")):
        with pytest.raises(ValueError, match=message):
            core.run(heads["loc"], conf8, heads["landms"], 640, 359, 1.0, 1.0, 0.0, 0.0, False, 0.0, 0.0, dequant)
    with pytest.raises(ValueError, match=r"^letterbox original size 0x512: width and height must be positive"):
        _core.letterbox(0, 512, 640, 640, "integer", "centre")
    with pytest.raises(ValueError, match=r"^letterbox input size 640x0: width and height must be positive"):
        _core.letterbox(512, 512, 640, 0, "exact", "centre")
    with pytest.raises(ValueError, match=r"^letterbox original size 0x512: width and height must be positive"):
        _core.letterbox_fit(0, 512, 640, 640)
    with pytest.raises(ValueError, match=r"^fit must be 'integer' or 'exact', got 'round'"):
        _core.letterbox(512, 512, 640, 640, "round", "centre")
    with pytest.raises(ValueError, match=r"^anchor must be 'centre' or 'top_left', got 'top-left'"):
        _core.letterbox(512, 512, 640, 640, "integer", "top-left")


LETTERBOX = {
    "original_size_zero": (dict(original_size=(0, 512)), ValueError,
                           r"^original_size \(0, 512\): width and height must be positive"),
    "original_size_one_value": (dict(original_size=(512,)), ValueError,
                                r"^original_size must be \(width, height\), got 1 values"),
    "original_size_float": (dict(original_size=(512.0, 512)), TypeError, r"^original_size width must be an integer"),
    "input_size_huge": (dict(input_size=(640, 2 ** 21)), ValueError,
                        r"^input_size \(640, 2097152\): each side must be at most 1048576"),
    "fit_unknown": (dict(fit="round"), ValueError, r"^fit must be 'integer' or 'exact', got 'round'"),
    "fit_not_a_string": (dict(fit=1), TypeError, r"^fit must be 'integer' or 'exact', got 1 \(int\)"),
    "anchor_cli_spelling": (dict(anchor="top-left"), ValueError,
                            r"^anchor must be 'centre' or 'top_left', got 'top-left'"),
    "anchor_center": (dict(anchor="center"), ValueError, r"^anchor must be 'centre' or 'top_left', got 'center'"),
    "anchor_none": (dict(anchor=None), TypeError, r"^anchor must be 'centre' or 'top_left', got None \(NoneType\)"),
}


@pytest.mark.parametrize("case", sorted(LETTERBOX))
def test_letterbox_bad_argument(case):
    change, error, message = LETTERBOX[case]
    with pytest.raises(error, match=message):
        facepost.letterbox(**{"original_size": (1920, 1080), "input_size": (640, 640), **change})


@pytest.mark.parametrize("case", ["conf_one_row_short", "loc_float64", "loc_batch_of_two"])
def test_postprocessor_rejects_bad_heads_and_stays_usable(case):
    meta, heads = fixture(NAME)
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    good = pp(heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"])
    head, change, message = HEADS[case]
    args = valid_call()
    args[head] = change(args[head])
    with pytest.raises(ValueError, match=message):
        pp(**args)
    with pytest.raises(ValueError, match=r"^input_size \(640, 640\): tensors have 9520 rows"):
        pp(heads["loc"], heads["conf"], heads["landms"], (640, 640), meta["resize"])
    again = pp(heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"])
    np.testing.assert_array_equal(again, good)


def test_helpers_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"original_size \(0, 512\): width and height must be positive"):
        facepost.letterbox_fit((0, 512), (640, 640))
    with pytest.raises(TypeError, match=r"original_size must be \(width, height\)"):
        facepost.letterbox_fit(512, (640, 640))
    with pytest.raises(ValueError, match=r"input_size must be \(width, height\), got 3 values"):
        facepost.letterbox_fit((512, 512), (640, 640, 3))
    with pytest.raises(ValueError, match=r"unknown preset 'x'"):
        facepost.preset_anchors("x")
    with pytest.raises(TypeError, match=r"name must be a preset name \(str\)"):
        facepost.preset_anchors(None)
    with pytest.raises(TypeError, match=r"input_size must be \(width, height\), got 640"):
        facepost.priors(640)
    with pytest.raises(ValueError, match=r"unknown preset 'yolo'"):
        facepost.count_priors((640, 640), preset="yolo")


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
    dets = facepost.postprocess(loc, conf, np.zeros((n, 10), np.float32), input_size=(3840, 2160),
                                preset="retinaface_mnet")
    assert dets.shape == (1, 15)
    assert dets[0, 4] == np.float32(0.99)
