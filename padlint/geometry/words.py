"""The words for an axis that findings and reports use: its two ends and its cells.

>>> cell_word("H", 1), cell_word("W", 2), sides("D")
('row', 'columns', ('front', 'back'))
>>> sorted(SIDE_WORDS)[:4]
['back', 'bottom', 'cell', 'cells']
"""
from __future__ import annotations

SIDES: dict[str, tuple[str, str, str]] = {
    "H": ("top", "bottom", "row"), "W": ("left", "right", "column"),
    "D": ("front", "back", "slice"), "L": ("start", "end", "cell")}

# Every word above, with the cells' plurals: what differs between two axes' texts.
SIDE_WORDS: frozenset[str] = frozenset(
    w for begin, end, cell in SIDES.values() for w in (begin, end, cell, cell + "s"))


def cell_word(axis: str, count: int) -> str:
    """'row' or 'rows' on H, 'column(s)' on W, 'cell(s)' on an axis with no name.

    >>> cell_word("H", 2), cell_word("X", 1)
    ('rows', 'cell')
    """
    word = SIDES.get(axis, ("", "", "cell"))[2]
    return word if count == 1 else word + "s"


def sides(axis: str) -> tuple[str, str]:
    """The words for the begin and end of ``axis`` ('start', 'end' when it has none).

    >>> sides("H"), sides("W")
    (('top', 'bottom'), ('left', 'right'))
    """
    begin, end, _ = SIDES.get(axis, ("start", "end", "cell"))
    return begin, end
