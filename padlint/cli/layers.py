"""``padlint layers``: the per-layer geometry table of the models of one target."""
from __future__ import annotations

import json
import sys

from padlint.cli.common import console, project_config, report_errors, selection
from padlint.cli.isolate import run_isolated, warm_up
from padlint.engine.noqa import Suppressor
from padlint.engine.select import select_rules
from padlint.ir.shapes import parse_input_sizes


def add_layers_parser(sub, codes) -> None:
    layers = sub.add_parser(
        "layers", help="the per-layer geometry table: sizes, padding used, receptive fields",
        description="One row per windowed op (conv, transposed conv, pool) in execution order: "
        "per axis in -> out, k/s/p/d, the padding used at each end, the receptive field (input "
        "pixels an interior cell sees, unions over merged branches), the effective stride S and "
        "the centre offset O (cell j is centred at input S*j + O), and the codes of the "
        "findings on that layer. A footer gives the totals and the nearest clean sizes.")
    layers.add_argument("target", metavar="TARGET",
                        help="a .py file, path.py:Name or module:attr")
    layers.add_argument("--input-size", "-s", default=None, metavar="SIZE",
                        help="224, 224x320, 3x224x224, or a comma list (default: declared, else 224)")
    layers.add_argument("--all", dest="every", action="store_true",
                        help="also a row per merge of maps (add, concatenation), aligned or not "
                             "(without it only the misaligned ones, PAD107)")
    layers.add_argument("--format", choices=("text", "json"), default="text")
    layers.add_argument("--select", type=codes, default=None, metavar="CODES",
                        help="the rules whose findings are shown as badges (default: all)")
    layers.add_argument("--ignore", type=codes, default=None, metavar="CODES")
    layers.set_defaults(extend_select=None)
    layers.add_argument("--config", default=None, metavar="PYPROJECT",
                        help="read [tool.padlint] from this file instead of searching upwards")
    layers.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    layers.add_argument("--train", action="store_true", help="analyse the training-mode forward")
    layers.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                        help="time limit for loading, building and tracing (default 60; 0 runs "
                             "in this process)")
    layers.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def cmd_layers(args) -> int:
    from padlint.api import lint_target  # lazy: imports torch, which this module must not
    from padlint.output.layers import print_layers, to_json

    config = project_config(args)
    sizes = parse_input_sizes(args.input_size) if args.input_size else config.input_size
    select, ignore = selection(args, config)
    select_rules(select, ignore, config.severity)           # bad codes: exit 2 before any work
    if args.timeout > 0:
        warm_up()
    outcome = run_isolated(lint_target, (args.target, sizes, select, ignore, args.train, False,
                                         config.severity, None), args.timeout)
    for line in outcome.skipped:
        print(f"padlint: {line}", file=sys.stderr)
    report_errors(outcome.errors, args.debug)
    if outcome.errors:
        return 2                                        # no partial output
    from padlint.ir.report import Report
    report = Report(results=outcome.results)
    Suppressor(config).apply(report)                    # a suppressed finding gets no badge
    if args.format == "json":
        print(json.dumps({"schema_version": 1, "results": [to_json(r, args.every) for r in report.results]},
                         indent=2))
    else:
        print_layers(report.results, console(), args.every)
    return 0
