"""``padlint sizes``: the size sweep of one model, in a child process."""
from __future__ import annotations

import json

from padlint.cli.common import console, project_config, report_errors
from padlint.cli.isolate import run_isolated, warm_up
from padlint.engine.select import select_rules
from padlint.ir.shapes import parse_input_sizes, parse_range
from padlint.output.text import print_sweep
from padlint.sizes.result import DEFAULT_RULES


def add_sizes_parser(sub, codes) -> None:
    sizes = sub.add_parser("sizes", help="sweep input sizes: which are clean at every layer",
                           description="Sweep the input size of one model, each spatial axis on its "
                           "own, and report the clean sizes (no finding of the chosen rules on that "
                           "axis at any layer), the nearest clean sizes, the first layer that breaks "
                           "each other size, and the sizes at which the model cannot run.")
    sizes.add_argument("target", metavar="TARGET",
                       help="one model: a .py file that defines one, path.py:Name or module:attr")
    sizes.add_argument("--range", "-r", dest="size_range", default=None, metavar="A:B[:S]",
                       help="sizes A to B inclusive, step S (default: half to twice the input size)")
    sizes.add_argument("--input-size", "-s", default=None, metavar="SIZE",
                       help="the reference input (holds the other axes) and the sizes to find the "
                            "nearest clean sizes for; a comma list (default: declared, else 224)")
    sizes.add_argument("--axis", default=None, metavar="AXIS", help="sweep only this axis (H, W, D or L)")
    sizes.add_argument("--rules", type=codes, default=None, metavar="CODES",
                       help="rule codes or prefixes whose findings make a size unclean "
                            "(default: PAD101,PAD102)")
    sizes.add_argument("--format", choices=("text", "json"), default="text")
    sizes.add_argument("--method", choices=("auto", "fast", "exact"), default="auto",
                       help="fast: one numpy pass over the recorded lengths; exact: one traced run "
                            "per size; auto (default): fast wherever it is proven right")
    sizes.add_argument("--per-size", action="store_true",
                       help="one line per unclean size instead of grouping them by layer")
    sizes.add_argument("--yes", "-y", action="store_true",
                       help="run an exact-path sweep even when it would take over a minute")
    sizes.add_argument("--train", action="store_true", help="analyse the training-mode forward")
    sizes.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                       help="time limit for loading, tracing and sweeping (default 60; none with --yes)")
    sizes.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def cmd_sizes(args) -> int:
    from padlint.sizes.sweep import sweep_target  # lazy: imports torch, which this module must not

    config = project_config(args)
    asked = parse_input_sizes(args.input_size) if args.input_size else config.input_size
    sizes = parse_range(args.size_range) if args.size_range else None
    codes = args.rules or list(DEFAULT_RULES)
    select_rules(codes)                              # bad codes: exit 2 before any work
    timeout = 10 ** 7 if args.yes else args.timeout
    if timeout > 0:
        warm_up()
    outcome = run_isolated(sweep_target, (args.target, asked, sizes, args.axis, codes, args.method,
                                          None if args.yes else 60.0, args.train), timeout)
    report_errors(outcome.errors, args.debug)
    if outcome.errors:
        return 2
    result, asked_sizes = outcome.results           # sizes.sweep.sweep_target: [SweepResult, sizes]
    if args.format == "json":
        print(json.dumps(result.to_json(asked_sizes), indent=2))
    else:
        print_sweep(result, asked_sizes, console(), args.per_size)
    return 0
