"""The one exception type users see, and the one way padlint quotes another exception."""
from __future__ import annotations

import re
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class PadlintError(Exception):
    """A user-facing error: bad target, bad input size, a model that cannot run.

    ``str(err)`` is one line that names the file or model and what to do. When
    :func:`padlint.analyze` analysed nothing, ``err.report`` is the report whose
    ``errors`` say why (else None).
    """

    report: Any = None     # a padlint.ir.report.Report (the IR sits above this module)
    skipped: list[str]     # set by a load that found only models needing arguments (no default)


def first_line(err: BaseException, typed: bool = False) -> str:
    """The first line of an exception's message, without terminal colour codes (the type's
    name when the message is empty); ``typed`` puts the type's name in front.

    >>> first_line(ValueError("bad size\\nmore detail"), typed=True)
    'ValueError: bad size'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = _ANSI.sub("", str(err)).strip()
    line = text.splitlines()[0] if text else ""
    if typed:
        return f"{type(err).__name__}: {line}".rstrip(": ")
    return line or type(err).__name__
