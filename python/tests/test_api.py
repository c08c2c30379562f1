"""The Python API over facepost._core: one set of defaults (C++ Params{}, the CLI, Python), 0 and
None both meaning no limit, (width, height) sizes, the kernels in use, and the typed package."""
import inspect
import json
import pathlib
import platform
import re
import subprocess

import numpy as np
import pytest

import facepost
from facepost import _core
from conftest import ROOT, assert_matches_golden, cli, fixture, golden, input_size, params_kwargs
from retinaface_reference import prior_box

DOCS = ROOT / "docs" / "python.md"


def signature_defaults(fn):
    return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not p.empty}


# ---- defaults ----------------------------------------------------------------------------------

def test_python_defaults_are_the_cpp_params():
    """DEFAULTS is facepost::Params{} / AnchorConfig{} as the extension reports them, and every
    signature's defaults are those values (not numbers written a second time)."""
    assert dict(facepost.DEFAULTS) == _core.defaults()
    assert set(facepost.DEFAULTS) == {"threshold", "nms_threshold", "iou", "top_k", "keep_top_k", "logits",
                                      "variance", "clip_priors"}
    for fn in (facepost.postprocess, facepost.Postprocessor.__init__):
        got = signature_defaults(fn)
        for key, value in facepost.DEFAULTS.items():
            assert got[key] == value, (fn.__qualname__, key)
        assert got["preset"] is None and got["min_sizes"] is None and got["steps"] is None
    assert signature_defaults(facepost.priors)["clip_priors"] == facepost.DEFAULTS["clip_priors"]
    pp = facepost.Postprocessor()
    assert pp.params == {k: facepost.DEFAULTS[k] for k in pp.params}
    assert pp.anchors == facepost.preset_anchors(facepost.DEFAULT_PRESET)
    assert pp.anchors["variance"] == facepost.DEFAULTS["variance"]


def test_defaults_are_the_reference_detect_py():
    """The values themselves: Pytorch_Retinaface detect.py's (a change here is a change of all three)."""
    d = facepost.DEFAULTS
    assert (d["threshold"], d["nms_threshold"], d["iou"], d["top_k"], d["keep_top_k"]) == (0.02, 0.4, "legacy", 5000,
                                                                                           750)


def test_cli_defaults_are_the_python_defaults():
    """`facepost defaults` (DetectOptions{} and Params{} of the CLI) and `facepost --help` give the
    same values as the Python package."""
    out = subprocess.run([cli(), "defaults"], check=True, capture_output=True, text=True).stdout
    c = json.loads(out)
    d = facepost.DEFAULTS
    assert c["threshold"] == d["threshold"] and c["nms"] == d["nms_threshold"] and c["iou"] == d["iou"]
    assert c["top-k"] == d["top_k"] and c["keep-top-k"] == d["keep_top_k"] and c["logits"] == d["logits"]
    assert tuple(c["variance"]) == d["variance"]
    assert c["preset"].replace("-", "_") == facepost.DEFAULT_PRESET
    assert c["resize"] == 1  # Python's resize=None
    help_text = subprocess.run([cli(), "--help"], check=True, capture_output=True, text=True).stdout
    for option, value in (("--threshold", d["threshold"]), ("--nms", d["nms_threshold"]), ("--top-k", d["top_k"]),
                          ("--keep-top-k", d["keep_top_k"])):
        line = next(line for line in help_text.splitlines() if line.strip().startswith(option + " "))
        assert re.search(rf"\(default {re.escape(str(value))}[;)]", line), line


def test_docs_defaults_table_is_the_defaults():
    """docs/python.md's defaults table lists exactly DEFAULTS."""
    text = DOCS.read_text()
    table = text[text.index("<!-- defaults table -->"):text.index("<!-- end of defaults table -->")]
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", table, re.M))
    assert rows == {k: repr(v) for k, v in facepost.DEFAULTS.items()}


