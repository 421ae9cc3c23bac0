"""Text output: one line per finding, a summary per model, a closing line."""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from padlint.engine.select import codes_reading
from padlint.engine.words import join_words
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.report import Report
from padlint.ir.severity import WORST_FIRST
from padlint.ir.shapes import shape_str
from padlint.output.axisgroups import merge_axes
from padlint.output.heatmap import legend, print_maps
from padlint.output.verification import summary

if TYPE_CHECKING:              # a type only: the sweep is run by the sizes stage, not here
    from padlint.sizes.result import AxisResult

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_METHODS = {"hooks": "analysed with module hooks on the meta device",
            "cpu": "analysed with a real CPU forward on a constant input"}


def severity_counts(findings) -> str:
    c = Counter(f.severity for f in findings)
    parts = [f"{c[s]} {s}" for s in WORST_FIRST if c[s]]
    return f" ({', '.join(parts)})" if parts else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def finding_line(f, target: str, suppressed=None, verbose: bool = False) -> Text:
    """``path:line:col: CODE [severity] layer (op) message. Fix: fix``; ``verbose`` adds
    ``(defined at …)``, the library line that built a layer the user's line asked for."""
    line = Text()
    where = f.source or target
    if where:
        line.append(f"{where}:", style="bold")
        line.append(" ")
    line.append(f.rule, style="dim" if suppressed else _STYLE[f.severity])
    line.append(f" [{f.severity}] ", style="dim" if suppressed else _STYLE[f.severity])
    line.append(f.layer or "<model>", style="bold")
    if f.op:
        line.append(f" ({f.op})", style="dim")
    if suppressed is None:
        line.append(f" {f.message}. Fix: {f.fix}")
        if f.verification is not None:
            line.append(f" [{verification_text(f.verification)}]",
                        style="green" if f.verification["status"] == "confirmed" else "dim")
    else:
        line.append(f" {f.message}.")
        line.append(f" [{suppressed.label}]", style="dim")
    if verbose and f.source is not None and f.source.defined_at is not None:
        line.append(f" (defined at {f.source.defined_at})", style="dim")
    return line


def verification_text(v: dict) -> str:
    """'confirmed: asymmetry 0.596 at 224x224, 0 at 225x225' and the like."""
    if "text" in v:                       # several axes' verifications, merged for one line
        return v["text"]
    status = v["status"].replace("-", " ")
    if v["status"] == "not-checked":
        return f"{status}: {v.get('reason', '')}"
    how = " (layer alone, on a symmetric input)" if v.get("probe") == "layer" else ""
    text = f"{status}: asymmetry {v['asymmetry']:.3g}{how} at {shape_str(v['input_shape'])}"
    if "clean_asymmetry" in v:
        text += f", {v['clean_asymmetry']:.2g} at {shape_str(v['clean_shape'])}"
    return text


def unused_noqa_line(unused) -> Text:
    line = Text(f"{unused.source}:", style="bold")
    line.append(f" {unused.message}", style="yellow")
    return line


def finding_lines(report: Report, show_suppressed: bool = False) -> list[Text]:
    return [line for result in report.results for line in result_lines(result, show_suppressed)]


def result_lines(result, show_suppressed: bool = False, quiet: bool = False,
                 verbose: bool = False) -> list[Text]:
    """The finding lines and (unless ``quiet``) the summary line of one model run."""
    lines = []
    lines += [finding_line(f, result.target, verbose=verbose) for f in merge_axes(result.findings)]
    if show_suppressed:
        lines += [finding_line(s.finding, result.target, s, verbose) for s in result.suppressed]
    if quiet:
        return lines
    summary = Text(f"{result.target} @ {shape_str(result.input_shape)}: ", style="bold")
    summary.append(f"{_plural(len(result.layers), 'windowed layer')}, "
                   f"{_plural(len(result.findings), 'finding')}{severity_counts(result.findings)}")
    if result.suppressed:
        summary.append(f", {len(result.suppressed)} suppressed")
    if result.suggested is not None and not result.suggested.is_clean():
        summary.append(f"; {result.suggested.text()}")
    if result.trace.method in _METHODS:
        notes = join_words(codes_reading("notes"))        # the rule that reports the fallback
        summary.append(f" [{_METHODS[result.trace.method]}{'; see ' + notes if notes else ''}]")
    lines.append(summary)
    return lines


