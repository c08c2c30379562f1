"""The detector families' Python API (facepost.scrfd, facepost.yolov5_face and their classes)
against the goldens of tests/data/families, made by each reference's own code."""
import json

import numpy as np
import pytest

import facepost
from conftest import DATA, assert_matches_golden

FAMILIES = DATA / "families"


def _cases(family):
    return sorted(p.name for p in (FAMILIES / family).iterdir() if (p / "meta.json").is_file())


def _meta(family, case):
    return json.loads((FAMILIES / family / case / "meta.json").read_text())


def _golden_sets(family):
    return [(c, s) for c in _cases(family) for s in _meta(family, c)["golden"]]


def _scrfd_heads(case):
    folder, meta = FAMILIES / "scrfd" / case, _meta("scrfd", case)
    load = lambda head: [np.load(folder / f"{head}_{s}.npy") for s in (8, 16, 32)]  # noqa: E731
    return load("score"), load("bbox"), (load("kps") if meta["use_kps"] else None), meta


@pytest.mark.parametrize("case,set_name", _golden_sets("scrfd"))
def test_scrfd_matches_insightface(case, set_name):
    scores, bboxes, kps, meta = _scrfd_heads(case)
    g = meta["golden"][set_name]
    got = facepost.scrfd(scores, bboxes, kps, input_size=(meta["input_width"], meta["input_height"]),
                         threshold=g["threshold"], nms_threshold=g["nms_threshold"], scale=meta["det_scale"],
                         max_num=g["max_num"])
    assert_matches_golden(got, np.load(FAMILIES / "scrfd" / case / g["file"]))


def test_scrfd_object_equals_the_function_and_takes_batched_arrays():
    scores, bboxes, kps, meta = _scrfd_heads("mosaic_crowd_3200x1796")
    size, scale = (meta["input_width"], meta["input_height"]), meta["det_scale"]
    det = facepost.Scrfd(threshold=0.3, nms_threshold=0.5)
    once = facepost.scrfd(scores, bboxes, kps, size, threshold=0.3, nms_threshold=0.5, scale=scale)
    batched = [[a[None] for a in head] for head in (scores, bboxes, kps)]  # [1,N_s,C] exports
    for _ in range(2):
        np.testing.assert_array_equal(det(*batched, input_size=size, scale=scale), once)
    assert det.params == {"threshold": 0.3, "nms_threshold": 0.5, "max_num": 0}


def test_scrfd_without_keypoints_returns_five_columns():
    scores, bboxes, kps, meta = _scrfd_heads("group_nokps_1600x898")
    assert kps is None
    assert facepost.scrfd(scores, bboxes, None, scale=meta["det_scale"]).shape[1] == 5


def test_scrfd_max_num_ranks_by_the_given_image_centre():
    scores, bboxes, kps, _ = _scrfd_heads("family_640x640")
    centred = facepost.scrfd(scores, bboxes, kps, max_num=5)
    np.testing.assert_array_equal(centred, facepost.scrfd(scores, bboxes, kps, max_num=5, image_size=(640, 640)))
    # Another image centre (the top-left corner's neighbourhood) picks other faces.
    corner = facepost.scrfd(scores, bboxes, kps, max_num=5, image_size=(2, 2))
    assert not np.array_equal(centred, corner)


@pytest.mark.parametrize("kwargs,error,text", [
    (dict(threshold=1.5), ValueError, "threshold must be in [0, 1]"),
    (dict(nms_threshold=float("nan")), ValueError, "nms_threshold must be in [0, 1]"),
    (dict(max_num=-1), ValueError, "max_num must be a non-negative integer"),
    (dict(input_size=(640, 480)), ValueError, "score_8 tensor has 12800 rows but input size 640x480"),
    (dict(input_size=(650, 640)), ValueError, "multiple of 32"),
    (dict(scale=0.0), ValueError, "scale must be finite and positive"),
    (dict(scale=0.5, letterbox=(1, 1, 0, 0)), ValueError, "give either scale or letterbox"),
    (dict(image_size=(0, 5), max_num=3), ValueError, "image_size (0, 5): width and height must be positive"),
])
def test_scrfd_refuses_bad_arguments(kwargs, error, text):
    scores, bboxes, kps, _ = _scrfd_heads("family_640x640")
    with pytest.raises(error) as e:
        facepost.scrfd(scores, bboxes, kps, **kwargs)
    assert text in str(e.value)


