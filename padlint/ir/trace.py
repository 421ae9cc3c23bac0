"""The padlint IR: the windowed ops of one forward pass, in execution order."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from padlint.geometry.axis import AxisFacts
from padlint.geometry.coverage import MapCoverage
from padlint.geometry.lengths import LengthProgram
from padlint.geometry.receptive import Cells
from padlint.ir.source import Source


@dataclass(frozen=True)
class Layer:
    """One call of a windowed op (conv, transposed conv or pool) with its per-axis facts."""

    name: str                         # qualified module name, or FX node name; '#2' for repeat calls
    op: str                           # module class ('Conv2d') or function ('F.conv2d')
    family: str                       # conv | conv_transpose | max_pool | avg_pool | lp_pool
    axes: tuple[AxisFacts, ...]
    input_shape: tuple[int, ...]      # real input, before any explicit pad
    output_shape: tuple[int, ...]
    source: Source | None = None
    padding_mode: str | None = None   # of an explicit pad that feeds the op (reflect, …)
    node: str | None = None           # FX node, when traced with FX
    params: int = 0                   # the call's weight and bias elements (0 for a pool)
    # per axis of ``axes``: where the output cells sit and their receptive fields (None
    # where the cells were not followed)
    cells: tuple[Cells | None, ...] = field(default=(), compare=False)

    def cell(self, axis: str) -> Cells | None:
        return next((c for c in self.cells if c is not None and c.axis == axis), None)

    def axis(self, name: str) -> AxisFacts:
        return next(a for a in self.axes if a.axis == name)

    def describe(self, axis: str | None = None) -> str:
        """``Conv2d k=3 s=2 p=1``: the geometry of one axis (or of all, when they agree)."""
        facts = [self.axis(axis)] if axis else list(self.axes)

        def show(values: Iterable[object]) -> str:
            values = list(dict.fromkeys(values))
            return "x".join(str(v) for v in values) if len(values) > 1 else str(values[0])

        parts = [self.op, f"k={show(f.kernel for f in facts)}", f"s={show(f.stride for f in facts)}",
                 "p=" + show(f"{f.pad_begin}" if f.pad_begin == f.pad_end else
                             f"({f.pad_begin},{f.pad_end})" for f in facts)]
        if any(f.dilation != 1 for f in facts):
            parts.append(f"d={show(f.dilation for f in facts)}")
        if any(f.ceil_mode for f in facts):
            parts.append("ceil_mode")
        if any(f.output_padding for f in facts):
            parts.append(f"output_padding={show(f.output_padding for f in facts)}")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "op": self.op,
             "source": self.source.to_json() if self.source else None,
             "axes": [a.to_json() | _cells_json(self.cell(a.axis)) for a in self.axes],
             "input_shape": list(self.input_shape), "output_shape": list(self.output_shape)}
        if self.padding_mode:
            d["padding_mode"] = self.padding_mode
        return d


def _cells_json(cells: Cells | None) -> dict[str, Any]:
    if cells is None:
        return {"receptive_field": None, "effective_stride": None, "centre_offset": None}
    return cells.to_json()


@dataclass(frozen=True)
class TraceNote:
    """Something the front end could not do the normal way (read by PAD9xx rules)."""

    kind: str                         # 'fx-fallback' | 'partial' | 'facts'
    layer: str
    reason: str
    source: Source | None = None


class AlignmentFacts(Protocol):
    """A padlint.trace.alignment.Alignment: where each map's cells sit in the input, as
    read by PAD106-PAD108 and ``padlint fix`` (built by the trace stage, above the IR)."""

    @property
    def merges(self) -> Sequence[Any]: ...                # trace.alignment.Merge

    @property
    def pools(self) -> Sequence[Any]: ...                 # trace.alignment.AdaptivePool

    @property
    def failed(self) -> str | None: ...                   # why the facts are partial

    @property
    def deepest_map(self) -> MapCoverage | None: ...

    def rename(self, prefix: str) -> AlignmentFacts: ...


@dataclass(frozen=True)
class Trace:
    layers: tuple[Layer, ...]
    method: str                       # 'fx', 'hooks', 'cpu' or 'none'
    input_shape: tuple[int, ...]
    notes: tuple[TraceNote, ...] = field(default=())
    program: LengthProgram | None = field(default=None, compare=False, repr=False)
    # Facts of later stages, opaque to the IR:
    alignment: AlignmentFacts | None = field(default=None, compare=False, repr=False)   # a trace.alignment.Alignment
    preprocess: Preprocess | None = field(default=None, compare=False, repr=False)  # PAD109


@dataclass(frozen=True)
class Preprocess:
    """A model's own input transform that pads every image to a multiple of ``divisor``,
    and, per axis, what that does to the analysed part (read by PAD109)."""

    name: str                 # 'transform'
    op: str                   # 'GeneralizedRCNNTransform'
    source: Source | None     # its construction site
    divisor: int
    limit: int                # the largest padded size checked
    part: str                 # 'backbone'
    clean_multiples: dict[str, list[int]]   # axis -> the multiples of divisor up to limit that are clean
    fix: dict[str, tuple[int, int] | None]  # axis -> (period, offset) of sizes that are all clean, or None
