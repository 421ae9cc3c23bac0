"""The blind positions of a response map, in words: which grid rows and columns are
blind from end to end, and which positions besides.

>>> import numpy as np
>>> blind = np.zeros((4, 4), dtype=bool); blind[3, :] = blind[:, 3] = True
>>> describe(blind, {"H": [0, 5, 10, 15], "W": [0, 5, 10, 15]}).text
'the bottom grid row (input row 15) and the right grid column (input column 15)'
>>> blind = np.zeros((7, 3), dtype=bool); blind[1::2] = True
>>> describe(blind, {"H": [0, 1, 2, 3, 4, 5, 6], "W": [0, 3, 6]}).text
'every other row (input rows 1, 3 and 5)'
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from padlint.geometry.words import cell_word, sides

ORDINALS = {2: "other", 3: "third", 4: "fourth"}


@dataclass(frozen=True)
class Region:
    """The blind positions, described: ``text`` names them; ``edges`` maps each axis to
    the ends ('top', 'bottom', ...) whose grid lines are blind; ``lines`` maps each axis
    to the input coordinates of its blind grid lines; ``scattered`` are the blind
    positions on no blind line."""

    text: str
    lines: dict[str, list[int]] = field(default_factory=dict)
    edges: dict[str, list[str]] = field(default_factory=dict)
    scattered: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def axes(self) -> list[str]:
        return [a for a, coords in self.lines.items() if coords]


def listed(coords: list[int]) -> str:
    """'3', '3 and 7', '1, 3, 5 and 7', '1, 3, …, 31'."""
    shown = [str(c) for c in coords]
    if len(shown) == 1:
        return shown[0]
    if len(shown) > 5:
        return f"{shown[0]}, {shown[1]}, …, {shown[-1]}"
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _input_cells(axis: str, coords: list[int]) -> str:
    return f"input {cell_word(axis, len(coords))} {listed(coords)}"


def _runs(indices: list[int], count: int) -> tuple[list[int], list[int], list[int]]:
    """Split sorted grid indices into the run from index 0, the run to the last index and the rest."""
    chosen = set(indices)
    begin: list[int] = []
    while len(begin) < count and len(begin) in chosen:
        begin.append(len(begin))
    end: list[int] = []
    while count - 1 - len(end) in chosen and count - 1 - len(end) not in begin:
        end.append(count - 1 - len(end))
    rest = [i for i in indices if i not in begin and i not in end]
    return begin, sorted(end), rest


def _axis_phrases(axis: str, indices: list[int], coords: list[int]) -> tuple[list[str], list[str]]:
    """The phrases for one axis's blind grid lines, and the ends they touch."""
    picked = [coords[i] for i in indices]
    begin_word, end_word = sides(axis)
    word = cell_word(axis, 1)
    if len(coords) == 1:
        return [f"the only grid {word} ({_input_cells(axis, picked)})"], []
    gaps = set(np.diff(picked).tolist()) if len(picked) > 2 else set()
    if len(gaps) == 1 and (gap := gaps.pop()) > 1 and set(np.diff(coords).tolist()) == {1}:
        every = ORDINALS.get(gap, f"{gap}th")
        return [f"every {every} {word} ({_input_cells(axis, picked)})"], []
    begin, end, rest = _runs(indices, len(coords))
    phrases, edges = [], []
    for run, side in ((begin, begin_word), (end, end_word)):
        if run:
            what = f"grid {word}" if len(run) == 1 else f"{len(run)} grid {cell_word(axis, 2)}"
            phrases.append(f"the {side} {what} ({_input_cells(axis, [coords[i] for i in run])})")
            edges.append(side)
    if rest:
        more = "more " if phrases else ""
        phrases.append(f"{len(rest)} {more}grid {cell_word(axis, len(rest))} in between "
                       f"({_input_cells(axis, [coords[i] for i in rest])})")
    return phrases, edges


def describe(blind: NDArray[np.bool_], positions: dict[str, list[int]]) -> Region:
    """Name the blind positions of a map on the grid ``positions`` (axis -> input
    coordinates, in axis order; ``blind`` has one axis per entry)."""
    axes = list(positions)
    if not blind.any():
        return Region("")
    if blind.all():
        return Region("every position of the grid", {a: list(c) for a, c in positions.items()},
                      {a: list(sides(a)) for a in axes})
    phrases: list[str] = []
    lines: dict[str, list[int]] = {}
    edges: dict[str, list[str]] = {}
    on_line = np.zeros_like(blind)
    for k, axis in enumerate(axes):
        others = tuple(j for j in range(blind.ndim) if j != k)
        full = blind.all(axis=others) if others else blind
        indices = [int(i) for i in np.flatnonzero(full)]
        if not indices:
            continue
        coords = positions[axis]
        lines[axis] = [coords[i] for i in indices]
        said, touched = _axis_phrases(axis, indices, coords)
        phrases += said
        edges[axis] = touched
        np.moveaxis(on_line, k, 0)[indices] = True      # a view: writes through
    rest = np.argwhere(blind & ~on_line)
    scattered = [tuple(positions[a][int(i)] for a, i in zip(axes, where)) for where in rest]
    if scattered:
        at = "; ".join(", ".join(f"{cell_word(a, 1)} {c}" for a, c in zip(axes, p)) for p in scattered[:3])
        more = f" and {len(scattered) - 3} more" if len(scattered) > 3 else ""
        count = len(scattered)
        lead = f"{count} {'more ' if phrases else ''}position{'s' if count != 1 else ''}"
        phrases.append(f"{lead} (at input {at}{more})")
    text = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return Region(text, lines, edges, scattered)
