"""facepost.align against insightface's estimate_norm (skimage.transform.SimilarityTransform) on
every fixture's golden detections, the BlazeFace goldens with a 6-point template, collinear and
mirrored landmarks, the input layouts, and every argument error."""
import numpy as np
import pytest

import facepost
from conftest import DATA, golden, golden_sets

skimage_transform = pytest.importorskip("skimage.transform")

# insightface/utils/face_align.py
ARCFACE_DST = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                        [70.7299, 92.2041]], dtype=np.float32)


def estimate_norm(lmk, image_size=112, float64=False):
    """insightface's face_align.estimate_norm (mode 'arcface'), verbatim but for the assert. skimage
    0.19 computes in the inputs' precision (float32 landmarks and template: float32 means and
    products); float64=True casts both first, the arithmetic facepost does."""
    if image_size % 112 == 0:
        ratio = float(image_size) / 112.0
        diff_x = 0
    else:
        ratio = float(image_size) / 128.0
        diff_x = 8.0 * ratio
    dst = ARCFACE_DST * ratio
    dst[:, 0] += diff_x
    if float64:
        lmk, dst = np.asarray(lmk, np.float64), dst.astype(np.float64)
    tform = skimage_transform.SimilarityTransform()
    tform.estimate(lmk, dst)
    return tform.params[0:2, :]


def skimage_similarity(src, dst):
    tform = skimage_transform.SimilarityTransform()
    tform.estimate(np.asarray(src, np.float64), np.asarray(dst, np.float64))
    return tform.params[0:2, :]


def relative(got, want):
    """Largest |difference| of each face's 2x3 matrix relative to its largest entry (at least 1)."""
    want = np.asarray(want, np.float64)
    if want.size == 0:
        return 0.0
    scale = np.maximum(1.0, np.abs(want).reshape(len(want), -1).max(axis=1))
    return (np.abs(got - want).reshape(len(want), -1).max(axis=1) / scale).max(initial=0.0)


@pytest.mark.parametrize("size", [112, 128, 224, 256])
@pytest.mark.parametrize("name,set_name", golden_sets())
def test_matches_estimate_norm_on_goldens(name, set_name, size):
    dets = golden(name, set_name)
    assert dets.ndim == 2 and dets.shape[1] == 15 and len(dets) > 0
    got = facepost.align(dets, size=size)
    assert got.shape == (len(dets), 2, 3) and got.dtype == np.float64
    want = np.stack([estimate_norm(row[5:15].reshape(5, 2), size) for row in dets])
    assert np.isfinite(got).all()
    assert relative(got, want) <= 1e-4
    # The same in double (skimage given float64 inputs): the closed form and skimage's SVD agree
    # far better than the required 1e-4.
    want64 = np.stack([estimate_norm(row[5:15].reshape(5, 2), size, float64=True) for row in dets])
    assert relative(got, want64) <= 1e-9


def test_templates_are_insightfaces():
    for size in (112, 224, 336, 896):  # 896 is a multiple of 128 too: 112 wins, as insightface
        want = ARCFACE_DST * (size / 112.0)
        np.testing.assert_array_equal(facepost.arcface_template(size), want.astype(np.float64))
    for size in (128, 256, 512):
        want = ARCFACE_DST * (size / 128.0)
        want[:, 0] += 8.0 * size / 128.0
        np.testing.assert_array_equal(facepost.arcface_template(size), want.astype(np.float64))
    assert facepost.arcface_template().dtype == np.float64
    assert facepost.arcface_template().shape == (5, 2)


