#!/usr/bin/env python3
"""PyTorch peer of bench_cuda: the same batches, post-processed the way PyTorch users do it.

Frames: RetinaFace mobilenet0.25 head outputs for a 1920x1080 input (85200 priors), tiled from
tests/data/crowd_mnet_native level by level with the same per-frame offsets as bench_cuda.cu, so
both programs see identical inputs. Batches of 1, 8, 32, 128; thresholds 0.02 and 0.5; top_k
5000, NMS 0.4, keep_top_k 750.

Two ways of running the peer, both on the GPU:
  loop     per frame, as detect.py does it: threshold, sort, top_k, decode (torch),
           torchvision.ops.nms, keep_top_k.
  batched  the whole batch at once: one threshold mask, per-frame ranking from one sort,
           decode, torchvision.ops.batched_nms (frames as classes), keep_top_k per frame.
Times are medians of torch.cuda.Event intervals around the whole batch (the final .cpu() of the
detections included for both, since the peer's result has a data-dependent size).

torchvision's NMS uses the continuous IoU (no +1), like facepost's IouConvention::continuous; its
counts are comparable with bench_cuda run with that convention, not with the legacy default.

Needs numpy, torch with CUDA, torchvision. Usage:
  python3 bench/cuda/torch_peer.py [--iters 50] [--data tests/data] [--dtype float32|float16]
"""
import argparse
import math
import os
import statistics
import sys

import numpy as np

MNET_LEVELS = [(8, [16, 32]), (16, [64, 128]), (32, [256, 512])]
VARIANCE = (0.1, 0.2)


def level_shapes(width, height):
    """[(fh, fw, anchors, row offset)] per level, in PriorBox order."""
    out, offset = [], 0
    for step, sizes in MNET_LEVELS:
        fh, fw = math.ceil(height / step), math.ceil(width / step)
        out.append((fh, fw, len(sizes), offset))
        offset += fh * fw * len(sizes)
    return out, offset


def tile(data_dir, batch, src=(1024, 624), dst=(1920, 1080)):
    """Frames tiled exactly as bench_cuda.cu's tile(): frame f shifted by (7f, 13f) cells."""
    fixture = os.path.join(data_dir, "crowd_mnet_native")
    heads = {name: np.load(os.path.join(fixture, name + ".npy")) for name in ("loc", "conf", "landms")}
    src_levels, src_rows = level_shapes(*src)
    dst_levels, dst_rows = level_shapes(*dst)
    assert heads["loc"].shape[0] == src_rows, "fixture does not match the mnet anchors at 1024x624"
    index = np.empty((batch, dst_rows), dtype=np.int64)
    for f in range(batch):
        for (dfh, dfw, a, doff), (sfh, sfw, _, soff) in zip(dst_levels, src_levels):
            di, dj = (f * 7) % sfh, (f * 13) % sfw
            i = (np.arange(dfh)[:, None, None] + di) % sfh
            j = (np.arange(dfw)[None, :, None] + dj) % sfw
            k = np.arange(a)[None, None, :]
            index[f, doff:doff + dfh * dfw * a] = (soff + (i * sfw + j) * a + k).reshape(-1)
    return {name: arr[index] for name, arr in heads.items()}, dst_rows


