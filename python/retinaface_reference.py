"""The post-processing block of Pytorch_Retinaface's detect.py, ported to numpy line by line.

This is what facepost replaces and is measured against (bench_vs_reference.py) and checked
against (tests/). The torch calls of the original become the numpy calls that do the same
float32 arithmetic: PriorBox (Python loops, rebuilt on every call as detect.py does), decode,
decode_landm, the score threshold, argsort, py_cpu_nms and keep_top_k.
"""
from itertools import product
from math import ceil

import numpy as np


def prior_box(min_sizes, steps, image_size, clip=False):
    """PriorBox(cfg, image_size=(height, width)).forward(), as float32 [N,4] (cx, cy, w, h)."""
    feature_maps = [[ceil(image_size[0] / step), ceil(image_size[1] / step)] for step in steps]
    anchors = []
    for k, f in enumerate(feature_maps):
        for i, j in product(range(f[0]), range(f[1])):
            for min_size in min_sizes[k]:
                s_kx = min_size / image_size[1]
                s_ky = min_size / image_size[0]
                dense_cx = [x * steps[k] / image_size[1] for x in [j + 0.5]]
                dense_cy = [y * steps[k] / image_size[0] for y in [i + 0.5]]
                for cy, cx in product(dense_cy, dense_cx):
                    anchors += [cx, cy, s_kx, s_ky]
    output = np.array(anchors, dtype=np.float32).reshape(-1, 4)  # torch.Tensor(anchors).view(-1, 4)
    if clip:
        np.clip(output, 0, 1, out=output)
    return output


def decode(loc, priors, variances):
    boxes = np.concatenate((
        priors[:, :2] + loc[:, :2] * variances[0] * priors[:, 2:],
        priors[:, 2:] * np.exp(loc[:, 2:] * variances[1])), 1)
    boxes[:, :2] -= boxes[:, 2:] / 2
    boxes[:, 2:] += boxes[:, :2]
    return boxes


def decode_landm(pre, priors, variances):
    return np.concatenate((priors[:, :2] + pre[:, 0:2] * variances[0] * priors[:, 2:],
                           priors[:, :2] + pre[:, 2:4] * variances[0] * priors[:, 2:],
                           priors[:, :2] + pre[:, 4:6] * variances[0] * priors[:, 2:],
                           priors[:, :2] + pre[:, 6:8] * variances[0] * priors[:, 2:],
                           priors[:, :2] + pre[:, 8:10] * variances[0] * priors[:, 2:]), axis=1)


def py_cpu_nms(dets, thresh):
    """Pure Python NMS baseline (legacy +1 pixel widths)."""
    x1 = dets[:, 0]
    y1 = dets[:, 1]
    x2 = dets[:, 2]
    y2 = dets[:, 3]
    scores = dets[:, 4]

    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]

    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])

        w = np.maximum(0.0, xx2 - xx1 + 1)
        h = np.maximum(0.0, yy2 - yy1 + 1)
        inter = w * h
        ovr = inter / (areas[i] + areas[order[1:]] - inter)

        inds = np.where(ovr <= thresh)[0]
        order = order[inds + 1]
    return keep


def reference_postprocess(loc, conf, landms, image_size, resize=1.0,
                          min_sizes=((16, 32), (64, 128), (256, 512)), steps=(8, 16, 32),
                          variance=(0.1, 0.2), clip=False, confidence_threshold=0.02,
                          top_k=5000, nms_threshold=0.4, keep_top_k=750):
    """detect.py from `priorbox = PriorBox(...)` to `dets = np.concatenate((dets, landms), 1)`.

    loc, conf, landms: the network outputs for one image, [1,N,C] or [N,C] float32.
    image_size: the network input (im_height, im_width). Returns float32 [K,15].
    """
    im_height, im_width = image_size
    loc = np.asarray(loc).reshape(-1, 4)
    conf = np.asarray(conf).reshape(-1, 2)
    landms = np.asarray(landms).reshape(-1, 10)
    scale = np.array([im_width, im_height, im_width, im_height], dtype=np.float32)
    scale1 = np.array([im_width, im_height] * 5, dtype=np.float32)

    priors = prior_box(min_sizes, steps, (im_height, im_width), clip)
    boxes = decode(loc, priors, variance)
    boxes = boxes * scale / resize
    scores = conf[:, 1]
    landms = decode_landm(landms, priors, variance)
    landms = landms * scale1 / resize

    # ignore low scores
    inds = np.where(scores > confidence_threshold)[0]
    boxes = boxes[inds]
    landms = landms[inds]
    scores = scores[inds]

    # keep top-K before NMS
    order = scores.argsort()[::-1][:top_k]
    boxes = boxes[order]
    landms = landms[order]
    scores = scores[order]

    # do NMS
    dets = np.hstack((boxes, scores[:, np.newaxis])).astype(np.float32, copy=False)
    keep = py_cpu_nms(dets, nms_threshold)
    dets = dets[keep, :]
    landms = landms[keep]

    # keep top-K faster NMS
    dets = dets[:keep_top_k, :]
    landms = landms[:keep_top_k, :]

    return np.concatenate((dets, landms), axis=1)


def detection_difference(got, want, tol=1e-3):
    """How `got` differs from `want` ([K,15] detections, or a family's [K,C]), compared as tests/data/README.md says:
    same count, rows in order, rows of exactly tied scores as a set, coordinates within `tol` px,
    scores exact. None when they agree."""
    cols = want.shape[1] if want.ndim == 2 else 15
    if got.ndim != 2 or got.shape[1:] != (cols,):
        return f"shape {got.shape}, expected [K,{cols}]"
    if len(got) != len(want):
        return f"row count {len(got)} != {len(want)}"
    coords = np.r_[0:4, 5:cols]

    def close(a, b):
        return a[4] == b[4] and np.all(np.abs(a[coords] - b[coords]) <= tol)

    i = 0
    while i < len(want):
        j = i + 1
        while j < len(want) and want[j, 4] == want[i, 4]:
            j += 1  # tie group [i, j)
        unused = list(range(i, j))
        for g in range(i, j):
            match = next((w for w in unused if close(got[g], want[w])), None)
            if match is None:
                return (f"row {g} (score {got[g, 4]}) has no match in rows {i}..{j - 1}:\n"
                        f"  got  {got[g]}\n  want {want[i]}")
            unused.remove(match)
        i = j
    return None
