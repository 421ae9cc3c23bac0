"""The rule engine: rule metadata from YAML, logic from checks, packs from entry points.

A rule pack is a :class:`RulePack` registered in the ``padlint.rules`` entry-point
group; the core rules are the pack ``padlint.checks:CORE``, loaded the same way.
A pack's YAML files sit in its ``rules_dir`` (the core's: the repo's ``rules/``).
"""
from __future__ import annotations

import padlint

import importlib.metadata
import importlib.resources
import inspect
import string
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import yaml

from padlint.errors import PadlintError
from padlint.ir.trace import Layer, Trace
from padlint.ir.report import Finding
from padlint.ir.severity import SEVERITIES

_SIDES = {"H": ("top", "bottom", "row"), "W": ("left", "right", "column"),
          "D": ("front", "back", "slice"), "L": ("start", "end", "cell")}


def cell_word(axis: str, count: int) -> str:
    word = _SIDES.get(axis, ("", "", "cell"))[2]
    return word if count == 1 else word + "s"


@dataclass
class RulePack:
    """A set of checks; their YAML lives in ``rules_dir`` (default: the core's)."""

    name: str
    rules_dir: object = None
    checks: dict[str, tuple[str, Callable]] = field(default_factory=dict)
    vectors: dict[str, Callable] = field(default_factory=dict)


def axis_check(pack: RulePack, code: str, vector: Callable | None = None):
    """Register an axis check. ``vector``, when given, is the same test on the array facts
    of :meth:`padlint.lengths.Evaluation.stacked_facts` (one row per layer, one column per
    input size; per-layer constants are single columns): it lets a size sweep apply the
    rule to every layer and size at once. It must fire exactly where the check returns
    fields, using elementwise operators (``&``, ``|``, ``~``) only."""
    def register(fn):
        pack.checks[code] = ("axis", fn)
        if vector is not None:
            pack.vectors[code] = vector
        return fn
    return register


def model_check(pack: RulePack, code: str):
    """Register a check of a whole trace: ``fn(trace)`` or ``fn(trace, params)`` (``params``
    from the YAML) yields ``(layer, axis, source, fields)``; ``fields["describe"]``, when
    given, is the finding's op text."""
    def register(fn):
        takes_params = len(inspect.signature(fn).parameters) > 1
        pack.checks[code] = ("model", fn if takes_params else lambda trace, params: fn(trace))
        return fn
    return register


def verify_check(pack: RulePack, code: str):
    """Register a check of the verify stage's facts: ``fn(verification, trace, params)``
    yields ``(layer, axis, source, op, fields)``; ``params`` come from the YAML."""
    return _fact_check(pack, code, "verify")


def stats_check(pack: RulePack, code: str):
    """Register a check of ``padlint stats`` facts: ``fn(stats, trace, params)`` yields
    ``(layer, axis, source, op, fields)``; ``params`` come from the YAML."""
    return _fact_check(pack, code, "stats")


def _fact_check(pack: RulePack, code: str, scope: str):
    def register(fn):
        pack.checks[code] = (scope, fn)
        return fn
    return register


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

    def render(self, fields: dict) -> tuple[str, str]:
        fix = self.fix.get(fields.get("fix_variant", "default"), self.fix["default"])
        return _format(self.summary, fields), _format(fix, fields)