def priors(width, height):
    rows = []
    for step, sizes in MNET_LEVELS:
        fh, fw = math.ceil(height / step), math.ceil(width / step)
        i, j = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        cx = ((j + 0.5) * step / width)[..., None].repeat(len(sizes), -1)
        cy = ((i + 0.5) * step / height)[..., None].repeat(len(sizes), -1)
        w = np.broadcast_to(np.array(sizes, dtype=np.float64) / width, cx.shape)
        h = np.broadcast_to(np.array(sizes, dtype=np.float64) / height, cx.shape)
        rows.append(np.stack([cx, cy, w, h], -1).reshape(-1, 4))
    return np.concatenate(rows).astype(np.float32)  # computed in double, stored as float32


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--data", default=os.path.join(here, "..", "..", "tests", "data"))
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    args = parser.parse_args()

    import torch
    import torchvision

    if not torch.cuda.is_available():
        print("SKIPPED: torch sees no CUDA device")
        return 77
    dev = torch.device("cuda")
    width, height = 1920, 1080
    host, rows = tile(args.data, 128)
    dtype = getattr(torch, args.dtype)
    loc_all = torch.from_numpy(host["loc"]).to(dev, dtype)
    conf_all = torch.from_numpy(host["conf"]).to(dev, dtype)
    landms_all = torch.from_numpy(host["landms"]).to(dev, dtype)
    prior = torch.from_numpy(priors(width, height)).to(dev)
    scale4 = torch.tensor([width, height, width, height], device=dev, dtype=torch.float32)
    scale10 = torch.tensor([width, height] * 5, device=dev, dtype=torch.float32)
    v0, v1 = VARIANCE
    top_k, keep_top_k, nms_t = 5000, 750, 0.4

    def decode(loc, landms, p):
        boxes = torch.cat((p[:, :2] + loc[:, :2] * v0 * p[:, 2:], p[:, 2:] * torch.exp(loc[:, 2:] * v1)), 1)
        boxes[:, :2] -= boxes[:, 2:] / 2
        boxes[:, 2:] += boxes[:, :2]
        lm = torch.cat([p[:, :2] + landms[:, 2 * k:2 * k + 2] * v0 * p[:, 2:] for k in range(5)], 1)
        return boxes * scale4, lm * scale10

    def loop(loc, conf, landms, thr):
        out = []
        for f in range(loc.shape[0]):
            scores = conf[f, :, 1].float()
            inds = torch.nonzero(scores > thr).squeeze(1)
            s = scores[inds]
            order = torch.argsort(s, descending=True, stable=True)[:top_k]
            inds, s = inds[order], s[order]
            boxes, lm = decode(loc[f, inds].float(), landms[f, inds].float(), prior[inds])
            keep = torchvision.ops.nms(boxes, s, nms_t)[:keep_top_k]
            out.append(torch.cat((boxes[keep], s[keep, None], lm[keep]), 1))
        return [o.cpu() for o in out]

    def batched(loc, conf, landms, thr):
        b = loc.shape[0]
        scores = conf[..., 1].float()
        frame, inds = torch.nonzero(scores > thr, as_tuple=True)
        s = scores[frame, inds]
        # One sort by (frame, score descending, prior), then the rank of each candidate in its frame.
        order = torch.argsort(frame.double() * 4.0 - s.double(), stable=True)
        frame, inds, s = frame[order], inds[order], s[order]
        counts = torch.bincount(frame, minlength=b)
        first = torch.cumsum(counts, 0) - counts
        rank = torch.arange(frame.numel(), device=dev) - first[frame]
        sel = rank < top_k
        frame, inds, s = frame[sel], inds[sel], s[sel]
        boxes, lm = decode(loc[frame, inds].float(), landms[frame, inds].float(), prior[inds])
        keep = torchvision.ops.batched_nms(boxes, s, frame, nms_t)  # sorted by score over all frames
        keep = keep[torch.argsort(frame[keep], stable=True)]         # regroup by frame, order kept
        kf = frame[keep]
        kcounts = torch.bincount(kf, minlength=b)
        kfirst = torch.cumsum(kcounts, 0) - kcounts
        krank = torch.arange(kf.numel(), device=dev) - kfirst[kf]
        keep = keep[krank < keep_top_k]
        rows_out = torch.cat((boxes[keep], s[keep, None], lm[keep]), 1).cpu()
        return rows_out, torch.bincount(frame[keep], minlength=b).cpu()

    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, torchvision {torchvision.__version__}")
    print(f"input {width}x{height}, {rows} priors/frame, dtype {args.dtype}, {args.iters} iterations")
    print(f"{'mode':8} {'thr':>5} {'B':>4} {'det/f':>6} {'gpu ms':>9} {'us/frame':>9}")
    for thr in (0.02, 0.5):
        for b in (1, 8, 32, 128):
            loc, conf, landms = loc_all[:b], conf_all[:b], landms_all[:b]
            for mode, fn in (("loop", loop), ("batched", batched)):
                for _ in range(3):
                    result = fn(loc, conf, landms, thr)
                times = []
                for _ in range(args.iters):
                    start.record()
                    result = fn(loc, conf, landms, thr)
                    stop.record()
                    stop.synchronize()
                    times.append(start.elapsed_time(stop))
                det = sum(r.shape[0] for r in result) if mode == "loop" else int(result[1].sum())
                ms = statistics.median(times)
                print(f"{mode:8} {thr:5.2f} {b:4d} {det / b:6.0f} {ms:9.3f} {1e3 * ms / b:9.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
