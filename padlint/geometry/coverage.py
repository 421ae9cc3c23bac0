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
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from padlint.geometry.axis import AxisFacts

MAX_LENGTH = 1024            # longer input axes are not profiled (memory grows as n²)

#: ``(m, n + 1)``: per cell, the share of its paths that end on each input pixel, then on padding.
Profile: TypeAlias = NDArray[np.floating[Any]]


def identity(n: int) -> Profile:
    """The model input's profile: each pixel is its own one path.

    >>> identity(2)
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """
    return np.concatenate([np.eye(n, dtype=np.float32), np.zeros((n, 1), np.float32)], axis=1)


def _pad_row(p: Profile) -> Profile:
    row = np.zeros((1, p.shape[1]), p.dtype)
    row[0, -1] = 1.0
    return row


def window(p: Profile, f: AxisFacts, transposed: bool) -> Profile:
    """The profile of a windowed op's output (``f``: its AxisFacts on this axis).

    A 3-tap window with padding 1 over 3 pixels: the edge cells' paths end on padding
    one time in three.

    >>> from padlint.geometry.axis import axis_facts
    >>> window(identity(3), axis_facts("L", n=3, k=3, s=1, pad_begin=1, pad_end=1), transposed=False).round(3)
    array([[0.333, 0.333, 0.   , 0.333],
           [0.333, 0.333, 0.333, 0.   ],
           [0.   , 0.333, 0.333, 0.333]], dtype=float32)
    """
    n = p.shape[0]
    ext = np.concatenate([p, _pad_row(p)], axis=0)          # row n: a padding cell
    j = np.arange(f.out)[:, None]
    t = np.arange(f.kernel)[None, :]
    if not transposed:
        idx = j * f.stride + t * f.dilation - f.pad_begin
        idx = np.where((idx >= 0) & (idx < n), idx, n)
        first: Profile = ext[idx[:, 0]]
        if f.kernel == 1:
            return first
        out = first.copy()
        for tap in range(1, f.kernel):
            out += ext[idx[:, tap]]
        out *= np.float32(1.0 / f.kernel)
        return out
    num = j + f.pad_begin - t * f.dilation                    # o = i*s - p + t*d
    src = np.floor_divide(num, f.stride)
    valid = (num % f.stride == 0) & (src >= 0) & (src < n)
    count = valid.sum(axis=1, keepdims=True)
    taps: Profile = ext[np.where(valid, src, n)] * valid[..., None]
    summed = taps.sum(axis=1)
    empty = count[:, 0] == 0
    summed[empty] = _pad_row(p)                               # no tap: the bias alone
    mean: Profile = summed / np.maximum(count, 1)
    return mean


def pad(p: Profile, begin: int, end: int) -> Profile:
    """An explicit pad (negative: a crop).

    >>> pad(identity(1), 1, 0)
    array([[0., 1.],
           [1., 0.]], dtype=float32)
    """
    if begin < 0:
        p, begin = p[-begin:], 0
    if end < 0:
        p, end = p[:p.shape[0] + end], 0
    row = _pad_row(p)
    return np.concatenate([np.repeat(row, begin, 0), p, np.repeat(row, end, 0)], axis=0)


def take(p: Profile, start: int, step: int, count: int) -> Profile:
    """A strided slice of the cells: ``count`` cells from ``start``, every ``step``.

    >>> take(identity(4), 1, 2, 2)
    array([[0., 1., 0., 0., 0.],
           [0., 0., 0., 1., 0.]], dtype=float32)
    """
    return p[start:start + step * count:step][:count]


def resample(p: Profile, m: int, corners: bool, mode: str = "linear", r: float | None = None) -> Profile:
    """Interpolation to ``m`` cells: nearest-neighbour for the 'nearest' modes, else linear
    (cubic modes too, approximately) at half-pixel centres unless ``corners``; ``r`` is the
    source step (1/scale_factor where one was given).

    >>> resample(identity(2), 4, corners=False)[:, :2]
    array([[1.  , 0.  ],
           [0.75, 0.25],
           [0.25, 0.75],
           [0.  , 1.  ]], dtype=float32)
    """
    n = p.shape[0]
    o = np.arange(m, dtype=np.float64)
    step = n / m if r is None else float(r)
    if not corners and mode.startswith("nearest"):
        src = np.floor((o + 0.5) * step if mode == "nearest-exact" else o * step).astype(np.int64)
        nearest: Profile = p[np.minimum(src, n - 1)]
        return nearest
    x = o * (n - 1) / max(m - 1, 1) if corners else (o + 0.5) * step - 0.5
    x = np.clip(x, 0, n - 1)
    lo = np.floor(x).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = (x - lo)[:, None].astype(p.dtype)
    linear: Profile = (1 - w) * p[lo] + w * p[hi]
    return linear


