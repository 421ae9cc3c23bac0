"""``padlint report``: its options, and writing the page (the model work is in
:mod:`padlint.page.gather`, the HTML in :mod:`padlint.page`)."""
from __future__ import annotations

import os
import sys

from rich.console import Console

from padlint.cli.common import console, project_config, selection
from padlint.cli.isolate import prints_to_stderr
from padlint.cli.stats import add_model_arguments
from padlint.errors import PadlintError
from padlint.ir.report import Report
from padlint.ir.shapes import parse_range
from padlint.output.text import severity_counts
from padlint.page.figures import require_matplotlib
from padlint.page.layout import render_html, write_page

DEFAULT_OUTPUT = "padlint-report.html"


def add_report_parser(sub, codes) -> None:
    report = sub.add_parser(
        "report", help="one self-contained HTML page of a model's internals",
        description="Write one HTML file (images and styles embedded, no network) that shows a "
        "model at a glance: its findings, the geometry of every layer, the aggregated feature "
        "map of every layer on constant and random inputs (and --data) beside the same layers "
        "at the nearest clean input size, mean kernels and input patches (with --weights or "
        "--data), where a small object stops being seen (blind-spot maps, beside the nearest "
        "clean size and under every padding mode), and which input sizes around the analysed one are clean. Needs matplotlib: "
        "pip install 'padlint[report]'.")
    add_model_arguments(report, codes, "samples of --data to run (default 64)",
                        "where the model runs (auto: CUDA when available)")
    report.add_argument("--output", "-o", default=DEFAULT_OUTPUT, metavar="FILE",
                        help=f"the HTML file to write (default {DEFAULT_OUTPUT}); written even "
                             "when there are findings")
    report.add_argument("--baselines", type=codes, default=None, metavar="LIST",
                        help="baseline inputs: constant, random, simplified, zeros "
                             "(default: constant,random)")
    report.add_argument("--no-blindspots", action="store_true",
                        help="leave out the blind-spot maps (padlint blindspots's shifted-stimulus "
                             "experiment on a smaller grid, under every padding mode), which "
                             "take most of the page's time on a large model")
    report.add_argument("--range", "-r", dest="size_range", default=None, metavar="A:B[:S]",
                        help="the input sizes of the size strip (default: 32 either side)")


def _output_path(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if path.endswith(("/", os.sep)) and not os.path.isdir(path):
        raise PadlintError(f"--output {path}: ends in a slash, so it names a folder; give a file "
                           f"name such as {os.path.join(path, DEFAULT_OUTPUT)}")
    if os.path.isdir(path):
        raise PadlintError(f"--output {path}: is a folder; give a file name such as "
                           f"{os.path.join(path, DEFAULT_OUTPUT)}")
    if not os.path.isdir(folder):
        raise PadlintError(f"--output {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise PadlintError(f"--output {path}: folder {folder} is not writable")
    return path


def _status():
    """A transient spinner on stderr naming the step that runs (a terminal only)."""
    if not sys.stderr.isatty():
        return None
    status = Console(file=sys.stderr).status("loading the model")
    status.start()
    return status


def cmd_report(args) -> int:
    require_matplotlib()
    config = project_config(args)
    path = _output_path(args.output)
    for flag, value in (("--limit", args.limit), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise PadlintError(f"{flag} {value}: give a positive number")
    args.extend_select = None
    select, ignore = selection(args, config)
    sizes = None
    if args.size_range:
        sizes = parse_range(args.size_range)
    from padlint.page.gather import gather  # lazy: imports torch, which this module must not
    status = _status()
    try:
        with prints_to_stderr():          # the model file's prints: stdout is padlint's
            visual = gather(args.target, args.input_size, args.weights, args.data, args.limit,
                            args.device, args.baselines, args.batch_size, sizes, select, ignore,
                            config.severity, config, args.strict, args.train,
                            step=status.update if status else None,
                            blind_spots=not args.no_blindspots)
        if status is not None:
            status.update("drawing the page")
        text = render_html(visual)
    finally:
        if status is not None:
            status.stop()
    try:
        write_page(text, path)
    except OSError as err:
        raise PadlintError(f"--output {path}: cannot write it ({err.strerror or err})") from err
    r = visual.result
    findings = r.findings
    size = "x".join(map(str, r.input_shape[2:]))
    text = (f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB): {r.target} at {size}, "
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''}{severity_counts(findings)}")
    console(sys.stdout).print(text, markup=False, highlight=False)
    fail_on = "never" if args.exit_zero else (args.fail_on or config.fail_on)
    return Report([r]).exit_code(fail_on)
