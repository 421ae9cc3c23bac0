"""The alignment facts of one traced run (SCIENCE.md §2): where every feature-map cell sits in
the input (:class:`Grid`, ``centre(j) = S*j + O``), the merges that mix cells from different
places (:class:`Merge`, PAD107) and the adaptive pools (:class:`AdaptivePool`, PAD106).
Plain data on fractions and numpy: :mod:`padlint.trace.alignment` writes them, the rules
read them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

from padlint.geometry import coverage, receptive
from padlint.geometry.coverage import MapCoverage, Profile, summarize
from padlint.geometry.receptive import Field
from padlint.ir.source import Source


@dataclass(frozen=True)
class CornersCall:
    """An interpolation with ``align_corners=True``: it keeps the first and last cell centres,
    so its cells are spaced ``(n-1)/(m-1)`` input cells apart instead of ``n/m``."""

    name: str                 # 'interpolate', 'decoder.up', as the front end names calls
    op: str                   # 'interpolate', 'Upsample', …
    source: Source | None

    def describe(self) -> str:
        """'interpolate at net.py:29', 'up (Upsample) at net.py:12'."""
        own = re.sub(r"(_\d+)?(#\d+)?$", "", self.name.rsplit(".", 1)[-1])
        text = self.name if own == self.op else f"{self.name} ({self.op})"
        return text + (f" at {self.source.path}:{self.source.line}" if self.source else "")


@dataclass(frozen=True)
class Grid:
    """One spatial dimension of a tensor: cell ``j`` is centred at input ``stride*j + offset``."""

    axis: str
    stride: Fraction
    offset: Fraction
    tiled: bool = False       # a strided slice: one phase of a space-to-depth rearrangement
    profile: Profile | None = field(default=None, compare=False, repr=False)   # coverage
    # the align_corners=True interpolations on the way here, and the (stride, offset) the
    # cells would have with align_corners=False at each of them (None: no such call)
    corners: tuple[CornersCall, ...] = field(default=(), compare=False, repr=False)
    half_pixel: tuple[Fraction, Fraction] | None = field(default=None, compare=False, repr=False)
    # the receptive fields of the cells (None: not followed)
    receptive: Field | None = field(default=None, compare=False, repr=False)

    def centre(self) -> str:
        """``2j+0.5``: the centre of cell j, in input pixels."""
        s = "j" if self.stride == 1 else f"{fraction_text(self.stride)}j"
        if self.offset == 0:
            return s
        return f"{s}{'+' if self.offset > 0 else '-'}{fraction_text(abs(self.offset))}"

    def without_corners(self) -> Grid:
        """The grid these cells would have with ``align_corners=False`` in every
        interpolation of :attr:`corners`."""
        if self.half_pixel is None:
            return Grid(self.axis, self.stride, self.offset)
        return Grid(self.axis, *self.half_pixel)

    def moved(self, new: Grid) -> Grid:
        """``new``, made from this grid by one call, with this grid's align_corners facts
        carried through it: the call's step ``S' = S*a``, ``O' = O + S*b`` is applied to the
        half-pixel place as well."""
        if self.half_pixel is None:
            return replace(new, corners=self.corners, half_pixel=None)
        a = new.stride / self.stride
        b = (new.offset - self.offset) / self.stride
        stride, offset = self.half_pixel
        return replace(new, corners=self.corners, half_pixel=(stride * a, offset + stride * b))


def fraction_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):.4g}"


@dataclass(frozen=True)
class Merge:
    """One axis of a call that combines tensors whose cells sit at different places."""

    name: str                 # 'layer1.0.add', as the front end names calls
    op: str                   # 'add', 'cat', …
    source: Source | None
    axis: str
    grids: tuple[Grid, ...]   # one per distinct grid among the inputs, in input order
    length: int               # the merged length on this axis

    def rename(self, prefix: str) -> Merge:
        grids = tuple(replace(g, corners=tuple(replace(c, name=f"{prefix}.{c.name}") for c in g.corners))
                      for g in self.grids)
        return replace(self, name=f"{prefix}.{self.name}", grids=grids)

    @property
    def corners(self) -> tuple[CornersCall, ...]:
        """The align_corners=True interpolations on the inputs' paths, each once."""
        return tuple(dict.fromkeys(c for g in self.grids for c in g.corners))

    def without_corners(self) -> tuple[Grid, ...]:
        """The inputs' distinct grids with align_corners=False in :attr:`corners`: one grid
        when align_corners is the whole cause of the misalignment."""
        return tuple(dict.fromkeys(g.without_corners() for g in self.grids))


