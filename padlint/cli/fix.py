"""``padlint fix``: its options and what it prints (the rewrites are in :mod:`padlint.fix`)."""
from __future__ import annotations

import sys

from padlint.cli.common import project_config
from padlint.cli.isolate import prints_to_stderr
from padlint.errors import PadlintError


def add_fix_parser(sub, codes) -> None:
    fix = sub.add_parser(
        "fix", help="rewrite the construction calls of fixable layers (prints a diff)",
        description="Analyse one model and rewrite the literal construction calls of the layers "
        "it can fix: a stride-2 transposed conv to kernel 4, padding 1 (PAD104, PAD101); a 1x1 "
        "stride-2 shortcut to an average pool and a 1x1 conv (PAD102, PAD103); an odd stride-2 "
        "kernel on an even input to kernel k+1 (PAD101, --size-policy input only); align_corners=True "
        "to False in a literal F.interpolate or nn.Upsample call when that lines up a merge's cells "
        "(PAD107). Each rewrite "
        "is checked on the real model (same output shape, the findings gone) before it is shown. "
        "Prints a unified diff (for patch -p1 or git apply) and exits 1 when there is one; "
        "--apply writes the files instead.")
    fix.add_argument("target", metavar="TARGET",
                     help="one model: a .py file that defines one, path.py:Name or module:attr")
    fix.add_argument("--input-size", "-s", default=None, metavar="SIZE",
                     help="the input size to analyse (default: declared, else 224)")
    fix.add_argument("--size-policy", default="input", metavar="{input,any}",
                     help="input (default): rewrites that are even at the analysed size; any: only "
                          "rewrites that are even at every input size")
    fix.add_argument("--apply", action="store_true",
                     help="write the edited files instead of printing the diff")
    fix.add_argument("--select", type=codes, default=None, metavar="CODES",
                     help="rule codes or prefixes to fix (default: PAD101,PAD102,PAD103,PAD104,PAD107)")
    fix.add_argument("--config", default=None, metavar="PYPROJECT")
    fix.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    fix.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def cmd_fix(args) -> int:
    from padlint.fix.plan import POLICIES, apply, edit_line, plan  # lazy: imports torch, which this module must not
    if args.size_policy not in POLICIES:
        raise PadlintError(f"--size-policy {args.size_policy}: use input or any")
    config = project_config(args)
    with prints_to_stderr():              # the model file's prints: stdout is the diff's
        result = plan(args.target, args.input_size, args.size_policy, args.select, config.ignore,
                      config.severity, config)
    for e in result.edits:
        print(f"padlint: {edit_line(e)}", file=sys.stderr)
    for n in result.not_fixed:
        print(f"padlint: {n.line()}", file=sys.stderr)
    if not result.edits:
        print("padlint: nothing to fix" if not result.not_fixed else
              f"padlint: nothing fixed, {len(result.not_fixed)} not fixed", file=sys.stderr)
        return 0
    if args.apply:
        for line in apply(result):
            print(line)
        return 0
    sys.stdout.write(result.diff())
    return 1
