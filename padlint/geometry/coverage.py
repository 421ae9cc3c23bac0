"""Which input pixels, and how much padding, each feature-map cell reads (SCIENCE.md §2,
"padding dominance").

Per axis, a *profile* describes a map of ``m`` cells over an input axis of ``n`` pixels
as an ``(m, n + 1)`` matrix: row ``j`` is the share of the paths from cell ``j`` down to
the input that end on each input pixel, and (last column) on padding. Every kernel tap
counts once (uniform weights), so a row is the cell's receptive field weighted the way
stacked windows weigh it, centre-heavy, rather than its flat theoretical extent. A tap
that lands on padding ends its path there. The model input is the identity; windowed
ops, transposed convs, pads, crops, slices, interpolation and adaptive pooling map
profiles as they map cells, and merges average them. Axes are treated independently:
a 2-D cell's share of real input is the product of its two axes' shares.

A :class:`Profile` stores only each row's band, the span of pixels its paths can reach,
so a step costs cells x band x taps rather than cells x input x taps: an early map on a
1024-pixel axis has a band of a few pixels. The values are those of the full matrix to
the bit (a window adds the same taps in the same order; the cells outside a band are
exact zeros). ``np.asarray(profile)`` is the full matrix.

Nothing here imports torch.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from padlint.geometry.axis import AxisFacts

MAX_LENGTH = 1024            # longer input axes are not profiled
WHOLE_ROWS = 1 << 16         # a map of up to this many cells x pixels stores whole rows

Matrix = NDArray[np.floating[Any]]
#: one term of a combination: (profile, source row per output row or None for all, weight)
Term = tuple["Profile", NDArray[np.integer[Any]] | None, Matrix | None]


@dataclass(frozen=True, eq=False)
class Profile:
    """A profile by bands: row ``j`` holds its shares of pixels ``lo[j] .. lo[j] + w - 1``
    (``band[j]``; every other pixel's share is zero) and of padding (``padding[j]``)."""

    lo: NDArray[np.int64]          # (m,): each band's first pixel; lo + w <= n
    band: Matrix                   # (m, w)
    padding: Matrix                # (m,)
    n: int                         # input pixels
    whole: Matrix | None = None    # (m, n + 1), where the profile stores whole rows

    @classmethod
    def of_rows(cls, whole: Matrix) -> Profile:
        """A profile that stores whole rows: ``whole`` is its full matrix."""
        m, n = whole.shape[0], whole.shape[1] - 1
        return cls(np.zeros(m, np.int64), whole[:, :-1], whole[:, -1], n, whole)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.lo), self.n + 1

    @property
    def dtype(self) -> np.dtype:
        return self.band.dtype

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> Matrix:
        if self.whole is not None:
            return self.whole if dtype is None else self.whole.astype(dtype)
        m, w = self.band.shape
        out = np.zeros(self.shape, self.band.dtype)
        out[np.arange(m)[:, None], self.lo[:, None] + np.arange(w)] = self.band
        out[:, -1] = self.padding
        return out if dtype is None else out.astype(dtype)

    def rows(self, index: NDArray[np.integer[Any]] | slice) -> Profile:
        """The profile of some of the cells (an index array or a slice)."""
        if self.whole is not None:
            return Profile.of_rows(self.whole[index])
        return Profile(self.lo[index], self.band[index], self.padding[index], self.n)


def dense(p: Profile) -> Matrix:
    """The full ``(m, n + 1)`` matrix.

    >>> dense(identity(2))
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """
    return np.asarray(p)


def banded(full: Matrix) -> Profile:
    """The :class:`Profile` of a full matrix: each row's band from its first to its last
    nonzero pixel share.

    >>> p = banded(np.array([[0.5, 0.5, 0, 0, 0], [0, 0, 0.5, 0, 0.5]], np.float32))
    >>> p.lo.tolist(), p.band.tolist(), p.padding.tolist()
    ([0, 2], [[0.5, 0.5], [0.5, 0.0]], [0.0, 0.5])
    """
    n = full.shape[1] - 1
    nonzero = full[:, :-1] != 0
    has = nonzero.any(axis=1)
    first = np.where(has, nonzero.argmax(axis=1), 0)
    last = np.where(has, n - 1 - nonzero[:, ::-1].argmax(axis=1), -1)
    return _gather(full, first, last, n)


def _gather(full: Matrix, first: NDArray[np.intp], last: NDArray[np.intp], n: int) -> Profile:
    w = int(max((last - first + 1).max(initial=0), 0))
    lo = np.clip(np.minimum(first, n - w), 0, None).astype(np.int64)
    band = full[np.arange(len(lo))[:, None], lo[:, None] + np.arange(w)]
    return Profile(lo, band, full[:, -1].copy(), n)


def identity(n: int) -> Profile:
    """The model input's profile: each pixel is its own one path.

    >>> np.asarray(identity(2))
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """
    return Profile(np.arange(n, dtype=np.int64), np.ones((n, 1), np.float32), np.zeros(n, np.float32), n)