@dataclass(frozen=True)
class Combine:
    """A call that combines maps (an add, a concatenation), aligned or not: per spatial axis
    its length, the inputs' distinct grids and the union of their receptive fields."""

    name: str
    op: str
    source: Source | None
    after: int                # the windowed layers run before it
    axes: tuple[tuple[int, tuple[Grid, ...], Field | None], ...]

    def rename(self, prefix: str) -> Combine:
        return replace(self, name=f"{prefix}.{self.name}")


@dataclass(frozen=True)
class AdaptivePool:
    """One axis of an adaptive pool: ``n`` input cells into ``m`` bins."""

    name: str
    op: str                   # 'AdaptiveAvgPool2d' or 'F.adaptive_avg_pool2d'
    source: Source | None
    axis: str
    n: int
    m: int

    def rename(self, prefix: str) -> AdaptivePool:
        return replace(self, name=f"{prefix}.{self.name}")


@dataclass
class Alignment:
    """The alignment facts of one trace."""

    merges: list[Merge] = field(default_factory=list)
    pools: list[AdaptivePool] = field(default_factory=list)
    outputs: list = field(default_factory=list)     # the grids of each output tensor
    failed: str | None = None       # why the tracker stopped (the facts are then partial)
    # the output grids of each windowed layer (by its index in the trace), with their
    # receptive fields: read into each Layer's ``cells``
    cells: dict[int, tuple[Grid | None, ...]] = field(default_factory=dict, repr=False)
    combines: list[Combine] = field(default_factory=list, repr=False)   # every merge, for `padlint layers`
    # the deepest map of more than one cell per axis (the coarsest grid, the last windowed
    # layer on it): (layer index, stride, ((axis, coverage profile), ...)), or None
    deepest: tuple | None = field(default=None, repr=False)

    def rename(self, prefix: str) -> Alignment:
        return Alignment([m.rename(prefix) for m in self.merges],
                         [p.rename(prefix) for p in self.pools], self.outputs, self.failed,
                         cells=self.cells, combines=[c.rename(prefix) for c in self.combines],
                         deepest=self.deepest)

    @property
    def deepest_map(self):
        """The deepest map's :class:`padlint.geometry.coverage.MapCoverage` (PAD108 and the report's
        coverage section) if it has more than one cell on every axis, else None."""
        if self.deepest is None:
            return None
        layer, stride, profiles = self.deepest
        deep = MapCoverage(layer, stride, tuple(summarize(axis, p) for axis, p in profiles))
        return deep if all(len(a.padding) > 1 for a in deep.axes) else None


class ProfileSteps:
    """The steps of :mod:`padlint.geometry.coverage`, each computed once per distinct input:
    the H and W axes of a square map share one profile, so the second axis's step, window
    or merge, is a lookup and they keep sharing."""

    def __init__(self) -> None:
        self._done: dict[tuple, tuple[tuple[Profile, ...], Profile | None]] = {}

    def run(self, how: str, inputs: tuple[Profile, ...], *args) -> Profile | None:
        key = (how, tuple(map(id, inputs)), *args)
        hit = self._done.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], inputs)):   # an id reused
            step = getattr(coverage, how)
            hit = self._done[key] = (inputs, step(list(inputs)) if how == "merge" else step(*inputs, *args))
        return hit[1]

    def apply(self, grid: Grid, how: str, *args) -> Profile | None:
        """``grid``'s coverage profile through one step."""
        return None if grid.profile is None else self.run(how, (grid.profile,), *args)


def merged_grid(grids: list[Grid], steps: ProfileSteps) -> Grid:
    """The first input's grid, with the inputs' coverage profiles averaged and their
    receptive fields united."""
    if len(grids) == 1:
        return grids[0]
    first = grids[0]
    field = receptive.merge([g.receptive for g in grids])
    profiles = [g.profile for g in grids]
    if any(p is None for p in profiles):
        return replace(first, profile=None, receptive=field)
    known = [p for p in profiles if p is not None]
    if all(p is known[0] for p in known):
        return replace(first, receptive=field)
    return replace(first, profile=steps.run("merge", tuple(known)), receptive=field)