def print_verification(result, console: Console) -> None:
    """The verify stage's summary and the heatmaps of the flagged layers."""
    v = result.verification
    console.print(Text("  " + summary(v), style="dim"))
    baseline = next((b for b in ("constant", "images") if b in v.maps), None) or next(iter(v.maps), None)
    if baseline is None:
        return
    flagged = list(dict.fromkeys(f.layer for f in result.findings if f.layer))
    maps = [(name, v.maps[baseline][name]) for name in flagged if name in v.maps[baseline]]
    color = console.color_system is not None and not console.no_color
    print_maps(console, [(f"{name} {shape_str(m.shape)}", m) for name, m in maps],
               f"  mean feature maps of the flagged layers on the {baseline} baseline "
               f"(mean over batch and channels; {legend(color)}):")


def closing_line(report: Report, show_suppressed: bool = False) -> Text:
    runs = _plural(len(report.results), "model run")
    findings = report.findings
    if findings:
        text = Text(f"Found {_plural(len(findings), 'finding')}{severity_counts(findings)} in {runs}.",
                    style="bold")
    elif not report.results and not report.errors:
        text = Text("No findings: no model in the files checked.", style="bold green")
    else:
        text = Text(f"No findings in {runs}.", style="bold green")
    extras = []
    if report.suppressed:
        extras.append(f"{len(report.suppressed)} suppressed"
                      + ("" if show_suppressed else " (--show-suppressed lists them)"))
    if report.unused_noqa:
        extras.append(_plural(len(report.unused_noqa), "unused noqa directive"))
    if extras:
        text.append(" " + "; ".join(extras) + ".")
    if report.errors:
        text.append(f" {_plural(len(report.errors), 'target')} failed (see stderr).", style="bold red")
    return text


def print_text(report: Report, console: Console, show_suppressed: bool = False,
               quiet: bool = False, verbose: bool = False) -> None:
    for result in report.results:
        for line in result_lines(result, show_suppressed, quiet, verbose):
            console.print(line)
        if result.verification is not None and not quiet:
            print_verification(result, console)
    for unused in report.unused_noqa:
        console.print(unused_noqa_line(unused))
    if not quiet:
        console.print(closing_line(report, show_suppressed))


def print_statistics(report: Report, console: Console, quiet: bool = False) -> None:
    """A count per rule, most frequent first (ruff's ``--statistics``): ``count code name
    [severity]``, one finding per layer axis as in the summary, then the closing line."""
    counts = Counter((f.rule, f.name, f.severity) for f in report.findings)
    width = len(str(max(counts.values(), default=0)))
    for (rule, name, severity), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        line = Text(f"{n:>{width}}  ")
        line.append(rule, style=_STYLE[severity])
        line.append(f"  {name} [{severity}]")
        console.print(line)
    if not quiet:
        console.print(closing_line(report))


def print_concise(report: Report, console: Console, show_suppressed: bool = False,
                  quiet: bool = False) -> None:
    """One line per finding (``path:line:col: CODE [severity] layer message``), then the count."""
    for result in report.results:
        for f in result.findings:
            console.print(f"{f.source or result.target}: {f.rule} [{f.severity}] "
                          f"{f.layer or '<model>'} {f.message}", markup=False)
        if show_suppressed:
            for s in result.suppressed:
                console.print(f"{s.finding.source or result.target}: {s.finding.rule} "
                              f"[{s.finding.severity}] {s.finding.layer or '<model>'} "
                              f"{s.finding.message} [{s.label}]", markup=False)
    for unused in report.unused_noqa:
        console.print(f"{unused.source}: {unused.message}", markup=False)
    if not quiet:
        console.print(closing_line(report, show_suppressed))


# -- padlint sizes ---------------------------------------------------------------------

