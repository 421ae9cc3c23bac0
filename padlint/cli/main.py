"""The ``padlint`` command: check, sizes, stats, report, rule, rules. ``padlint model.py`` means ``padlint check model.py``."""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from padlint import __version__
from padlint.cli.check import cmd_check
from padlint.cli.common import error
from padlint.cli.fix import add_fix_parser, cmd_fix
from padlint.cli.report import add_report_parser, cmd_report
from padlint.cli.rules import cmd_rule, cmd_rules
from padlint.cli.sizes import cmd_sizes
from padlint.cli.stats import add_stats_parser, cmd_stats
from padlint.config import FAIL_ON
from padlint.errors import PadlintError
from padlint.output.formats import FORMATS
from padlint.verification.choices import DEVICES

COMMANDS = ("check", "sizes", "stats", "report", "fix", "rule", "rules")


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="padlint", description="Lint CNN architectures for convolution-arithmetic biases.",
        epilog="`padlint TARGET` is short for `padlint check TARGET`.")
    parser.add_argument("--version", action="version", version=f"padlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser(
        "check", help="lint models in files, folders or module:attr specs",
        description="Lint the models in files, folders or module:attr specs. Settings come from "
        "[tool.padlint] in the closest pyproject.toml above the working directory; flags "
        "override them.")
    check.add_argument("targets", nargs="*", metavar="TARGET",
                       help="a .py file, a folder, or module:attr / path.py:attr "
                            "(default: `targets` of [tool.padlint])")
    check.add_argument("--input-size", "-s", default=None, metavar="SIZE",
                       help="224, 224x320, 3x224x224, 16x112x112, or a comma list (default 224)")
    check.add_argument("--format", choices=FORMATS, default="text",
                       help="text (default), concise (one line per finding), json, sarif "
                            "(SARIF 2.1.0), github (GitHub Actions annotations)")
    check.add_argument("--output-file", "-o", default=None, metavar="FILE",
                       help="write the report to FILE instead of stdout")
    check.add_argument("--select", type=_codes, default=None, metavar="CODES",
                       help="rule codes or prefixes to enable, replacing `select` (default: all)")
    check.add_argument("--extend-select", type=_codes, default=None, metavar="CODES",
                       help="rule codes or prefixes to enable on top of the selection")
    check.add_argument("--ignore", type=_codes, default=None, metavar="CODES",
                       help="rule codes or prefixes to disable, replacing `ignore`")
    check.add_argument("--fail-on", choices=FAIL_ON, default=None,
                       help="exit 1 when a finding is at least this severe (default: warning)")
    check.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even when there are findings (errors still exit 2)")
    check.add_argument("--show-suppressed", action="store_true",
                       help="also list the findings that # noqa or per-file-ignores silenced")
    check.add_argument("--statistics", action="store_true",
                       help="print the number of findings per rule instead of the findings "
                            "(text and concise formats)")
    check.add_argument("--quiet", "-q", action="store_true",
                       help="print the findings only: no model summaries, closing line or notes")
    check.add_argument("--verbose", "-v", action="store_true",
                       help="text format: add where a library (timm, smp, torchvision) defined "
                            "each layer that your line built")
    check.add_argument("--warn-unused-noqa", action="store_true",
                       help="report # noqa comments whose padlint codes suppress nothing "
                            "(they count as warnings)")
    check.add_argument("--config", default=None, metavar="PYPROJECT",
                       help="read [tool.padlint] from this file instead of searching upwards")
    check.add_argument("--isolated", action="store_true",
                       help="ignore every configuration file")
    check.add_argument("--skip-no-model", action="store_true",
                       help="pass over files that define no model instead of failing on them "
                            "(what the pre-commit hook uses)")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply `exclude` to files named on the command line too")
    check.add_argument("--train", action="store_true",
                       help="analyse the training-mode forward instead of eval mode")
    verify = check.add_argument_group(
        "verification", "run the real model to confirm each finding (the symmetric-kernel probe) "
        "and measure border artifacts on baseline inputs; --device, --baselines and --images "
        "turn it on")
    verify.add_argument("--verify", action=argparse.BooleanOptionalAction, default=None,
                        help="add the verification stage (default: `verify` of [tool.padlint])")
    verify.add_argument("--device", choices=DEVICES, default=None,
                        help="where the model runs: auto (default) is CUDA when available, else the CPU")
    verify.add_argument("--baselines", type=_codes, default=None, metavar="LIST",
                        help="baseline inputs: constant, random, zeros (default: constant,random)")
    verify.add_argument("--images", default=None, metavar="PATH",
                        help="your own inputs too: a .pt or .npy tensor (N, C, H, W), or a folder "
                             "of images (needs Pillow)")
    verify.add_argument("--batch-size", type=int, default=8, metavar="N",
                        help="batch size of the random baseline and of --images (default 8)")
    check.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                       help="time limit for loading, building, tracing (and verifying) each target, "
                            "which runs in a child process (default 60, 600 with --verify; 0 runs "
                            "in this process, no limit)")
    check.add_argument("--debug", action="store_true", help="show tracebacks of errors")

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
    sizes.add_argument("--rules", type=_codes, default=None, metavar="CODES",
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

    add_stats_parser(sub, _codes)
    add_report_parser(sub, _codes)
    add_fix_parser(sub, _codes)

    rule = sub.add_parser("rule", help="show the documentation of a rule")
    rule.add_argument("code")
    rules = sub.add_parser("rules", help="list all rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "check")
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return 2
    handler = {"check": cmd_check, "sizes": cmd_sizes, "stats": cmd_stats, "report": cmd_report,
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
