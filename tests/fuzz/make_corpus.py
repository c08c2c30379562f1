#!/usr/bin/python3
"""Writes the seed corpora of the fuzzers under tests/fuzz/corpus/ (committed; rerun only to
change them). Needs numpy: run with /usr/bin/python3 tests/fuzz/make_corpus.py.

The postprocess seeds follow the byte layout that fuzz_postprocess.cpp decodes (see its
LLVMFuzzerTestOneInput); the helpers below name the codes it understands."""
import io
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------------------------------------
# fuzz_npy: small valid files in every layout parse_npy reads, and a few it must refuse.

def npy_bytes(array, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version, allow_pickle=False)
    return buf.getvalue()


def npy_seeds():
    a = np.arange(6, dtype="<f4").reshape(2, 3)
    write("npy", "c_order_2x3.npy", npy_bytes(a))
    write("npy", "big_endian_3x2.npy", npy_bytes(a.reshape(3, 2).astype(">f4")))
    write("npy", "fortran_2x3.npy", npy_bytes(np.asfortranarray(a)))
    write("npy", "fortran_big_endian_2x2x2.npy",
          npy_bytes(np.asfortranarray(np.arange(8, dtype=">f4").reshape(2, 2, 2))))
    write("npy", "batch_1x4x2.npy", npy_bytes(np.linspace(-1, 1, 8, dtype="<f4").reshape(1, 4, 2)))
    write("npy", "scalar.npy", npy_bytes(np.array(3.5, dtype="<f4")))
    write("npy", "empty_0x4.npy", npy_bytes(np.zeros((0, 4), dtype="<f4")))
    write("npy", "version2_1d.npy", npy_bytes(np.arange(3, dtype="<f4"), version=(2, 0)))
    write("npy", "version3_1d.npy", npy_bytes(np.arange(2, dtype="<f4"), version=(3, 0)))
    specials = np.array([np.nan, np.inf, -np.inf, 1e-45, -0.0, 3.4e38], dtype="<f4")
    write("npy", "special_values.npy", npy_bytes(specials))
    # Refused: float64, and a float32 file cut short.
    write("npy", "float64_refused.npy", npy_bytes(np.arange(2, dtype="<f8")))
    write("npy", "truncated_refused.npy", npy_bytes(a)[:-5])


# ------------------------------------------------------------------------------------------------
# fuzz_postprocess

FLAG_CONTINUOUS, FLAG_LOGITS, FLAG_PRIOR_CLIP, FLAG_BATCH, FLAG_CLIP_OUTPUT = 1, 2, 4, 8, 16
LAYOUT_PADDED, LAYOUT_COLUMN_MAJOR = 1 << 5, 2 << 5
FLAG_RAW_DATA = 128
PRESET_NONE, PRESET_RETINAFACE_MNET, PRESET_FD1M_SLIM = 0, 200, 228
NO_CORRUPTION = 0
STEPS = [8, 16, 32, 64, 4, 2, 1, 3, 5, 7, 100, 128]
STEP_INT_MAX = 224 + 3
SIDE_MAX_INPUT = 248 + 4  # kMaxInputSide
THRESHOLD_0_02, THRESHOLD_NAN = 112, 105  # table entries 0 and 9
THRESHOLD_0_556 = 55  # codes below 100 are code / 99: above the background scores of scene()
NMS_0_4 = 112
LIMIT_5000, LIMIT_NONE = 131, 134


def step(s):
    return STEPS.index(s)


def side(n):
    assert 1 <= n <= 248
    return n - 1


def level(step_px, min_sizes):
    assert 1 <= len(min_sizes) <= 4 and all(1 <= m <= 224 for m in min_sizes)
    return bytes([step(step_px), len(min_sizes) - 1] + [m - 1 for m in min_sizes])


def header(flags=0, preset=PRESET_NONE, corruption=NO_CORRUPTION, delta=0, levels=(), variance=0,
           width=64, height=48, side_codes=None, threshold=THRESHOLD_0_556, nms=NMS_0_4, top_k=LIMIT_5000, keep_top_k=LIMIT_NONE,
           mapping=b"\x00", clip=b""):
    levels = list(levels) or [level(8, [16])]
    out = bytes([flags, preset, corruption, delta, len(levels) - 1])
    out += b"".join(levels)
    sides = side_codes or (side(width), side(height))
    out += bytes([variance, *sides, threshold, nms, top_k, keep_top_k])
    return out + mapping + clip