def test_scrfd_refuses_bad_heads():
    scores, bboxes, kps, _ = _scrfd_heads("family_640x640")
    with pytest.raises(ValueError, match="3 arrays, one per stride"):
        facepost.scrfd(scores[:2], bboxes, kps)
    with pytest.raises(ValueError, match="bbox_16 tensor has 10 columns, expected 4"):
        facepost.scrfd(scores, [bboxes[0], kps[1], bboxes[2]], kps)
    with pytest.raises(ValueError, match=r"^score_8: dtype float64 is not float32, float16, int8 or uint8; convert "
                                         r"with \.astype\(numpy\.float32\) \(float64 is not narrowed silently\)$"):
        facepost.scrfd([s.astype(np.float64) for s in scores], bboxes, kps)


@pytest.mark.parametrize("case,set_name", _golden_sets("yolov5_face"))
def test_yolov5_face_matches_non_max_suppression_face(case, set_name):
    meta = _meta("yolov5_face", case)
    g = meta["golden"][set_name]
    pred = np.load(FAMILIES / "yolov5_face" / case / "pred.npy")
    got = facepost.yolov5_face(pred, input_size=(meta["input_width"], meta["input_height"]),
                               conf_threshold=g["conf_threshold"], iou_threshold=g["iou_threshold"],
                               max_det=g["max_det"])
    assert_matches_golden(got, np.load(FAMILIES / "yolov5_face" / case / g["file"]))


@pytest.mark.parametrize("case", [c for c in _cases("yolov5_face") if _meta("yolov5_face", c).get("golden_original")])
def test_yolov5_face_maps_to_the_photo_as_scale_coords(case):
    meta = _meta("yolov5_face", case)
    lb = meta["letterbox"]
    gain, (pad_x, pad_y) = lb["scale_coords_gain"], lb["scale_coords_pad"]
    pred = np.load(FAMILIES / "yolov5_face" / case / "pred.npy")
    got = facepost.Yolov5Face().run(pred, (meta["input_width"], meta["input_height"]),
                                    letterbox=(gain, gain, pad_x, pad_y),
                                    clip_to=(meta["original_width"], meta["original_height"]))
    assert_matches_golden(got, np.load(FAMILIES / "yolov5_face" / case / meta["golden_original"]["file"]))


def test_yolov5_face_refuses_bad_input():
    pred = np.load(FAMILIES / "yolov5_face" / "family_640x512" / "pred.npy")
    with pytest.raises(ValueError, match="pred tensor has 20160 rows but input size 640x640 gives 25200"):
        facepost.yolov5_face(pred)
    with pytest.raises(ValueError, match="pred tensor has 15 columns, expected 16"):
        facepost.yolov5_face(pred[..., :15], (640, 512))
    with pytest.raises(ValueError, match="conf_threshold must be in"):
        facepost.yolov5_face(pred, (640, 512), conf_threshold=-0.1)
    with pytest.raises(ValueError, match=r"batch dimension 2; use Yolov5Face\.run_batch for batches"):
        facepost.yolov5_face(np.concatenate([pred, pred]), (640, 512))


def test_family_defaults_are_the_references():
    assert facepost.FAMILY_DEFAULTS["scrfd"] == {"threshold": 0.5, "nms_threshold": 0.4, "max_num": 0}
    assert facepost.FAMILY_DEFAULTS["yolov5_face"] == {"conf_threshold": 0.25, "iou_threshold": 0.45, "max_det": 0}


def test_scrfd_resize_is_scrfd_detect_s():
    assert facepost.scrfd_resize((1600, 898), (640, 640)) == (640, 359, 359 / 898)
    meta = _meta("scrfd", "mosaic_crowd_3200x1796")
    w, h, scale = facepost.scrfd_resize((meta["original_width"], meta["original_height"]),
                                        (meta["input_width"], meta["input_height"]))
    assert scale == meta["det_scale"] and w <= meta["input_width"] and h <= meta["input_height"]


