#!/usr/bin/env python3
"""Times the Pytorch_Retinaface detect.py post-processing block (ported to numpy, in
retinaface_reference.py: priors rebuilt on every call as detect.py does, numpy decode,
py_cpu_nms) against facepost on each fixture, on one core, with detect.py's parameters
(threshold 0.02, top_k 5000, NMS 0.4 py_cpu_nms, keep_top_k 750). Checks that both agree with
each other and with the fixture's golden, then prints a table of medians.

    python3 python/bench_vs_reference.py [--repeats N] [--cpu K]

with the package installed (docs/python.md), or PYTHONPATH=<build>/python /usr/bin/python3 ...

Exit status 1 if any result disagrees.
"""
import argparse
import os

# One core for everything, numpy's BLAS included (set before numpy is imported).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import facepost  # noqa: E402
from retinaface_reference import detection_difference, reference_postprocess  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
DETECT_PY = dict(threshold=0.02, top_k=5000, nms_threshold=0.4, keep_top_k=750)


def median_ms(fn, repeats):
    fn()  # warm-up (first-touch allocations, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=pathlib.Path, default=ROOT / "tests" / "data", help="fixtures folder")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs of the reference per fixture")
    parser.add_argument("--facepost-repeats", type=int, default=300, help="timed runs of facepost per fixture")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    args = parser.parse_args()
    if args.repeats < 1 or args.facepost_repeats < 1:
        parser.error("repeats must be at least 1")

    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[0] if args.cpu is None else args.cpu
    if cpu not in allowed:
        parser.error(f"--cpu {cpu} is not one of the allowed CPUs {allowed}")
    os.sched_setaffinity(0, {cpu})

    fixtures = sorted(p for p in args.data.iterdir() if (p / "meta.json").is_file())
    if not fixtures:
        parser.error(f"no fixtures under {args.data}")

    print(f"facepost {facepost.__version__} (backend {facepost.backend_name()}), numpy {np.__version__}, "
          f"Python {platform.python_version()}, pinned to CPU {cpu} of {os.cpu_count()}; "
          f"medians of {args.repeats} (reference) / {args.facepost_repeats} (facepost) runs")
    print("parameters: detect.py's (threshold 0.02, top_k 5000, py_cpu_nms 0.4, keep_top_k 750)\n")
    header = (f"{'fixture':<22} {'priors':>6} {'cand.':>5} {'K':>4} | {'numpy ref':>9} | "
              f"{'postprocess':>11} {'speed-up':>8} | {'Postprocessor':>13} {'speed-up':>8} | {'torch ref*':>10}")
    print(header)
    print("-" * len(header))
    ok = True
    for folder in fixtures:
        meta = json.loads((folder / "meta.json").read_text())
        loc, conf, landms = (np.load(folder / f"{h}.npy") for h in ("loc", "conf", "landms"))
        size = (meta["input_width"], meta["input_height"])  # facepost: (width, height)
        anchors = dict(min_sizes=meta["min_sizes"], steps=meta["steps"], variance=tuple(meta["variance"]))

        def reference():
            return reference_postprocess(loc, conf, landms, size[::-1], meta["resize"], meta["min_sizes"], meta["steps"],
                                         tuple(meta["variance"]), meta["clip"], DETECT_PY["threshold"],
                                         DETECT_PY["top_k"], DETECT_PY["nms_threshold"], DETECT_PY["keep_top_k"])

        def function():
            return facepost.postprocess(loc, conf, landms, size, meta["resize"], clip_priors=meta["clip"],
                                        **anchors, **DETECT_PY)

        pp = facepost.Postprocessor(clip_priors=meta["clip"], **anchors, **DETECT_PY)

        def reused():
            return pp(loc, conf, landms, size, meta["resize"])

        want = reference()
        golden = np.load(folder / meta["golden"]["reference_detect"]["file"])
        checks = (("reference vs golden", want, golden), ("postprocess vs reference", function(), want),
                  ("Postprocessor vs reference", reused(), want))
        for label, got, against in checks:
            difference = detection_difference(got, against)
            if difference is not None:
                ok = False
                print(f"{folder.name}: {label} DISAGREE: {difference}", file=sys.stderr)

        t_ref = median_ms(reference, args.repeats)
        t_fn = median_ms(function, args.facepost_repeats)
        t_pp = median_ms(reused, args.facepost_repeats)
        torch_ms = meta["golden"]["reference_detect"].get("python_reference_ms_median")
        print(f"{folder.name:<22} {meta['num_priors']:>6} {pp.stats['candidates']:>5} {len(want):>4} | "
              f"{t_ref:>6.2f} ms | {t_fn:>8.3f} ms {t_ref / t_fn:>7.0f}x | {t_pp:>10.3f} ms {t_ref / t_pp:>7.0f}x | "
              f"{torch_ms if torch_ms is not None else float('nan'):>7.2f} ms")
    print("\n* torch ref: the original (torch) detect.py block on one core, as measured when the fixtures were made "
          "(meta.json python_reference_ms_median); not re-measured here.")
    print("results agree (reference = golden = facepost)" if ok else "RESULTS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
