"""The text side of ``padlint fix``: reading files, line offsets, applying edits, diffs."""
from __future__ import annotations

import difflib
import io
import os
import re


def read_text(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def rel_path(path: str) -> str:
    return os.path.relpath(path).replace(os.sep, "/")


def unified_diff(path: str, old: str, new: str) -> str:
    """``--- a/PATH`` / ``+++ b/PATH``, PATH relative to the working directory, so that
    ``patch -p1`` and ``git apply`` take it."""
    rel = rel_path(path)
    lines = difflib.unified_diff(_lines(old), _lines(new), f"a/{rel}", f"b/{rel}")
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines as Python, patch and git see them: ended by \\n, \\r\\n or \\r only (str.splitlines
    also splits at a form feed and other separators, which made a broken diff)."""
    return io.StringIO(text, newline="").readlines()


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer(r"\r\n|\r|\n", text):
        starts.append(m.end())
    return starts


class Offsets:
    """ast (line, UTF-8 byte column) -> character offset in the text."""

    def __init__(self, text: str):
        self.text = text
        self.starts = _line_starts(text)

    def __call__(self, line: int, col: int) -> int:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return start + len(self.text[start:end].encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node) -> tuple[int, int]:
        return self(node.lineno, node.col_offset), self(node.end_lineno, node.end_col_offset)


def edited_texts(originals: dict, edits: list) -> dict:
    texts = {}
    for path in dict.fromkeys(e.path for e in edits):
        text = originals[path]
        for e in sorted((e for e in edits if e.path == path), key=lambda e: e.start, reverse=True):
            text = text[:e.start] + e.new + text[e.end:]
        texts[path] = text
    return texts


def under_cwd(path: str) -> bool:
    cwd = os.path.realpath(os.getcwd())
    return os.path.realpath(path).startswith(cwd + os.sep)