def scene(rng, n):
    """Tensor bytes: regressions near 0, scores mostly low with some faces."""
    data = bytearray(rng.integers(80, 112, size=n, dtype=np.uint8))
    faces = rng.choice(n, size=n // 6, replace=False)
    for i in faces:
        data[i] = rng.integers(150, 200)
    return bytes(data)


def postprocess_seeds():
    rng = np.random.default_rng(7)
    mnet = [level(8, [16, 32]), level(16, [64, 128]), level(32, [160, 224])]
    write("postprocess", "mnet_preset_64x48", header(preset=PRESET_RETINAFACE_MNET) + scene(rng, 96))
    write("postprocess", "runtime_mnet_200x200_many_candidates",
          header(levels=mnet, width=200, height=200, threshold=THRESHOLD_0_02) + scene(rng, 300))
    write("postprocess", "logits_continuous_column_major_resize",
          header(flags=FLAG_LOGITS | FLAG_CONTINUOUS | LAYOUT_COLUMN_MAJOR, levels=[level(16, [24, 48])],
                 width=96, height=80, mapping=bytes([1, 31])) + scene(rng, 120))
    write("postprocess", "slim_preset_letterbox_clip_batch",
          header(flags=FLAG_BATCH | FLAG_CLIP_OUTPUT | LAYOUT_PADDED, preset=PRESET_FD1M_SLIM, width=128, height=72,
                 mapping=bytes([2, 40, 40, 64, 80]), clip=bytes([127, 100])) + scene(rng, 160))
    write("postprocess", "raw_floats_prior_clip",
          header(flags=FLAG_RAW_DATA | FLAG_PRIOR_CLIP, levels=[level(4, [8]), level(8, [16, 24])], width=40,
                 height=24) + rng.bytes(256))
    write("postprocess", "five_levels_four_sizes",
          header(levels=[level(s, [8, 16, 24, 32]) for s in (4, 8, 16, 32, 64)], width=33, height=17) +
          scene(rng, 200))
    write("postprocess", "refused_nan_threshold", header(threshold=THRESHOLD_NAN) + scene(rng, 32))
    write("postprocess", "refused_prior_count_mismatch", header(corruption=160 + 3, delta=1) + scene(rng, 32))
    write("postprocess", "step_int_max_one_prior", header(levels=[bytes([STEP_INT_MAX, 0, 15])]) + scene(rng, 16))
    write("postprocess", "refused_side_max_step_1",
          header(levels=[level(1, [4])], side_codes=(SIDE_MAX_INPUT, SIDE_MAX_INPUT)) + scene(rng, 16))


# ------------------------------------------------------------------------------------------------
# fuzz_cli_args: argument lists, NUL-separated.

def cli_seeds():
    seeds = {
        "detect_preset": ["--loc", "loc.npy", "--conf", "conf.npy", "--landms", "landms.npy", "--input-size",
                          "640x359", "--resize", "0.4"],
        "detect_custom_everything": ["--loc=l.npy", "--conf=c.npy", "--landms=m.npy", "--input-size=1024X768",
                                     "--min-sizes=10,16,24;32,48;64,96;128,192,256", "--steps=8,16,32,64",
                                     "--variance=0.1,0.2", "--threshold=0.5", "--nms", "0.3", "--iou=continuous",
                                     "--top-k=0", "--keep-top-k=+750", "--logits", "--out=o.npy", "--repeat=3"],
        "detect_letterbox": ["--loc", "l.npy", "--conf", "c.npy", "--landms", "m.npy", "--input-size", "640x640",
                             "--letterbox", "1920x1080", "--fit", "exact", "--letterbox-anchor", "top-left",
                             "--clip=1920x1080"],
        "detect_help": ["--loc", "l", "--help"],
        "show": ["detections.npy", "--max", "5"],
        "detect_family_scrfd": ["--family", "scrfd", "--score-8", "a", "--score-16", "b", "--score-32", "c", "--bbox-8",
                                "d", "--bbox-16", "e", "--bbox-32", "f", "--input-size", "640x640", "--max-num", "5",
                                "--image-size", "1600x898", "--resize", "0.4"],
        "detect_family_blazeface": ["--family=blazeface", "--model", "back", "--regressors", "r", "--classificators",
                                    "c", "--letterbox", "1280x720", "--clip", "1280x720"],
        "detect_family_yolo": ["--family", "yolov5-face", "--pred", "p", "--input-size", "640x384", "--max-det", "10",
                               "--threshold", "0.6", "--nms", "0.5"],
        "refused_values": ["--input-size", "-640x359", "--threshold", "nan", "--top-k", "-1", "--steps", "8,,32",
                           "--min-sizes", "16,32;;256", "--preset", "yolo", "--variance", "0.1"],
        "numbers": ["1e-45", "0x1p3", "99999999999999999999999", "3.4028236e38", "-0", "+.5e+3", "1048577x1"],
    }
    for name, args in seeds.items():
        write("cli_args", name, "\0".join(args).encode())


# ------------------------------------------------------------------------------------------------
# fuzz_families: the header bytes fuzz_families.cpp decodes (family, width and height codes,
# threshold, NMS threshold, max_num / max_det / top_k, SCRFD scale and keypoints flag; BlazeFace:
# model, threshold, NMS threshold), then values.

def families_seeds():
    rng = np.random.default_rng(3)
    # Threshold codes: 0 = 0, 1 = 0.25, 2 = 0.5, 3 = 0.7, 5 = 0.3, 6 = 0.45; 9 = NaN (refused).
    seeds = {
        "scrfd_64x32_t05_nms04_kps": bytes([0, 1, 0, 2, 5, 0, 0, 0]),
        "scrfd_96x96_t03_nms05_max3_scale037": bytes([2, 2, 2, 5, 2, 3, 1, 1]),
        "scrfd_refused_threshold": bytes([0, 0, 0, 9, 2, 0, 0, 0]),
        "yolo_64x64_t025_iou045": bytes([1, 1, 1, 1, 6, 0]),
        "yolo_96x64_t05_iou05_max5": bytes([3, 2, 1, 2, 2, 5]),
        "yunet_96x64_t05_nms03_top5": bytes([4, 2, 1, 2, 5, 5]),
        "blazeface_back_t05_nms03": bytes([5, 0, 0, 1, 2, 5]),
        "blazeface_front_nms1": bytes([5, 0, 0, 0, 2, 4]),
    }
    for name, head in seeds.items():
        # Small values (bytes below 224) with a few raw floats (a 255 byte, then 4 bytes of bits).
        values = bytearray(rng.integers(0, 224, 600, dtype=np.uint8).tobytes())
        values[100:105] = b"\xff" + struct.pack("<f", float("nan"))
        values[300:305] = b"\xff" + struct.pack("<f", 3.0e38)
        write("families", name, head + bytes(values))


# ------------------------------------------------------------------------------------------------
# fuzz_low_precision: pipeline (0 RetinaFace, 1 YOLOv5-face), threshold, NMS threshold, logits
# flag and layout codes, then per head (type: 0 float32, 1 float16, 2 int8, 3 uint8; scale code;
# zero-point code), then the element bytes.

def low_precision_seeds():
    rng = np.random.default_rng(5)
    for pipeline, heads in ((0, 3), (1, 1)):
        for type_code in range(4):
            for layout in range(3):
                header = bytes([pipeline, 0, 4, layout == 1, layout])
                # scale codes 0-4 are valid (0.05, 1/255, 1, 0.0123, 3e-5), zero-point codes 0-3 fit both int types
                header += bytes([type_code, 1, 0] + [type_code, 0, 2] * (heads - 1))
                values = rng.integers(0, 256, 900, dtype=np.uint8).tobytes()
                name = f"{'retinaface' if pipeline == 0 else 'yolov5_face'}_type{type_code}_layout{layout}"
                write("low_precision", name, header + values)
    # refused quantizations: scale 0, zero point 128 for int8
    write("low_precision", "retinaface_refused_scale", bytes([0, 0, 4, 0, 0, 2, 5, 0, 0, 0, 0, 0, 0, 0]) + bytes(64))
    write("low_precision", "yolov5_face_refused_zero_point", bytes([1, 0, 4, 0, 0, 2, 0, 7]) + bytes(64))


if __name__ == "__main__":
    npy_seeds()
    families_seeds()
    low_precision_seeds()
    postprocess_seeds()
    cli_seeds()