# ---- 0 and None: no limit ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["crowd_mnet_native", "group_mnet_long640"])
def test_none_and_zero_both_mean_no_limit(name):
    meta, heads = fixture(name)
    args = (heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"])
    kw = params_kwargs(meta, "reference_unlimited")
    assert kw["top_k"] is None and kw["keep_top_k"] is None
    by_none = facepost.postprocess(*args, **kw)
    by_zero = facepost.postprocess(*args, **{**kw, "top_k": 0, "keep_top_k": 0})
    np.testing.assert_array_equal(by_none, by_zero)
    assert_matches_golden(by_zero, golden(name, "reference_unlimited"))
    limited = facepost.postprocess(*args, **{**kw, "top_k": None, "keep_top_k": 3})
    np.testing.assert_array_equal(limited, by_zero[:3])
    a = facepost.Postprocessor(top_k=None, keep_top_k=None)
    b = facepost.Postprocessor(top_k=0, keep_top_k=0)
    assert a.params == b.params and a.params["top_k"] == 0 and a.params["keep_top_k"] == 0
    np.testing.assert_array_equal(a(*args), b(*args))


# ---- (width, height) ---------------------------------------------------------------------------

def test_input_size_is_width_then_height():
    """group_mnet_long640 is 640x359 (landscape): input_size=(640, 359) gives the golden detections.

    Swapping width and height cannot be caught by the prior count, which is
    sum(ceil(W/s) * ceil(H/s) * anchors) and so the same for (359, 640); the swapped call runs
    and gives other, wrong boxes. What catches it is here: the priors of (W, H) are the
    reference PriorBox's for image_size=(H, W), bit for bit, and the swapped ones are not."""
    name = "group_mnet_long640"
    meta, heads = fixture(name)
    w, h = meta["input_width"], meta["input_height"]
    assert (w, h) == (640, 359) and input_size(meta) == (640, 359)
    args = (heads["loc"], heads["conf"], heads["landms"])
    kw = params_kwargs(meta, "reference_detect")
    right = facepost.postprocess(*args, (w, h), meta["resize"], **kw)
    assert_matches_golden(right, golden(name, "reference_detect"))
    swapped = facepost.postprocess(*args, (h, w), meta["resize"], **kw)
    assert swapped.shape != right.shape or not np.allclose(swapped, right)

    reference = prior_box(meta["min_sizes"], meta["steps"], (h, w))  # PriorBox takes (height, width)
    np.testing.assert_array_equal(facepost.priors((w, h), min_sizes=meta["min_sizes"], steps=meta["steps"]),
                                  reference)
    assert facepost.count_priors((w, h)) == facepost.count_priors((h, w)) == meta["num_priors"] == len(reference)
    assert not np.array_equal(facepost.priors((h, w)), reference)
    cx = facepost.priors((w, h))[: 2 * 80 * 45]  # level 0 (step 8): 80 columns x 45 rows x 2 anchors
    assert len(np.unique(cx[:, 0])) == 80 and len(np.unique(cx[:, 1])) == 45


def test_input_size_that_disagrees_with_the_tensors_names_input_size():
    """A size whose prior count is not the row count (the original image's size, or (W, H) of
    another network input) raises ValueError that names input_size and both counts."""
    meta, heads = fixture("group_mnet_long640")
    args = (heads["loc"], heads["conf"], heads["landms"])
    with pytest.raises(ValueError, match=r"^input_size \(1600, 898\): tensors have 9520 rows but the anchor "
                                         r"configuration gives 59500 priors"):
        facepost.postprocess(*args, (meta["original_width"], meta["original_height"]))
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'image_size'"):
        facepost.postprocess(*args, image_size=(640, 359))
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'image_size'"):
        facepost.Postprocessor().run(*args, image_size=(640, 359))


# ---- the extension and the package ------------------------------------------------------------

def test_backend_name_is_a_known_kernel_set():
    name = facepost.backend_name()
    assert name in facepost.BACKENDS
    assert name == _core.backend_name()
    if platform.machine() in ("x86_64", "AMD64"):
        # The portable build: kernels chosen at run time, the best this CPU has.
        assert facepost.runtime_dispatch()
        flags = set()
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
        avx2 = {"avx2", "bmi1", "bmi2", "abm"} <= flags
        avx512 = avx2 and {"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"} <= flags
        assert name == ("avx512" if avx512 else "avx2" if avx2 else "scalar"), sorted(flags)


def test_version_is_the_cmake_projects():
    """One version: project(VERSION) of CMakeLists.txt, which generates version.hpp (compiled into
    _core.__version__) and which setup.py reads for the distribution's metadata."""
    cmake = (ROOT / "CMakeLists.txt").read_text()
    project_version = re.search(r"^project\(facepost\s+VERSION\s+([0-9.]+)", cmake, re.MULTILINE).group(1)
    assert facepost.__version__ == project_version
    try:
        from importlib import metadata
    except ImportError:  # Python 3.7
        return
    try:
        dist = metadata.distribution("facepost")
    except metadata.PackageNotFoundError:
        return  # the build tree's package (ctest): no distribution metadata
    installed = pathlib.Path(str(dist.locate_file("facepost/__init__.py"))).resolve()
    if installed == pathlib.Path(facepost.__file__).resolve():  # not some other installed facepost
        assert dist.version == project_version


def test_package_layout():
    """The API is Python (signatures visible to inspect), the extension is private, typed, and the
    package is marked typed (PEP 561)."""
    package = pathlib.Path(facepost.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_core.pyi").is_file()
    assert facepost.__version__ == _core.__version__
    assert set(facepost.__all__) <= set(dir(facepost))
    assert not hasattr(facepost, "backend")  # the 0.x attribute: backend_name() now
    assert facepost.PRESETS == ("retinaface_mnet", "retinaface_r50", "fd1m_mnet", "fd1m_slim", "fd1m_rfb")
    assert "input_size" in inspect.signature(facepost.Postprocessor.run).parameters
    for fn in (facepost.postprocess, facepost.Postprocessor, facepost.letterbox_fit, facepost.priors):
        assert fn.__doc__ and "(width, height)" in (fn.__doc__ + facepost.postprocess.__doc__)
