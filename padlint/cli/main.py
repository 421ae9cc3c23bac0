"""The ``padlint`` command: check, layers, sizes, stats, blindspots, report, rule, rules. ``padlint model.py`` means ``padlint check model.py``."""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from padlint import __version__
from padlint.cli.blindspots import add_blindspots_parser, cmd_blindspots
from padlint.cli.check import add_check_parser, cmd_check
from padlint.cli.common import error
from padlint.cli.fix import add_fix_parser, cmd_fix
from padlint.cli.layers import add_layers_parser, cmd_layers
from padlint.cli.report import add_report_parser, cmd_report
from padlint.cli.rules import add_rules_parsers, cmd_rule, cmd_rules
from padlint.cli.sizes import add_sizes_parser, cmd_sizes
from padlint.cli.stats import add_stats_parser, cmd_stats
from padlint.errors import PadlintError

COMMANDS = ("check", "layers", "sizes", "stats", "blindspots", "report", "fix", "rule", "rules")


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="padlint", description="Lint CNN architectures for convolution-arithmetic biases.",
        epilog="`padlint TARGET` is short for `padlint check TARGET`.")
    parser.add_argument("--version", action="version", version=f"padlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    add_check_parser(sub, _codes)
    add_layers_parser(sub, _codes)
    add_sizes_parser(sub, _codes)
    add_stats_parser(sub, _codes)
    add_blindspots_parser(sub, _codes)
    add_report_parser(sub, _codes)
    add_fix_parser(sub, _codes)

    add_rules_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "check")
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 2
    handler = {"check": cmd_check, "layers": cmd_layers, "sizes": cmd_sizes, "stats": cmd_stats, "blindspots": cmd_blindspots, "report": cmd_report,
               "fix": cmd_fix,
               "rule": cmd_rule,
               "rules": cmd_rules}[args.command]
    try:
        return handler(args)
    except PadlintError as err:
        if getattr(args, "debug", False):
            traceback.print_exc()
        error(str(err))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:              # `padlint … | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