def test_layouts_agree():
    dets = golden("crowd_mnet_native", "reference_detect")
    want = facepost.align(dets)
    lm = dets[:, 5:15]
    for variant in (lm, lm.copy(), lm.reshape(-1, 5, 2), lm.astype(np.float64), dets.astype(np.float64),
                    np.asfortranarray(dets), dets[::-1][::-1]):
        np.testing.assert_array_equal(facepost.align(variant), want)
    # An explicit ArcFace template equals template='arcface'.
    np.testing.assert_array_equal(facepost.align(dets, template=facepost.arcface_template()), want)
    np.testing.assert_array_equal(facepost.align(dets, template=facepost.arcface_template().tolist()), want)
    # Integer landmarks are taken as float64; lists work.
    ints = np.array([[10, 10, 30, 10, 20, 20, 12, 30, 28, 30]])
    np.testing.assert_array_equal(facepost.align(ints), facepost.align(ints.astype(np.float64)))
    np.testing.assert_array_equal(facepost.align(ints.tolist()), facepost.align(ints.astype(np.float64)))
    # No faces: an empty [0,2,3].
    for empty in (np.zeros((0, 15), np.float32), np.zeros((0, 10)), np.zeros((0, 5, 2), np.float32)):
        out = facepost.align(empty)
        assert out.shape == (0, 2, 3) and out.dtype == np.float64


def test_float64_landmarks_match_skimage():
    rng = np.random.default_rng(7)
    lm = rng.uniform(0, 1000, size=(200, 5, 2))
    want = np.stack([estimate_norm(p, 112, float64=True) for p in lm])
    assert relative(facepost.align(lm), want) <= 1e-9


BLAZE = sorted(p.parent.name for p in (DATA / "families" / "blazeface").glob("*/golden_default.npy"))
# Six points for BlazeFace's keypoints (eyes, nose tip, mouth, ear tragions): a made-up template.
SIX = np.array([[38.3, 51.7], [73.5, 51.5], [56.0, 71.7], [56.0, 92.0], [20.0, 60.0], [92.0, 60.0]])


@pytest.mark.parametrize("case", BLAZE)
def test_blazeface_rows_with_six_points(case):
    dets = np.load(DATA / "families" / "blazeface" / case / "golden_default.npy")
    assert dets.shape[1] == 17
    got = facepost.align(dets, template=SIX)
    assert got.shape == (len(dets), 2, 3)
    want = np.stack([skimage_similarity(row[5:17].reshape(6, 2), SIX) for row in dets]) if len(dets) else got
    assert relative(got, want) <= 1e-9
    np.testing.assert_array_equal(facepost.align(dets[:, 5:17].reshape(-1, 6, 2), template=SIX), got)


def test_collinear_and_mirrored_as_skimage():
    t = np.array([-2, -1, 0, 1.5, 3])
    line = np.stack([100 + 10 * t * np.cos(np.pi / 6), 100 + 10 * t * np.sin(np.pi / 6)], axis=1)
    flat = np.stack([50 + 5 * t, np.full(5, 60.0)], axis=1)
    for src, dst in ((line, flat), (line, ARCFACE_DST)):
        want = skimage_similarity(src, dst)
        assert np.isfinite(want).all()
        assert relative(facepost.align(src[None], template=dst), want[None]) <= 1e-9
    mirrored = np.stack([200 - ARCFACE_DST[:, 0], ARCFACE_DST[:, 1]], axis=1).astype(np.float64)
    assert relative(facepost.align(mirrored[None]), estimate_norm(mirrored, float64=True)[None]) <= 1e-9
    # Isotropic template mirrored: scale 0 in both (every point to the template's centre).
    square = np.array([[10, 10], [30, 10], [10, 30], [30, 30]], np.float64)
    got = facepost.align(square[None] * [-1, 1], template=square)[0]
    want = skimage_similarity(square * [-1, 1], square)
    assert np.abs(got - want).max() <= 1e-9
    assert np.abs(got[:, :2]).max() == 0.0


