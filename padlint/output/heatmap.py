"""Aggregated feature maps as small terminal heatmaps (the seed paper's per-layer
overview): two map rows per text line with the half-block character ``▀`` (its
foreground the upper cell, its background the lower). Without colour, one shade
character per cell instead."""
from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.columns import Columns
from rich.console import Console
from rich.style import Style
from rich.text import Text

from padlint.geometry.measures import centred, downsample

SHADES = " .:-=+*#%@"
CELLS = 24                     # the largest side of a shown map, in cells (colour)
PLAIN_CELLS = 12               # the same without colour: one text line per row of cells


def rgb(t: float) -> tuple[int, int, int]:
    """A diverging scale: blue (below the median) through near-black to yellow (above)."""
    t = float(np.clip(t, -1.0, 1.0))
    if t >= 0:
        return (int(40 + 215 * t), int(40 + 190 * t), int(40 - 20 * t))
    t = -t
    return (int(40 - 20 * t), int(40 + 100 * t), int(40 + 215 * t))


def heatmap(m: np.ndarray, title: str, color: bool = True, cells: int = CELLS) -> Text:
    """One map as text: its title, then the cells."""
    small = downsample(m, cells if color else min(cells, PLAIN_CELLS))
    t = centred([small])[0]     # deviation from the median, in [-1, 1] of the largest
    out = Text()
    out.append(title, style="bold")
    out.append("\n")
    if not color:
        shade = np.rint((t + 1) / 2 * (len(SHADES) - 1)).astype(int)
        for row in shade:
            out.append("".join(SHADES[v] * 2 for v in row) + "\n")
        return out
    rows = t.shape[0]
    for r in range(0, rows, 2):
        for c in range(t.shape[1]):
            top = Color.from_rgb(*rgb(t[r, c]))
            bottom = Color.from_rgb(*rgb(t[r + 1, c])) if r + 1 < rows else None
            out.append("▀", style=Style(color=top, bgcolor=bottom))
        out.append("\n")
    return out


def print_maps(console: Console, maps: list[tuple[str, np.ndarray]], caption: str,
               limit: int = 12) -> None:
    """Print up to ``limit`` maps side by side under a caption."""
    if not maps:
        return
    color = console.color_system is not None and not console.no_color
    shown = [heatmap(m, title, color) for title, m in maps[:limit]]
    console.print(Text(caption, style="dim"))
    console.print(Columns(shown, padding=(0, 2)))
    if len(maps) > limit:
        console.print(Text(f"… and {len(maps) - limit} more maps (--format json lists their measures)",
                           style="dim"))


def legend(color: bool) -> str:
    if color:
        return "blue: below the map's median, yellow: above, dark: at the median"
    return f"'{SHADES[0]}' lowest … '{SHADES[len(SHADES) // 2]}' the median … '{SHADES[-1]}' highest"

