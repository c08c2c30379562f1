"""facepost: post-processing for RetinaFace-family face detectors.

Priors, box and landmark decoding, score threshold, top-k, exact greedy NMS and keep-top-k, with
exactly the results of the reference Python code (Pytorch_Retinaface ``detect.py``,
``torchvision.ops.nms``), computed by the header-only C++ library through the private extension
``facepost._core``. This module holds the API: signatures, defaults, documentation and argument
checks (``TypeError`` for a wrong type, ``ValueError`` for a wrong value, each naming the argument).

Conventions, the same as the C++ API and the ``facepost`` command-line tool:

- every size is ``(width, height)``: ``input_size`` (the network input, ``cv::Size``, the CLI's
  ``--input-size WxH``, C++'s ``InputSize``), ``clip_to``, :func:`letterbox`'s and
  :func:`letterbox_fit`'s sizes;
- ``top_k`` / ``keep_top_k``: ``0`` means no limit, and so does ``None``;
- the defaults are C++'s ``facepost::Params{}`` (the reference ``detect.py``), read from the
  extension: see :data:`DEFAULTS`.

Head arrays (every entry point, the families' too) are numpy ``float32``, ``float16``, ``int8`` or
``uint8`` in native byte order, of any strides, read in place: float16 and quantized values are
converted to float32 by the C++ kernels as they are read, never as a copy of the whole array, and
the results are identical to the float32 pipeline run on the same values. An ``int8`` / ``uint8``
head is quantized per tensor, value = ``float32(q - zero_point) * scale``: give
``dequant={head: (scale, zero_point)}`` (the head's argument name, e.g.
``dequant={"conf": (1 / 255, 0), "landms": (0.04, -3)}``). Other dtypes, ``float64`` above all,
raise ``ValueError`` rather than being narrowed silently: convert with ``.astype(np.float32)``.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
import types
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core

__version__: str = _core.__version__

__all__ = [
    "BACKENDS", "DEFAULTS", "DEFAULT_PRESET", "Letterbox", "MAX_INPUT_SIDE", "PRESETS", "Postprocessor",
    "backend_name", "count_priors", "letterbox", "letterbox_fit", "postprocess", "preset_anchors", "priors",
    "runtime_dispatch",
    "align", "arcface_template",
    "Blazeface", "FAMILY_DEFAULTS", "Scrfd", "Yolov5Face", "Yunet", "blazeface", "scrfd", "scrfd_resize",
    "yolov5_face", "yunet",
]

#: Every name :func:`backend_name` can return.
BACKENDS: Tuple[str, ...] = ("avx512", "avx2", "neon", "scalar")

_PRESETS: Dict[str, Dict[str, Any]] = _core.presets()

#: The anchor presets of ``facepost::presets``, in declaration order.
PRESETS: Tuple[str, ...] = tuple(_PRESETS)

#: The anchors used when neither ``preset`` nor ``min_sizes``/``steps`` is given (the CLI's
#: default ``--preset retinaface-mnet``; Pytorch_Retinaface's cfg_mnet and cfg_re50).
DEFAULT_PRESET: str = "retinaface_mnet"

#: Largest accepted side of ``input_size`` (``facepost::kMaxInputSide``).
MAX_INPUT_SIDE: int = _core.MAX_INPUT_SIDE

#: The defaults of every keyword, read from C++ (``facepost::Params{}`` and ``AnchorConfig{}``):
#: threshold, nms_threshold, iou, top_k, keep_top_k (0 = no limit), logits, variance, clip_priors.
DEFAULTS: Mapping[str, Any] = types.MappingProxyType(_core.defaults())

_IOU = ("legacy", "continuous")
_FITS = ("integer", "exact")
_ANCHORS = ("centre", "top_left")


@dataclasses.dataclass(frozen=True)
class Letterbox:
    """A letterbox computed by :func:`letterbox`: how to make the network input, and the mapping
    back. Pass it as ``letterbox=`` to :func:`postprocess` / :meth:`Postprocessor.run` (its
    :attr:`mapping` is used), and ``clip_to=lb.original_size`` to clamp to the original image.

    Attributes:
        original_size: ``(width, height)`` of the original image.
        input_size: ``(width, height)`` of the network input.
        fit: ``'integer'`` or ``'exact'``.
        anchor: ``'centre'`` or ``'top_left'``.
        resized_size: ``(width, height)`` to resize the original to: integers for ``'integer'``
            (``cv2.resize(image, lb.resized_size)``); for ``'exact'`` the exact fractional size
            (the input's side on the axis that limits the scale, ``original * input / original``
            on the other), which an affine warp makes and ``cv2.resize`` cannot.
        pad: ``(left, top, right, bottom)`` padding around the resized image, network pixels
            (``cv2.copyMakeBorder(resized, top, bottom, left, right, ...)`` for ``'integer'``).
        mapping: ``(scale_x, scale_y, pad_x, pad_y)``, the float32 values the post-processing
            maps with: ``original = (network - pad) / scale``.
    """

    original_size: Tuple[int, int]
    input_size: Tuple[int, int]
    fit: str
    anchor: str
    resized_size: Tuple[Any, Any]
    pad: Tuple[Any, Any, Any, Any]
    mapping: Tuple[float, float, float, float]


def backend_name() -> str:
    """The CPU kernels in use, one of :data:`BACKENDS` ('avx512', 'avx2', 'neon' or 'scalar').

    The module is built with runtime dispatch: on x86-64 it picks AVX-512 or AVX2 when the CPU
    has them (scalar otherwise) at first use."""
    return _core.backend_name()


def runtime_dispatch() -> bool:
    """True when the kernels are chosen at run time for the CPU (the portable build)."""
    return _core.runtime_dispatch()


# ---- argument checks ---------------------------------------------------------------------------

def _type_name(value: Any) -> str:
    return type(value).__name__


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({_type_name(value)})")
    return int(value)


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({_type_name(value)})")
    return float(value)


def _items(value: Any, name: str, form: str, count: Optional[int] = None) -> Tuple[Any, ...]:
    """The items of a tuple/list-like argument (not a str, bytes or dict)."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be {form}, got {value!r} ({_type_name(value)})")
    items = tuple(value)
    if count is not None and len(items) != count:
        raise ValueError(f"{name} must be {form}, got {len(items)} values: {value!r}")
    return items


