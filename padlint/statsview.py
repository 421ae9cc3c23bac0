"""Text output of ``padlint stats``: a table of the §4 measures per convolution, the mean
kernels and mean input patches as small coloured matrices, then the PAD3xx findings."""
from __future__ import annotations

import math

import numpy as np
from rich.color import Color
from rich.columns import Columns
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .heatmap import _rgb
from .measures import centred
from .render import _counts, closing_line, finding_line
from .report import Report
from .shapes import shape_str

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
                bg = _rgb(t[r, c])
                fg = "black" if sum(bg) > 330 else "white"
                style = Style(color=fg, bgcolor=Color.from_rgb(*bg))
            out.append(cell, style=style)
            out.append(" " if c + 1 < m.shape[1] else "\n")
    return out


def _asym(d: dict, axes) -> str:
    return " ".join(f"{a}:{d[a]:.2f}" if d.get(a) is not None else f"{a}:-" for a in axes)


def table(stats) -> Table:
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("layer", "op", "padding", "kernel asym.", "heavier", "vs noise", "patch asym."):
        t.add_column(col, no_wrap=col in ("op", "padding"))
    for s in ordered(stats):
        codes: dict = {}
        for axis, found in s.uneven.items():
            for code in found:
                codes.setdefault(code, []).append(axis)
        uneven = " ".join(f"{c} {','.join(a)}" for c, a in codes.items()) or "even"
        heavier = " ".join(f"{a}:{s.heavier[a]}" for a in s.axes if s.heavier.get(a)) or "-"
        sig = " ".join(f"{a}:{s.significance[a]:.1f}" for a in s.axes
                       if s.significance.get(a) is not None) or "-"
        t.add_row(s.name, s.describe(), uneven,
                  _asym(s.asymmetry, s.axes) if s.mean_kernel is not None else "-", heavier, sig,
                  _asym(s.patch_asymmetry, s.axes) if s.mean_patch is not None else "-",
                  style="yellow" if s.uneven else None)
    return t


def header(result) -> Text:
    st = result.stats
    text = Text(f"{result.target} @ {shape_str(result.input_shape)}", style="bold")
    parts = [f"weights {st.weights}" if st.weights else "initial weights (no --weights)"]
    if st.data:
        parts.append(f"data {st.data} ({st.samples} sample{'s' if st.samples != 1 else ''})")
    text.append(" · " + " · ".join(parts), style="dim")
    return text


def print_stats(report: Report, console: Console, all_matrices: bool = False) -> None:
    color = console.color_system is not None and not console.no_color
    for result in report.results:
        st = result.stats
        console.print(header(result))
        for kind, names in (("missing from the checkpoint (left as built)", st.missing),
                            ("in the checkpoint but not in the model (ignored)", st.unexpected)):
            if names:
                shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                console.print(Text(f"{len(names)} tensor(s) {kind}: {shown}", style="yellow"))
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
            console.print(Columns(panels, padding=(1, 3)))
        if len(shown) < len(layers):
            console.print(Text(f"… and {len(layers) - len(shown)} more layers (--all-matrices "
                               "prints them; --format json lists every matrix)", style="dim"))
        for f in result.findings:
            console.print(finding_line(f, result.target))
        console.print(Text(f"{result.target} @ {shape_str(result.input_shape)}: "
                           f"{len(st.layers)} convolution(s) measured, "
                           f"{len(result.findings)} finding(s){_counts(result.findings)}", style="bold"))
    console.print(closing_line(report))


