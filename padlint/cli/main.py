"""The ``padlint`` command: check, sizes, stats, report, rule, rules. ``padlint model.py`` means ``padlint check model.py``."""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from rich.console import Console
from rich.table import Table
from rich.text import Text

from padlint import __version__
from padlint.config import FAIL_ON
from padlint.errors import PadlintError
from padlint.cli.fix import add_fix_parser, cmd_fix
from padlint.output.formats import FORMATS
from padlint.cli.report import add_report_parser, cmd_report
from padlint.cli.stats import add_stats_parser, cmd_stats

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
    verify.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default=None,
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


def _console(stream=None) -> Console:
    """The console on ``stream`` (stdout): on a terminal its width and colours; elsewhere
    (a pipe, a CI log) plain text, as wide as COLUMNS says when it is set (rich reads it),
    else 120."""
    stream = stream or sys.stdout
    tty = stream.isatty()
    columns = os.environ.get("COLUMNS", "")
    return Console(file=stream, highlight=False, soft_wrap=True, emoji=False,
                   width=None if tty or (columns.isdigit() and int(columns) > 0) else 120,
                   force_terminal=tty or None, no_color=not tty)


def _error(message: str) -> None:
    print(f"padlint: error: {message}", file=sys.stderr)


def _load_config(args):
    from padlint.config import Config, load_config
    if getattr(args, "isolated", False):
        return Config(root=os.getcwd())
    return load_config(path=getattr(args, "config", None))


def _units(targets: list[str], config, args) -> tuple[list[tuple[str, bool, str | None]], list[dict]]:
    """(target, is a file of a folder, the folder), each to run in a process of its own, and
    the folders left with no file to lint. In folders, and with ``--skip-no-model``, files
    that surely define no model (read off their syntax tree) are passed over here, before
    torch is imported; ``exclude`` applies in folders (and with ``--force-exclude``)."""
    from padlint.load.discover import may_define_model, no_model_in_folder, python_files
    units, errors = [], []
    for target in targets:
        if os.path.isdir(target):
            files = [p for p in python_files(target) if not config.excluded(p)]
            files = [p for p in files if may_define_model(p)]
            units += [(path, True, target) for path in files]
            if not files:
                errors.append({"target": target, "message": no_model_in_folder(target)})
        elif os.path.isfile(target) and target.endswith(".py"):
            if args.force_exclude and config.excluded(target):
                continue
            if not args.skip_no_model or may_define_model(target):
                units.append((target, False, None))     # importing it says what is wrong
        else:
            units.append((target, False, None))
    return units, errors


def _targets(args, config) -> list[str]:
    if args.targets:
        return args.targets
    if not config.targets:
        where = f" in {config.path}" if config.path else ""
        raise PadlintError("no target given: name a .py file, a folder or a module:attr spec, or "
                           f"list them in `targets` of [tool.padlint]{where}")
    resolved = []
    for target in config.targets:      # paths in the file are relative to the project root
        file, sep, attr = target.rpartition(":") if target.count(":") == 1 else ("", "", target)
        path = file if sep and file.endswith(".py") else target
        rooted = os.path.join(config.root, path)
        if not os.path.isabs(path) and os.path.exists(rooted):
            path = os.path.relpath(rooted)
            target = f"{path}:{attr}" if sep and file.endswith(".py") else path
        resolved.append(target)
    return resolved


def _selection(args, config) -> tuple[list[str] | None, list[str]]:
    """CLI --select replaces the file's select (and extend-select); --ignore its ignore."""
    extend = args.extend_select or []
    if args.select is not None:
        select = args.select + extend
    elif config.select is not None:
        select = config.rule_select + extend
    else:
        select = None
    ignore = args.ignore if args.ignore is not None else config.ignore
    return select, ignore


def _verify_options(args, config):
    """The verification settings: flags over `verify` in [tool.padlint]; None when off.
    Bad devices and unreadable images fail here, before any work."""
    table = config.verify
    asked = args.device is not None or args.baselines is not None or args.images is not None
    enabled = args.verify if args.verify is not None else (asked or table.get("enabled", False))
    if not enabled:
        return None
    from padlint.api import verify_options
    images = args.images
    if images is None and table.get("images"):
        images = os.path.join(config.root, table["images"])
    from dataclasses import replace
    device = args.device or table.get("device", "auto")
    where = "--device" if args.device or not config.path else f"{config.path}: [tool.padlint] verify device"
    options = verify_options(device, args.baselines if args.baselines is not None else table.get("baselines"),
                             images, args.batch_size, where)
    return replace(options, steady_memory=args.timeout != 0)    # only in a child process


def _open_output(path: str | None):
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise PadlintError(f"--output-file {path}: folder {folder} does not exist")
    return path


