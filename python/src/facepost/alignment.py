"""Face alignment: the 2x3 similarity that maps each face's landmarks onto a template.

:func:`align` is insightface's ``face_align.estimate_norm`` for a whole array of faces: skimage's
``SimilarityTransform.estimate`` (Umeyama's least squares with scale), computed in double by the
C++ library (``facepost/align.hpp``, a closed form of the 2D case). See ``docs/alignment.md``.
"""
from __future__ import annotations

from typing import Any, Tuple, Union

import numpy as np

from . import _core
# The package's argument checks; facepost/__init__.py imports this module after defining them.
from . import _integer, _type_name

_ARG = "dets_or_landmarks"


def _arcface_size(size: Any) -> int:
    s = _integer(size, "size")
    if s <= 0 or (s % 112 != 0 and s % 128 != 0):
        raise ValueError(f"size must be a positive multiple of 112 or of 128 (the ArcFace templates), got {s}")
    return s


def arcface_template(size: int = 112) -> np.ndarray:
    """insightface's ArcFace template for ``size`` x ``size`` crops, float64 ``[5,2]`` (x, y):
    ``arcface_dst * size/112`` for multiples of 112, else ``arcface_dst * size/128`` plus
    ``8 * size/128`` on x for multiples of 128 (in float32, as insightface, then float64)."""
    return _core.arcface_template(_arcface_size(size))


def _template(template: Any, size: Any) -> np.ndarray:
    if isinstance(template, str):
        if template != "arcface":
            raise ValueError(f"template must be 'arcface' or a [P,2] array of points, got {template!r}")
        return arcface_template(size)
    if template is None or isinstance(template, (bytes, dict)):
        raise TypeError(f"template must be 'arcface' or a [P,2] array of points, got {template!r} "
                        f"({_type_name(template)})")
    # size belongs to the ArcFace template; a custom template is in its own crop pixels.
    if isinstance(size, bool) or size != 112:
        raise ValueError(f"size applies to template='arcface' only (a custom template is used as given), got {size!r}")
    t = np.asarray(template)
    if t.dtype.kind not in "fiu":
        raise TypeError(f"template must be a real numeric [P,2] array, got dtype {t.dtype}")
    if t.ndim != 2 or t.shape[1] != 2 or t.shape[0] < 2:
        raise ValueError(f"template must be a [P,2] array of at least 2 points, got shape {list(t.shape)}")
    return np.ascontiguousarray(t, dtype=np.float64)


def align(dets_or_landmarks: Any, template: Union[str, Any] = "arcface", size: int = 112) -> np.ndarray:
    """The similarity transform of each face onto a template, as insightface's ``estimate_norm``.

    Args:
        dets_or_landmarks: the faces, float32 or float64 (integers are taken as float64), one of
            ``[K,15]`` detections (``x1 y1 x2 y2 score`` then 5 landmarks, as
            :func:`facepost.postprocess` returns), ``[K,10]`` or ``[K,5,2]`` landmarks; with a
            template of P points: ``[K,2P]``, ``[K,P,2]`` or family rows ``[K,5+2P]`` (e.g.
            :func:`facepost.blazeface`'s ``[K,17]`` with a 6-point template).
        template: ``'arcface'`` (insightface's ``arcface_dst``, see :func:`arcface_template`) or
            the points, an array ``[P,2]`` (x, y) in crop pixels; point k is matched with
            landmark k.
        size: the crop side for ``'arcface'``: a multiple of 112 (112, 224, ...) or of 128 (the
            128-based variant: 128, 256, ...). Leave it at 112 with a custom template.

    Returns:
        float64 ``[K,2,3]``: ``M[i]`` maps face i's image pixels to crop pixels, the matrix
        ``cv2.warpAffine(image, M[i], (size, size))`` takes (skimage's ``params[:2]``).

    Raises:
        TypeError: a non-numeric ``dets_or_landmarks`` or ``template``, a non-integer ``size``.
        ValueError: a shape that fits neither layout, a size that is no multiple of 112 or 128, a
            degenerate template, or a face whose landmarks define no similarity (non-finite, all
            equal, uncorrelated with the template): the message names the face.
    """
    tmpl = _template(template, size)
    points = tmpl.shape[0]
    if dets_or_landmarks is None or isinstance(dets_or_landmarks, (str, bytes, dict)):
        raise TypeError(f"{_ARG} must be an array of detections or landmarks, got {dets_or_landmarks!r} "
                        f"({_type_name(dets_or_landmarks)})")
    a = np.asarray(dets_or_landmarks)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{_ARG} must be a real numeric array, got dtype {a.dtype}")
    landmarks, rows = 2 * points, 5 + 2 * points
    if a.ndim == 3:
        if a.shape[1:] != (points, 2):
            raise ValueError(f"{_ARG} of shape {list(a.shape)}: landmarks [K,P,2] must be [K,{points},2] for a "
                             f"{points}-point template")
        a = a.reshape(a.shape[0], landmarks)
        first = 0
    elif a.ndim == 2:
        if a.shape[1] == landmarks:
            first = 0
        elif a.shape[1] == rows:
            first = 5
        else:
            raise ValueError(f"{_ARG} of shape {list(a.shape)}: with a {points}-point template expected "
                             f"[K,{rows}] detections or [K,{landmarks}] / [K,{points},2] landmarks")
    else:
        raise ValueError(f"{_ARG} must be [K,{rows}] detections or [K,{landmarks}] / [K,{points},2] landmarks, "
                         f"got shape {list(a.shape)}")
    dtype = np.float32 if a.dtype == np.float32 else np.float64
    return _core.align(np.ascontiguousarray(a, dtype=dtype), first, tmpl)