def _padding_cells(p: Profile, count: int) -> Profile:
    return Profile(np.zeros(count, np.int64), np.zeros((count, p.band.shape[1]), p.dtype),
                   np.ones(count, p.dtype), p.n)


def _combine(terms: Sequence[Term], scale: np.float32 | None = None) -> Profile:
    """Output row ``j`` = the sum over terms ``(q, src, weight)`` of ``weight[j] * q[src[j]]``
    (terms in order; ``src[j] == len(q)`` reads a padding cell, ``src=None`` is every row
    in order), times ``scale``: the same additions, in the same order, as on the full
    matrices, over the union of the bands. Small maps, and bands wider than half the
    axis, store whole rows: adding whole rows costs less than placing bands."""
    n, dtype = terms[0][0].n, terms[0][0].dtype
    out_m = len(terms[0][0].lo) if terms[0][1] is None else len(terms[0][1])
    if out_m * n <= WHOLE_ROWS:
        return _combine_rows(terms, scale)
    read = []
    for q, src, weight in terms:
        real = np.ones(out_m, bool) if src is None else src < len(q.lo)
        at = np.arange(out_m) if src is None else np.where(real, src, 0)
        read.append((q, src, real, at, weight))
    if all(q.band.shape[1] == n for q, *_ in read):
        width, lo = n, np.zeros(out_m, np.int64)
    else:
        first, last = np.full(out_m, n), np.full(out_m, -1)
        for q, _, real, at, _ in read:
            if q.band.shape[1]:
                first = np.minimum(first, np.where(real, q.lo[at], n))
                last = np.maximum(last, np.where(real, q.lo[at] + q.band.shape[1] - 1, -1))
        first = np.where(last >= first, first, 0)
        width = int(max((last - first + 1).max(initial=0), 0))
        width = n if 2 * width > n else width
        lo = np.clip(np.minimum(first, n - width), 0, None).astype(np.int64)
    band, padding = np.zeros((out_m, width), dtype), np.zeros(out_m, dtype)
    for q, src, real, at, weight in read:
        tap_padding = q.padding if src is None else np.where(real, q.padding[at], dtype.type(1))
        padding += tap_padding if weight is None else weight * tap_padding
        w = q.band.shape[1]
        if not w or not real.any():
            continue
        values = q.band if src is None else q.band[at]
        if not real.all():
            values[~real] = 0                    # a padding cell adds exact zeros
        if weight is not None:
            values = weight[:, None] * values
        if w == width:                           # whole rows (lo is 0 on both sides)
            band += values
            continue
        shift = np.where(real, q.lo[at] - lo, 0)
        if (shift == shift[0]).all():
            band[:, shift[0]:shift[0] + w] += values
        elif w <= 64:                            # narrow bands: one scatter (no cell twice)
            band[np.arange(out_m)[:, None], shift[:, None] + np.arange(w)] += values
        else:                                    # wide bands: a slice per distinct shift
            for d in np.unique(shift):
                rows = shift == d
                band[rows, d:d + w] += values[rows]
    if scale is not None:
        band *= scale
        padding *= scale
    return Profile(lo, band, padding, n)


def _combine_rows(terms: Sequence[Term], scale: np.float32 | None) -> Profile:
    """:func:`_combine` on whole rows, as numpy adds full matrices."""
    out: Matrix | None = None
    padded: dict[int, Matrix] = {}
    for q, src, weight in terms:
        full = dense(q)
        if src is None:
            values = full
        else:
            if id(q) not in padded:
                pad_row = np.zeros((1, full.shape[1]), full.dtype)
                pad_row[0, -1] = 1.0
                padded[id(q)] = np.concatenate([full, pad_row], axis=0)   # row m: a padding cell
            values = padded[id(q)][src]
        if weight is not None:
            values = weight[:, None] * values
        if out is None:        # a gather or a product is already a new array
            out = values.copy() if values is full and (len(terms) > 1 or scale is not None) else values
        else:
            out += values
    assert out is not None
    if scale is not None:
        out *= scale
    return Profile.of_rows(out)


def window(p: Profile, f: AxisFacts, transposed: bool) -> Profile:
    """The profile of a windowed op's output (``f``: its AxisFacts on this axis).

    A 3-tap window with padding 1 over 3 pixels: the edge cells' paths end on padding
    one time in three.

    >>> from padlint.geometry.axis import axis_facts
    >>> np.asarray(window(identity(3), axis_facts("L", n=3, k=3, s=1, pad_begin=1, pad_end=1),
    ...                   transposed=False)).round(3)
    array([[0.333, 0.333, 0.   , 0.333],
           [0.333, 0.333, 0.333, 0.   ],
           [0.   , 0.333, 0.333, 0.333]], dtype=float32)
    """
    if transposed:
        return banded(_transposed(dense(p), f))
    n = p.shape[0]
    idx = np.arange(f.out)[:, None] * f.stride + np.arange(f.kernel)[None, :] * f.dilation - f.pad_begin
    inside = (idx >= 0) & (idx < n)
    if f.kernel == 1 and inside.all():           # a 1x1 window reads one cell: a row gather
        return p if f.out == n and f.stride == 1 else p.rows(idx[:, 0])
    idx = np.where(inside, idx, n)
    taps = [(p, idx[:, t], None) for t in range(f.kernel)]
    return _combine(taps, scale=None if f.kernel == 1 else np.float32(1.0 / f.kernel))


