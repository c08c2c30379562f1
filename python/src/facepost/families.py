"""Detector families beyond RetinaFace: SCRFD (insightface), YuNet (OpenCV), YOLOv5-face and
BlazeFace (MediaPipe).

Each family has a function for one call and a reusable class that keeps its buffers (as
:func:`facepost.postprocess` and :class:`facepost.Postprocessor`). Conventions are the package's:
sizes are ``(width, height)``, ``0`` or ``None`` means no limit, the defaults are the C++ params
structs' (:data:`FAMILY_DEFAULTS`), and each call takes the package's mapping keywords
(``letterbox``, ``clip_to``). Results are new float32 arrays; the reference each family reproduces
and its exactness are in ``docs/families.md``.

Batches: each class's ``run_batch`` takes the same heads with a leading batch axis (frame b at
index b: ``[B,N,C]`` where ``run`` takes ``[N,C]`` or ``[1,N,C]``), the mapping keywords as one
value for every frame or a sequence of one per frame, and ``threads``; it returns a list of B
arrays, each identical to ``run`` on that frame. ``run`` reads a leading axis of 1 as the one
frame it is (an export's ``[1,N,C]``) and refuses a larger one, naming ``run_batch``.

Low precision: every head may be ``float32``, ``float16``, ``int8`` or ``uint8`` (see the
package's docstring), each its own; int8 / uint8 heads need ``dequant={head: (scale,
zero_point)}``, keyed by the head's argument name (``"scores"``, ``"pred"``, ...). For a head given
as a list (SCRFD's per-stride arrays, BlazeFace's two groups) the value is one pair for all its
arrays or a list of one pair per array (``None`` for a float one), e.g.
``dequant={"scores": (1 / 255, 0), "bboxes": [(0.05, 0), (0.1, 0), None]}``. Results are identical
to the float32 call on the same values. ``run_batch`` applies the same ``dequant`` to every frame.
"""
from __future__ import annotations

import types
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import _core
# The package's argument checks; facepost/__init__.py imports this module after defining them.
from . import (_batch_size, _dequant, _input_size, _items, _limit, _mapping, _per_frame, _positive_finite,
               _threads, _unit_interval)

#: The default parameters of each family, read from C++ (``facepost::ScrfdParams{}``, ...).
FAMILY_DEFAULTS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {name: types.MappingProxyType(d) for name, d in _core.family_defaults().items()})

_SCRFD = FAMILY_DEFAULTS["scrfd"]
_YOLO = FAMILY_DEFAULTS["yolov5_face"]
_BLAZE = FAMILY_DEFAULTS["blazeface"]
_YUNET = FAMILY_DEFAULTS["yunet"]
_BLAZE_MODELS = ("front", "back")
_YOLO_HEADS = types.MappingProxyType({"pred": None})
_YUNET_HEADS = types.MappingProxyType({"loc": None, "conf": None, "iou": None})



def _stride_list(value: Any, name: str) -> list:
    arrays = list(_items(value, name, "a list of 3 arrays, one per stride (8, 16, 32)"))
    if len(arrays) != 3:
        raise ValueError(f"{name} must hold 3 arrays, one per stride (8, 16, 32), got {len(arrays)}")
    return arrays


def _scrfd_dequant(dequant: Any, with_kps: bool) -> Any:
    names = lambda head: [f"{head}_{s}" for s in (8, 16, 32)]  # noqa: E731
    return _dequant(dequant, {"scores": names("score"), "bboxes": names("bbox"),
                              "kps": names("kps") if with_kps else []})


def _blazeface_dequant(dequant: Any, regressors: Any, scores: Any) -> Any:
    def tensors(head: Any, name: str) -> Optional[List[str]]:
        return [f"{name}[{g}]" for g in range(len(head))] if isinstance(head, (list, tuple)) else None
    return _dequant(dequant, {"regressors": tensors(regressors, "regressors"), "scores": tensors(scores, "scores")})


def _scrfd_mapping(scale: Any, letterbox: Any, clip_to: Any) -> Tuple[float, float, float, float, bool, float, float]:
    if letterbox is not None:
        if scale is not None and scale != 1.0:
            raise ValueError("give either scale or letterbox, not both")
        scale = None
    return _mapping(None if scale is None else _positive_finite(scale, "scale"), letterbox, clip_to)


