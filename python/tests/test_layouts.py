"""Any memory layout of the heads gives bit-identical detections: facepost reads strided views in
place (and copies only the layouts a float pointer cannot walk), and never writes to its inputs."""
import numpy as np
import pytest

import facepost
from conftest import FIXTURES, anchor_kwargs, assert_matches_golden, fixture, golden, input_size, params_kwargs


def wider_columns(a):
    """a as columns 3.. of a wider NaN-filled array: row stride C+7, gaps never read."""
    big = np.full((a.shape[0], a.shape[1] + 7), np.nan, np.float32)
    big[:, 3:3 + a.shape[1]] = a
    return big[:, 3:3 + a.shape[1]]


def every_other_row(a):
    big = np.full((2 * a.shape[0], a.shape[1]), np.nan, np.float32)
    big[::2] = a
    return big[::2]


def reversed_columns(a):
    """Column stride -1."""
    return a[:, ::-1].copy()[:, ::-1]


def channels_first(a):
    """A [1,C,N] output (channels first) transposed to [1,N,C] without a copy."""
    return np.ascontiguousarray(a.T)[None].transpose(0, 2, 1)


def misaligned(a):
    """float32 data at an odd byte address (numpy allows it; facepost must copy)."""
    raw = np.zeros(a.nbytes + 1, np.uint8)
    view = raw[1:].view(np.float32).reshape(a.shape)
    view[...] = a
    assert not view.flags["ALIGNED"]
    return view


def odd_byte_strides(a):
    """Rows 4*C+2 bytes apart: strides that are not whole floats (facepost must copy)."""
    row_bytes = a.shape[1] * 4 + 2
    raw = np.zeros(a.shape[0] * row_bytes, np.uint8)
    view = np.ndarray(a.shape, np.float32, raw.data, 0, (row_bytes, 4))
    view[...] = a
    return view


LAYOUTS = {
    "c_order": np.ascontiguousarray,
    "fortran": np.asfortranarray,
    "batch_of_one": lambda a: a[None],
    "wider_columns": wider_columns,
    "every_other_row": every_other_row,
    "reversed_columns": reversed_columns,
    "channels_first_transposed": channels_first,
    "misaligned": misaligned,
    "odd_byte_strides": odd_byte_strides,
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("name", FIXTURES)
def test_layout_gives_identical_detections(name, layout):
    meta, heads = fixture(name)
    make = LAYOUTS[layout]
    views = {k: make(v) for k, v in heads.items()}
    for k, v in views.items():
        np.testing.assert_array_equal(v.reshape(heads[k].shape), heads[k])  # same values, other layout
    before = {k: v.copy() for k, v in views.items()}
    kw = dict(**anchor_kwargs(meta), **params_kwargs(meta, "reference_unlimited"))
    expected = facepost.postprocess(heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"],
                                    **kw)
    got = facepost.postprocess(views["loc"], views["conf"], views["landms"], input_size(meta), meta["resize"], **kw)
    np.testing.assert_array_equal(got, expected)
    assert_matches_golden(got, golden(name, "reference_unlimited"))
    for k, v in views.items():
        np.testing.assert_array_equal(v, before[k])  # inputs untouched


def test_mixed_layouts_in_one_call():
    meta, heads = fixture("group_mnet_long640")
    kw = params_kwargs(meta, "reference_detect")
    got = facepost.postprocess(np.asfortranarray(heads["loc"]), wider_columns(heads["conf"]),
                               heads["landms"][None], input_size(meta), meta["resize"], **kw)
    assert_matches_golden(got, golden("group_mnet_long640", "reference_detect"))


def test_result_is_a_new_c_ordered_float32_array():
    meta, heads = fixture("crowd_mnet_native")
    a = facepost.postprocess(heads["loc"], heads["conf"], heads["landms"], input_size(meta))
    b = facepost.postprocess(heads["loc"], heads["conf"], heads["landms"], input_size(meta))
    assert a.dtype == np.float32 and a.flags["C_CONTIGUOUS"] and a.flags["WRITEABLE"]
    assert not np.shares_memory(a, b)
    a[:] = 0  # the caller owns it
    assert b[:, 4].max() > 0.99


def test_no_detections_gives_an_empty_k_by_15_array():
    meta, heads = fixture("crowd_mnet_native")
    conf = np.zeros_like(heads["conf"])
    got = facepost.postprocess(heads["loc"], conf, heads["landms"], input_size(meta))
    assert got.shape == (0, 15) and got.dtype == np.float32
