"""The words findings use for an axis: its two ends and its cells ('top', 'bottom', 'row').

>>> cell_word("H", 1), cell_word("W", 2), sides("D")
('row', 'columns', ('front', 'back'))
>>> join_words(["PAD106", "PAD107", "PAD108"])
'PAD106, PAD107 and PAD108'
"""
from __future__ import annotations

from collections.abc import Iterable

SIDES = {"H": ("top", "bottom", "row"), "W": ("left", "right", "column"),
         "D": ("front", "back", "slice"), "L": ("start", "end", "cell")}


def cell_word(axis: str, count: int) -> str:
    """'row' or 'rows' on H, 'column(s)' on W, 'cell(s)' on an axis with no name."""
    word = SIDES.get(axis, ("", "", "cell"))[2]
    return word if count == 1 else word + "s"


def sides(axis: str) -> tuple[str, str]:
    """The words for the begin and end of ``axis`` ('start', 'end' when it has none)."""
    begin, end, _ = SIDES.get(axis, ("start", "end", "cell"))
    return begin, end


def join_words(words: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
