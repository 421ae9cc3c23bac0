"""Which rules run: codes and prefixes from select / ignore, and severity overrides."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from padlint.engine.registry import all_rules
from padlint.engine.rule import Rule
from padlint.errors import PadlintError
from padlint.ir.severity import SEVERITIES


def code_matches(code: str, pattern: str) -> bool:
    """Does a rule code or prefix (or ``ALL``), as in select/ignore/per-file-ignores, cover ``code``?"""
    pattern = pattern.strip().upper()
    return bool(pattern) and (pattern == "ALL" or code.startswith(pattern))


def _matches(code: str, patterns) -> bool:
    return any(code_matches(code, p) for p in patterns)


def select_rules(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                 severity: dict[str, str] | None = None) -> list[Rule]:
    """Rules whose code starts with a ``select`` prefix and with no ``ignore`` prefix;
    ``severity`` maps codes to the severity they report at instead of their own."""
    rules = all_rules()
    overrides = {code.strip().upper(): level for code, level in (severity or {}).items()}
    for code, level in overrides.items():
        if code not in rules or level not in SEVERITIES:
            raise PadlintError(f"invalid severity override {code} = {level!r}: the code must be a "
                               f"rule and the severity one of {', '.join(SEVERITIES)}")
    rules = {code: replace(rule, severity=overrides.get(code, rule.severity))
             for code, rule in rules.items()}
    for pattern in list(select or []) + list(ignore or []):
        p = pattern.strip().upper()
        if p and p != "ALL" and not any(code.startswith(p) for code in rules):
            raise PadlintError(f"unknown rule code or prefix {pattern!r}; `padlint rules` lists them")
    return [r for r in rules.values()
            if (not select or _matches(r.code, select)) and not _matches(r.code, ignore or [])]


def codes_of_scope(scope: str) -> tuple[str, ...]:
    """The codes of every rule of one scope ('verify', 'stats', ...)."""
    return tuple(r.code for r in all_rules().values() if r.scope == scope)


def codes_reading(fact: str) -> tuple[str, ...]:
    """The codes of every rule whose YAML says it reads the trace fact ``fact``
    ('notes', 'alignment', ...)."""
    return tuple(r.code for r in all_rules().values() if fact in r.reads)