def _blaze(case):
    folder = FAMILIES / "blazeface" / case
    return np.load(folder / "regressors.npy"), np.load(folder / "classificators.npy"), _meta("blazeface", case)


@pytest.mark.parametrize("case", _cases("blazeface"))
def test_blazeface_matches_hollance(case):
    reg, cls, meta = _blaze(case)
    model = "back" if case.startswith("back") else "front"
    sets = {"default": (0.75, 0.3), "threshold_0_5": (0.5, 0.3), "threshold_0_5_nms_0_5": (0.5, 0.5),
            "hollance_back_0_65": (0.65, 0.3)}
    compared = 0
    for name, (t, nms) in sets.items():
        path = FAMILIES / "blazeface" / case / f"golden_{name}.npy"
        if not path.is_file():
            continue
        got = facepost.blazeface(reg, cls, model=model, threshold=t, nms_threshold=nms)
        want = np.load(path)
        assert got.shape == want.shape, (name, got.shape, want.shape)
        np.testing.assert_allclose(got[:, 4], want[:, 4], rtol=0, atol=1e-6)
        np.testing.assert_allclose(got[:, np.r_[0:4, 5:17]], want[:, np.r_[0:4, 5:17]], rtol=0, atol=1e-3)
        compared += 1
    assert compared >= 3


def test_blazeface_defaults_and_groups():
    reg, cls, _ = _blaze("back_selfie_crowd")
    default = facepost.blazeface(reg, cls, model="back")
    np.testing.assert_array_equal(default, facepost.blazeface(reg, cls, model="back", threshold=0.65))
    groups = facepost.Blazeface("back")((reg[0, :512], reg[0, 512:]), (cls[0, :512], cls[0, 512:]))
    np.testing.assert_array_equal(groups, default)
    assert facepost.Blazeface("back").params["threshold"] == 0.65
    assert facepost.Blazeface().params == {"model": "front", "threshold": 0.75, "nms_threshold": 0.3}


def test_blazeface_refuses_bad_input():
    reg, cls, _ = _blaze("front_3faces")
    with pytest.raises(ValueError, match="model must be 'front'"):
        facepost.blazeface(reg, cls, model="short")
    with pytest.raises(ValueError, match="threshold must be in"):
        facepost.blazeface(reg, cls, threshold=1.5)
    with pytest.raises(ValueError, match="896"):
        facepost.blazeface(reg[:, :895], cls[:, :895])
    with pytest.raises(ValueError, match="two output groups"):
        facepost.blazeface((reg[0],), cls)


@pytest.mark.parametrize("case,set_name", _golden_sets("yunet"))
def test_yunet_matches_face_detector_yn(case, set_name):
    meta = _meta("yunet", case)
    g = meta["golden"][set_name]
    folder = FAMILIES / "yunet" / case
    heads = [np.load(folder / f"{h}.npy") for h in ("loc", "conf", "iou")]
    got = facepost.yunet(*heads, input_size=(meta["input_width"], meta["input_height"]), threshold=g["threshold"],
                         nms_threshold=g["nms_threshold"], top_k=g["top_k"])
    assert_matches_golden(got, np.load(folder / g["file"]))


def test_yunet_defaults_and_errors():
    assert facepost.FAMILY_DEFAULTS["yunet"] == {"threshold": 0.9, "nms_threshold": 0.3, "top_k": 5000}
    folder = FAMILIES / "yunet" / "family_320x240"
    loc, conf, iou = (np.load(folder / f"{h}.npy") for h in ("loc", "conf", "iou"))
    with pytest.raises(ValueError, match="4385"):
        facepost.yunet(loc, conf, iou, input_size=(640, 640))
    with pytest.raises(ValueError, match="top_k must be a non-negative integer"):
        facepost.yunet(loc, conf, iou, (320, 240), top_k=-1)
    np.testing.assert_array_equal(facepost.Yunet(top_k=None)(loc, conf, iou, (320, 240)),
                                  facepost.yunet(loc, conf, iou, (320, 240), top_k=0))
