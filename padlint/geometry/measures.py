"""The artifact measures of SCIENCE.md §3, on plain numpy arrays (no torch).

A *map* is one aggregated feature map: a layer's output averaged over the batch and
the channels, shape ``(H, W)`` (or ``(L,)``, ``(D, H, W)``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from padlint.geometry.axis import AXIS_NAMES

# Below this share of the map's own scale, a deviation is float noise, not structure.
FLAT = 1e-9
_EDGES = {"L": ("start", "end"), "D": ("front", "back"), "H": ("top", "bottom"), "W": ("left", "right")}


def edges(axis: str) -> tuple[str, str]:
    """The names of the two ends of an axis: ('top', 'bottom') for H."""
    return _EDGES[axis]


def flip_asymmetry(x: np.ndarray, axis: int, nd: int) -> float:
    """``||X - flip(X)|| / ||X - mean(X)||`` for the ``axis``-th of the last ``nd`` axes;
    the mean is over the spatial axes, so a channel's constant offset is not structure.
    A spatially flat ``X`` (deviations below ``FLAT`` of its size) gives 0."""
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
    extent: dict                      # edge name -> cells from that edge that deviate
    asymmetry: dict                   # axis -> flip asymmetry of the map
    shape: tuple
    cover: float = 0.0                # share of the map's cells that deviate

    def worst_edge(self) -> tuple[str, int]:
        """The edge the artifact reaches furthest into (ties: the first in axis order)."""
        edge = max(self.extent, key=lambda e: self.extent[e])
        return edge, self.extent[edge]

    def to_json(self) -> dict:
        return {"magnitude": round_sig(self.magnitude), "scale": self.scale,
                "extent": dict(self.extent), "cover": round_sig(self.cover),
                "asymmetry": {a: round_sig(v) for a, v in self.asymmetry.items()}}


def round_sig(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def measure_map(m: np.ndarray, tolerance: float = 0.1) -> MapMeasures:
    """The §3 measures of a mean map. ``tolerance`` is the deviation from the interior
    (the median), relative to the same scale as the magnitude, above which a cell, row
    or column counts as part of the border artifact (the verify stage passes PAD202's).
    The cover is the share of cells above it: on a large map a few border rows are a
    small share, on a deep 7x7 map the border can be all of it."""
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
    extent = {}
    for i, axis in enumerate(names):
        # one profile value per row: the median along the other axes, robust to corners
        moved = np.moveaxis(dev, i, 0).reshape(m.shape[i], -1)
        profile = np.median(moved, axis=1)
        half = m.shape[i] // 2 if m.shape[i] > 1 else 1
        begin, end = edges(axis)
        extent[begin] = _reach(profile[:half], tolerance)
        extent[end] = _reach(profile[::-1][:half], tolerance)
    asym = {axis: flip_asymmetry(m, i, nd) for i, axis in enumerate(names)}
    cover = float((dev > tolerance).mean()) if m.size else 0.0
    return MapMeasures(float(dev.max()) if m.size else 0.0, scale, extent, asym, tuple(m.shape), cover)


def _reach(profile: np.ndarray, tolerance: float) -> int:
    """How far from the edge (profile[0]) the last deviating row lies, in rows."""
    over = np.nonzero(profile > tolerance)[0]
    return int(over[-1]) + 1 if over.size else 0


def centred(maps: list[np.ndarray]) -> list[np.ndarray]:
    """Each map's deviation from its own median, divided by the largest deviation of any
    of them: values in [-1, 1] on one scale shared by the group (all zeros when every map
    is flat)."""
    devs = [np.asarray(m, dtype=np.float64) - np.median(m) for m in maps]
    peak = max((float(np.abs(d).max()) for d in devs if d.size), default=0.0)
    return [d / peak if peak > 0 else np.zeros_like(d) for d in devs]


def downsample(m: np.ndarray, size: int) -> np.ndarray:
    """Average-pool a 2-D map so that neither side exceeds ``size`` cells (block means,
    the last block taking the remainder), for display."""
    m = np.asarray(m, dtype=np.float64)
    if m.ndim == 1:
        m = m[None, :]
    while m.ndim > 2:
        m = m.mean(axis=0)
    out = m
    for axis in (0, 1):
        n = out.shape[axis]
        if n <= size:
            continue
        bounds = np.linspace(0, n, size + 1).round().astype(int)
        out = np.stack([np.take(out, range(a, b), axis=axis).mean(axis=axis)
                        for a, b in zip(bounds[:-1], bounds[1:])], axis=axis)
    return out
