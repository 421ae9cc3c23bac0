"""One rule: its metadata from the YAML, its check from the .py beside it, and the
rendering of its message and fix templates from a finding's fields."""
from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field

# What a rule reads, and so how it is run (see padlint.engine's docstring for the signatures).
SCOPES = ("axis", "model", "verify", "stats", "blindspots")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    title: str
    severity: str
    summary: str
    fix: dict
    docs: dict
    examples: dict
    scope: str
    check: Callable = field(compare=False)
    path: str = ""
    vector: Callable | None = field(default=None, compare=False)
    params: dict = field(default_factory=dict, compare=False)
    reads: tuple[str, ...] = ()                   # the trace facts a model rule reads

    def render(self, fields: dict) -> tuple[str, str]:
        """The message and fix, with ``fields`` filled into the YAML's templates (a field
        that is not given stays as ``{name}``); ``fields["fix_variant"]`` picks the fix."""
        fix = self.fix.get(fields.get("fix_variant", "default"), self.fix["default"])
        return _format(self.summary, fields), _format(fix, fields)


class _Fields(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def _format(template: str, fields: dict) -> str:
    return string.Formatter().vformat(template, (), _Fields(fields))
