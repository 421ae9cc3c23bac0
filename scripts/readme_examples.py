"""The README's example outputs, generated from real runs.

Each example block in README.md follows a marker comment that names the command and
which of its output lines to show::

    <!-- example: padlint check examples/unet.py --format concise; show: 0 1 -2: -->
    ```
    $ padlint check examples/unet.py --format concise
    unet.py:32:23: PAD107 …
    ...
    ```

``show`` takes line numbers of the output (0-based, negative from the end), slices
(``3:6``, ``-2:``) and ``/regex/`` (the first line that matches); ``...`` stands where
lines were left out. ``stderr`` in the marker (``; stderr``) merges stderr into the output.
Paths into an installed package read ``.../torchvision/...``.

    python scripts/readme_examples.py          # rewrite the blocks from fresh runs
    python scripts/readme_examples.py --check  # exit 1 and show the drift (tests/test_readme.py)
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- example: (?P<command>.+?); show: (?P<show>.+?)(?P<stderr>; stderr)? -->\n"
                    r"```\n(?P<body>.*?)```\n", re.M | re.S)
SITE = re.compile(r"\S*?/(?:site|dist)-packages/")


@dataclass
class Example:
    command: str
    show: str
    stderr: bool
    span: tuple[int, int]          # of the fenced block, marker included
    body: str


def examples(text: str) -> list[Example]:
    return [Example(m["command"], m["show"], bool(m["stderr"]), m.span(), m["body"])
            for m in MARKER.finditer(text)]


def run(example: Example) -> list[str]:
    """The command's output lines, as a user sees them in a pipe (colour off, 120 wide)."""
    env = dict(os.environ, COLUMNS="120", PYTHONUNBUFFERED="1", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(["bash", "-c", example.command], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if example.stderr else subprocess.PIPE,
                          timeout=600)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{example.command!r} exited {proc.returncode}:\n{proc.stdout}{proc.stderr or ''}")
    return [SITE.sub(".../", line.rstrip()) for line in proc.stdout.splitlines()]


def select(lines: list[str], show: str) -> list[int]:
    """The indices ``show`` names, in output order."""
    chosen: set[int] = set()
    for token in show.split():          # a space inside a regex is written \s
        if token.startswith("/") and token.endswith("/") and len(token) > 1:
            pattern = re.compile(token[1:-1])
            hit = next((i for i, line in enumerate(lines) if pattern.search(line)), None)
            if hit is None:
                raise RuntimeError(f"no output line matches {token}")
            chosen.add(hit)
        elif ":" in token:
            a, b = (int(x) if x else None for x in token.split(":", 1))
            chosen.update(range(len(lines))[slice(a, b)])
        else:
            chosen.add(range(len(lines))[int(token)])
    return sorted(chosen)


def render(example: Example, lines: list[str]) -> str:
    shown, last = [], -1
    for i in select(lines, example.show):
        if i > last + 1 and shown:
            shown.append("...")
        shown.append(lines[i])
        last = i
    if last < len(lines) - 1:
        shown.append("...")
    return "".join(line + "\n" for line in [f"$ {example.command}", *shown])


_TOKEN = re.compile(r"^(-?\d+|-?\d*:-?\d*|/\S+/)$")


def regenerate(text: str) -> str:
    found = examples(text)
    for example in found:                # a bad spec fails before minutes of runs
        bad = [t for t in example.show.split() if not _TOKEN.match(t)]
        if bad:
            raise ValueError(f"README example {example.command!r}: show token {bad[0]!r} is not a "
                             "line number, a slice or a /regex/ (write a space as \\s)")
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(run, found))
    for example, lines in reversed(list(zip(found, outputs))):
        a, b = example.span
        marker = text[a:b].split("```\n", 1)[0]
        text = text[:a] + marker + "```\n" + render(example, lines) + "```\n" + text[b:]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="show the drift, change nothing")
    args = parser.parse_args(argv)
    old = README.read_text()
    new = regenerate(old)
    if args.check:
        if new != old:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                       "README.md", "README.md (fresh runs)"))
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