def compact(values, limit: int = 8) -> str:
    """``[33, 65, 97, 129]`` -> ``'33, 65, …, 129'``; runs of step 1 read ``'40-47'``."""
    values = sorted(values)
    pieces, i = [], 0
    while i < len(values):
        j = i
        if i + 2 < len(values):
            step = values[i + 1] - values[i]
            while j + 1 < len(values) and values[j + 1] - values[j] == step:
                j += 1
        if j - i >= 2:
            a, b = values[i], values[j]
            pieces.append(f"{a}-{b}" if step == 1 else f"{a}, {a + step}, …, {b}")
            i = j + 1
        else:
            pieces.append(str(values[i]))
            i += 1
    if len(pieces) > limit:
        rest = len(pieces) - limit
        pieces = pieces[:limit] + [f"… ({rest} more group{'s' if rest > 1 else ''})"]
    return ", ".join(pieces)


def _same(a, b) -> bool:
    return a.clean == b.clean and a.invalid.keys() == b.invalid.keys() and a.first_uneven == b.first_uneven


def _print_asked(console: Console, r, asked, i: int) -> None:
    for lengths in asked:
        n = lengths[i]
        below, above = r.nearest(n)
        state = ("clean" if n in set(r.clean) else
                 f"not clean (first: {r.first_uneven[n]})" if n in r.first_uneven else
                 "cannot run" if n in r.invalid else "not swept")
        near = ", ".join(p for p in (f"{below} below" if below else "",
                                     f"{above} above" if above else "") if p) or "none in the range"
        console.print(f"  {n} is {state}; nearest clean: {near}")


def print_sweep(result, asked, console: Console, per_size: bool = False) -> None:
    names = AXIS_NAMES[len(result.input_shape) - 2]
    axes = "/".join(r.axis for r in result.axis_results)
    head = Text(f"{result.target}", style="bold")
    sizes = result.axis_results[0].sizes
    held = (f", each alone, the others held at {shape_str(result.input_shape[2:])}"
            if len(result.input_shape) > 3 else "")
    head.append(f": sweeping {axes} over {len(sizes)} sizes ({compact(sizes, 3)}){held}; "
                f"unclean means {' or '.join(result.rules)} fires on that axis")
    console.print(head)
    if result.method == "fast":
        console.print(Text("fast path: every size in one numpy pass over the recorded lengths",
                           style="dim"))
    else:
        console.print(Text(f"exact path: one traced meta-device run per size (the fast path "
                           f"does not apply: {result.why_exact})", style="dim"))
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
    shown: list[AxisResult] = []
    for r in result.axis_results:
        twin = next((s for s in shown if _same(s, r)), None)
        shown.append(r)
        if twin is not None:
            console.print(Text(f"{r.axis}: the same as {twin.axis}", style="bold"))
            i, j = names.index(r.axis), names.index(twin.axis)
            _print_asked(console, r, [a for a in asked if a[i] != a[j]], i)
            continue
        line = Text(f"{r.axis}: ", style="bold")
        if r.clean:
            line.append(f"{_plural(len(r.clean), 'clean size')} of {len(r.sizes)}: ", style="bold green")
            line.append(compact(r.clean))
        else:
            line.append(f"no clean size among the {len(r.sizes)}", style="bold red")
        console.print(line)
        _print_asked(console, r, asked, names.index(r.axis))
        if r.first_uneven:
            if per_size:
                console.print("  first layer that breaks each unclean size:")
                for n, layer in sorted(r.first_uneven.items()):
                    console.print(f"    {n}: {layer} ({result.layers.get(layer, '')})")
            else:
                groups: dict[str, list[int]] = {}
                for n, layer in r.first_uneven.items():
                    groups.setdefault(layer, []).append(n)
                console.print(f"  first layer that breaks each of the {len(r.first_uneven)} "
                              f"unclean sizes:")
                for layer, ns in sorted(groups.items(), key=lambda kv: min(kv[1])):
                    console.print(f"    {layer} ({result.layers.get(layer, '')}): "
                                  f"{_plural(len(ns), 'size')}: {compact(ns)}")
        if r.invalid:
            failures: dict[str, list[tuple[int, str]]] = {}
            for n, reason in r.invalid.items():
                failures.setdefault(reason.split(" would get")[0].split(":")[0], []).append((n, reason))
            console.print(Text(f"  cannot run at {_plural(len(r.invalid), 'size')}:", style="yellow"))
            for items in failures.values():
                ns = [n for n, _ in items]
                console.print(f"    {compact(ns)}: {items[0][1]}"
                              + (" (at the first of them)" if len(items) > 1 else ""))
