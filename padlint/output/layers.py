"""``padlint layers``: the per-layer geometry table (text) and its JSON document.

One row per windowed op in execution order, indented by its depth in the module tree as
torchinfo indents, and one per merge (``--all``: every add and concatenation of maps;
without it, those whose inputs' cells are misaligned, PAD107). Per axis: ``in → out``,
``k/s/p/d``, the padding used at each end, the receptive field, the effective stride and
the centre offset (``S*j + O``, fractions shown exactly), then the findings' codes."""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from padlint.ir.report import ModelResult
from padlint.ir.shapes import shape_str
from padlint.ir.trace import Layer


@dataclass(frozen=True)
class Row:
    name: str
    op: str
    depth: int
    cells: dict[str, str]            # column -> text
    codes: tuple[str, ...]
    params: int = 0


def exact(x: Fraction | None) -> str:
    """``2``, ``1/2``, ``-1/8``: a fraction as it is."""
    if x is None:
        return "?"
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _joined(values: Sequence[str], sep: str = "x") -> str:
    """One value when every axis agrees, else one per axis."""
    return values[0] if len(set(values)) == 1 else sep.join(values)


def depth_of(name: str) -> int:
    """The module-tree depth: ``conv1`` 0, ``layer1.0.conv1`` 2 (a repeated call's ``#2`` and
    an FX node's own name do not count)."""
    return name.split("#")[0].count(".")


def _codes(result: ModelResult, name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.rule for f in result.findings if f.layer == name))


def layer_row(layer: Layer, codes: tuple[str, ...]) -> Row:
    axes = layer.axes
    cells = [layer.cell(f.axis) for f in axes]
    return Row(layer.name, layer.op, depth_of(layer.name), {
        "in → out": f"{_joined([str(f.n) for f in axes])} → {_joined([str(f.out) for f in axes])}",
        "k/s/p/d": _joined([f"{f.kernel}/{f.stride}/{f.pad_begin}/{f.dilation}" for f in axes], " "),
        "pad used": _joined([f"{f.pad_begin},{f.used_pad_end}" if not f.transposed else "-" for f in axes], " "),
        "RF": _joined([str(c.receptive_field) if c and c.receptive_field else "?" for c in cells]),
        "stride": _joined([exact(c.stride) if c else "?" for c in cells]),
        "centre": _joined([exact(c.offset) if c else "?" for c in cells], " "),
    }, codes, layer.params)


def combine_row(combine, codes: tuple[str, ...]) -> Row:
    lengths = [str(length) for length, _, _ in combine.axes]
    fields = [f.size if f is not None else None for _, _, f in combine.axes]
    strides = [" | ".join(dict.fromkeys(exact(g.stride) for g in grids)) for _, grids, _ in combine.axes]
    centres = [" | ".join(dict.fromkeys(exact(g.offset) for g in grids)) for _, grids, _ in combine.axes]
    return Row(combine.name, combine.op, depth_of(combine.name), {
        "in → out": f"{_joined(lengths)} → {_joined(lengths)}", "k/s/p/d": "", "pad used": "",
        "RF": _joined([str(f) if f else "?" for f in fields]),
        "stride": _joined(strides, " "), "centre": _joined(centres, " "),
    }, codes)


def combines(result: ModelResult, every: bool = False) -> list:
    """The merges shown: every one with ``every``, else those whose inputs are misaligned."""
    alignment = result.trace.alignment
    shown = list(getattr(alignment, "combines", []) or [])
    if not every:
        misaligned = {m.name for m in getattr(alignment, "merges", []) or []}
        shown = [c for c in shown if c.name in misaligned]
    return shown


def rows(result: ModelResult, every: bool = False) -> list[Row]:
    """The table's rows in execution order."""
    out: list[Row] = []
    pending = sorted(combines(result, every), key=lambda c: c.after)
    for i, layer in enumerate(result.trace.layers):
        while pending and pending[0].after <= i:
            c = pending.pop(0)
            out.append(combine_row(c, _codes(result, c.name)))
        out.append(layer_row(layer, _codes(result, layer.name)))
    out += [combine_row(c, _codes(result, c.name)) for c in pending]
    return out


COLUMNS = ("in → out", "k/s/p/d", "pad used", "RF", "stride", "centre")