def _unit_interval(value: Any, name: str) -> float:
    v = _real(value, name)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def _limit(value: Any, name: str) -> int:
    """top_k / keep_top_k: None or 0 = no limit (0 for C++), else a positive integer."""
    if value is None:
        return 0
    v = _integer(value, name)
    if v < 0:
        raise ValueError(f"{name} must be a non-negative integer (0 or None: no limit), got {v}")
    return v


def _input_size(value: Any, name: str = "input_size") -> Tuple[int, int]:
    """(width, height) of the network input, each in [1, MAX_INPUT_SIDE]."""
    w, h = _items(value, name, "(width, height)", 2)
    width, height = _integer(w, f"{name} width"), _integer(h, f"{name} height")
    if width < 1 or height < 1:
        raise ValueError(f"{name} {value!r}: width and height must be positive")
    if width > MAX_INPUT_SIDE or height > MAX_INPUT_SIDE:
        raise ValueError(f"{name} {value!r}: each side must be at most {MAX_INPUT_SIDE}")
    return width, height


def _positive_finite(value: Any, name: str) -> float:
    v = _real(value, name)
    if not (math.isfinite(v) and v > 0.0):
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    return v


def _anchors(preset: Optional[str], min_sizes: Any, steps: Any) -> Tuple[List[List[int]], List[int]]:
    """min_sizes and steps of the anchors: a preset, explicit levels, or the default preset."""
    if preset is not None:
        if min_sizes is not None or steps is not None:
            raise ValueError("give either preset or min_sizes/steps, not both")
        if not isinstance(preset, str):
            raise TypeError(f"preset must be a name (str), got {preset!r} ({_type_name(preset)})")
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; known presets: {', '.join(PRESETS)}")
        a = _PRESETS[preset]
        return a["min_sizes"], a["steps"]
    default = _PRESETS[DEFAULT_PRESET]
    levels = default["min_sizes"]
    if min_sizes is not None:
        levels = []
        for k, level in enumerate(_items(min_sizes, "min_sizes", "a list of lists of integers")):
            sizes = [_integer(s, f"min_sizes[{k}] entry")
                     for s in _items(level, f"min_sizes[{k}]", "a list of integers")]
            if not sizes:
                raise ValueError(f"min_sizes[{k}] is empty: every level needs at least one min size")
            if min(sizes) < 1:
                raise ValueError(f"min_sizes[{k}] = {sizes}: min sizes must be positive")
            levels.append(sizes)
        if not levels:
            raise ValueError("min_sizes has no levels")
    if steps is None:
        if len(levels) != len(default["steps"]):
            raise ValueError(f"min_sizes has {len(levels)} levels; give steps too (the default steps "
                             f"{default['steps']} have {len(default['steps'])})")
        return levels, default["steps"]
    step_list = [_integer(s, f"steps[{k}]") for k, s in enumerate(_items(steps, "steps", "a list of integers"))]
    if len(step_list) != len(levels):
        raise ValueError(f"steps has {len(step_list)} levels but min_sizes has {len(levels)}")
    for k, s in enumerate(step_list):
        if not 1 <= s <= MAX_INPUT_SIDE:
            raise ValueError(f"steps[{k}] = {s}: steps must be in [1, {MAX_INPUT_SIDE}]")
    return levels, step_list


