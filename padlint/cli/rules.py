"""``padlint rules`` and ``padlint rule CODE``: the rule listing and one rule's docs."""
from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text

from padlint.cli.common import console
from padlint.engine.registry import all_rules
from padlint.errors import PadlintError


def add_rules_parsers(sub) -> None:
    rule = sub.add_parser("rule", help="show the documentation of a rule")
    rule.add_argument("code")
    rules = sub.add_parser("rules", help="list all rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")


def cmd_rule(args) -> int:
    rule = all_rules().get(args.code.upper())
    if rule is None:
        raise PadlintError(f"unknown rule {args.code!r}; `padlint rules` lists them")
    out = console()
    out.print(Text(f"{rule.code} {rule.name} ({rule.severity}): {rule.title}", style="bold"))
    sections = [("What it does", rule.docs.get("what")), ("Why is this bad?", rule.docs.get("why")),
                ("Example", rule.docs.get("example")), ("Use instead", rule.docs.get("use_instead"))]
    for title, body in sections:
        if body:
            out.print()
            out.print(Text(title, style="bold underline"))
            out.print(" ".join(str(body).split()), markup=False)   # "[x, y]" is code, not markup
    refs = rule.docs.get("references") or []
    if refs:
        out.print()
        out.print(Text("References", style="bold underline"))
        for ref in refs:
            out.print(f"- {ref}", markup=False)
    out.print()
    out.print(Text("Message", style="bold underline"))
    out.print(rule.summary, markup=False)
    return 0


def cmd_rules(args) -> int:

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
    console().print(table)
    return 0
