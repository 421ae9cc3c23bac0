"""Text output of ``padlint stats``: a table of the §4 measures per convolution, the mean
kernels and mean input patches as small coloured matrices, then the PAD3xx findings."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.columns import Columns
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from padlint.geometry.measures import centred
from padlint.ir.report import ModelResult, Report
from padlint.ir.shapes import shape_str
from padlint.output.heatmap import rgb
from padlint.output.text import closing_line, finding_line, severity_counts

if TYPE_CHECKING:                # a type only: output never imports the stage that measures
    from padlint.stats.facts import Stats

MATRICES = 16          # layers whose matrices print by default (--all-matrices: every one)


def ordered(stats) -> list:
    """Downsampling layers first (the paper found the asymmetries there), then the rest,
    each in execution order."""
    return [s for s in stats.layers if s.downsampling] + [s for s in stats.layers if not s.downsampling]


def _scale(m: np.ndarray) -> float:
    peak = float(np.abs(m).max())
    return 10.0 ** math.floor(math.log10(peak)) if peak > 0 else 1.0


def matrix(m: np.ndarray, title: str, color: bool) -> Text:
    """A k×k matrix with its values in units of a power of ten given in the title, each
    cell coloured by its deviation from the matrix's median (blue below, yellow above)."""
    if m.ndim == 1:
        m = m[None, :]
    elif m.ndim == 3:                        # 3-D kernels: the middle depth slice
        m = m[m.shape[0] // 2]
    scale = _scale(m)
    t = centred([m])[0]
    out = Text()
    out.append(title, style="bold")
    out.append(f" ×{scale:.0e}\n" if scale != 1.0 else "\n", style="dim")
    for r in range(m.shape[0]):
        for c in range(m.shape[1]):
            cell = f"{m[r, c] / scale:+6.2f}"
            style = None
            if color:
                bg = rgb(t[r, c])
                fg = "black" if sum(bg) > 330 else "white"
                style = Style(color=fg, bgcolor=Color.from_rgb(*bg))
            out.append(cell, style=style)
            out.append(" " if c + 1 < m.shape[1] else "\n")
    return out


def _asym(d: dict, axes) -> str:
    return " ".join(f"{a}:{d[a]:.2f}" if d.get(a) is not None else f"{a}:-" for a in axes)


HEADINGS = ("layer", "op", "padding", "kernel asym.", "heavier", "vs noise", "patch asym.")
NO_WRAP = ("layer", "op", "padding")     # a layer name, an op or a code cut in two is unreadable


def _narrowest(cells: list[str], no_wrap: bool) -> int:
    """The narrowest a column can be with no cell cut or ellipsised: its widest cell when
    it must not wrap, else its longest word (cells wrap between words)."""
    parts = cells if no_wrap else [w for c in cells for w in c.split()]
    return max(map(cell_len, parts), default=1)


class Unclipped:
    """``renderable`` laid out at least ``width`` wide: past the console's width when it
    needs more (the console soft-wraps, so the long lines print whole) rather than have
    rich cut or ellipsise what does not fit."""

    def __init__(self, renderable, width: int):
        self.renderable, self.width = renderable, width

    def __rich_console__(self, console: Console, options):
        if self.width > options.max_width:
            options = options.update_width(self.width)
        yield from console.render(self.renderable, options)


def table(stats) -> Unclipped:
    """One row per convolution. However narrow the console (COLUMNS=60 in CI), no cell is
    cut: each column keeps its :func:`_narrowest` width (its heading whole too), the
    columns that wrap take what is left, and the table grows past the console's width
    rather than shorten a layer name."""
    rows = [_row(s) for s in ordered(stats)]
    narrowest = [max(cell_len(heading), _narrowest([cells[i] for cells, _ in rows], heading in NO_WRAP))
                 for i, heading in enumerate(HEADINGS)]
    t = Table(box=None, header_style="bold", pad_edge=False)
    for heading, least in zip(HEADINGS, narrowest):
        t.add_column(heading, no_wrap=heading in NO_WRAP, min_width=least)
    for cells, style in rows:
        t.add_row(*cells, style=style)
    return Unclipped(t, sum(narrowest) + 2 * (len(HEADINGS) - 1))    # a space either side of each gap


def _row(s) -> tuple[list[str], str | None]:
    """The cells of one layer's row and its style (yellow: padding uneven at this size)."""
    codes: dict = {}
    for axis, found in s.uneven.items():
        for code in found:
            codes.setdefault(code, []).append(axis)
    uneven = " ".join(f"{c} {','.join(a)}" for c, a in codes.items()) or "even"
    heavier = " ".join(f"{a}:{s.heavier[a]}" for a in s.axes if s.heavier.get(a)) or "-"
    sig = " ".join(f"{a}:{s.significance[a]:.1f}" for a in s.axes
                   if s.significance.get(a) is not None) or "-"
    return ([s.name, s.describe(), uneven,
             _asym(s.asymmetry, s.axes) if s.mean_kernel is not None else "-", heavier, sig,
             _asym(s.patch_asymmetry, s.axes) if s.mean_patch is not None else "-"],
            "yellow" if s.uneven else None)


def header(result) -> Text:
    st = result.stats
    text = Text(f"{result.target} @ {shape_str(result.input_shape)}", style="bold")
    parts = [f"weights {st.weights}" if st.weights else "initial weights (no --weights)"]
    if st.data:
        parts.append(f"data {st.data} ({st.samples} sample{'s' if st.samples != 1 else ''})")
    text.append(" · " + " · ".join(parts), style="dim")
    return text


def _stats(result: ModelResult) -> Stats:
    """The facts ``padlint stats`` measured for a result it prints."""
    assert result.stats is not None
    return cast("Stats", result.stats)


def print_stats(report: Report, console: Console, all_matrices: bool = False) -> None:
    color = console.color_system is not None and not console.no_color
    for result in report.results:
        st = _stats(result)
        console.print(header(result))
        for kind, names in (("missing from the checkpoint (left as built)", st.missing),
                            ("in the checkpoint but not in the model (ignored)", st.unexpected)):
            if names:
                listed = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                console.print(Text(f"{len(names)} tensor(s) {kind}: {listed}", style="yellow"))
        console.print(table(st))
        skipped = f"; {st.skipped_1x1} 1x1 convolution(s) passed over" if st.skipped_1x1 else ""
        console.print(Text(f"padding: PAD101/PAD102 at this input size; asym.: ||X - flip(X)|| / "
                           f"||X - mean(X)|| per axis; vs noise: ||K - flip(K)|| over what channel "
                           f"noise alone would give it{skipped}", style="dim"))
        layers = ordered(st)
        flagged = {f.layer for f in result.findings}
        shown = layers if all_matrices else (
            [s for s in layers if s.name in flagged] + [s for s in layers if s.name not in flagged])[:MATRICES]
        shown = [s for s in layers if s in shown]
        panels = []
        for s in shown:
            parts = [Text(f"{s.name} ({s.describe()})\n", style="bold")]
            if s.mean_kernel is not None:
                parts += [matrix(s.mean_kernel, "mean kernel", color),
                          matrix(s.mean_abs_kernel, "mean |kernel|", color)]
            if s.mean_patch is not None:
                parts.append(matrix(s.mean_patch, "mean input patch", color))
            panels.append(Text("").join(parts))
        if panels:
            console.print()
            widest = max(cell_len(line) for p in panels for line in p.plain.splitlines())
            console.print(Unclipped(Columns(panels, padding=(1, 3)), widest))   # titles name the layer
        if len(shown) < len(layers):
            console.print(Text(f"… and {len(layers) - len(shown)} more layers (--all-matrices "
                               "prints them; --format json lists every matrix)", style="dim"))
        for f in result.findings:
            console.print(finding_line(f, result.target))
        console.print(Text(f"{result.target} @ {shape_str(result.input_shape)}: "
                           f"{len(st.layers)} convolution(s) measured, "
                           f"{len(result.findings)} finding(s){severity_counts(result.findings)}", style="bold"))
    console.print(closing_line(report))


