"""The GIL is released while facepost computes, and concurrent calls give correct results."""
import threading

import numpy as np

import facepost
from conftest import (FIXTURES, anchor_kwargs, assert_gil_released, assert_matches_golden, fixture, golden, input_size,
                      params_kwargs)


def heavy_frame(side=2048, seed=0):
    """A synthetic frame whose post-processing takes a few hundred ms: every prior is a candidate."""
    rng = np.random.default_rng(seed)
    n = sum(((side + s - 1) // s) ** 2 * 2 for s in (8, 16, 32))
    loc = rng.normal(0, 1, (n, 4)).astype(np.float32)
    conf = np.empty((n, 2), np.float32)
    conf[:, 1] = rng.uniform(0.1, 1.0, n)
    conf[:, 0] = 1 - conf[:, 1]
    return loc, conf, np.zeros((n, 10), np.float32), (side, side)


def test_other_python_threads_run_during_a_call():
    """While one long call runs, another Python thread keeps running (conftest.assert_gil_released)."""
    pp = facepost.Postprocessor(preset="retinaface_mnet", threshold=0.0, top_k=None, keep_top_k=None)

    def make_call(side):
        loc, conf, landms, size = heavy_frame(side)
        return lambda: pp(loc, conf, landms, size)

    assert_gil_released(make_call, (2048, 4096, 8192), "call")


def run_frames(target, frames, results, index):
    results[index] = [target(*f) for f in frames]


def fixture_frames():
    frames, expected = [], []
    for name in FIXTURES:
        meta, heads = fixture(name)
        frames.append((name, meta, heads))
        expected.append(golden(name, "reference_detect"))
    return frames, expected


def test_threads_with_their_own_postprocessors():
    frames, expected = fixture_frames()
    results = [None] * 4

    def worker(i):
        pps = {}
        out = []
        for _ in range(5):
            for name, meta, heads in frames:
                if name not in pps:
                    pps[name] = facepost.Postprocessor(**anchor_kwargs(meta), **params_kwargs(meta, "reference_detect"))
                out.append(pps[name](heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"]))
        results[i] = out

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for out in results:
        assert out is not None and len(out) == 5 * len(frames)
        for k, got in enumerate(out):
            assert_matches_golden(got, expected[k % len(frames)])


def test_threads_sharing_one_postprocessor_and_the_function():
    """One Postprocessor shared by threads (calls serialised inside) and the stateless function,
    on frames of different input sizes interleaved."""
    frames, expected = fixture_frames()
    mnet = [(k, f) for k, f in enumerate(frames) if f[1]["min_sizes"] == [[16, 32], [64, 128], [256, 512]]]
    assert len(mnet) >= 2
    shared = facepost.Postprocessor(preset="retinaface_mnet", top_k=5000, keep_top_k=750)
    errors, checked = [], [0]
    lock = threading.Lock()

    def worker(seed):
        order = np.random.default_rng(seed).permutation(len(mnet) * 6) % len(mnet)
        try:
            for j in order:
                k, (name, meta, heads) = mnet[j]
                args = (heads["loc"], heads["conf"], heads["landms"], input_size(meta), meta["resize"])
                a = shared(*args)
                b = facepost.postprocess(*args, **anchor_kwargs(meta), **params_kwargs(meta, "reference_detect"))
                assert_matches_golden(a, expected[k])
                np.testing.assert_array_equal(a, b)
                with lock:
                    checked[0] += 1
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert checked[0] == 4 * len(mnet) * 6
