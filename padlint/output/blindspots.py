"""``padlint blindspots`` as text: the response maps as terminal heatmaps side by side
(the model as built, at the nearest clean size, under each padding mode), one line of
figures per map, and the PAD203 findings."""
from __future__ import annotations

from typing import cast

from rich.columns import Columns
from rich.console import Console
from rich.text import Text

from padlint.blindspots.facts import Blindspots, ResponseMap
from padlint.ir.report import ModelResult, Report
from padlint.ir.shapes import shape_str
from padlint.output.heatmap import heatmap, legend
from padlint.output.text import closing_line, finding_line, severity_counts


def facts_of(result: ModelResult) -> Blindspots:
    """The facts ``padlint blindspots`` measured for a result it prints."""
    assert result.blindspots is not None
    return cast("Blindspots", result.blindspots)


def figures(m: ResponseMap) -> str:
    """'asymmetry H 0.87, W 0.65; 41 of 400 positions blind (below 25 % of the median 0.063)'."""
    if m.error:
        return m.error
    asym = ", ".join(f"{a} {v:.2g}" for a, v in m.asymmetry.items())
    blind = int(m.blind.sum())
    count = f"{blind} of {m.response.size} positions blind" if blind else "no blind position"
    return f"asymmetry {asym}; {count} (below {100 * m.threshold:.0f} % of the median {m.median:.3g})"


def caption(m: ResponseMap) -> str:
    """A map's figures short enough for a picture's caption, on two lines:
    'asymmetry H 0.87, W 0.65' and '41 of 400 positions blind'."""
    if m.error:
        return m.error
    asym = ", ".join(f"{a} {v:.2g}" for a, v in m.asymmetry.items())
    return f"asymmetry {asym}\n{int(m.blind.sum())} of {m.response.size} positions blind"


def print_blindspots(report: Report, console: Console) -> None:
    color = console.color_system is not None and not console.no_color
    for result in report.results:
        if result.blindspots is None:
            continue
        b = facts_of(result)
        grid = "x".join(str(len(p)) for p in b.main.positions.values())
        console.print(Text(f"{result.target} @ {shape_str(result.input_shape)}: the response of "
                           f"{b.watched} to a {b.stimulus.spec} stimulus on a {b.background:g} "
                           f"background, {b.kernels} kernels, {b.dtype}, {grid} positions",
                           style="bold"))
        shown = [m for m in b.maps if not m.error and m.response.size]
        tiles = [heatmap(m.response if m.response.ndim > 1 else m.response[None, :],
                         f"{m.label} ({shape_str(m.input_shape[2:])})", color) for m in shown]
        if tiles:
            console.print(Columns(tiles, padding=(0, 3)))
            console.print(Text(legend(color) + "; low is blind", style="dim"))
        for m in b.maps:
            console.print(f"  {m.label}: {figures(m)}")
        if b.clean is None and b.clean_why:
            console.print(f"  no clean-size map: {b.clean_why}")
        for f in result.findings:
            console.print(finding_line(f, result.target))
        console.print(Text(f"{result.target} @ {shape_str(result.input_shape)}: "
                           f"{len(result.findings)} finding(s){severity_counts(result.findings)}",
                           style="bold"))
    console.print(closing_line(report))
