"""facepost.Postprocessor: configuration fixed once, priors and buffers kept across frames."""
import numpy as np
import pytest

import facepost
from conftest import FIXTURES, anchor_kwargs, assert_matches_golden, fixture, golden, input_size, params_kwargs


def call(pp, name, **kw):
    meta, heads = fixture(name)
    return pp(heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"], **kw)


def test_stream_of_frames_of_changing_sizes():
    """Same anchors, frames of two input sizes alternating: every result is the golden one, and a
    result stays valid (it is a copy) after later frames."""
    pp = facepost.Postprocessor(preset="retinaface_mnet", top_k=5000, keep_top_k=750)
    sequence = ["crowd_mnet_native", "crowd_mnet_native", "group_mnet_long640", "crowd_mnet_native",
                "group_mnet_long640", "group_mnet_long640"]
    results = [(name, call(pp, name)) for name in sequence]
    for name, got in results:
        assert_matches_golden(got, golden(name, "reference_detect"))
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][1], results[3][1])


@pytest.mark.parametrize("name", FIXTURES)
def test_run_and_call_agree_with_the_function(name):
    meta, heads = fixture(name)
    kw = dict(**anchor_kwargs(meta), **params_kwargs(meta, "torchvision_nms"))
    pp = facepost.Postprocessor(**kw)
    args = (heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"])
    a = pp.run(*args)
    b = pp(*args)
    c = facepost.postprocess(*args, **kw)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert_matches_golden(a, golden(name, "torchvision_nms"))


def test_stats_describe_the_last_run():
    name = "crowd_rfb_long640"
    meta, _ = fixture(name)
    pp = facepost.Postprocessor(preset="fd1m_rfb", top_k=5000, keep_top_k=750)
    got = call(pp, name)
    g = meta["golden"]["reference_detect"]
    stats = pp.stats
    assert stats["priors"] == meta["num_priors"]
    assert stats["candidates"] == g["candidates_above_threshold"]
    assert stats["detections"] == len(got) == g["rows"]
    assert g["rows"] <= stats["ranked"] <= min(g["candidates_above_threshold"], 5000)


def test_configuration_is_visible():
    pp = facepost.Postprocessor(preset="fd1m_slim", threshold=0.5, iou="continuous", keep_top_k=10)
    assert pp.anchors == facepost.preset_anchors("fd1m_slim")
    assert pp.anchors["steps"] == [8, 16, 32, 64]
    p = pp.params
    assert p["threshold"] == pytest.approx(0.5) and p["iou"] == "continuous"
    assert p["top_k"] == facepost.DEFAULTS["top_k"] and p["keep_top_k"] == 10 and p["logits"] is False


def test_letterbox_and_clip_per_call():
    """Mapping arguments are per call: a letterbox equal to the resize gives the same detections,
    a pad shifts them, clip_to clamps them."""
    name = "group_mnet_long640"
    meta, heads = fixture(name)
    pp = facepost.Postprocessor(preset="retinaface_mnet")
    args = (heads["loc"], heads["conf"], heads["landms"], input_size(meta))
    r = meta["resize"]
    by_resize = pp(*args, r)
    np.testing.assert_array_equal(pp(*args, letterbox=(r, r, 0.0, 0.0)), by_resize)
    shifted = pp(*args, letterbox=(r, r, 8.0, 4.0))  # pads given in network pixels
    xs, ys = [0, 2, 5, 7, 9, 11, 13], [1, 3, 6, 8, 10, 12, 14]
    np.testing.assert_allclose(shifted[:, xs], by_resize[:, xs] - 8.0 / r, atol=1e-3)
    np.testing.assert_allclose(shifted[:, ys], by_resize[:, ys] - 4.0 / r, atol=1e-3)
    w, h = meta["original_width"], meta["original_height"]
    clipped = pp(*args, r, clip_to=(w, h))
    assert len(clipped) == len(by_resize)
    assert clipped[:, xs].min() >= 0 and clipped[:, xs].max() <= w
    assert clipped[:, ys].min() >= 0 and clipped[:, ys].max() <= h
    outside = (by_resize[:, xs] < 0).any() or (by_resize[:, xs] > w).any() or (by_resize[:, ys] > h).any()
    assert outside, "fixture has no detection crossing the border: the clip check proves nothing"
    np.testing.assert_array_equal(clipped[:, xs], np.clip(by_resize[:, xs], 0, w))
    np.testing.assert_array_equal(clipped[:, ys], np.clip(by_resize[:, ys], 0, h))


def test_letterbox_fit_matches_the_cpp_helper_formula():
    """Sizes are (width, height): a 1024x768 landscape original is padded top and bottom."""
    assert facepost.letterbox_fit((512, 512), (640, 640)) == (1.25, 1.25, 0.0, 0.0)
    sx, sy, px, py = facepost.letterbox_fit((1024, 768), (640, 640))
    assert (sx, sy, px) == (0.625, 0.625, 0.0) and py == 80.0
