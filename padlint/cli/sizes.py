"""``padlint sizes``: the size sweep of one model, in a child process."""
from __future__ import annotations

import json
import sys
import traceback

from padlint.cli.common import console, error, project_config
from padlint.cli.isolate import run_isolated, warm_up
from padlint.engine.select import select_rules
from padlint.ir.shapes import parse_input_sizes, parse_range
from padlint.output.text import print_sweep
from padlint.sizes.result import DEFAULT_RULES


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
    for err in outcome.errors:
        if args.debug and err.get("traceback"):
            print(err["traceback"], file=sys.stderr, end="")
        elif args.debug and err.get("exception") is not None:
            traceback.print_exception(err["exception"])
        error(err["message"])
    if outcome.errors:
        return 2
    result, asked_sizes = outcome.results           # sizes.sweep.sweep_target: [SweepResult, sizes]
    if args.format == "json":
        print(json.dumps(result.to_json(asked_sizes), indent=2))
    else:
        print_sweep(result, asked_sizes, console(), args.per_size)
    return 0
