"""Every output format of ``padlint check``: text, concise, json, sarif, github.

:func:`write_report` is the one entry point; the text forms are drawn by
:mod:`padlint.output.text` (rich), SARIF by :mod:`padlint.output.sarif`.
"""
from __future__ import annotations

import json

from padlint.ir.report import Report
from padlint.output.sarif import to_sarif
from padlint.output.text import print_concise, print_statistics, print_text

FORMATS = ("text", "concise", "json", "sarif", "github")
_GITHUB_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(level: str, message: str, source=None, title: str | None = None) -> str:
    """``::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message``."""
    props = []
    if source is not None:
        props += [f"file={_escape_property(source.path)}", f"line={source.line}",
                  f"col={source.col}"]
        if source.end_line and source.end_line != source.line:
            props.append(f"endLine={source.end_line}")
        if source.end_col is not None and (source.end_line or source.line) == source.line:
            props.append(f"endColumn={source.end_col}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_escape_data(message)}"


def github_lines(report: Report) -> list[str]:
    """GitHub Actions workflow commands: each finding annotates its construction line."""
    lines = []
    for result in report.results:
        for f in result.findings:
            text = f"{f.layer or '<model>'}" + (f" ({f.op})" if f.op else "")
            message = f"{text} {f.message}. Fix: {f.fix}"
            if f.source is None:
                message = f"{result.target}: {message}"
            lines.append(github_command(_GITHUB_LEVELS[f.severity], message, f.source,
                                        f"{f.rule} {f.name}"))
    for unused in report.unused_noqa:
        lines.append(github_command("warning", unused.message, unused.source, "unused-noqa"))
    return lines


def write_report(report: Report, fmt: str, console, *, rules=(), root: str = ".",
                 show_suppressed: bool = False, quiet: bool = False,
                 statistics: bool = False, verbose: bool = False) -> None:
    """Print ``report`` in ``fmt`` on ``console`` (a rich Console on stdout or a file).
    ``quiet``: the text forms print the findings only; ``statistics``: a count per rule
    instead of the findings (as ruff's ``--statistics``); ``verbose``: text shows where a
    library defined each layer."""
    if statistics and fmt in ("text", "concise"):
        print_statistics(report, console, quiet)
    elif fmt == "text":
        print_text(report, console, show_suppressed, quiet, verbose)
    elif fmt == "concise":
        print_concise(report, console, show_suppressed, quiet)
    elif fmt == "json":                     # machine formats: plain text, never rich markup
        console.file.write(report.to_json() + "\n")
    elif fmt == "sarif":
        console.file.write(json.dumps(to_sarif(report, rules, root, show_suppressed), indent=2) + "\n")
    elif fmt == "github":
        console.file.write("".join(line + "\n" for line in github_lines(report)))
    else:
        raise ValueError(f"unknown format {fmt!r}")