def _variance(value: Any) -> Tuple[float, float]:
    c, s = _items(value, "variance", "(center, size)", 2)
    center, size = _real(c, "variance center"), _real(s, "variance size")
    if not (math.isfinite(center) and center > 0 and math.isfinite(size) and size > 0):
        raise ValueError(f"variance {value!r} must be finite and positive")
    return center, size


def _mapping(resize: Any, letterbox: Any, clip_to: Any) -> Tuple[float, float, float, float, bool, float, float]:
    """(scale_x, scale_y, pad_x, pad_y, clip, clip_width, clip_height) for the extension."""
    if isinstance(letterbox, Letterbox):
        letterbox = letterbox.mapping
    if letterbox is not None:
        if resize is not None:
            raise ValueError("give either resize or letterbox, not both")
        sx, sy, px, py = _items(letterbox, "letterbox", "(scale_x, scale_y, pad_x, pad_y)", 4)
        scale_x, scale_y = _positive_finite(sx, "letterbox scale_x"), _positive_finite(sy, "letterbox scale_y")
        pad_x, pad_y = _real(px, "letterbox pad_x"), _real(py, "letterbox pad_y")
        if not (math.isfinite(pad_x) and math.isfinite(pad_y)):
            raise ValueError(f"letterbox padding ({px!r}, {py!r}) must be finite")
    elif resize is not None:
        scale_x = scale_y = _positive_finite(resize, "resize")
        pad_x = pad_y = 0.0
    else:
        scale_x = scale_y = 1.0
        pad_x = pad_y = 0.0
    if clip_to is None:
        return scale_x, scale_y, pad_x, pad_y, False, 0.0, 0.0
    cw, ch = _items(clip_to, "clip_to", "(width, height)", 2)
    return (scale_x, scale_y, pad_x, pad_y, True, _positive_finite(cw, "clip_to width"),
            _positive_finite(ch, "clip_to height"))


def _make_core(preset: Optional[str], min_sizes: Any, steps: Any, variance: Any, clip_priors: Any, threshold: Any,
               nms_threshold: Any, iou: Any, top_k: Any, keep_top_k: Any, logits: Any) -> _core.Postprocessor:
    levels, step_list = _anchors(preset, min_sizes, steps)
    if not isinstance(iou, str):
        raise TypeError(f"iou must be 'legacy' (py_cpu_nms) or 'continuous' (torchvision.ops.nms), got {iou!r}")
    if iou not in _IOU:
        raise ValueError(f"iou must be 'legacy' (py_cpu_nms) or 'continuous' (torchvision.ops.nms), got {iou!r}")
    for flag, name in ((clip_priors, "clip_priors"), (logits, "logits")):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    return _core.Postprocessor(levels, step_list, _variance(variance), bool(clip_priors),
                               _unit_interval(threshold, "threshold"), _unit_interval(nms_threshold, "nms_threshold"),
                               iou, _limit(top_k, "top_k"), _limit(keep_top_k, "keep_top_k"), bool(logits))


def _run(core: _core.Postprocessor, loc: Any, conf: Any, landms: Any, input_size: Any, resize: Any, letterbox: Any,
         clip_to: Any, dequant: Any) -> np.ndarray:
    width, height = _input_size(input_size)
    mapping = _mapping(resize, letterbox, clip_to)
    dq = _dequant(dequant, _RETINA_HEADS)
    try:
        return core.run(loc, conf, landms, width, height, *mapping, dq)
    except ValueError as e:
        raise _input_size_error(e, width, height) from None


def _dequant_pair(value: Any, label: str) -> Tuple[float, int]:
    scale, zero_point = _items(value, label, "a (scale, zero_point) pair", 2)
    return _real(scale, f"{label} scale"), _integer(zero_point, f"{label} zero_point")


def _is_pair(value: Any) -> bool:
    """A (scale, zero_point) pair rather than a list of them (or of None)."""
    return isinstance(value, (tuple, list)) and len(value) > 0 and isinstance(value[0], numbers.Number)