def totals(result: ModelResult) -> dict[str, Any]:
    """The footer's figures: windowed layers, their parameters, the last layer's receptive
    field, effective stride and centre offset per axis, the findings per code and the
    nearest clean sizes."""
    layers = result.trace.layers
    last = layers[-1] if layers else None
    counts: dict[str, int] = {}
    for finding in result.findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    per_axis = {}
    if last is not None:
        for axis in last.axes:
            c = last.cell(axis.axis)
            per_axis[axis.axis] = {"receptive_field": c.receptive_field if c else None,
                                "effective_stride": _number(c.stride) if c else None,
                                "centre_offset": _number(c.offset) if c else None}
    return {"layers": len(layers), "params": sum(layer.params for layer in layers),
            "last": last.name if last else None, "axes": per_axis, "findings": counts,
            "clean_sizes": result.suggested_sizes,
            "sizes": result.suggested.text() if result.suggested is not None else None}


def _number(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else float(x)


def to_json(result: ModelResult, every: bool = False) -> dict[str, Any]:
    """One result: check's ``layers[]`` (with the three cell fields per axis), each with
    its depth, parameters and finding codes, the merges, and the totals."""
    layers = []
    for layer in result.trace.layers:
        entry = layer.to_json()
        entry.update(depth=depth_of(layer.name), params=layer.params, findings=list(_codes(result, layer.name)))
        layers.append(entry)
    merges = []
    for c in combines(result, every):
        merges.append({"name": c.name, "op": c.op, "after": c.after, "depth": depth_of(c.name),
                         "source": c.source.to_json() if c.source else None,
                         "findings": list(_codes(result, c.name)),
                         "axes": [{"axis": grids[0].axis, "length": length,
                                   "receptive_field": f.size if f is not None else None,
                                   "inputs": [{"effective_stride": _number(g.stride),
                                               "centre_offset": _number(g.offset)} for g in grids]}
                                  for length, grids, f in c.axes]})
    return {"target": result.target, "input_shape": list(result.input_shape), "layers": layers,
            "merges": merges, "totals": totals(result)}


def _table(table_rows: list[Row], name_width: int | None = None) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("layer", no_wrap=name_width is None, overflow="fold", max_width=name_width)
    table.add_column("op", no_wrap=True)
    for column in COLUMNS:
        table.add_column(column, no_wrap=True, justify="right" if column in ("RF", "stride") else "left")
    table.add_column("findings", no_wrap=True)
    for row in table_rows:
        table.add_row(Text("  " * row.depth + row.name), row.op, *(row.cells[c] for c in COLUMNS),
                      " ".join(row.codes))
    return table


def _render(table: Table, width: int, colour: bool) -> list[str]:
    canvas = Console(file=io.StringIO(), width=width, no_color=not colour, force_terminal=colour,
                     highlight=False, emoji=False)
    with canvas.capture() as captured:
        canvas.print(table)
    return [line.rstrip() for line in captured.get().splitlines()]    # no padding after the last column


def print_layers(results: list[ModelResult], console: Console, every: bool = False) -> None:
    """The table of each result, with its footer. Off a terminal the table is as wide as it
    needs, so that no name is ever cut; on one, too wide a table folds its layer names to
    fit (every other column keeps its values whole); narrower than those, it runs past the
    edge rather than cut a value."""
    for k, result in enumerate(results):
        if k:
            console.print()
        console.print(f"{result.target} @ {shape_str(result.input_shape)}", highlight=False, markup=False)
        table_rows = rows(result, every)
        lines = _render(_table(table_rows), 100_000, False)
        if console.is_terminal:
            natural = max((len(line) for line in lines), default=0)
            names = max((len(row.name) + 2 * row.depth for row in table_rows), default=5)
            room = console.width - (natural - max(names, 5))
            fit = _table(table_rows, room) if natural > console.width and room >= 12 else _table(table_rows)
            lines = _render(fit, max(console.width, natural) if fit.columns[0].max_width is None else console.width,
                            console.color_system is not None)
        for line in lines:
            text = Text.from_ansi(line)
            text.rstrip()
            console.print(text if console.is_terminal else line, highlight=False, markup=False, soft_wrap=True)
        console.print(footer(result), highlight=False, markup=False, soft_wrap=not console.is_terminal)


def footer(result: ModelResult) -> str:
    t = totals(result)
    parts = [f"{t['layers']} windowed layers ({t['params']:,} parameters)"]
    last = result.trace.layers[-1] if result.trace.layers else None
    if last is not None:
        cells = [last.cell(f.axis) for f in last.axes]
        rf = _joined([str(c.receptive_field) if c and c.receptive_field else "?" for c in cells])
        stride = _joined([exact(c.stride) if c else "?" for c in cells])
        parts.append(f"the last ({t['last']}) sees {rf} input pixels at stride {stride}")
    if t["findings"]:
        parts.append("findings per axis: " + ", ".join(f"{code} x{n}" for code, n in sorted(t["findings"].items())))
    if t["sizes"]:
        parts.append(t["sizes"])
    return "; ".join(parts)

