"""facepost fed straight from a model call: [1,N,C] outputs, as cv2.dnn / onnxruntime return them."""
import numpy as np
import pytest

import facepost
from conftest import (FIXTURES, MODEL, PHOTO, anchor_kwargs, assert_matches_golden, fixture, golden, input_size,
                      letterbox, params_kwargs)
from retinaface_reference import decode, decode_landm, prior_box, py_cpu_nms, reference_postprocess

EXPECTED_FACE = (178, 56, 273, 178)  # the astronaut's face in the bundled photo, original pixels


@pytest.mark.parametrize("name", FIXTURES)
def test_batch_of_one_outputs_from_a_session_run(name):
    """A list [loc, conf, landms] of [1,N,C] arrays, as `session.run(None, {...})` returns."""
    meta, heads = fixture(name)
    outputs = [heads[k].reshape(1, *heads[k].shape) for k in ("loc", "conf", "landms")]
    got = facepost.postprocess(*outputs, input_size(meta), meta["resize"], **anchor_kwargs(meta),
                               **params_kwargs(meta, "reference_detect"))
    assert_matches_golden(got, golden(name, "reference_detect"))


@pytest.fixture(scope="module")
def detector():
    cv2 = pytest.importorskip("cv2", reason="python3-opencv is not installed: the cv2.dnn pipeline is not tested")
    assert MODEL.is_file() and PHOTO.is_file(), (MODEL, PHOTO)
    net = cv2.dnn.readNet(str(MODEL))

    def detect(image):
        blob, lb = letterbox(image, 640)
        net.setInput(blob)
        loc, conf, landms = net.forward(["loc", "conf", "landms"])
        return (loc, conf, landms), lb

    return cv2, detect


def faces(dets, threshold=0.5):
    return dets[dets[:, 4] > threshold]


def assert_one_face_at(dets, box, tol):
    found = faces(dets)
    assert len(found) == 1, f"expected one face, got {len(found)}: {found[:, :5]}"
    x1, y1, x2, y2, score = found[0, :5]
    assert score > 0.99
    np.testing.assert_allclose([x1, y1, x2, y2], box, atol=tol)
    lx, ly = found[0, 5::2], found[0, 6::2]
    assert ((lx > x1) & (lx < x2) & (ly > y1) & (ly < y2)).all(), "landmarks outside the face box"


def test_cv2_dnn_outputs_on_the_bundled_photo(detector):
    cv2, detect = detector
    image = cv2.imread(str(PHOTO))
    outputs, lb = detect(image)
    for out, cols in zip(outputs, (4, 2, 10)):
        assert out.shape == (1, 16800, cols) and out.dtype == np.float32
    dets = facepost.postprocess(*outputs, (640, 640), preset="retinaface_mnet", letterbox=lb,
                                top_k=5000, keep_top_k=750)
    assert_one_face_at(dets, EXPECTED_FACE, tol=3)
    # The square photo is only scaled (no padding), so the reference's `resize` describes it too.
    assert lb.pad == (0, 0, 0, 0) and lb.mapping[2:] == (0.0, 0.0) and lb.mapping[0] == lb.mapping[1]
    reference = reference_postprocess(*outputs, (640, 640), lb.mapping[0])
    assert_matches_golden(dets, reference)


def test_cv2_dnn_on_a_padded_non_square_photo(detector):
    """The photo pasted at (300, 40) into a 900x600 canvas: letterboxing now pads top and bottom,
    and the face must come back at its place in the canvas."""
    cv2, detect = detector
    photo = cv2.imread(str(PHOTO))
    canvas = np.full((600, 900, 3), 90, np.uint8)
    canvas[40:40 + photo.shape[0], 300:300 + photo.shape[1]] = photo
    outputs, lb = detect(canvas)
    assert lb.original_size == (900, 600)
    sx, sy, px, py = lb.mapping
    assert px == 0 and py > 0
    dets = facepost.postprocess(*outputs, (640, 640), preset="retinaface_mnet", letterbox=lb,
                                clip_to=lb.original_size, top_k=None, keep_top_k=None)
    x1, y1, x2, y2 = EXPECTED_FACE
    # The face is seen at 0.71x the size it has in the photo: allow a few more pixels.
    assert_one_face_at(dets, (x1 + 300, y1 + 40, x2 + 300, y2 + 40), tol=6)
    assert_matches_golden(dets, letterboxed_reference(*outputs, lb.mapping, clip_to=(900, 600)))


def letterboxed_reference(loc, conf, landms, mapping, clip_to, threshold=0.02, nms_threshold=0.4):
    """detect.py's block with `/ resize` replaced by the letterbox mapping (x - pad) / scale, in
    float32 like the rest, before the threshold and NMS; clamped to the image after NMS."""
    sx, sy, px, py = (np.float32(v) for v in mapping)
    priors = prior_box([[16, 32], [64, 128], [256, 512]], [8, 16, 32], (640, 640))
    boxes = decode(loc.reshape(-1, 4), priors, (0.1, 0.2)) * np.float32(640)
    marks = decode_landm(landms.reshape(-1, 10), priors, (0.1, 0.2)) * np.float32(640)
    for a in (boxes, marks):
        a[:, 0::2] = (a[:, 0::2] - px) / sx
        a[:, 1::2] = (a[:, 1::2] - py) / sy
    scores = conf.reshape(-1, 2)[:, 1]
    inds = np.where(scores > threshold)[0]
    order = inds[scores[inds].argsort()[::-1]]
    dets = np.hstack((boxes[order], scores[order, None])).astype(np.float32, copy=False)
    keep = py_cpu_nms(dets, nms_threshold)
    out = np.concatenate((dets[keep], marks[order][keep]), axis=1)
    xs, ys = [0, 2, 5, 7, 9, 11, 13], [1, 3, 6, 8, 10, 12, 14]
    out[:, xs] = np.clip(out[:, xs], 0, clip_to[0])
    out[:, ys] = np.clip(out[:, ys], 0, clip_to[1])
    return out
