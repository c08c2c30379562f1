"""facepost.postprocess reproduces every golden set of every fixture (parameters from meta.json)."""
import numpy as np
import pytest

import facepost
from conftest import (FIXTURES, anchor_kwargs, assert_matches_golden, fixture, golden, golden_sets,
                      input_size, params_kwargs)
from retinaface_reference import reference_postprocess


@pytest.mark.parametrize("name,set_name", golden_sets())
def test_matches_golden(name, set_name):
    meta, heads = fixture(name)
    got = facepost.postprocess(heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"],
                               **anchor_kwargs(meta), **params_kwargs(meta, set_name))
    assert got.shape[0] == meta["golden"][set_name]["rows"]
    assert_matches_golden(got, golden(name, set_name))


def preset_for(meta):
    """The preset whose anchors are those of the fixture, if any."""
    for preset in facepost.PRESETS:
        a = facepost.preset_anchors(preset)
        if a["min_sizes"] == meta["min_sizes"] and a["steps"] == meta["steps"]:
            return preset
    return None


@pytest.mark.parametrize("name", FIXTURES)
def test_preset_equals_explicit_anchors(name):
    meta, heads = fixture(name)
    preset = preset_for(meta)
    assert preset is not None, f"no preset has the anchors of {name}"
    args = (heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"])
    by_preset = facepost.postprocess(*args, preset=preset, **params_kwargs(meta, "reference_detect"))
    explicit = facepost.postprocess(*args, **anchor_kwargs(meta), **params_kwargs(meta, "reference_detect"))
    np.testing.assert_array_equal(by_preset, explicit)


def test_default_anchors_are_retinaface_mnet():
    meta, heads = fixture("crowd_mnet_native")
    args = (heads["loc"], heads["conf"], heads["landms"], input_size(meta))
    np.testing.assert_array_equal(facepost.postprocess(*args), facepost.postprocess(*args, preset="retinaface_mnet"))
    assert facepost.preset_anchors("retinaface_mnet")["min_sizes"] == [[16, 32], [64, 128], [256, 512]]


@pytest.mark.parametrize("name", FIXTURES)
def test_numpy_reference_port_matches_golden(name):
    """The numpy port of detect.py that bench_vs_reference.py times is the reference."""
    meta, heads = fixture(name)
    g = meta["golden"]["reference_detect"]
    # The reference takes PriorBox's (height, width).
    got = reference_postprocess(heads["loc"], heads["conf"], heads["landms"],
                                (meta["input_height"], meta["input_width"]), meta["resize"],
                                meta["min_sizes"], meta["steps"], tuple(meta["variance"]), meta["clip"],
                                g["threshold"], g["top_k"], g["nms_threshold"], g["keep_top_k"])
    assert_matches_golden(got, golden(name, "reference_detect"))


@pytest.mark.parametrize("name", FIXTURES)
def test_logits_give_the_same_detections(name):
    """conf as two-class logits (logits=True) gives what the softmax probabilities give."""
    meta, heads = fixture(name)
    logits = np.log(np.maximum(heads["conf"], np.float32(1e-30))).astype(np.float32)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    args = (heads["loc"], heads["landms"], input_size(meta), meta["resize"])
    kw = dict(**anchor_kwargs(meta), **params_kwargs(meta, "threshold_0_5"))
    from_logits = facepost.postprocess(args[0], logits, *args[1:], logits=True, **kw)
    from_probs = facepost.postprocess(args[0], probs, *args[1:], **kw)
    assert len(from_logits) == len(from_probs) == meta["golden"]["threshold_0_5"]["rows"]
    np.testing.assert_allclose(from_logits[:, 4], from_probs[:, 4], rtol=1e-5)
    np.testing.assert_allclose(from_logits[:, [0, 1, 2, 3, *range(5, 15)]],
                               from_probs[:, [0, 1, 2, 3, *range(5, 15)]], atol=1e-3)
