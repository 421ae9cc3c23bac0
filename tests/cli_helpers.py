"""What the command-line test files share: writing files and the one-line-error assertion
(the `cli` fixture, the command in this process, is in conftest.py)."""
import os

ERROR_PREFIX = "padlint: error: "


def write(root, rel, text):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def assert_one_error_line(code, out, err, *parts) -> str:
    """Exit 2, nothing on stdout, no traceback, one `padlint: error:` line holding ``parts``."""
    assert code == 2, (code, out, err)
    assert out == "", "partial output on stdout:\n" + out
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(ERROR_PREFIX), err
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]