class _Family:
    """What every family's object shares: its C++ object (``_core``), its parameters, a repr."""

    __slots__ = ("_core",)
    _core: Any

    @property
    def params(self) -> Mapping[str, Any]:
        """The parameters in force (0 = no limit), as the C++ object holds them."""
        return self._core.params()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"facepost.{type(self).__name__}({args})"


def scrfd_resize(image_size: Sequence[int], input_size: Sequence[int] = (640, 640)) -> Tuple[int, int, float]:
    """How ``SCRFD.detect`` resizes an image of ``image_size = (width, height)`` into the network
    input: ``(resized_width, resized_height, det_scale)``. Resize the image to that size, put it at
    the top left of a zero input, and pass ``scale=det_scale``."""
    iw, ih = _input_size(image_size, "image_size")
    nw, nh = _input_size(input_size)
    return _core.scrfd_resize(iw, ih, nw, nh)


class Scrfd(_Family):
    """Reusable SCRFD post-processor (``facepost::ScrfdPostprocessor``): parameters fixed at
    construction, buffers kept across frames. Threads may share one object (calls are serialised).

    Args:
        threshold: keep scores ``>=`` this (insightface's ``det_thresh``), in [0, 1].
        nms_threshold: suppress when the +1-pixel IoU is greater (``nms_thresh``), in [0, 1].
        max_num: keep the ``max_num`` largest, most central faces (insightface's ``max_num``,
            ordered by that ranking); ``0`` or ``None``: no limit.
    """

    __slots__ = ()

    def __init__(self, threshold: float = _SCRFD["threshold"], nms_threshold: float = _SCRFD["nms_threshold"],
                 max_num: Optional[int] = _SCRFD["max_num"]) -> None:
        self._core = _core.Scrfd(_unit_interval(threshold, "threshold"),
                                 _unit_interval(nms_threshold, "nms_threshold"), _limit(max_num, "max_num"))

    def run(self, scores: Sequence[np.ndarray], bboxes: Sequence[np.ndarray], kps: Optional[Sequence[np.ndarray]],
            input_size: Sequence[int] = (640, 640), scale: Optional[float] = 1.0,
            image_size: Optional[Sequence[int]] = None, *,
            letterbox: Optional[Tuple[float, float, float, float]] = None,
            clip_to: Optional[Tuple[float, float]] = None, dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
        """Post-processes one frame, as insightface's ``SCRFD.detect`` after the network.

        Args:
            scores, bboxes, kps: lists of per-stride arrays (strides 8, 16, 32, in that order, as
                the model's outputs): ``[N_s,1]``, ``[N_s,4]``, ``[N_s,10]`` (or ``[1,N_s,C]``);
                float32, float16, or int8 / uint8 with ``dequant``. ``kps`` is ``None`` for a
                model without keypoints.
            input_size: the network input ``(width, height)``; each side a multiple of 32.
            scale: SCRFD's ``det_scale`` (resized / original); outputs are divided by it and NMS
                runs on the divided boxes, as the reference. ``None`` or 1: input pixels.
            image_size: the original image's ``(width, height)``, whose centre ``max_num`` ranks
                faces by. ``None``: the image is the input.
            letterbox, clip_to: the package's mapping keywords (see :func:`facepost.postprocess`);
                ``letterbox`` excludes a ``scale`` other than 1.
            dequant: ``{"scores" / "bboxes" / "kps": (scale, zero_point)}`` for the int8 / uint8
                arrays, one pair for the head's three arrays or a list of three (``None`` for a
                float one); see the module's docstring.

        Returns:
            float32 ``[K,15]``: x1 y1 x2 y2 score, then 5 keypoints (x, y); ``[K,5]`` without
            keypoints. Best score first, or in ``max_num``'s order when it cuts.
        """
        width, height = _input_size(input_size)
        image = (0, 0) if image_size is None else _input_size(image_size, "image_size")
        mapping = _scrfd_mapping(scale, letterbox, clip_to)
        kps_list = None if kps is None else _stride_list(kps, "kps")
        score_list, bbox_list = _stride_list(scores, "scores"), _stride_list(bboxes, "bboxes")
        return self._core.run(score_list, bbox_list, kps_list, width, height, *mapping, *image,
                              _scrfd_dequant(dequant, kps is not None))

    __call__ = run

    def run_batch(self, scores: Sequence[np.ndarray], bboxes: Sequence[np.ndarray],
                  kps: Optional[Sequence[np.ndarray]], input_size: Sequence[int] = (640, 640), scale: Any = 1.0,
                  image_size: Any = None, *, letterbox: Any = None, clip_to: Any = None,
                  threads: Optional[int] = 1, dequant: Optional[Mapping[str, Any]] = None) -> List[np.ndarray]:
        """Post-processes B frames: element b of the list is :meth:`run` on frame b.

        Args:
            scores, bboxes, kps: as in :meth:`run`, each per-stride array with a leading batch
                axis, ``[B,N_s,1]``, ``[B,N_s,4]``, ``[B,N_s,10]`` (a batched model's outputs,
                insightface's ``batched`` case; ``[1,N_s,C]`` is a batch of one).
            input_size: as in :meth:`run`, shared by every frame.
            scale, image_size, letterbox, clip_to: as in :meth:`run`, each one value for every
                frame or a sequence of B values, one per frame (e.g. each image's ``det_scale``).
            threads: frames are spread over this many threads (the calling thread one of them),
                at most one per frame; ``0`` or ``None``: one per CPU core.
            dequant: as in :meth:`run`, the same for every frame.

        Returns:
            A list of B new float32 arrays (``[]`` for B = 0). The GIL is released while the
            frames run; each thread runs on its own buffers.
        """
        method = "Scrfd.run_batch"
        width, height = _input_size(input_size)
        lists = {"score": _stride_list(scores, "scores"), "bbox": _stride_list(bboxes, "bboxes"),
                 "kps": [] if kps is None else _stride_list(kps, "kps")}
        count = _batch_size(method, [(f"{head}_{stride}", a) for head, arrays in lists.items()
                                     for stride, a in zip((8, 16, 32), arrays)])

        def frame(scale: Any, letterbox: Any, clip_to: Any, image_size: Any) -> tuple:
            image = (0, 0) if image_size is None else _input_size(image_size, "image_size")
            return _scrfd_mapping(scale, letterbox, clip_to), image

        frames = _per_frame(method, count, frame, scale=(scale, False), letterbox=(letterbox, True),
                            clip_to=(clip_to, True), image_size=(image_size, True))
        return self._core.run_batch(lists["score"], lists["bbox"], None if kps is None else lists["kps"], width,
                                    height, [m for m, _ in frames], [i for _, i in frames], _threads(threads, count),
                                    _scrfd_dequant(dequant, kps is not None))


def scrfd(scores: Sequence[np.ndarray], bboxes: Sequence[np.ndarray], kps: Optional[Sequence[np.ndarray]],
          input_size: Sequence[int] = (640, 640), threshold: float = _SCRFD["threshold"],
          nms_threshold: float = _SCRFD["nms_threshold"], scale: Optional[float] = 1.0,
          max_num: Optional[int] = _SCRFD["max_num"], image_size: Optional[Sequence[int]] = None, *,
          letterbox: Optional[Tuple[float, float, float, float]] = None,
          clip_to: Optional[Tuple[float, float]] = None, dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
    """SCRFD in one call: ``Scrfd(threshold, nms_threshold, max_num).run(...)``; see :class:`Scrfd`."""
    return Scrfd(threshold, nms_threshold, max_num).run(scores, bboxes, kps, input_size, scale, image_size,
                                                        letterbox=letterbox, clip_to=clip_to, dequant=dequant)


class Yolov5Face(_Family):
    """Reusable YOLOv5-face post-processor (``facepost::Yolov5FacePostprocessor``), as
    ``non_max_suppression_face`` of deepcam-cn/yolov5-face for one class.

    Args:
        conf_threshold: keep rows with ``obj > t`` and then ``cls * obj > t``, in [0, 1].
        iou_threshold: suppress when the IoU (torchvision's, no +1) is greater, in [0, 1].
        max_det: keep the first ``max_det`` detections; ``0`` or ``None``: no limit (the reference
            has none).
    """

    __slots__ = ()

    def __init__(self, conf_threshold: float = _YOLO["conf_threshold"], iou_threshold: float = _YOLO["iou_threshold"],
                 max_det: Optional[int] = _YOLO["max_det"]) -> None:
        self._core = _core.Yolov5Face(_unit_interval(conf_threshold, "conf_threshold"),
                                      _unit_interval(iou_threshold, "iou_threshold"), _limit(max_det, "max_det"))

    def run(self, pred: np.ndarray, input_size: Sequence[int] = (640, 640), *,
            letterbox: Optional[Tuple[float, float, float, float]] = None, resize: Optional[float] = None,
            clip_to: Optional[Tuple[float, float]] = None, dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
        """Post-processes one frame.

        Args:
            pred: ``[N,16]`` or ``[1,N,16]`` (``model(img)[0]``): x y w h, obj, 10 landmark
                values, cls; N = 3 anchors x cells at strides 8, 16, 32. float32, float16, or
                int8 / uint8 with ``dequant={"pred": (scale, zero_point)}``.
            input_size: the network input ``(width, height)``; each side a multiple of 32.
            letterbox, resize, clip_to: the package's mapping keywords, applied after NMS (which
                runs in network-input pixels, as the reference); e.g. scale_coords' mapping is
                ``letterbox=(gain, gain, pad_x, pad_y), clip_to=(w0, h0)``.

        Returns:
            float32 ``[K,15]``: x1 y1 x2 y2 conf, then 5 landmarks (x, y); best conf first.
        """
        width, height = _input_size(input_size)
        return self._core.run(pred, width, height, *_mapping(resize, letterbox, clip_to),
                              _dequant(dequant, _YOLO_HEADS))

    __call__ = run

    def run_batch(self, pred: np.ndarray, input_size: Sequence[int] = (640, 640), *, letterbox: Any = None,
                  resize: Any = None, clip_to: Any = None, threads: Optional[int] = 1,
                  dequant: Optional[Mapping[str, Any]] = None) -> List[np.ndarray]:
        """Post-processes B frames: element b of the list is :meth:`run` on frame b.

        Args:
            pred: ``[B,N,16]``, a batched ``model(img)[0]`` (frame b at index b; ``[1,N,16]`` is
                a batch of one), of the dtypes of :meth:`run`.
            input_size: as in :meth:`run`, shared by every frame.
            letterbox, resize, clip_to: as in :meth:`run`, each one value for every frame or a
                sequence of B values, one per frame.
            threads: frames are spread over this many threads (the calling thread one of them),
                at most one per frame; ``0`` or ``None``: one per CPU core.

        Returns:
            A list of B new float32 ``[K_b,15]`` arrays (``[]`` for B = 0). The GIL is released
            while the frames run; each thread runs on its own buffers.
        """
        method = "Yolov5Face.run_batch"
        width, height = _input_size(input_size)
        count = _batch_size(method, [("pred", pred)])
        mappings = _per_frame(method, count, _mapping, resize=(resize, False), letterbox=(letterbox, True),
                              clip_to=(clip_to, True))
        return self._core.run_batch(pred, width, height, mappings, _threads(threads, count),
                                    _dequant(dequant, _YOLO_HEADS))


def yolov5_face(pred: np.ndarray, input_size: Sequence[int] = (640, 640),
                conf_threshold: float = _YOLO["conf_threshold"], iou_threshold: float = _YOLO["iou_threshold"],
                max_det: Optional[int] = _YOLO["max_det"], *,
                letterbox: Optional[Tuple[float, float, float, float]] = None, resize: Optional[float] = None,
                clip_to: Optional[Tuple[float, float]] = None,
                dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
    """YOLOv5-face in one call: ``Yolov5Face(conf_threshold, iou_threshold, max_det).run(...)``; see
    :class:`Yolov5Face`."""
    return Yolov5Face(conf_threshold, iou_threshold, max_det).run(pred, input_size, letterbox=letterbox,
                                                                  resize=resize, clip_to=clip_to, dequant=dequant)


class Blazeface(_Family):
    """Reusable BlazeFace post-processor (``facepost::BlazefacePostprocessor``), as
    hollance/BlazeFace-PyTorch post-processes MediaPipe's face detection models: SSD anchors
    generated from MediaPipe's options, sigmoid scores (logits clipped to [-100, 100]),
    ``score >= threshold``, weighted NMS (clusters averaged by score, rows in seed order).

    Args:
        model: ``"front"`` (short range, 128x128 input) or ``"back"`` (full range, 256x256).
        threshold: keep ``sigmoid(logit) >= threshold``, in [0, 1]; ``None``: the reference's
            default for the model (0.75 front, 0.65 back).
        nms_threshold: merge the boxes whose IoU with the seed is greater, in [0, 1]; at 1 nothing
            merges.
    """

    __slots__ = ()

    def __init__(self, model: str = "front", threshold: Optional[float] = None,
                 nms_threshold: float = _BLAZE["nms_threshold"]) -> None:
        if not isinstance(model, str):
            raise TypeError(f"model must be 'front' or 'back', got {model!r}")
        if model not in _BLAZE_MODELS:
            raise ValueError(f"model must be 'front' (short range, 128x128) or 'back' (full range, 256x256), "
                             f"got {model!r}")
        t = None if threshold is None else _unit_interval(threshold, "threshold")
        self._core = _core.Blazeface(model, t, _unit_interval(nms_threshold, "nms_threshold"))

    def run(self, regressors: Any, scores: Any, *, letterbox: Optional[Tuple[float, float, float, float]] = None,
            resize: Optional[float] = None, clip_to: Optional[Tuple[float, float]] = None,
            dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
        """Post-processes one frame.

        Args:
            regressors: ``[896,16]`` or ``[1,896,16]`` (the two output groups concatenated, the
                512 rows of the 16x16 cells first), or the models' two groups as a pair
                ``(r512, r384)``. float32, float16, or int8 / uint8 with ``dequant``.
            scores: the raw logits, ``[896,1]`` / ``[1,896,1]``, or the pair ``(s512, s384)``.
            letterbox, resize, clip_to: the package's mapping keywords, applied to the output
                (network-input pixels by default).
            dequant: ``{"regressors" / "scores": (scale, zero_point)}`` for the int8 / uint8
                arrays; for a pair of groups, one pair for both or a list of two (``None`` for a
                float one).

        Returns:
            float32 ``[K,17]``: x1 y1 x2 y2 score, then 6 keypoints (x, y): right eye, left eye,
            nose, mouth, right ear, left ear.
        """
        return self._core.run(regressors, scores, *_mapping(resize, letterbox, clip_to),
                              _blazeface_dequant(dequant, regressors, scores))

    __call__ = run

    def run_batch(self, regressors: Any, scores: Any, *, letterbox: Any = None, resize: Any = None,
                  clip_to: Any = None, threads: Optional[int] = 1,
                  dequant: Optional[Mapping[str, Any]] = None) -> List[np.ndarray]:
        """Post-processes B frames: element b of the list is :meth:`run` on frame b.

        Args:
            regressors: ``[B,896,16]`` (frame b at index b; ``[1,896,16]`` is a batch of one), or
                the two groups as a pair ``([B,512,16], [B,384,16])``; the dtypes of :meth:`run`.
            scores: ``[B,896,1]``, or the pair ``([B,512,1], [B,384,1])``.
            letterbox, resize, clip_to: as in :meth:`run`, each one value for every frame or a
                sequence of B values, one per frame.
            threads: frames are spread over this many threads (the calling thread one of them),
                at most one per frame; ``0`` or ``None``: one per CPU core.

        Returns:
            A list of B new float32 ``[K_b,17]`` arrays (``[]`` for B = 0). The GIL is released
            while the frames run; each thread runs on its own buffers.
        """
        method = "Blazeface.run_batch"

        def groups(head: Any, name: str) -> list:
            if isinstance(head, (list, tuple)):
                return [(f"{name}[{g}]", a) for g, a in enumerate(head)]
            return [(name, head)]

        count = _batch_size(method, groups(regressors, "regressors") + groups(scores, "scores"))
        mappings = _per_frame(method, count, _mapping, resize=(resize, False), letterbox=(letterbox, True),
                              clip_to=(clip_to, True))
        return self._core.run_batch(regressors, scores, mappings, _threads(threads, count),
                                    _blazeface_dequant(dequant, regressors, scores))


def blazeface(regressors: Any, scores: Any, model: str = "front", threshold: Optional[float] = None,
              nms_threshold: float = _BLAZE["nms_threshold"], *,
              letterbox: Optional[Tuple[float, float, float, float]] = None, resize: Optional[float] = None,
              clip_to: Optional[Tuple[float, float]] = None, dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
    """BlazeFace in one call: ``Blazeface(model, threshold, nms_threshold).run(...)``; see
    :class:`Blazeface`."""
    return Blazeface(model, threshold, nms_threshold).run(regressors, scores, letterbox=letterbox, resize=resize,
                                                          clip_to=clip_to, dequant=dequant)


class Yunet(_Family):
    """Reusable YuNet post-processor (``facepost::YunetPostprocessor``), as OpenCV 4.6's
    ``cv::FaceDetectorYN`` post-processes the network: its priors, ``sqrt(cls * clamp(iou))``
    scores, ``score > threshold``, ``top_k`` before NMS, greedy NMS on integer rectangles.

    Args:
        threshold: ``score_threshold`` of FaceDetectorYN, in [0, 1].
        nms_threshold: ``nms_threshold``, in [0, 1].
        top_k: candidates entering NMS; ``0`` or ``None``: no limit.
    """

    __slots__ = ()

    def __init__(self, threshold: float = _YUNET["threshold"], nms_threshold: float = _YUNET["nms_threshold"],
                 top_k: Optional[int] = _YUNET["top_k"]) -> None:
        self._core = _core.Yunet(_unit_interval(threshold, "threshold"),
                                 _unit_interval(nms_threshold, "nms_threshold"), _limit(top_k, "top_k"))

    def run(self, loc: np.ndarray, conf: np.ndarray, iou: np.ndarray, input_size: Sequence[int] = (640, 640), *,
            letterbox: Optional[Tuple[float, float, float, float]] = None, resize: Optional[float] = None,
            clip_to: Optional[Tuple[float, float]] = None, dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
        """Post-processes one frame.

        Args:
            loc, conf, iou: ``[N,14]``, ``[N,2]``, ``[N,1]`` (or ``[1,N,C]``): the model's
                outputs ``loc``, ``conf``, ``iou``; N = the prior count of ``input_size``. float32,
                float16, or int8 / uint8 with ``dequant={"conf": (scale, zero_point), ...}``.
            input_size: FaceDetectorYN's input size ``(width, height)``.
            letterbox, resize, clip_to: the package's mapping keywords, applied after NMS.

        Returns:
            float32 ``[K,15]``: x1 y1 x2 y2 score, then 5 landmarks (x, y) in FaceDetectorYN's
            order (right eye, left eye, nose tip, right and left mouth corner), in its order.
        """
        width, height = _input_size(input_size)
        return self._core.run(loc, conf, iou, width, height, *_mapping(resize, letterbox, clip_to),
                              _dequant(dequant, _YUNET_HEADS))

    __call__ = run

    def run_batch(self, loc: np.ndarray, conf: np.ndarray, iou: np.ndarray, input_size: Sequence[int] = (640, 640),
                  *, letterbox: Any = None, resize: Any = None, clip_to: Any = None,
                  threads: Optional[int] = 1, dequant: Optional[Mapping[str, Any]] = None) -> List[np.ndarray]:
        """Post-processes B frames: element b of the list is :meth:`run` on frame b.

        Args:
            loc, conf, iou: ``[B,N,14]``, ``[B,N,2]``, ``[B,N,1]`` (frame b at index b;
                ``[1,N,C]`` is a batch of one), of the dtypes of :meth:`run`.
            input_size: as in :meth:`run`, shared by every frame.
            letterbox, resize, clip_to: as in :meth:`run`, each one value for every frame or a
                sequence of B values, one per frame.
            threads: frames are spread over this many threads (the calling thread one of them),
                at most one per frame; ``0`` or ``None``: one per CPU core.

        Returns:
            A list of B new float32 ``[K_b,15]`` arrays (``[]`` for B = 0). The GIL is released
            while the frames run; each thread runs on its own buffers.
        """
        method = "Yunet.run_batch"
        width, height = _input_size(input_size)
        count = _batch_size(method, [("loc", loc), ("conf", conf), ("iou", iou)])
        mappings = _per_frame(method, count, _mapping, resize=(resize, False), letterbox=(letterbox, True),
                              clip_to=(clip_to, True))
        return self._core.run_batch(loc, conf, iou, width, height, mappings, _threads(threads, count),
                                    _dequant(dequant, _YUNET_HEADS))


def yunet(loc: np.ndarray, conf: np.ndarray, iou: np.ndarray, input_size: Sequence[int] = (640, 640),
          threshold: float = _YUNET["threshold"], nms_threshold: float = _YUNET["nms_threshold"],
          top_k: Optional[int] = _YUNET["top_k"], *, letterbox: Optional[Tuple[float, float, float, float]] = None,
          resize: Optional[float] = None, clip_to: Optional[Tuple[float, float]] = None,
          dequant: Optional[Mapping[str, Any]] = None) -> np.ndarray:
    """YuNet in one call: ``Yunet(threshold, nms_threshold, top_k).run(...)``; see :class:`Yunet`."""
    return Yunet(threshold, nms_threshold, top_k).run(loc, conf, iou, input_size, letterbox=letterbox,
                                                      resize=resize, clip_to=clip_to, dequant=dequant)
