#!/usr/bin/python3
"""Turns facepost_bench's Google Benchmark JSON into a markdown report and a scaling plot.

Run the benchmark with repetitions and aggregates, e.g.

    facepost_bench --benchmark_min_time=0.05 --benchmark_repetitions=9 \\
        --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \\
        --benchmark_out_format=json --benchmark_out=bench.json
    /usr/bin/python3 tools/bench_report.py bench.json --markdown bench.md --plot bench.png

The report uses the median aggregate of every row (or the single run of a row when the JSON has
no aggregates) and checks the targets of the "Speed" issue. The plot needs matplotlib (Debian:
python3-matplotlib); --plot is skipped with a message when it is missing.
"""
import argparse
import json
import re
import sys
from collections import defaultdict

# Issue targets (same run, one core).
CROWD_SPEEDUP = 25.0  # crowd at threshold 0.02, no top_k: >= 25x faster than the scalar port
UHD_OVER_FHD = 4.5  # 3840x2160 crowd time <= 4.5 x the 1920x1080 crowd time
T05_OVER_FLOOR = 1.5  # threshold 0.5: end to end <= 1.5 x the floor row
T05_SPEEDUP = 3.0  # threshold 0.5: >= 3x faster than the scalar port

STAGES = ["filter_scores", "rank_radix", "decode", "nms_greedy"]
STAGE_PEERS = ["rank_sort", "nms_all_pairs", "nms_opencv"]

ROW_PATTERNS = {
    "e2e": re.compile(r"^e2e/(?P<frame>[^/]+)/(?P<set>[^/]+)/(?P<impl>[^/]+)$"),
    "floor": re.compile(r"^(?P<kind>floor|floor_sum)/(?P<frame>[^/]+)$"),
    "stage": re.compile(r"^stage/(?P<stage>[^/]+)/(?P<frame>[^/]+)/(?P<set>[^/]+)$"),
    "synthetic": re.compile(
        r"^synthetic/(?P<w>\d+)x(?P<h>\d+)/(?P<faces>\d+)/(?P<thr>[0-9.]+)/(?P<impl>[^/]+)$"),
}


class Row:
    """One benchmark row: its median time (microseconds) and its counters."""

    def __init__(self, name, entry, time_key):
        self.name = name
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[entry.get("time_unit", "ns")]
        self.us = float(entry[time_key]) * scale
        self.priors = entry.get("priors")
        self.candidates = entry.get("candidates")
        self.kept = entry.get("kept")
        self.error = entry.get("error_message") if entry.get("error_occurred") else None