#: A head's tensors for :func:`_dequant`: ``None`` for a head that is one array (the tensor is
#: named as the argument), else the names of the arrays of a head given as a list (empty: the head
#: is absent, as SCRFD's ``kps=None``).
_HeadTensors = Optional[Sequence[str]]


def _dequant(dequant: Any, heads: Mapping[str, _HeadTensors]) -> Dict[str, Tuple[float, int]]:
    """The ``dequant`` keyword, ``{head argument: (scale, zero_point)}`` (for a head given as a
    list: one pair for all its arrays, or a list of one pair or None per array), as the extension
    takes it: ``{tensor name: (scale, zero_point)}``. The extension checks it against the arrays'
    dtypes (int8 / uint8 need an entry, float arrays take none) and the values (finite scale > 0,
    zero point in the type's range)."""
    if dequant is None:
        return {}
    if not isinstance(dequant, Mapping):
        raise TypeError(f"dequant must be a dict from head name to (scale, zero_point), got {dequant!r} "
                        f"({_type_name(dequant)})")
    out: Dict[str, Tuple[float, int]] = {}
    for key, value in dequant.items():
        if not isinstance(key, str) or key not in heads:
            raise ValueError(f"dequant: unknown head {key!r} (heads: {', '.join(heads)})")
        if value is None:
            continue
        tensors, label = heads[key], f"dequant[{key!r}]"
        if tensors is None:
            out[key] = _dequant_pair(value, label)
        elif not tensors:
            raise ValueError(f"dequant: {key!r} given, but {key} is None")
        elif _is_pair(value):
            pair = _dequant_pair(value, label)
            out.update((name, pair) for name in tensors)
        else:
            form = (f"a (scale, zero_point) pair for all {len(tensors)} arrays of {key}, or a list of one pair "
                    f"(None: not quantized) per array")
            items = _items(value, label, form)
            if len(items) != len(tensors):
                raise ValueError(f"{label} must be {form}; got {len(items)} entries for {len(tensors)} arrays")
            for k, (name, item) in enumerate(zip(tensors, items)):
                if item is not None:
                    out[name] = _dequant_pair(item, f"{label}[{k}]")
    return out


#: The RetinaFace heads, each one array.
_RETINA_HEADS: Mapping[str, _HeadTensors] = types.MappingProxyType({"loc": None, "conf": None, "landms": None})


def _input_size_error(e: ValueError, width: int, height: int) -> ValueError:
    """The extension's error, naming input_size when the prior count of input_size is not the
    tensors' row count ("tensors have ...", "batch frame 0: tensors have ...")."""
    if re.match(r"(batch frame \d+: )?tensors have", str(e)):
        return ValueError(f"input_size ({width}, {height}): {e}")
    return e


# ---- batches (run_batch) -----------------------------------------------------------------------

def _threads(value: Any, count: int) -> int:
    """run_batch's thread count: a positive integer; 0 or None (the package's "no limit"): one per
    CPU core this process may run on. At most one per frame of the ``count``."""
    v = 0 if value is None else _integer(value, "threads")
    if v < 0:
        raise ValueError(f"threads must be a positive integer (0 or None: one per CPU core), got {v}")
    if v == 0:
        try:
            v = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not on Linux
            v = os.cpu_count() or 1
    return max(1, min(v, count))


def _batch_size(method: str, heads: Sequence[Tuple[str, Any]]) -> int:
    """B of run_batch's head arrays, each ``[B,N,C]`` (``heads``: (name, array) pairs), which must
    agree."""
    sizes = []
    for name, a in heads:
        shape = np.shape(a)
        if len(shape) != 3:
            raise ValueError(f"{name}: {method} takes [B,N,C] arrays (frame b at index b of the leading axis), "
                             f"got shape {tuple(shape)}")
        sizes.append((name, shape[0]))
    if len({b for _, b in sizes}) > 1:
        raise ValueError(f"{method}: the arrays disagree on the batch size: " +
                         ", ".join(f"{name} {b}" for name, b in sizes))
    return sizes[0][1]


def _frame_values(method: str, count: int, name: str, value: Any, pair: bool) -> Tuple[bool, List[Any]]:
    """A mapping keyword of run_batch as (shared, values): ``(True, [value])`` when it is one value
    for every frame, else ``(False, its items)``, which must be one per frame. ``pair``: a single
    value is itself a tuple of numbers (letterbox, clip_to, image_size), not a number (resize,
    scale)."""
    if (value is None or isinstance(value, (Letterbox, numbers.Number, str, bytes, dict))
            or not hasattr(value, "__iter__") or (isinstance(value, np.ndarray) and value.ndim <= int(pair))):
        return True, [value]  # one value (the single-frame check names a wrong type)
    items = tuple(value)
    if pair and items and isinstance(items[0], numbers.Number):
        return True, [items]
    if len(items) != count:
        raise ValueError(f"{method}: {name} has {len(items)} values for {count} frames (give one value for every "
                         f"frame, or a sequence of one per frame)")
    return False, list(items)