class _Fields(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def _format(template: str, fields: dict) -> str:
    return string.Formatter().vformat(template, (), _Fields(fields))


def core_rules_dir():
    source_tree = Path(padlint.__file__).resolve().parent.parent / "rules"
    if source_tree.is_dir():
        return source_tree
    return importlib.resources.files("padlint._rules")


def _packs() -> list[RulePack]:
    packs = []
    for ep in importlib.metadata.entry_points(group="padlint.rules"):
        try:
            packs.append(ep.load())
        except Exception as err:
            raise PadlintError(f"rule pack {ep.name!r} ({ep.value}) failed to load: {err}") from err
    from padlint.engine.checks import CORE
    if not any(p is CORE for p in packs):      # running from a source tree without install
        packs.insert(0, CORE)
    return packs


def _load_pack(pack: RulePack) -> list[Rule]:
    folder = pack.rules_dir or core_rules_dir()
    rules = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        code = data["code"]
        if code not in pack.checks:
            raise PadlintError(f"{entry.name}: rule {code} has no check in pack {pack.name!r}")
        scope, fn = pack.checks[code]
        fix = data.get("fix", "")
        rules.append(Rule(code, data["name"], data.get("title", ""), data["severity"], data["summary"],
                          fix if isinstance(fix, dict) else {"default": fix},
                          data.get("docs", {}), data.get("examples", {}), scope, fn, str(entry),
                          pack.vectors.get(code), dict(data.get("params", {}))))
    return rules


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    rules = {}
    for pack in _packs():
        for rule in _load_pack(pack):
            rules.setdefault(rule.code, rule)
    return dict(sorted(rules.items()))


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
    chosen = [r for r in rules.values()
              if (not select or _matches(r.code, select))
              and not _matches(r.code, ignore or [])]
    return chosen


def _base_fields(layer: Layer, f) -> dict:
    begin, end, _ = _SIDES.get(f.axis, ("start", "end", "cell"))
    return {"layer": layer.name, "op": layer.op, "axis": f.axis, "n": f.n, "out": f.out,
            "k": f.kernel, "s": f.stride, "d": f.dilation, "k_e": f.k_e, "p_b": f.pad_begin,
            "p_e": f.pad_end, "used_pad_end": f.used_pad_end, "unused_pad_end": f.unused_pad_end,
            "ignored_input_end": f.ignored_input_end, "ignored_input": f.ignored_input,
            "explicit_begin": f.explicit_begin, "explicit_end": f.explicit_end,
            "begin": begin, "end": end, "rows": cell_word(f.axis, f.ignored_input_end or 2),
            "nd": len(layer.axes), "because": ""}


def run_rules(trace: Trace, rules: Iterable[Rule], suggested=None) -> list[Finding]:
    """Apply ``rules`` to one trace. Findings come in layer order, then rule, then axis.

    ``suggested`` (a :class:`padlint.sweep.Suggestion`) gives the model-level nearest
    clean input sizes; a rule's ``model`` fix variant, when it has one, then replaces
    its layer-local ``default`` fix, and where no size near is clean, its ``none`` (or
    ``<variant>_none``) variant says why."""
    axis_rules = [r for r in rules if r.scope == "axis"]
    findings = []
    for rule in rules:
        if rule.scope != "model":
            continue
        for layer, axis, source, fields in rule.check(trace, rule.params):
            message, fix = rule.render(fields)
            findings.append(Finding(rule.code, rule.name, rule.severity, layer, axis, message, fix,
                                    source, fields.get("describe", ""), _numbers(fields)))
    for layer in trace.layers:
        for rule in axis_rules:
            for f in layer.axes:
                extra = rule.check(layer, f)
                if extra is None:
                    continue
                fields = _base_fields(layer, f) | extra
                if suggested is not None:
                    fields.update(suggested.fix_fields(f.axis, fields.get("fix_variant", "default"),
                                                       rule.fix))
                message, fix = rule.render(fields)
                findings.append(Finding(rule.code, rule.name, rule.severity, layer.name, f.axis,
                                        message, fix, layer.source, layer.describe(f.axis),
                                        _numbers(fields)))
    return findings


def run_fact_rules(scope: str, facts, trace: Trace, rules: Iterable[Rule]) -> list[Finding]:
    """Apply the rules of one fact scope ('verify', 'stats') to those facts."""
    findings = []
    for rule in rules:
        if rule.scope != scope:
            continue
        for layer, axis, source, op, fields in rule.check(facts, trace, rule.params):
            message, fix = rule.render(fields)
            findings.append(Finding(rule.code, rule.name, rule.severity, layer, axis, message, fix,
                                    source, op, _numbers(fields)))
    return findings


def run_verify_rules(verification, trace: Trace, rules: Iterable[Rule]) -> list[Finding]:
    """Apply the verify-scope rules to the facts of one verification."""
    return run_fact_rules("verify", verification, trace, rules)


def _numbers(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
