"""Writing a file all at once: a temporary file beside it, then a rename, so that a failure
(Ctrl-C too) never leaves half a file, nor the temporary one."""
from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, text: str | bytes, suffix: str, mode: int = 0o644,
                 newline: str | None = None) -> None:
    """Write ``text`` (or bytes) to ``path`` through ``.padlint-*<suffix>`` in the same
    folder, with permissions ``mode``; ``newline=""`` writes the text's own line endings."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".padlint-", suffix=suffix, dir=folder)
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as out:
                out.write(text)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
                fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