def _per_frame(method: str, count: int, make: Any, **keywords: Tuple[Any, bool]) -> List[Any]:
    """``make(**keywords of one frame)`` for each frame, or once (a list of one) when every keyword
    is one value for all frames. ``keywords``: name -> (value, pair), see :func:`_frame_values`."""
    columns = {name: _frame_values(method, count, name, value, pair) for name, (value, pair) in keywords.items()}
    if all(shared for shared, _ in columns.values()):
        return [make(**{name: values[0] for name, (_, values) in columns.items()})]
    frames = []
    for f in range(count):
        try:
            frames.append(make(**{name: values[0] if shared else values[f]
                                  for name, (shared, values) in columns.items()}))
        except (TypeError, ValueError) as e:
            raise type(e)(f"{method}: frame {f}: {e}") from None
    return frames


# ---- the API -----------------------------------------------------------------------------------

def postprocess(loc: np.ndarray, conf: np.ndarray, landms: np.ndarray, input_size: Sequence[int],
                resize: Optional[float] = None, *, preset: Optional[str] = None,
                min_sizes: Optional[Sequence[Sequence[int]]] = None, steps: Optional[Sequence[int]] = None,
                variance: Tuple[float, float] = DEFAULTS["variance"], clip_priors: bool = DEFAULTS["clip_priors"],
                threshold: float = DEFAULTS["threshold"], nms_threshold: float = DEFAULTS["nms_threshold"],
                iou: str = DEFAULTS["iou"], top_k: Optional[int] = DEFAULTS["top_k"],
                keep_top_k: Optional[int] = DEFAULTS["keep_top_k"], logits: bool = DEFAULTS["logits"],
                letterbox: Optional[Union[Letterbox, Tuple[float, float, float, float]]] = None,
                clip_to: Optional[Tuple[float, float]] = None,
                dequant: Optional[Mapping[str, Tuple[float, int]]] = None) -> np.ndarray:
    """Decodes one frame of RetinaFace-family head outputs into detections: priors, decode, score
    threshold, top_k, greedy NMS, keep_top_k - the reference ``detect.py`` block in one call.

    Args:
        loc, conf, landms: arrays of shape ``[N,4]``, ``[N,2]``, ``[N,10]`` or ``[1,N,C]`` (model
            outputs as they come), any strides (sliced, Fortran-ordered, transposed views are read
            in place). dtype ``float32``, ``float16``, or ``int8`` / ``uint8`` with ``dequant``;
            each head may have its own. Another dtype (``float64`` too) raises ``ValueError``:
            convert with ``.astype(np.float32)``.
        input_size: the network input as ``(width, height)`` (``cv::Size``, the CLI's ``WxH``), not
            the original image: for Pytorch_Retinaface ``(im_width, im_height)`` of the resized image.
        resize: network input = original x resize (the reference's ``resize``); outputs are divided
            by it. ``None``: 1. Excludes ``letterbox``.
        preset: anchor preset name (:data:`PRESETS`); excludes ``min_sizes``/``steps``. Without
            either, :data:`DEFAULT_PRESET`'s anchors.
        min_sizes, steps: explicit anchors, one list of min sizes and one step per level
            (``cfg['min_sizes']``, ``cfg['steps']``).
        variance: box-regression variances ``(center, size)``.
        clip_priors: clamp the priors to [0, 1] (``cfg['clip']``).
        threshold: keep scores strictly greater, in [0, 1].
        nms_threshold: suppress when IoU is greater, in [0, 1].
        iou: ``'legacy'`` (py_cpu_nms, +1 pixel widths) or ``'continuous'`` (torchvision.ops.nms).
        top_k: best candidates entering NMS; ``0`` or ``None``: no limit.
        keep_top_k: detections kept after NMS; ``0`` or ``None``: no limit.
        logits: ``conf`` holds raw two-class logits instead of softmax probabilities.
        letterbox: a :class:`Letterbox` from :func:`letterbox` (the usual way), or
            ``(scale_x, scale_y, pad_x, pad_y)``: the original was scaled, then padded left/top
            (network pixels); excludes ``resize``.
        clip_to: ``(width, height)`` of the original image: clamp boxes and landmarks to it
            (after NMS).
        dequant: the quantization of the int8 / uint8 heads, ``{head: (scale, zero_point)}`` with
            head ``'loc'``, ``'conf'`` or ``'landms'``: value = ``float32(q - zero_point) * scale``
            (one float32 multiplication), e.g. ``{"conf": (1 / 255, 0)}``. Every int8 / uint8
            head needs an entry; a float head takes none. The scale must be finite and > 0, the
            zero point in the type's range (``[-128, 127]``, ``[0, 255]``).

    Returns:
        A new float32 array ``[K,15]``: x1 y1 x2 y2 score, then 5 landmarks (x, y), in original-image
        pixels, best score first. The mapping is applied before NMS, so NMS compares boxes in
        original-image pixels, as the reference ``detect.py`` (which divides by ``resize`` before
        ``py_cpu_nms``); with ``iou='legacy'`` (+1 widths) that is not the same as NMS in network
        pixels.

    Raises:
        TypeError: an argument of the wrong type (named in the message).
        ValueError: an invalid value, tensors that disagree with the anchors and ``input_size``, a
            dtype that is not accepted, an int8 / uint8 head without ``dequant`` (or an entry for
            a float head, an unknown head, an invalid scale or zero point).

    The GIL is released while it computes. The priors are rebuilt on each call; a
    :class:`Postprocessor` keeps them (and every buffer) across frames.
    """
    core = _make_core(preset, min_sizes, steps, variance, clip_priors, threshold, nms_threshold, iou, top_k,
                      keep_top_k, logits)
    return _run(core, loc, conf, landms, input_size, resize, letterbox, clip_to, dequant)