def test_degenerate_faces_name_the_face():
    dets = golden("crowd_mnet_native", "reference_detect")[:4].copy()
    bad = dets.copy()
    bad[2, 5:15] = 7.0  # all five landmarks equal
    # skimage gives NaN there; facepost refuses.
    assert np.isnan(estimate_norm(bad[2, 5:15].reshape(5, 2))).all()
    with pytest.raises(ValueError, match=r"face 2: its 5 landmarks have zero variance"):
        facepost.align(bad)
    for value in (np.nan, np.inf, -np.inf):
        bad = dets.copy()
        bad[1, 8] = value
        with pytest.raises(ValueError, match=r"face 1: landmark 1 .* is not finite"):
            facepost.align(bad)
    # Zero cross-covariance with the template: skimage's rank 0, NaN.
    src = np.array([[[1, 0], [-1, 0], [1, 0], [-1, 0]]], np.float64)
    dst = np.array([[0, 1], [0, 1], [0, -1], [0, -1]], np.float64)
    assert np.isnan(skimage_similarity(src[0], dst)).all()
    with pytest.raises(ValueError, match=r"face 0: its landmarks are uncorrelated with the template"):
        facepost.align(src, template=dst)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(dets_or_landmarks=None), TypeError, r"dets_or_landmarks must be an array"),
    (dict(dets_or_landmarks="faces"), TypeError, r"dets_or_landmarks must be an array"),
    (dict(dets_or_landmarks=np.zeros((2, 15), bool)), TypeError, r"dets_or_landmarks must be a real numeric"),
    (dict(dets_or_landmarks=np.zeros((2, 15), complex)), TypeError, r"dets_or_landmarks must be a real numeric"),
    (dict(dets_or_landmarks=np.zeros((2, 14), np.float32)), ValueError, r"dets_or_landmarks of shape \[2, 14\]"),
    (dict(dets_or_landmarks=np.zeros((2, 17), np.float32)), ValueError, r"expected \[K,15\] detections"),
    (dict(dets_or_landmarks=np.zeros(15, np.float32)), ValueError, r"dets_or_landmarks must be \[K,15\]"),
    (dict(dets_or_landmarks=np.zeros((2, 6, 2))), ValueError, r"must be \[K,5,2\]"),
    (dict(size=100), ValueError, r"size must be a positive multiple of 112 or of 128"),
    (dict(size=0), ValueError, r"size must be a positive multiple"),
    (dict(size=-112), ValueError, r"size must be a positive multiple"),
    (dict(size=112.0), TypeError, r"size must be an integer"),
    (dict(size="112"), TypeError, r"size must be an integer"),
    (dict(size=True), TypeError, r"size must be an integer"),
    (dict(template="insightface"), ValueError, r"template must be 'arcface' or a \[P,2\] array"),
    (dict(template=None), TypeError, r"template must be 'arcface' or a \[P,2\] array"),
    (dict(template=np.zeros((5, 3))), ValueError, r"template must be a \[P,2\] array"),
    (dict(template=np.zeros((1, 2))), ValueError, r"template must be a \[P,2\] array of at least 2 points"),
    (dict(template=np.array([["a", "b"]] * 5)), TypeError, r"template must be a real numeric"),
    (dict(template=np.full((5, 2), 3.0)), ValueError, r"align template: its 5 points are all equal"),
    (dict(template=[[0, 0], [1, np.nan], [2, 2], [3, 3], [4, 4]]), ValueError, r"point 1 .* is not finite"),
    (dict(template=ARCFACE_DST, size=224), ValueError, r"size applies to template='arcface' only"),
    (dict(template=SIX), ValueError, r"with a 6-point template expected \[K,17\]"),
])
def test_argument_errors(kwargs, error, match):
    args = dict(dets_or_landmarks=golden("crowd_mnet_native", "reference_detect")[:3])
    args.update(kwargs)
    with pytest.raises(error, match=match):
        facepost.align(args.pop("dets_or_landmarks"), **args)
    if "size" in kwargs and "template" not in kwargs:
        with pytest.raises(error, match=match):
            facepost.arcface_template(kwargs["size"])
