"""``padlint check``: targets to units (each linted in a child process), the verify options,
and the report written in the asked format."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from rich.console import Console

from padlint.cli.common import console, project_config, report_errors, selection
from padlint.cli.isolate import run_isolated, warm_up
from padlint.config import FAIL_ON
from padlint.engine.noqa import Suppressor
from padlint.engine.select import codes_of_scope, select_rules
from padlint.errors import PadlintError
from padlint.ir.report import Report
from padlint.ir.shapes import parse_input_sizes
from padlint.load.discover import may_define_model, no_model_in_folder, python_files
from padlint.output.formats import FORMATS, write_report
from padlint.verification.choices import DEVICES


def _units(targets: list[str], config, args) -> tuple[list[tuple[str, bool, str | None]], list[dict]]:
    """(target, is a file of a folder, the folder), each to run in a process of its own, and
    the folders left with no file to lint. In folders, and with ``--skip-no-model``, files
    that surely define no model (read off their syntax tree) are passed over here, before
    torch is imported; ``exclude`` applies in folders (and with ``--force-exclude``)."""
    units: list[tuple[str, bool, str | None]] = []
    errors: list[dict] = []
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


def _verify_options(args, config):
    """The verification settings: flags over `verify` in [tool.padlint]; None when off.
    Bad devices and unreadable images fail here, before any work."""
    table = config.verify
    asked = args.device is not None or args.baselines is not None or args.images is not None
    enabled = args.verify if args.verify is not None else (asked or table.get("enabled", False))
    if not enabled:
        return None
    from padlint.verification.options import verify_options  # lazy: imports torch, which this module must not
    images = args.images
    if images is None and table.get("images"):
        images = os.path.join(config.root, table["images"])
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


def add_check_parser(sub, codes) -> None:
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
    check.add_argument("--select", type=codes, default=None, metavar="CODES",
                       help="rule codes or prefixes to enable, replacing `select` (default: all)")
    check.add_argument("--extend-select", type=codes, default=None, metavar="CODES",
                       help="rule codes or prefixes to enable on top of the selection")
    check.add_argument("--ignore", type=codes, default=None, metavar="CODES",
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
    verify.add_argument("--baselines", type=codes, default=None, metavar="LIST",
                        help="baseline inputs: constant, random, simplified, zeros "
                             "(default: constant,random)")
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


def cmd_check(args) -> int:

    config = project_config(args)
    targets = _targets(args, config)
    sizes = parse_input_sizes(args.input_size) if args.input_size else config.input_size
    select, ignore = selection(args, config)
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

    report = Report(errors=folder_errors)
    if units:
        report = _lint_units(units, report, sizes, select, ignore, config, args)
    suppressor = Suppressor(config)
    suppressor.apply(report)
    if args.warn_unused_noqa:
        files = [t for t, _, _ in units if t.endswith(".py") and os.path.isfile(t)]
        # the stats rules, and the verify rules when nothing is verified, cannot fire here
        idle = codes_of_scope("stats") + (() if args.verify_options else codes_of_scope("verify"))
        report.unused_noqa = suppressor.unused(report, [r.code for r in rules], files, idle)
    report_errors(report.errors, args.debug)
    if args.format in ("json", "sarif") or report.results or not report.errors:
        _write(report, args, rules, config, output)
    return report.exit_code(fail_on)


def _lint_units(units, report: Report, sizes, select, ignore, config, args) -> Report:
    from padlint.api import lint_target  # lazy: imports torch, which this module must not
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
    kwargs = dict(rules=rules, root=config.root, show_suppressed=args.show_suppressed,
                  quiet=args.quiet, statistics=args.statistics, verbose=args.verbose)
    if output is None:
        write_report(report, args.format, console(), **kwargs)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            write_report(report, args.format, Console(file=fh, highlight=False, soft_wrap=True,
                                                      emoji=False, width=120, no_color=True), **kwargs)
    except OSError as err:
        raise PadlintError(f"--output-file {output}: cannot write it ({err.strerror})") from None
