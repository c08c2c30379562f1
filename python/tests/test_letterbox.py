"""facepost.letterbox: the integer letterbox of cv2.resize pipelines (YOLOv5's arithmetic), the
exact fit, the Letterbox object as the letterbox= argument, and the CLI's --letterbox / --fit /
--letterbox-anchor / --clip giving the same rows as Python."""
import inspect
import json
import math
import random
import subprocess

import numpy as np
import pytest

import facepost
from conftest import DATA, cli, fixture, input_size

NAME = "crowd_mnet_native"  # a 1024x624 network input


def yolov5(ow, oh, iw, ih):
    """YOLOv5's letterbox (fixed new_shape, auto=False) as its description reads: resized size
    int(round(w * r)) with Python's round, padding dw/2 split as round(dw/2 -/+ 0.1)."""
    r = min(ih / oh, iw / ow)
    rw, rh = int(round(ow * r)), int(round(oh * r))
    dw, dh = (iw - rw) / 2, (ih - rh) / 2
    return (rw, rh), (int(round(dw - 0.1)), int(round(dh - 0.1)), int(round(dw + 0.1)), int(round(dh + 0.1)))


def test_integer_letterbox_values():
    lb = facepost.letterbox((1920, 1080), (640, 640))
    assert (lb.original_size, lb.input_size, lb.fit, lb.anchor) == ((1920, 1080), (640, 640), "integer", "centre")
    assert lb.resized_size == (640, 360) and lb.pad == (0, 140, 0, 140)
    assert lb.mapping == (float(np.float32(1 / 3)), float(np.float32(1 / 3)), 0.0, 140.0)
    assert all(isinstance(v, int) for v in lb.resized_size + lb.pad)
    tl = facepost.letterbox((1920, 1080), (640, 640), anchor="top_left")
    assert tl.resized_size == (640, 360) and tl.pad == (0, 0, 0, 280) and tl.mapping[2:] == (0.0, 0.0)
    # Ties round to even, as Python's round: 721 * 0.5 = 360.5 -> 360, 723 * 0.5 = 361.5 -> 362.
    assert facepost.letterbox((1280, 721), (640, 640)).resized_size == (640, 360)
    assert facepost.letterbox((1280, 723), (640, 640)).resized_size == (640, 362)
    # Odd padding: the extra pixel right (or bottom).
    odd = facepost.letterbox((333, 999), (640, 640))
    assert odd.resized_size == (213, 640) and odd.pad == (213, 0, 214, 0)
    sx, sy, px, py = odd.mapping
    assert (sx, sy) == (float(np.float32(213) / np.float32(333)), float(np.float32(640) / np.float32(999)))
    assert (px, py) == (213.0, 0.0)
    # An extreme aspect ratio keeps at least one row.
    assert facepost.letterbox((10000, 1), (640, 640)).resized_size == (640, 1)


def test_integer_letterbox_is_yolov5s_on_random_sizes():
    rng = random.Random(5)
    cases = [(2 * 640, 2 * k + 1, 640, 640) for k in range(300)]  # every one a .5 tie
    cases += [(rng.randint(1, 4000), rng.randint(1, 4000), 32 * rng.randint(1, 40), 32 * rng.randint(1, 40))
              for _ in range(3000)]
    for ow, oh, iw, ih in cases:
        want_size, want_pad = yolov5(ow, oh, iw, ih)
        if min(want_size) < 1:
            continue
        lb = facepost.letterbox((ow, oh), (iw, ih))
        assert (lb.resized_size, lb.pad) == (want_size, want_pad), (ow, oh, iw, ih)


def test_exact_fit_is_letterbox_fit_without_negative_or_signed_zero_pads():
    rng = random.Random(11)
    for _ in range(2000):
        o = (rng.randint(1, 5000), rng.randint(1, 5000))
        i = (rng.randint(1, 2000), rng.randint(1, 2000))
        lb = facepost.letterbox(o, i, fit="exact")
        assert lb.mapping == facepost.letterbox_fit(o, i)
        sx, sy, px, py = lb.mapping
        assert sx == sy and px >= 0 and py >= 0 and 0.0 in (px, py)
        assert math.copysign(1.0, px) == 1.0 and math.copysign(1.0, py) == 1.0  # never -0.0
        assert min(lb.pad) >= 0 and lb.resized_size[0] <= i[0] and lb.resized_size[1] <= i[1]
        tl = facepost.letterbox(o, i, fit="exact", anchor="top_left")
        assert tl.mapping == (sx, sy, 0.0, 0.0) and tl.pad[:2] == (0.0, 0.0)
    hd = facepost.letterbox((1920, 1080), (640, 640), fit="exact")
    assert hd.mapping[2:] == (0.0, 140.0) and hd.resized_size == (640.0, 360.0) and hd.pad == (0.0, 140.0, 0.0, 140.0)


