"""Text output: one line per finding, a summary per model, a closing line."""
from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.text import Text

from .report import Report
from .shapes import shape_str

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_METHODS = {"hooks": "analysed with module hooks on the meta device",
            "cpu": "analysed with a real CPU forward on a constant input"}


def _counts(findings) -> str:
    c = Counter(f.severity for f in findings)
    parts = [f"{c[s]} {s}" for s in ("error", "warning", "info") if c[s]]
    return f" ({', '.join(parts)})" if parts else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def finding_lines(report: Report) -> list[Text]:
    lines = []
    for result in report.results:
        for f in result.findings:
            line = Text()
            line.append(f"{f.source or result.target}:", style="bold")
            line.append(" ")
            line.append(f.rule, style=_STYLE[f.severity])
            line.append(f" [{f.severity}] ", style=_STYLE[f.severity])
            line.append(f.layer or "<model>", style="bold")
            if f.op:
                line.append(f" ({f.op})", style="dim")
            line.append(f" {f.message}. Fix: {f.fix}")
            lines.append(line)
        summary = Text(f"{result.target} @ {shape_str(result.input_shape)}: ", style="bold")
        summary.append(f"{_plural(len(result.layers), 'windowed layer')}, "
                       f"{_plural(len(result.findings), 'finding')}{_counts(result.findings)}")
        if result.trace.method in _METHODS:
            summary.append(f" [{_METHODS[result.trace.method]}; see PAD901]")
        lines.append(summary)
    return lines


def closing_line(report: Report) -> Text:
    runs = _plural(len(report.results), "model run")
    findings = report.findings
    if findings:
        text = Text(f"Found {_plural(len(findings), 'finding')}{_counts(findings)} in {runs}.",
                    style="bold")
    else:
        text = Text(f"No findings in {runs}.", style="bold green")
    if report.errors:
        text.append(f" {_plural(len(report.errors), 'target')} failed (see stderr).", style="bold red")
    return text


def print_text(report: Report, console: Console) -> None:
    for line in finding_lines(report):
        console.print(line)
    console.print(closing_line(report))
