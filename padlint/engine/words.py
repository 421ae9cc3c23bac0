"""Joining words in a finding's text.

>>> join_words(["PAD106", "PAD107", "PAD108"])
'PAD106, PAD107 and PAD108'
"""
from __future__ import annotations

from collections.abc import Iterable


def join_words(words: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