class Postprocessor:
    """Reusable post-processor: anchors and parameters fixed at construction (checked there),
    priors cached per input size, buffers reused across frames.

    The keywords are those of :func:`postprocess`, with the same defaults. Threads may share one
    Postprocessor (calls are serialised); one per thread runs in parallel.
    """

    __slots__ = ("_core",)

    def __init__(self, *, preset: Optional[str] = None, min_sizes: Optional[Sequence[Sequence[int]]] = None,
                 steps: Optional[Sequence[int]] = None, variance: Tuple[float, float] = DEFAULTS["variance"],
                 clip_priors: bool = DEFAULTS["clip_priors"], threshold: float = DEFAULTS["threshold"],
                 nms_threshold: float = DEFAULTS["nms_threshold"], iou: str = DEFAULTS["iou"],
                 top_k: Optional[int] = DEFAULTS["top_k"], keep_top_k: Optional[int] = DEFAULTS["keep_top_k"],
                 logits: bool = DEFAULTS["logits"]) -> None:
        self._core = _make_core(preset, min_sizes, steps, variance, clip_priors, threshold, nms_threshold, iou,
                                top_k, keep_top_k, logits)

    def run(self, loc: np.ndarray, conf: np.ndarray, landms: np.ndarray, input_size: Sequence[int],
            resize: Optional[float] = None, *,
            letterbox: Optional[Union[Letterbox, Tuple[float, float, float, float]]] = None,
            clip_to: Optional[Tuple[float, float]] = None,
            dequant: Optional[Mapping[str, Tuple[float, int]]] = None) -> np.ndarray:
        """Post-processes one frame with this object's anchors and parameters (arguments, dtypes,
        ``dequant`` and result as in :func:`postprocess`). Priors are built once per input size
        and reused."""
        return _run(self._core, loc, conf, landms, input_size, resize, letterbox, clip_to, dequant)

    def __call__(self, loc: np.ndarray, conf: np.ndarray, landms: np.ndarray, input_size: Sequence[int],
                 resize: Optional[float] = None, *,
                 letterbox: Optional[Union[Letterbox, Tuple[float, float, float, float]]] = None,
                 clip_to: Optional[Tuple[float, float]] = None,
                 dequant: Optional[Mapping[str, Tuple[float, int]]] = None) -> np.ndarray:
        """Same as :meth:`run`."""
        return _run(self._core, loc, conf, landms, input_size, resize, letterbox, clip_to, dequant)

    def run_batch(self, loc: np.ndarray, conf: np.ndarray, landms: np.ndarray, input_size: Sequence[int],
                  resize: Union[None, float, Sequence[Optional[float]]] = None, *,
                  letterbox: Any = None, clip_to: Any = None, threads: Optional[int] = 1,
                  dequant: Optional[Mapping[str, Tuple[float, int]]] = None) -> List[np.ndarray]:
        """Post-processes a batch of B frames of one input size (the C++ ``BatchPostprocessor``):
        a list of B arrays, element b identical to :meth:`run` on frame b.

        Args:
            loc, conf, landms: ``[B,N,4]``, ``[B,N,2]``, ``[B,N,10]``: frame b at index b of the
                leading axis (a batched model's outputs as they come; ``[1,N,C]`` is a batch of
                one). Any strides and the dtypes of :meth:`run`; ``[N,C]`` is refused.
            input_size: the network input ``(width, height)``, shared by every frame.
            resize, letterbox, clip_to: as in :meth:`run`, each either one value for every frame or
                a sequence of B values, one per frame (e.g. ``letterbox=[lb0, lb1]``,
                ``clip_to=[lb0.original_size, lb1.original_size]``, ``resize=[0.5, 0.25]``).
            threads: frames are spread over this many threads (the calling thread one of them;
                frame b on thread ``b % threads``), at most one per frame. ``0`` or ``None``: one
                per CPU core this process may run on.
            dequant: as in :meth:`run`, one ``(scale, zero_point)`` per quantized head, the same
                for every frame.

        Returns:
            A list of B new float32 ``[K_b,15]`` arrays (``[]`` for B = 0).

        Raises:
            TypeError, ValueError: as :meth:`run`, and for arrays that disagree on B, a per-frame
            sequence whose length is not B, or ``threads`` that is not a non-negative integer.

        The GIL is released while the frames run; calls on one object are serialised (with
        :meth:`run` too). The priors and one buffer set per frame are kept for the next batch.
        :attr:`stats` stays that of the last :meth:`run`.
        """
        method = "Postprocessor.run_batch"
        width, height = _input_size(input_size)
        count = _batch_size(method, (("loc", loc), ("conf", conf), ("landms", landms)))
        mappings = _per_frame(method, count, _mapping, resize=(resize, False), letterbox=(letterbox, True),
                              clip_to=(clip_to, True))
        n = _threads(threads, count)
        dq = _dequant(dequant, _RETINA_HEADS)
        try:
            return self._core.run_batch(loc, conf, landms, width, height, mappings, n, dq)
        except ValueError as e:
            raise _input_size_error(e, width, height) from None

    @property
    def stats(self) -> Dict[str, int]:
        """Counts of the last :meth:`run` (not :meth:`run_batch`): priors, candidates (above the
        threshold), ranked (entering NMS), detections."""
        return self._core.stats()

    @property
    def anchors(self) -> Dict[str, Any]:
        """The anchor configuration: min_sizes, steps, variance, clip_priors."""
        return self._core.anchors()

    @property
    def params(self) -> Dict[str, Any]:
        """The parameters: threshold, nms_threshold, iou, top_k, keep_top_k (0 = no limit), logits."""
        return self._core.params()

    def __repr__(self) -> str:
        a, p = self.anchors, self.params
        return (f"facepost.Postprocessor(min_sizes={a['min_sizes']}, steps={a['steps']}, variance={a['variance']}, "
                f"clip_priors={a['clip_priors']}, threshold={p['threshold']}, nms_threshold={p['nms_threshold']}, "
                f"iou={p['iou']!r}, top_k={p['top_k']}, keep_top_k={p['keep_top_k']}, logits={p['logits']})")