def adaptive_bins(n: int, m: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The cells ``[start, end)`` of each of the ``m`` bins of an adaptive pool over ``n``,
    as PyTorch makes them: ``floor(i*n/m)`` to ``ceil((i+1)*n/m)``.

    >>> adaptive_bins(5, 3)
    (array([0, 1, 3]), array([2, 4, 5]))
    """
    i = np.arange(m)
    return i * n // m, -(-(i + 1) * n // m)


def adaptive(p: Profile, m: int) -> Profile:
    """Adaptive pooling: each bin averages its cells.

    >>> adaptive(identity(4), 2)
    array([[0.5, 0.5, 0. , 0. , 0. ],
           [0. , 0. , 0.5, 0.5, 0. ]], dtype=float32)
    """
    n = p.shape[0]
    cs = np.concatenate([np.zeros((1, p.shape[1]), np.float64), np.cumsum(p, axis=0, dtype=np.float64)])
    start, end = adaptive_bins(n, m)
    pooled: Profile = ((cs[end] - cs[start]) / (end - start)[:, None]).astype(p.dtype)
    return pooled


def merge(profiles: list[Profile]) -> Profile | None:
    """A merge of branches (add, concatenation of channels …): the mean of their profiles,
    or None when their lengths differ.

    >>> merge([identity(2), pad(identity(2), 1, -1)])
    array([[0.5, 0. , 0.5],
           [0.5, 0.5, 0. ]], dtype=float32)
    >>> merge([identity(2), identity(3)]) is None
    True
    """
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
    padding: NDArray[np.float64]       # (m,)
    reaches: NDArray[np.bool_]         # (m,)
    usage: NDArray[np.float64]         # (n,)


def summarize(axis: str, p: Profile) -> AxisCoverage:
    """One axis's :class:`AxisCoverage` from its profile.

    >>> from padlint.geometry.axis import axis_facts
    >>> c = summarize("L", window(identity(3), axis_facts("L", n=3, k=3, s=1, pad_begin=1, pad_end=1), False))
    >>> c.padding.round(3), c.reaches, c.usage.round(3)
    (array([0.333, 0.   , 0.333]), array([ True, False,  True]), array([0.667, 1.   , 0.667]))
    """
    return AxisCoverage(axis, p[:, -1].astype(np.float64), p[:, -1] > 1e-9,
                        p[:, :-1].sum(axis=0).astype(np.float64))


@dataclass(frozen=True)
class MapCoverage:
    """The coverage of one windowed layer's output map, every spatial axis.

    A 3x3 conv with padding 1 on a 3x3 input: a corner cell's paths end on padding in
    5 cases of 9, and the input's corner pixel is used 4/9 as much as its centre.

    >>> from padlint.geometry.axis import axis_facts
    >>> a = summarize("H", window(identity(3), axis_facts("H", n=3, k=3, s=1, pad_begin=1, pad_end=1), False))
    >>> c = MapCoverage(layer=0, stride=1.0, axes=(a, a))
    >>> c.padding_share().round(3)
    array([[0.556, 0.333, 0.556],
           [0.333, 0.   , 0.333],
           [0.556, 0.333, 0.556]])
    >>> c.reaching()[1]
    array([ True, False,  True])
    >>> round(c.corner_ratio(), 3)
    0.444
    """

    layer: int                # index into the trace's layers
    stride: float             # cumulative stride (product over the axes)
    axes: tuple[AxisCoverage, ...]

    def padding_share(self) -> NDArray[np.float64]:
        """Per cell (all axes): the share of its paths that end on padding."""
        real = np.ones(())
        for a in self.axes:
            real = np.multiply.outer(real, 1.0 - a.padding)
        return 1.0 - real

    def reaching(self) -> NDArray[np.bool_]:
        out = np.zeros((), bool)
        for a in self.axes:
            out = np.logical_or.outer(out, a.reaches)
        return out

    def usage(self) -> NDArray[np.float64]:
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