def _transposed(p: Matrix, f: AxisFacts) -> Matrix:
    n = p.shape[0]
    pad_row = np.zeros((1, p.shape[1]), p.dtype)
    pad_row[0, -1] = 1.0
    ext = np.concatenate([p, pad_row], axis=0)          # row n: a padding cell
    j = np.arange(f.out)[:, None]
    t = np.arange(f.kernel)[None, :]
    num = j + f.pad_begin - t * f.dilation                    # o = i*s - p + t*d
    src = np.floor_divide(num, f.stride)
    valid = (num % f.stride == 0) & (src >= 0) & (src < n)
    count = valid.sum(axis=1, keepdims=True)
    taps: Matrix = ext[np.where(valid, src, n)] * valid[..., None]
    summed = taps.sum(axis=1)
    empty = count[:, 0] == 0
    summed[empty] = pad_row                               # no tap: the bias alone
    mean: Matrix = summed / np.maximum(count, 1)
    return mean


def pad(p: Profile, begin: int, end: int) -> Profile:
    """An explicit pad (negative: a crop).

    >>> np.asarray(pad(identity(1), 1, 0))
    array([[0., 1.],
           [1., 0.]], dtype=float32)
    """
    if begin < 0:
        p, begin = p.rows(slice(-begin, None)), 0
    if end < 0:
        p, end = p.rows(slice(None, p.shape[0] + end)), 0
    if begin == end == 0:
        return p
    parts = [_padding_cells(p, begin), p, _padding_cells(p, end)]
    return Profile(np.concatenate([q.lo for q in parts]), np.concatenate([q.band for q in parts]),
                   np.concatenate([q.padding for q in parts]), p.n)


def take(p: Profile, start: int, step: int, count: int) -> Profile:
    """A strided slice of the cells: ``count`` cells from ``start``, every ``step``.

    >>> np.asarray(take(identity(4), 1, 2, 2))
    array([[0., 1., 0., 0., 0.],
           [0., 0., 0., 1., 0.]], dtype=float32)
    """
    return p.rows(np.arange(p.shape[0])[start:start + step * count:step][:count])


def resample(p: Profile, m: int, corners: bool, mode: str = "linear", r: float | None = None) -> Profile:
    """Interpolation to ``m`` cells: nearest-neighbour for the 'nearest' modes, else linear
    (cubic modes too, approximately) at half-pixel centres unless ``corners``; ``r`` is the
    source step (1/scale_factor where one was given).

    >>> np.asarray(resample(identity(2), 4, corners=False))[:, :2]
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
        return p.rows(np.minimum(src, n - 1))
    x = o * (n - 1) / max(m - 1, 1) if corners else (o + 0.5) * step - 0.5
    x = np.clip(x, 0, n - 1)
    lo = np.floor(x).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = (x - lo).astype(p.dtype)
    return _combine([(p, lo, 1 - w), (p, hi, w)])


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

    >>> np.asarray(adaptive(identity(4), 2))
    array([[0.5, 0.5, 0. , 0. , 0. ],
           [0. , 0. , 0.5, 0.5, 0. ]], dtype=float32)
    """
    full = dense(p)
    n = full.shape[0]
    cs = np.concatenate([np.zeros((1, full.shape[1]), np.float64), np.cumsum(full, axis=0, dtype=np.float64)])
    start, end = adaptive_bins(n, m)
    pooled: Matrix = ((cs[end] - cs[start]) / (end - start)[:, None]).astype(full.dtype)
    return banded(pooled)


def merge(profiles: list[Profile]) -> Profile | None:
    """A merge of branches (add, concatenation of channels …): the mean of their profiles,
    or None when their lengths differ.

    >>> np.asarray(merge([identity(2), pad(identity(2), 1, -1)]))
    array([[0.5, 0. , 0.5],
           [0.5, 0.5, 0. ]], dtype=float32)
    >>> merge([identity(2), identity(3)]) is None
    True
    """
    if any(q.shape != profiles[0].shape for q in profiles):
        return None
    if len(profiles) == 1:
        return profiles[0]
    return _combine([(q, None, None) for q in profiles], scale=np.float32(1.0 / len(profiles)))


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
    return AxisCoverage(axis, p.padding.astype(np.float64), p.padding > 1e-9,
                        dense(p)[:, :-1].sum(axis=0).astype(np.float64))


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
