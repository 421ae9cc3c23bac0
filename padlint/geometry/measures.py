"""The artifact measures of SCIENCE.md §3, on plain numpy arrays (no torch).

A *map* is one aggregated feature map: a layer's output averaged over the batch and
the channels, shape ``(H, W)`` (or ``(L,)``, ``(D, H, W)``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.words import sides

# Below this share of the map's own scale, a deviation is float noise, not structure.
FLAT = 1e-9
def flip_asymmetry(x: ArrayLike, axis: int, nd: int) -> float:
    """``||X - flip(X)|| / ||X - mean(X)||`` for the ``axis``-th of the last ``nd`` axes;
    the mean is over the spatial axes, so a channel's constant offset is not structure.
    A spatially flat ``X`` (deviations below ``FLAT`` of its size) gives 0.

    A ramp along W is antisymmetric under a left-right flip (2.0) and symmetric under
    an up-down one (0.0):

    >>> ramp = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    >>> flip_asymmetry(ramp, axis=1, nd=2), flip_asymmetry(ramp, axis=0, nd=2)
    (2.0, 0.0)
    >>> flip_asymmetry(np.full((4, 4), 5.0), axis=0, nd=2)
    0.0
    """
    x = np.asarray(x, dtype=np.float64)
    spatial = tuple(range(x.ndim - nd, x.ndim))
    spread = float(np.linalg.norm(x - x.mean(axis=spatial, keepdims=True)))
    if spread <= FLAT * max(float(np.linalg.norm(x)), np.finfo(np.float64).tiny):
        return 0.0
    return float(np.linalg.norm(x - np.flip(x, axis=x.ndim - nd + axis))) / spread


@dataclass(frozen=True)
class MapMeasures:
    """Border magnitude, extent per edge, cover and asymmetry per axis of one mean map."""

    magnitude: float                  # max |M - median| / |median| (or / max|M|, see scale)
    scale: str                        # 'median', or 'max' when the median is ~0
    extent: dict[str, int]            # edge name -> cells from that edge that deviate
    asymmetry: dict[str, float]       # axis -> flip asymmetry of the map
    shape: tuple[int, ...]
    cover: float = 0.0                # share of the map's cells that deviate

    def worst_edge(self) -> tuple[str, int]:
        """The edge the artifact reaches furthest into (ties: the first in axis order)."""
        edge = max(self.extent, key=lambda e: self.extent[e])
        return edge, self.extent[edge]

    def to_json(self) -> dict[str, Any]:
        return {"magnitude": round_sig(self.magnitude), "scale": self.scale,
                "extent": dict(self.extent), "cover": round_sig(self.cover),
                "asymmetry": {a: round_sig(v) for a, v in self.asymmetry.items()}}


def round_sig(value: float, digits: int = 4) -> float:
    """``value`` to ``digits`` significant digits.

    >>> round_sig(3.14159), round_sig(123456.0, 2)
    (3.142, 120000.0)
    """
    return float(f"{value:.{digits}g}")


def measure_map(m: ArrayLike, tolerance: float = 0.1) -> MapMeasures:
    """The §3 measures of a mean map. ``tolerance`` is the deviation from the interior
    (the median), relative to the same scale as the magnitude, above which a cell, row
    or column counts as part of the border artifact (the verify stage passes PAD202's).
    The cover is the share of cells above it: on a large map a few border rows are a
    small share, on a deep 7x7 map the border can be all of it.

    A 5x5 map of ones whose top row is 2: the top edge deviates by 100% of the median,
    one row deep, a fifth of the cells.

    >>> m = np.ones((5, 5))
    >>> m[0] = 2.0
    >>> r = measure_map(m)
    >>> r.magnitude, r.scale, r.extent, r.cover, r.worst_edge()
    (1.0, 'median', {'top': 1, 'bottom': 0, 'left': 0, 'right': 0}, 0.2, ('top', 1))
    >>> r.to_json()["asymmetry"]
    {'H': 1.581, 'W': 0.0}
    """
    m = np.asarray(m, dtype=np.float64)
    nd = m.ndim
    names = AXIS_NAMES[nd]
    median = float(np.median(m))
    peak = float(np.abs(m).max()) if m.size else 0.0
    if abs(median) > FLAT * peak and abs(median) > 0:
        scale, denom = "median", abs(median)
    else:
        scale, denom = "max", peak
    dev = np.abs(m - median) / denom if denom > 0 else np.zeros_like(m)
    extent: dict[str, int] = {}
    for i, axis in enumerate(names):
        # one profile value per row: the median along the other axes, robust to corners
        moved = np.moveaxis(dev, i, 0).reshape(m.shape[i], -1)
        profile = np.median(moved, axis=1)
        half = m.shape[i] // 2 if m.shape[i] > 1 else 1
        begin, end = sides(axis)
        extent[begin] = _reach(profile[:half], tolerance)
        extent[end] = _reach(profile[::-1][:half], tolerance)
    asym = {axis: flip_asymmetry(m, i, nd) for i, axis in enumerate(names)}
    cover = float((dev > tolerance).mean()) if m.size else 0.0
    return MapMeasures(float(dev.max()) if m.size else 0.0, scale, extent, asym, tuple(m.shape), cover)


def _reach(profile: NDArray[np.float64], tolerance: float) -> int:
    """How far from the edge (profile[0]) the last deviating row lies, in rows."""
    over = np.nonzero(profile > tolerance)[0]
    return int(over[-1]) + 1 if over.size else 0


def centred(maps: list[ArrayLike]) -> list[NDArray[np.float64]]:
    """Each map's deviation from its own median, divided by the largest deviation of any
    of them: values in [-1, 1] on one scale shared by the group (all zeros when every map
    is flat).

    >>> centred([np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0, 5.5])])
    [array([-1.,  0.,  1.]), array([0. , 0. , 0.5])]
    """
    devs = [np.asarray(m, dtype=np.float64) - np.median(np.asarray(m)) for m in maps]
    peak = max((float(np.abs(d).max()) for d in devs if d.size), default=0.0)
    return [d / peak if peak > 0 else np.zeros_like(d) for d in devs]


def downsample(m: ArrayLike, size: int) -> NDArray[np.float64]:
    """Average-pool a 2-D map so that neither side exceeds ``size`` cells (block means,
    the last block taking the remainder), for display.

    >>> downsample(np.arange(16.0).reshape(4, 4), 2)
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    out = np.asarray(m, dtype=np.float64)
    if out.ndim == 1:
        out = out[None, :]
    while out.ndim > 2:
        out = out.mean(axis=0)
    for axis in (0, 1):
        n = out.shape[axis]
        if n <= size:
            continue
        bounds = np.linspace(0, n, size + 1).round().astype(int)
        out = np.stack([np.take(out, range(a, b), axis=axis).mean(axis=axis)
                        for a, b in zip(bounds[:-1], bounds[1:])], axis=axis)
    return out
