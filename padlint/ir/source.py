"""A position in the user's code: where a layer was constructed (path:line:col)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """A position in a file; ``end_line``/``end_col`` close the constructing call
    (columns are 1-based, the end exclusive, as in SARIF)."""

    path: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None
    # Where a library (smp, timm, torchvision) built the layer, when the position above
    # is the user's line that called it; not part of the position (noqa, fingerprints).
    defined_at: Source | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    @property
    def lines(self) -> range:
        """The lines the construction spans: a ``# noqa`` on any of them applies."""
        return range(self.line, max(self.line, self.end_line or self.line) + 1)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "col": self.col,
                "end_line": self.end_line or self.line, "end_col": self.end_col}


def display_path(path: str) -> str:
    """Relative to the working directory when the file is under it."""
    path = os.path.abspath(path)
    cwd = os.getcwd() + os.sep
    return path[len(cwd):] if path.startswith(cwd) else path