def cmd_check(args) -> int:
    from padlint.engine.select import codes_of_scope, select_rules
    from padlint.ir.shapes import parse_input_sizes

    config = _load_config(args)
    targets = _targets(args, config)
    sizes = parse_input_sizes(args.input_size) if args.input_size else config.input_size
    select, ignore = _selection(args, config)
    rules = select_rules(select, ignore, config.severity)     # bad codes: exit 2 before any work
    fail_on = "never" if args.exit_zero else (args.fail_on or config.fail_on)
    if args.statistics and args.format not in ("text", "concise"):
        raise PadlintError(f"--statistics counts findings in the text and concise formats, not "
                           f"in {args.format}: drop one of them")
    output = _open_output(args.output_file)
    units, folder_errors = _units(targets, config, args)
    if args.batch_size < 1:
        raise PadlintError(f"--batch-size {args.batch_size}: give a positive number of samples")
    args.verify_options = _verify_options(args, config) if units else None
    if args.timeout is None:
        args.timeout = 600 if args.verify_options else 60

    from padlint.ir.report import Report
    report = Report(errors=folder_errors)
    if units:
        report = _lint_units(units, report, sizes, select, ignore, config, args)
    from padlint.engine.noqa import Suppressor
    suppressor = Suppressor(config)
    suppressor.apply(report)
    if args.warn_unused_noqa:
        files = [t for t, _, _ in units if t.endswith(".py") and os.path.isfile(t)]
        # the stats rules, and the verify rules when nothing is verified, cannot fire here
        idle = codes_of_scope("stats") + (() if args.verify_options else codes_of_scope("verify"))
        report.unused_noqa = suppressor.unused(report, [r.code for r in rules], files, idle)
    for err in report.errors:
        if args.debug:
            if err.get("traceback"):
                print(err["traceback"], file=sys.stderr, end="")
            elif err.get("exception") is not None:
                traceback.print_exception(err["exception"])
        _error(err["message"])
    if args.format in ("json", "sarif") or report.results or not report.errors:
        _write(report, args, rules, config, output)
    return report.exit_code(fail_on)


def _lint_units(units, report, sizes, select, ignore, config, args):
    from padlint.api import lint_target
    from padlint.cli.isolate import run_isolated, warm_up
    from padlint.load.discover import no_model_in_folder
    models_in_folder: dict[str, int] = {}
    if args.timeout > 0:
        warm_up()
    for target, folder_file, folder in units:
        outcome = run_isolated(lint_target, (target, sizes, select, ignore, args.train,
                                             folder_file, config.severity, args.verify_options),
                               args.timeout)
        for line in [] if args.quiet else outcome.skipped:
            print(f"padlint: {line}", file=sys.stderr)
        report.results += outcome.results
        report.errors += outcome.errors
        if folder is not None:
            models_in_folder[folder] = models_in_folder.get(folder, 0) + outcome.models + len(outcome.errors)
    for folder, count in models_in_folder.items():
        if count == 0:
            report.errors.append({"target": folder, "message": no_model_in_folder(folder)})
    return report


def _write(report, args, rules, config, output: str | None) -> None:
    from padlint.output.formats import write_report
    kwargs = dict(rules=rules, root=config.root, show_suppressed=args.show_suppressed,
                  quiet=args.quiet, statistics=args.statistics, verbose=args.verbose)
    if output is None:
        write_report(report, args.format, _console(), **kwargs)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            write_report(report, args.format, Console(file=fh, highlight=False, soft_wrap=True,
                                                      emoji=False, width=120, no_color=True), **kwargs)
    except OSError as err:
        raise PadlintError(f"--output-file {output}: cannot write it ({err.strerror})") from None


def cmd_sizes(args) -> int:
    from padlint.cli.isolate import run_isolated, warm_up
    from padlint.output.text import print_sweep
    from padlint.engine.select import select_rules
    from padlint.ir.shapes import parse_input_sizes, parse_range
    from padlint.sizes.sweep import DEFAULT_RULES, sweep_target

    config = _load_config(args)
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
        _error(err["message"])
    if outcome.errors:
        return 2
    result, asked_sizes = outcome.results
    if args.format == "json":
        import json
        print(json.dumps(result.to_json(asked_sizes), indent=2))
    else:
        print_sweep(result, asked_sizes, _console(), args.per_size)
    return 0


def cmd_rule(args) -> int:
    from padlint.engine.registry import all_rules
    rule = all_rules().get(args.code.upper())
    if rule is None:
        raise PadlintError(f"unknown rule {args.code!r}; `padlint rules` lists them")
    console = _console()
    console.print(Text(f"{rule.code} {rule.name} ({rule.severity}): {rule.title}", style="bold"))
    sections = [("What it does", rule.docs.get("what")), ("Why is this bad?", rule.docs.get("why")),
                ("Example", rule.docs.get("example")), ("Use instead", rule.docs.get("use_instead"))]
    for title, body in sections:
        if body:
            console.print()
            console.print(Text(title, style="bold underline"))
            console.print(" ".join(str(body).split()), markup=False)   # "[x, y]" is code, not markup
    refs = rule.docs.get("references") or []
    if refs:
        console.print()
        console.print(Text("References", style="bold underline"))
        for ref in refs:
            console.print(f"- {ref}", markup=False)
    console.print()
    console.print(Text("Message", style="bold underline"))
    console.print(rule.summary, markup=False)
    return 0


def cmd_rules(args) -> int:
    import json

    from padlint.engine.registry import all_rules
    rules = list(all_rules().values())
    if args.format == "json":
        print(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity,
                           "title": r.title} for r in rules],
                         indent=2))
        return 0
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for col in ("code", "name", "severity", "what it finds"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.code, r.name, r.severity, r.title)
    _console().print(table)
    return 0


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
        _error(str(err))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:              # `padlint … | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
