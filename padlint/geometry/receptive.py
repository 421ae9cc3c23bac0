"""Receptive fields, exactly, on any chain of windows, resamplings and merges (SCIENCE.md §2).

The receptive field of a cell is the set of input pixels its value depends on, for an
input large enough that no border is near (the theoretical field, which may exceed the
real input). On one axis it is an interval of input pixels; padlint keeps its two ends.

Cells of a map repeat their fields with a period: with effective stride ``S = p/q``, cell
``j + m`` sees the pixels of cell ``j`` moved by ``S*m`` (an integer) for some period ``m``
(1 on any chain of integer strides; 2 after a stride-2 transposed conv on a stride-1 map).
A :class:`Field` stores the fields of cells ``0 … m-1`` and that shift, so every call is
exact:

- a window (``k``, ``s``, ``d``, ``p_b``): cell ``j`` reads cells ``s*j - p_b + d*t``,
  ``t < k``; its field is the union of theirs;
- a transposed conv: output ``y`` gets input ``x`` where ``y = s*x - p_b + d*t``;
- a resampling: output ``y`` reads the source cells of its sampling position (nearest:
  ``floor(y*r)``; linear: the two cells around ``(y + 1/2)*r - 1/2``, one when it falls on a
  cell; area: the cells of its bin), ``r`` the input cells per output cell;
- a merge or concatenation: per cell, the union of its inputs' fields, whatever their
  alignment.

An interval's *size* is ``hi - lo + 1``: with dilation it may hold pixels no path reaches,
as the peers' receptive fields do. Plain ints and fractions: nothing here imports torch.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor, gcd

Span = tuple[int, int] | None      # (lo, hi) input pixels; None: the cell gets no input

MAX_PERIOD = 1 << 12               # beyond this the fields are not followed (None)


@dataclass(frozen=True)
class Field:
    """The receptive fields of one axis of one map: cell ``j = r + m*c`` (``0 <= r < m``)
    sees input pixels ``spans[r]`` moved by ``c*shift``."""

    spans: tuple[Span, ...]
    shift: int

    @property
    def period(self) -> int:
        return len(self.spans)

    def span(self, j: int) -> Span:
        c, r = divmod(j, self.period)
        s = self.spans[r]
        return None if s is None else (s[0] + c * self.shift, s[1] + c * self.shift)

    @property
    def size(self) -> int:
        """The receptive field in input pixels: the largest over the cells of a period."""
        return max((hi - lo + 1 for lo, hi in (s for s in self.spans if s is not None)), default=0)

    @property
    def sizes(self) -> tuple[int, ...]:
        """The size of each cell of a period (0 for a cell no input reaches)."""
        return tuple(0 if s is None else s[1] - s[0] + 1 for s in self.spans)


IDENTITY = Field(((0, 0),), 1)


def _union(spans: Iterable[Span]) -> Span:
    known = [s for s in spans if s is not None]
    if not known:
        return None
    return min(s[0] for s in known), max(s[1] for s in known)


def _reduced(spans: list[Span], shift: int) -> Field | None:
    """The same fields with the shortest period that repeats them."""
    m = len(spans)
    if not any(s is not None for s in spans):
        return None
    for p in range(1, m + 1):
        if m % p or (shift * p) % m:
            continue
        step = shift * p // m
        if all(_moved(spans[r], step) == spans[r + p] for r in range(m - p)):
            return Field(tuple(spans[:p]), step)
    return Field(tuple(spans), shift)


def _moved(s: Span, by: int) -> Span:
    return None if s is None else (s[0] + by, s[1] + by)


def window(f: Field, kernel: int, stride: int, dilation: int = 1, pad_begin: int = 0) -> Field | None:
    """The fields of a window op's output cells (cell ``j`` reads ``s*j - p_b + d*t``)."""
    m = f.period // gcd(f.period, stride)
    spans = [_union(f.span(stride * j - pad_begin + dilation * t) for t in range(kernel))
             for j in range(m)]
    return _reduced(spans, f.shift * stride * m // f.period)


def transposed(f: Field, kernel: int, stride: int, dilation: int = 1, pad_begin: int = 0) -> Field | None:
    """The fields of a transposed conv's output cells: ``y`` gets ``x`` where
    ``y = s*x - p_b + d*t``."""
    m = f.period * stride
    if m > MAX_PERIOD:
        return None
    spans = []
    for y in range(m):
        sources = [(y + pad_begin - dilation * t) // stride for t in range(kernel)
                   if (y + pad_begin - dilation * t) % stride == 0]
        spans.append(_union(f.span(x) for x in sources))
    return _reduced(spans, f.shift)


def resample(f: Field, ratio: Fraction, mode: str, corners: bool = False) -> Field | None:
    """The fields after a resampling with ``ratio`` input cells per output cell: mode
    'nearest', 'nearest-exact', 'linear' (bilinear, trilinear: per axis the same), 'cubic'
    (bicubic) or 'area' (adaptive pooling's bins)."""
    p, q = ratio.numerator, ratio.denominator
    m = q * f.period // gcd(p, f.period)
    if m > MAX_PERIOD:
        return None
    spans = [_union(f.span(x) for x in sources(y, ratio, mode, corners)) for y in range(m)]
    return _reduced(spans, f.shift * (m * p // q) // f.period)


def sources(y: int, r: Fraction, mode: str, corners: bool = False) -> range:
    """The input cells output cell ``y`` of a resampling reads (away from the borders)."""
    if mode == "area":
        return range(floor(y * r), ceil((y + 1) * r))
    if mode == "nearest":
        return range(floor(y * r), floor(y * r) + 1)
    if mode == "nearest-exact":
        x = floor((y + Fraction(1, 2)) * r)
        return range(x, x + 1)
    at = y * r if corners else (y + Fraction(1, 2)) * r - Fraction(1, 2)
    base = floor(at)
    if at == base:                       # on a cell: the other taps weigh 0
        return range(base, base + 1)
    return range(base, base + 2) if mode == "linear" else range(base - 1, base + 3)


def merge(fields: list[Field | None]) -> Field | None:
    """Per cell, the union of the inputs' fields (an add, a concatenation); None when any
    input's fields are unknown or their cells do not repeat alike."""
    if not fields or any(f is None for f in fields):
        return None
    known = [f for f in fields if f is not None]
    first = known[0]
    if all(f.period == 1 for f in known):          # integer strides: one span each
        if any(f.shift != first.shift for f in known):
            return None
        span = _union(f.spans[0] for f in known)
        return None if span is None else Field((span,), first.shift)
    m = first.period
    for f in known[1:]:
        if f.shift * first.period != first.shift * f.period:     # cells spaced differently
            return None
        m = m * f.period // gcd(m, f.period)
    if m > MAX_PERIOD:
        return None
    spans = [_union(f.span(j) for f in known) for j in range(m)]
    return _reduced(spans, first.shift * m // first.period)


@dataclass(frozen=True)
class Cells:
    """Where one axis of a map's cells sit and what they see: cell ``j`` is centred at input
    ``stride*j + offset`` (its period's mean field centre), with :attr:`field`'s pixels."""

    axis: str
    stride: Fraction
    offset: Fraction
    field: Field | None = None

    @property
    def receptive_field(self) -> int | None:
        return self.field.size if self.field is not None else None

    def to_json(self) -> dict[str, object]:
        """The three fields of ``layers[].axes[]``: a fraction as a float."""
        def number(x: Fraction) -> int | float:
            return int(x) if x.denominator == 1 else float(x)
        return {"receptive_field": self.receptive_field, "effective_stride": number(self.stride),
                "centre_offset": number(self.offset)}