def load_rows(path, time_key):
    """Returns (context, {row name: Row}), preferring median aggregates."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        sys.exit(f"bench_report: cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        sys.exit(f"bench_report: {path} is not JSON ({e}); did the benchmark run finish?")
    if not isinstance(data, dict) or "benchmarks" not in data:
        sys.exit(f"bench_report: {path} has no 'benchmarks' list: is it Google Benchmark JSON output?")
    medians, singles = {}, defaultdict(list)
    for e in data["benchmarks"]:
        if e.get("run_type") == "aggregate":
            if e.get("aggregate_name") == "median":
                medians[e["run_name"]] = e
        elif e.get("run_type", "iteration") == "iteration":
            singles[e.get("run_name", e["name"])].append(e)
    rows = {}
    for name, e in medians.items():
        rows[name] = Row(name, e, time_key)
    for name, runs in singles.items():
        if name in rows:
            continue
        if len(runs) > 1:  # repetitions without aggregates: take the median ourselves
            runs = sorted(runs, key=lambda r: r[time_key])
        rows[name] = Row(name, runs[len(runs) // 2], time_key)
    if not rows:
        sys.exit(f"bench_report: {path} holds no benchmark rows")
    return data.get("context", {}), rows, bool(medians)


def classify(rows):
    """Sorts rows into the tables by their names."""
    e2e = defaultdict(dict)  # (frame, set) -> impl -> Row
    floor = {}  # frame -> Row (the vectorised count: the strict floor)
    floor_sum = {}  # frame -> Row (the plain scalar sum)
    stage = defaultdict(dict)  # (frame, set) -> stage -> Row
    synth = defaultdict(dict)  # (w, h, faces, thr) -> impl -> Row
    unknown = []
    for name, row in rows.items():
        for kind, pat in ROW_PATTERNS.items():
            m = pat.match(name)
            if not m:
                continue
            g = m.groupdict()
            if kind == "e2e":
                e2e[(g["frame"], g["set"])][g["impl"]] = row
            elif kind == "floor":
                (floor if g["kind"] == "floor" else floor_sum)[g["frame"]] = row
            elif kind == "stage":
                stage[(g["frame"], g["set"])][g["stage"]] = row
            else:
                synth[(int(g["w"]), int(g["h"]), int(g["faces"]), g["thr"])][g["impl"]] = row
            break
        else:
            unknown.append(name)
    return e2e, (floor, floor_sum), stage, synth, unknown


def synthetic_floor(floor, w, h):
    """Floor row of a synthetic input size (any face count: reading the scores costs the same)."""
    prefix = f"synthetic_{w}x{h}_"
    for frame, row in sorted(floor.items()):
        if frame.startswith(prefix):
            return row
    return None


def fmt_us(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}" if v >= 1 else f"{v:.3f}"


def fmt_x(v):
    return "-" if v is None else f"{v:.1f}x" if v >= 10 else f"{v:.2f}x"


def fmt_n(v):
    return "-" if v is None else f"{int(round(v)):,}"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def status(ok, *values):
    if any(v is None for v in values):
        return "n/a (rows missing)"
    return "PASS" if ok else "FAIL"


def us_of(row):
    return None if row is None or row.error else row.us


def crowd_faces(synth):
    return max((k[2] for k in synth), default=None)


def markdown(context, rows, time_key, have_medians, source):
    e2e, (floor, floor_sum), stage, synth, unknown = classify(rows)
    out = []
    add = out.append
    add("# facepost benchmark report\n")
    add(f"Source: `{source}`. Time: {'median of the repetitions' if have_medians else 'single run'}, "
        f"{'CPU' if time_key == 'cpu_time' else 'wall-clock'} time, microseconds.\n")
    ctx_keys = ["date", "host_name", "num_cpus", "mhz_per_cpu", "facepost_backend", "facepost_version",
                "synthetic_seed", "library_build_type", "load_avg"]
    add("| context | value |\n| --- | --- |")
    for k in ctx_keys:
        if k in context:
            add(f"| {k} | {context[k]} |")
    add("")

    # Targets first: what the lead looks at.
    add("## Targets (issue \"Speed: SIMD backends and an exact NMS\")\n")
    add("| target | measured | status |\n| --- | --- | --- |")
    faces = crowd_faces(synth)
    crowd = {}
    for (w, h) in [(1920, 1080), (3840, 2160)]:
        r = synth.get((w, h, faces, "0.02"), {})
        crowd[(w, h)] = (us_of(r.get("facepost")), us_of(r.get("scalar_port")))
    for (w, h), (fp, port) in crowd.items():
        sp = ratio(port, fp)
        ok = sp is not None and sp >= CROWD_SPEEDUP
        add(f"| {w}x{h} crowd ({faces} faces), t=0.02: >= {CROWD_SPEEDUP:g}x faster than the scalar port | "
            f"facepost {fmt_us(fp)} us, port {fmt_us(port)} us: {fmt_x(sp)} | {status(ok, sp)} |")
    scale = ratio(crowd[(3840, 2160)][0], crowd[(1920, 1080)][0])
    ok = scale is not None and scale <= UHD_OVER_FHD
    add(f"| 3840x2160 crowd <= {UHD_OVER_FHD:g}x the 1920x1080 crowd | {fmt_x(scale)} | {status(ok, scale)} |")
    for (frame, set_), impls in sorted(e2e.items()):
        if set_ != "threshold_0_5":
            continue
        fp, port = us_of(impls.get("facepost")), us_of(impls.get("scalar_port"))
        fl, fls = us_of(floor.get(frame)), us_of(floor_sum.get(frame))
        over, over_sum, sp = ratio(fp, fl), ratio(fp, fls), ratio(port, fp)
        fast = sp is not None and sp >= T05_SPEEDUP
        ok = over is not None and over <= T05_OVER_FLOOR and fast
        ok_sum = over_sum is not None and over_sum <= T05_OVER_FLOOR and fast
        add(f"| {frame} t=0.5: <= {T05_OVER_FLOOR:g}x floor and >= {T05_SPEEDUP:g}x the port | "
            f"{fmt_us(fp)} us = {fmt_x(over)} floor ({fmt_us(fl)} us), {fmt_x(over_sum)} floor_sum "
            f"({fmt_us(fls)} us), {fmt_x(sp)} the port | floor: {status(ok, over, sp)}, "
            f"floor_sum: {status(ok_sum, over_sum, sp)} |")
    add("")
    add("`floor` is a vectorised pass over the face-score column (the least that reading the scores costs); "
        "`floor_sum` the plain float sum of the column, one scalar add per row (float adds may not be "
        "reordered, so the compiler cannot vectorise it). The issue's target does not say which; both are "
        "shown.\n")

    add("## Fixtures, end to end\n")
    add("| fixture | set | priors | candidates | kept | facepost us | scalar port us | speed-up | floor us "
        "| facepost / floor | floor_sum us | facepost / floor_sum |")
    add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (frame, set_), impls in sorted(e2e.items()):
        fp_row = impls.get("facepost")
        fp, port = us_of(fp_row), us_of(impls.get("scalar_port"))
        fl, fls = us_of(floor.get(frame)), us_of(floor_sum.get(frame))
        c = fp_row or impls.get("scalar_port")
        add(f"| {frame} | {set_} | {fmt_n(c.priors)} | {fmt_n(c.candidates)} | {fmt_n(c.kept)} | {fmt_us(fp)} | "
            f"{fmt_us(port)} | {fmt_x(ratio(port, fp))} | {fmt_us(fl)} | {fmt_x(ratio(fp, fl))} | {fmt_us(fls)} | "
            f"{fmt_x(ratio(fp, fls))} |")
    add("")

    if stage:
        add("## Stages alone (same data; the e2e column is the whole Postprocessor run)\n")
        add("Peers: `rank_sort` is the comparison sort, `nms_all_pairs` the O(n^2) NMS, `nms_opencv` "
            "cv::dnn::NMSBoxes (continuous IoU, so its `kept` may differ: a speed peer only).\n")
        cols = STAGES + ["sum", "e2e", "dominant"] + STAGE_PEERS
        add("| frame | set | candidates | " + " | ".join(cols) + " |")
        add("| --- | --- | ---: | " + " | ".join("---:" for _ in cols) + " |")
        for (frame, set_), st in sorted(stage.items()):
            times = {s: us_of(st.get(s)) for s in STAGES + STAGE_PEERS}
            known = [times[s] for s in STAGES if times[s] is not None]
            total = sum(known) if known else None
            if frame.startswith("synthetic_"):
                m = re.match(r"synthetic_(\d+)x(\d+)_(\d+)$", frame)
                e2e_row = synth.get((int(m.group(1)), int(m.group(2)), int(m.group(3)), set_.lstrip("t")), {})
            else:
                e2e_row = e2e.get((frame, set_), {})
            whole = us_of(e2e_row.get("facepost"))
            dom = max((s for s in STAGES if times[s] is not None), key=lambda s: times[s], default=None)
            share = ratio(times.get(dom), total) if dom else None
            any_row = next(iter(st.values()))
            cells = [fmt_us(times[s]) for s in STAGES] + [fmt_us(total), fmt_us(whole),
                                                          f"{dom} ({share:.0%})" if dom else "-"]
            cells += [fmt_us(times[s]) for s in STAGE_PEERS]
            add(f"| {frame} | {set_} | {fmt_n(any_row.candidates)} | " + " | ".join(cells) + " |")
        add("")

    if synth:
        add("## Synthetic scenes (retinaface_mnet anchors, no top_k, legacy NMS 0.4)\n")
        add("| input | faces | threshold | priors | candidates | kept | facepost us | scalar port us | speed-up "
            "| floor us | facepost / floor | floor_sum us | facepost / floor_sum |")
        add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (w, h, nf, thr), impls in sorted(synth.items(), key=lambda kv: (kv[0][0] * kv[0][1], kv[0][2],
                                                                           float(kv[0][3]))):
            fp_row = impls.get("facepost") or impls.get("scalar_port")
            fp, port = us_of(impls.get("facepost")), us_of(impls.get("scalar_port"))
            fl, fls = us_of(synthetic_floor(floor, w, h)), us_of(synthetic_floor(floor_sum, w, h))
            add(f"| {w}x{h} | {nf} | {thr} | {fmt_n(fp_row.priors)} | {fmt_n(fp_row.candidates)} | "
                f"{fmt_n(fp_row.kept)} | {fmt_us(fp)} | {fmt_us(port)} | {fmt_x(ratio(port, fp))} | {fmt_us(fl)} | "
                f"{fmt_x(ratio(fp, fl))} | {fmt_us(fls)} | {fmt_x(ratio(fp, fls))} |")
        add("")

    errors = [r for r in rows.values() if r.error]
    if errors:
        add("## Rows that reported an error\n")
        for r in errors:
            add(f"- `{r.name}`: {r.error}")
        add("")
    if unknown:
        add("## Rows not recognised by this script\n")
        for n in sorted(unknown):
            add(f"- `{n}`")
        add("")
    return "\n".join(out)


def plot(rows, path, time_key):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench_report: matplotlib is missing (Debian: apt-get install python3-matplotlib); no plot written",
              file=sys.stderr)
        return False
    e2e, (floor, floor_sum), stage, synth, _ = classify(rows)
    faces = crowd_faces(synth)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.5))

    # Left: time against priors, the crowd at every input size, and the floor.
    styles = {("facepost", "0.02"): ("C0", "-", "o"), ("facepost", "0.5"): ("C0", "--", "s"),
              ("scalar_port", "0.02"): ("C3", "-", "o"), ("scalar_port", "0.5"): ("C3", "--", "s")}
    for (impl, thr), (color, ls, mk) in styles.items():
        pts = sorted((r[impl].priors, r[impl].us) for k, r in synth.items()
                     if k[2] == faces and k[3] == thr and impl in r and not r[impl].error)
        if pts:
            ax1.plot(*zip(*pts), color=color, ls=ls, marker=mk, label=f"{impl}, t={thr}")
    for rows_, label, color in ((floor, "floor (vectorised read of the scores)", "0.3"),
                                (floor_sum, "floor_sum (scalar sum of the scores)", "0.6")):
        pts = sorted((r.priors, r.us) for f, r in rows_.items() if f.startswith("synthetic_") and not r.error)
        if pts:
            ax1.plot(*zip(*pts), color=color, ls=":", marker="^", label=label)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("priors")
    ax1.set_ylabel(f"median {'CPU' if time_key == 'cpu_time' else 'wall'} time per frame (us)")
    ax1.set_title(f"Synthetic crowd ({faces} faces), 320x240 .. 3840x2160")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)

    # Right: time against candidates: every synthetic scene and fixture, and the NMS peers.
    series = defaultdict(list)
    for k, r in synth.items():
        for impl in ("facepost", "scalar_port"):
            if impl in r and not r[impl].error and r[impl].candidates:
                series[f"{impl} (synthetic)"].append((r[impl].candidates, r[impl].us))
    for k, r in e2e.items():
        for impl in ("facepost", "scalar_port"):
            if impl in r and not r[impl].error and r[impl].candidates:
                series[f"{impl} (fixtures)"].append((r[impl].candidates, r[impl].us))
    for k, st in stage.items():
        for s in ("nms_greedy", "nms_all_pairs", "nms_opencv"):
            if s in st and not st[s].error and st[s].candidates:
                series[f"{s} alone"].append((st[s].candidates, st[s].us))
    look = {"facepost (synthetic)": ("C0", "o", 1.0), "facepost (fixtures)": ("C0", "*", 1.0),
            "scalar_port (synthetic)": ("C3", "o", 1.0), "scalar_port (fixtures)": ("C3", "*", 1.0),
            "nms_greedy alone": ("C2", "x", 0.8), "nms_all_pairs alone": ("C1", "x", 0.8),
            "nms_opencv alone": ("C4", "x", 0.8)}
    for label, (color, mk, alpha) in look.items():
        if series.get(label):
            x, y = zip(*series[label])
            ax2.scatter(x, y, color=color, marker=mk, alpha=alpha, s=28, label=label)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("candidates (scores above the threshold)")
    ax2.set_ylabel("median time (us)")
    ax2.set_title("facepost against its peers")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", help="Google Benchmark JSON written by facepost_bench --benchmark_out=...")
    ap.add_argument("--markdown", metavar="FILE", help="write the markdown report here (default: stdout)")
    ap.add_argument("--plot", metavar="FILE", help="write the scaling plot (PNG) here")
    ap.add_argument("--time", choices=["cpu", "real"], default="cpu",
                    help="which time to report (default cpu: on a shared machine it leaves out the time the "
                         "process waited for a core)")
    args = ap.parse_args()
    time_key = "cpu_time" if args.time == "cpu" else "real_time"
    context, rows, have_medians = load_rows(args.json, time_key)
    text = markdown(context, rows, time_key, have_medians, args.json)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    if args.plot and not plot(rows, args.plot, time_key):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