def preset_anchors(name: str) -> Dict[str, Any]:
    """min_sizes, steps, variance and clip_priors of a preset (one of :data:`PRESETS`)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a preset name (str), got {name!r} ({_type_name(name)})")
    if name not in _PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return _core.presets()[name]  # a fresh copy: the caller may change it


def count_priors(input_size: Sequence[int], *, preset: Optional[str] = None,
                 min_sizes: Optional[Sequence[Sequence[int]]] = None, steps: Optional[Sequence[int]] = None) -> int:
    """The number of priors (rows the head tensors must have) for a network input of
    ``input_size = (width, height)``; anchors as in :func:`postprocess`."""
    width, height = _input_size(input_size)
    levels, step_list = _anchors(preset, min_sizes, steps)
    return _core.count_priors(levels, step_list, width, height)


def priors(input_size: Sequence[int], *, preset: Optional[str] = None,
           min_sizes: Optional[Sequence[Sequence[int]]] = None, steps: Optional[Sequence[int]] = None,
           clip_priors: bool = DEFAULTS["clip_priors"]) -> np.ndarray:
    """The priors as a new float32 array ``[N,4]`` (cx, cy, w, h, normalised to the input), bit for
    bit the reference ``PriorBox(cfg, image_size=(height, width)).forward()`` for a network input of
    ``input_size = (width, height)``; anchors as in :func:`postprocess`."""
    width, height = _input_size(input_size)
    levels, step_list = _anchors(preset, min_sizes, steps)
    if not isinstance(clip_priors, (bool, np.bool_)):
        raise TypeError(f"clip_priors must be True or False, got {clip_priors!r}")
    return _core.priors(levels, step_list, bool(clip_priors), width, height)


def letterbox_fit(original_size: Sequence[int], input_size: Sequence[int]) -> Tuple[float, float, float, float]:
    """The ``letterbox`` argument for an original image of ``original_size = (width, height)``
    fitted into a network input of ``input_size = (width, height)`` with one exact scale and
    centred fractional padding (``facepost::ImageMapping::letterbox_fit``; the pad of the axis the
    image fills is exactly 0.0). Use it only if your pre-processing pads exactly that way (an
    affine warp, as MediaPipe); ``letterbox(original_size, input_size, fit='exact').mapping`` is
    the same. A ``cv2.resize`` pipeline rounds the resized size to integers: use
    :func:`letterbox` (``fit='integer'``), or boxes are off by up to 0.75 network pixels."""
    ow, oh = _input_size(original_size, "original_size")
    iw, ih = _input_size(input_size)
    return _core.letterbox_fit(ow, oh, iw, ih)


def _choice(value: Any, name: str, choices: Tuple[str, ...]) -> str:
    form = " or ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be {form}, got {value!r} ({_type_name(value)})")
    if value not in choices:
        raise ValueError(f"{name} must be {form}, got {value!r}")
    return value


def letterbox(original_size: Sequence[int], input_size: Sequence[int], *, fit: str = "integer",
              anchor: str = "centre") -> Letterbox:
    """The letterbox of an original image of ``original_size = (width, height)`` into a network
    input of ``input_size = (width, height)``: one scale that fits, the rest padded. The same as
    the CLI's ``--letterbox WxH --fit F --letterbox-anchor A`` (defaults there too: integer,
    centre), and C++'s ``Letterbox::fit`` / ``ImageMapping::letterbox_fit``.

    Args:
        original_size, input_size: ``(width, height)``, each side in [1, :data:`MAX_INPUT_SIDE`].
        fit: ``'integer'`` (what ``cv2.resize`` pipelines do, YOLOv5's ``letterbox``): r =
            min(iw/ow, ih/oh); resized size = ``round(original * r)`` per axis with Python's
            ``round`` (ties to even: 721 * 0.5 gives 360), at least 1; integer padding; the
            mapping's scale per axis is resized / original, so boxes map back exactly onto the
            image actually resized. ``'exact'``: one exact scale for both axes and fractional
            padding (an affine warp, MediaPipe's keep_aspect_ratio): :func:`letterbox_fit`.
        anchor: ``'centre'`` (padding split over both sides, the odd pixel right/bottom:
            left = (input - resized) // 2, YOLOv5's ``round(dw/2 - 0.1)``) or ``'top_left'`` (the
            image at (0, 0), all padding right and bottom, as insightface SCRFD places it).

    Returns:
        A :class:`Letterbox`: ``resized_size`` and ``pad`` to build the input with, ``mapping``
        for the post-processing. Pass it as ``letterbox=``.

    Raises:
        TypeError: a size that is not two integers, a fit or anchor that is not a string.
        ValueError: a side outside [1, MAX_INPUT_SIDE], an unknown fit or anchor.

    Example::

        lb = facepost.letterbox((w, h), (640, 640))
        canvas = np.full((640, 640, 3), mean, np.uint8)
        left, top, _, _ = lb.pad
        canvas[top:top + lb.resized_size[1], left:left + lb.resized_size[0]] = cv2.resize(image, lb.resized_size)
        ...
        dets = facepost.postprocess(loc, conf, landms, (640, 640), letterbox=lb, clip_to=lb.original_size)
    """
    ow, oh = _input_size(original_size, "original_size")
    iw, ih = _input_size(input_size)
    fit = _choice(fit, "fit", _FITS)
    anchor = _choice(anchor, "anchor", _ANCHORS)
    d = _core.letterbox(ow, oh, iw, ih, fit, anchor)
    return Letterbox(original_size=(ow, oh), input_size=(iw, ih), fit=fit, anchor=anchor,
                     resized_size=tuple(d["resized_size"]), pad=tuple(d["pad"]), mapping=tuple(d["mapping"]))


# The detector families (facepost/families.py), which use the checks above.
from .families import (  # noqa: E402
    FAMILY_DEFAULTS, Blazeface, Scrfd, Yolov5Face, Yunet, blazeface, scrfd, scrfd_resize, yolov5_face, yunet)

# Face alignment (facepost/alignment.py), which uses the checks above.
from .alignment import align, arcface_template  # noqa: E402
