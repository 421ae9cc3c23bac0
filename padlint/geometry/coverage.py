"""Which input pixels, and how much padding, each feature-map cell reads (SCIENCE.md §2,
"padding dominance").

Per axis, a *profile* is an ``(m, n + 1)`` array for a map of ``m`` cells over an input
axis of ``n`` pixels: row ``j`` is the share of the paths from cell ``j`` down to the
input that end on each input pixel, and (last column) on padding. Every kernel tap
counts once (uniform weights), so a row is the cell's receptive field weighted the way
stacked windows weigh it, centre-heavy, rather than its flat theoretical extent. A tap
that lands on padding ends its path there. The model input is the identity; windowed
ops, transposed convs, pads, crops, slices, interpolation and adaptive pooling map
profiles as they map cells, and merges average them. Axes are treated independently:
a 2-D cell's share of real input is the product of its two axes' shares.

Nothing here imports torch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 1024            # longer input axes are not profiled (memory grows as n²)


def identity(n: int) -> np.ndarray:
    return np.concatenate([np.eye(n, dtype=np.float32), np.zeros((n, 1), np.float32)], axis=1)


def _pad_row(p: np.ndarray) -> np.ndarray:
    row = np.zeros((1, p.shape[1]), p.dtype)
    row[0, -1] = 1.0
    return row


def window(p: np.ndarray, f, transposed: bool) -> np.ndarray:
    """The profile of a windowed op's output (``f``: its AxisFacts on this axis)."""
    n = p.shape[0]
    ext = np.concatenate([p, _pad_row(p)], axis=0)          # row n: a padding cell
    j = np.arange(f.out)[:, None]
    t = np.arange(f.kernel)[None, :]
    if not transposed:
        idx = j * f.stride + t * f.dilation - f.pad_begin
        idx = np.where((idx >= 0) & (idx < n), idx, n)
        if f.kernel == 1:
            return ext[idx[:, 0]]
        out = ext[idx[:, 0]].copy()
        for tap in range(1, f.kernel):
            out += ext[idx[:, tap]]
        out *= np.float32(1.0 / f.kernel)
        return out
    num = j + f.pad_begin - t * f.dilation                    # o = i*s - p + t*d
    src = np.floor_divide(num, f.stride)
    valid = (num % f.stride == 0) & (src >= 0) & (src < n)
    count = valid.sum(axis=1, keepdims=True)
    out = (ext[np.where(valid, src, n)] * valid[..., None]).sum(axis=1)
    empty = count[:, 0] == 0
    out[empty] = _pad_row(p)                                  # no tap: the bias alone
    return out / np.maximum(count, 1)


def pad(p: np.ndarray, begin: int, end: int) -> np.ndarray:
    """An explicit pad (negative: a crop)."""
    if begin < 0:
        p, begin = p[-begin:], 0
    if end < 0:
        p, end = p[:p.shape[0] + end], 0
    row = _pad_row(p)
    return np.concatenate([np.repeat(row, begin, 0), p, np.repeat(row, end, 0)], axis=0)


def take(p: np.ndarray, start: int, step: int, count: int) -> np.ndarray:
    return p[start:start + step * count:step][:count]


def resample(p: np.ndarray, m: int, corners: bool, mode: str = "linear", r=None) -> np.ndarray:
    """Interpolation to ``m`` cells: nearest-neighbour for the 'nearest' modes, else linear
    (cubic modes too, approximately) at half-pixel centres unless ``corners``; ``r`` is the
    source step (1/scale_factor where one was given)."""
    n = p.shape[0]
    o = np.arange(m, dtype=np.float64)
    r = n / m if r is None else float(r)
    if not corners and mode.startswith("nearest"):
        src = np.floor((o + 0.5) * r if mode == "nearest-exact" else o * r).astype(np.int64)
        return p[np.minimum(src, n - 1)]
    x = o * (n - 1) / max(m - 1, 1) if corners else (o + 0.5) * r - 0.5
    x = np.clip(x, 0, n - 1)
    lo = np.floor(x).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = (x - lo)[:, None].astype(p.dtype)
    return (1 - w) * p[lo] + w * p[hi]


def adaptive_bins(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The cells ``[start, end)`` of each of the ``m`` bins of an adaptive pool over ``n``,
    as PyTorch makes them: ``floor(i*n/m)`` to ``ceil((i+1)*n/m)``."""
    i = np.arange(m)
    return i * n // m, -(-(i + 1) * n // m)


def adaptive(p: np.ndarray, m: int) -> np.ndarray:
    """Adaptive pooling: each bin averages its cells."""
    n = p.shape[0]
    cs = np.concatenate([np.zeros((1, p.shape[1]), np.float64), np.cumsum(p, axis=0, dtype=np.float64)])
    start, end = adaptive_bins(n, m)
    return ((cs[end] - cs[start]) / (end - start)[:, None]).astype(p.dtype)


def merge(profiles: list[np.ndarray]) -> np.ndarray | None:
    if any(q.shape != profiles[0].shape for q in profiles):
        return None
    out = profiles[0].copy()
    for q in profiles[1:]:
        out += q
    out *= np.float32(1.0 / len(profiles))
    return out


@dataclass(frozen=True)
class AxisCoverage:
    """One axis of one map: per cell, the share of its paths that end on padding
    (``padding``) and whether any does (``reaches``); per input pixel, how many of the
    map's cells use it, counted by path share (``usage``, the foveation profile)."""

    axis: str
    padding: np.ndarray       # (m,)
    reaches: np.ndarray       # (m,) bool
    usage: np.ndarray         # (n,)


def summarize(axis: str, p: np.ndarray) -> AxisCoverage:
    return AxisCoverage(axis, p[:, -1].astype(np.float64), p[:, -1] > 1e-9,
                        p[:, :-1].sum(axis=0).astype(np.float64))


@dataclass(frozen=True)
class MapCoverage:
    """The coverage of one windowed layer's output map, every spatial axis."""

    layer: int                # index into the trace's layers
    stride: float             # cumulative stride (product over the axes)
    axes: tuple[AxisCoverage, ...]

    def padding_share(self) -> np.ndarray:
        """Per cell (all axes): the share of its paths that end on padding."""
        real = np.ones(())
        for a in self.axes:
            real = np.multiply.outer(real, 1.0 - a.padding)
        return 1.0 - real

    def reaching(self) -> np.ndarray:
        out = np.zeros((), bool)
        for a in self.axes:
            out = np.logical_or.outer(out, a.reaches)
        return out

    def usage(self) -> np.ndarray:
        """The foveation map: per input pixel, its use by the map's cells."""
        out = np.ones(())
        for a in self.axes:
            out = np.multiply.outer(out, a.usage)
        return out

    def corner_ratio(self) -> float:
        """How much the input's corner pixel is used, relative to its centre pixel."""
        usage = self.usage()
        centre = usage[tuple(n // 2 for n in usage.shape)]
        return float(usage[(0,) * usage.ndim] / centre) if centre else 0.0