def test_letterbox_is_the_letterbox_argument():
    meta, heads = fixture(NAME)
    args = (heads["loc"], heads["conf"], heads["landms"], input_size(meta))
    lb = facepost.letterbox((1280, 1000), input_size(meta))
    assert lb.resized_size == (799, 624) and lb.pad == (112, 0, 113, 0)
    pp = facepost.Postprocessor()
    by_object = pp(*args, letterbox=lb)
    np.testing.assert_array_equal(by_object, pp(*args, letterbox=lb.mapping))
    np.testing.assert_array_equal(by_object, facepost.postprocess(*args, letterbox=lb))
    clipped = pp(*args, letterbox=lb, clip_to=lb.original_size)
    assert clipped[:, [0, 2]].max() <= 1280 and clipped[:, [1, 3]].max() <= 1000 and clipped[:, :4].min() >= 0
    with pytest.raises(ValueError, match=r"give either resize or letterbox, not both"):
        pp(*args, 0.5, letterbox=lb)
    # The best row (never suppressed) is the unmapped call's best row, mapped: (x - 112) / sx, y / sy.
    plain = pp(*args)
    sx, sy = np.float32(799) / np.float32(1280), np.float32(624) / np.float32(1000)
    xs, ys = [0, 2, 5, 7, 9, 11, 13], [1, 3, 6, 8, 10, 12, 14]
    np.testing.assert_allclose(by_object[0, xs], (plain[0, xs] - 112) / sx, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(by_object[0, ys], plain[0, ys] / sy, rtol=1e-6, atol=1e-4)
    # NMS runs after the mapping, in original pixels (as detect.py): with the legacy +1 IoU the
    # scale changes some IoUs across the threshold, and this frame keeps one row more.
    assert (len(plain), len(by_object)) == (150, 151)


CLI_CASES = {
    "integer_centre": ([], dict()),
    "integer_top_left_clip": (["--letterbox-anchor", "top-left", "--clip", "1280x1000"],
                              dict(anchor="top_left", clip=True)),
    "exact_centre_clip": (["--fit", "exact", "--clip", "1280x1000"], dict(fit="exact", clip=True)),
    "exact_top_left": (["--fit", "exact", "--letterbox-anchor", "top-left"], dict(fit="exact", anchor="top_left")),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_and_python_give_the_same_rows(case, tmp_path):
    """`facepost detect --letterbox 1280x1000 [--fit F] [--letterbox-anchor A] [--clip WxH]` and
    facepost.letterbox((1280, 1000), ..., fit=F, anchor=A) with clip_to give the same bytes."""
    _, heads = fixture(NAME)
    options, kw = CLI_CASES[case]
    out = tmp_path / "dets.npy"
    data = DATA / NAME
    command = [cli(), "detect", "--loc", str(data / "loc.npy"), "--conf", str(data / "conf.npy"), "--landms",
               str(data / "landms.npy"), "--input-size", "1024x624", "--letterbox", "1280x1000", "--out", str(out),
               *options]
    subprocess.run(command, check=True, capture_output=True, text=True)
    lb = facepost.letterbox((1280, 1000), (1024, 624), fit=kw.get("fit", "integer"), anchor=kw.get("anchor", "centre"))
    dets = facepost.postprocess(heads["loc"], heads["conf"], heads["landms"], (1024, 624), letterbox=lb,
                                clip_to=lb.original_size if kw.get("clip") else None)
    from_cli = np.load(out)
    assert from_cli.dtype == np.float32 and from_cli.shape == dets.shape
    assert from_cli.tobytes() == dets.tobytes()


def test_cli_letterbox_defaults_are_pythons():
    """--fit and --letterbox-anchor default to facepost.letterbox's fit and anchor."""
    c = json.loads(subprocess.run([cli(), "defaults"], check=True, capture_output=True, text=True).stdout)
    defaults = {k: p.default for k, p in inspect.signature(facepost.letterbox).parameters.items()
                if p.default is not p.empty}
    assert c["fit"] == defaults["fit"] == "integer"
    assert c["letterbox-anchor"].replace("-", "_") == defaults["anchor"] == "centre"
