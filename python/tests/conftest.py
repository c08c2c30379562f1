"""Shared helpers of the facepost Python tests: fixture loading and the golden comparison.

ctest sets PYTHONPATH to the package in the build tree (build/python) and FACEPOST_TEST_DATA /
FACEPOST_EXAMPLES to the source folders; run against an installed package (from any directory),
the defaults below find the same folders next to this file.
"""
import functools
import json
import os
import pathlib
import sys
import threading
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = pathlib.Path(os.environ.get("FACEPOST_TEST_DATA", ROOT / "tests" / "data"))
EXAMPLES = pathlib.Path(os.environ.get("FACEPOST_EXAMPLES", ROOT / "examples"))
MODEL = EXAMPLES / "models" / "retinaface_mnet025_640x640.onnx"
PHOTO = EXAMPLES / "images" / "astronaut.png"

sys.path.insert(0, str(HERE.parent))  # retinaface_reference.py
from retinaface_reference import detection_difference  # noqa: E402

FIXTURES = sorted(p.name for p in DATA.iterdir() if (p / "meta.json").is_file())
assert FIXTURES, f"no fixtures under {DATA}"


@functools.lru_cache(maxsize=None)
def fixture(name):
    """meta.json and the three head arrays of one fixture (read-only: tests must copy to change)."""
    folder = DATA / name
    meta = json.loads((folder / "meta.json").read_text())
    heads = {}
    for head in ("loc", "conf", "landms"):
        heads[head] = np.load(folder / f"{head}.npy")
        heads[head].setflags(write=False)
    return meta, heads


def golden(name, set_name):
    meta, _ = fixture(name)
    return np.load(DATA / name / meta["golden"][set_name]["file"])


def golden_sets():
    """(fixture, set) pairs, as listed in each meta.json."""
    return [(name, s) for name in FIXTURES for s in fixture(name)[0]["golden"]]


def iou_of(nms_description):
    if nms_description.startswith("py_cpu_nms"):
        return "legacy"
    if nms_description.startswith("torchvision"):
        return "continuous"
    raise AssertionError(f"unknown NMS in meta.json: {nms_description}")


def anchor_kwargs(meta):
    return dict(min_sizes=meta["min_sizes"], steps=meta["steps"], variance=tuple(meta["variance"]),
                clip_priors=meta["clip"])


def params_kwargs(meta, set_name):
    g = meta["golden"][set_name]
    return dict(threshold=g["threshold"], nms_threshold=g["nms_threshold"], iou=iou_of(g["nms"]),
                top_k=g["top_k"], keep_top_k=g["keep_top_k"])


def cli():
    """The facepost command-line tool: $FACEPOST_CLI (ctest and CI set it), else build/tools/facepost."""
    import pytest

    path = os.environ.get("FACEPOST_CLI") or str(ROOT / "build" / "tools" / "facepost")
    if not os.access(path, os.X_OK):
        pytest.skip(f"the facepost CLI is not built ({path}); set FACEPOST_CLI")
    return path


def input_size(meta):
    """The network input as facepost takes it: (width, height)."""
    return (meta["input_width"], meta["input_height"])


def assert_matches_golden(got, want, tol=1e-3):
    """tests/data/README.md's comparison (retinaface_reference.detection_difference), plus the dtype."""
    assert got.dtype == np.float32, got.dtype
    difference = detection_difference(got, want, tol)
    assert difference is None, difference


def letterbox(image, size):
    """Fits a BGR image into size x size as facepost.letterbox says (integer fit, centred: the
    resized size rounded as YOLOv5 rounds it, integer padding), pads with the mean colour, and
    returns the float32 NCHW blob minus the mean plus the Letterbox (the letterbox= argument)."""
    import cv2

    import facepost

    mean = np.array([104, 117, 123], dtype=np.float32)
    h, w = image.shape[:2]
    lb = facepost.letterbox((w, h), (size, size))
    (nw, nh), (px, py, _, _) = lb.resized_size, lb.pad
    canvas = np.empty((size, size, 3), np.float32)
    canvas[:] = mean
    canvas[py:py + nh, px:px + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    blob = (canvas - mean).transpose(2, 0, 1)[None].copy()
    return blob, lb


def assert_gil_released(make_call, sizes, what):
    """A Python thread records timestamps while one long call runs. Holding the GIL, no timestamp
    could fall inside the call; released, the thread keeps running in its middle. make_call(size)
    gives the call; sizes grow until one call is long enough to tell (a faster build or machine
    shortens it)."""
    for size in sizes:
        call = make_call(size)
        call()  # priors and buffers built outside the measured call
        t0 = time.perf_counter()
        call()
        if time.perf_counter() - t0 > 0.15:
            break
    stamps, stop = [], threading.Event()

    def record():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    recorder = threading.Thread(target=record)
    recorder.start()
    try:
        time.sleep(0.02)
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
    finally:
        stop.set()
        recorder.join()
    margin = 0.2 * (t1 - t0)
    inside = [t for t in stamps if t0 + margin < t < t1 - margin]
    assert t1 - t0 > 0.05, f"call too short ({t1 - t0:.3f} s) to tell"
    assert inside, f"no Python thread ran during a {1e3 * (t1 - t0):.0f} ms {what}: the GIL was held"
