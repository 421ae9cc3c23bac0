"""The stimulus: ``SHAPE:SIZE`` (``square:1``, ``disc:5``, ``cross:3``), a small patch
of cells set to ``STIMULUS`` in every channel on a ``BACKGROUND`` of the same value
everywhere.

>>> parse_stimulus("square:2")
Stimulus(shape='square', size=2)
"""
from __future__ import annotations

from dataclasses import dataclass

from padlint.errors import PadlintError

SHAPES = ("square", "disc", "cross")
BACKGROUND = 0.5
STIMULUS = 1.0
DEFAULT = "square:1"


@dataclass(frozen=True)
class Stimulus:
    shape: str = "square"
    size: int = 1

    @property
    def spec(self) -> str:
        return f"{self.shape}:{self.size}"


def parse_stimulus(text: str) -> Stimulus:
    """``SHAPE:SIZE`` (or ``SHAPE`` for size 1), or a one-line PadlintError."""
    shape, _, size = text.strip().partition(":")
    shape = shape.strip().lower()
    if shape not in SHAPES:
        raise PadlintError(f"--stimulus {text!r}: unknown shape {shape!r}; give SHAPE:SIZE with "
                           f"SHAPE one of {', '.join(SHAPES)} (e.g. square:1)")
    try:
        value = int(size) if size.strip() else 1
    except ValueError:
        raise PadlintError(f"--stimulus {text!r}: the size {size!r} is not a whole number of "
                           "pixels (e.g. square:3)") from None
    if value < 1:
        raise PadlintError(f"--stimulus {text!r}: the size must be at least 1 pixel")
    return Stimulus(shape, value)
