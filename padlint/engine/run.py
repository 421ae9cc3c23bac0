"""Running rules: axis and model rules on a trace, fact rules on the verify or stats facts."""
from __future__ import annotations

from collections.abc import Iterable

from padlint.engine.rule import Rule
from padlint.geometry.words import cell_word, sides
from padlint.ir.report import Finding
from padlint.ir.trace import Layer, Trace


def base_fields(layer: Layer, f) -> dict:
    """The fields every axis rule's templates may use, from one layer axis's facts."""
    begin, end = sides(f.axis)
    return {"layer": layer.name, "op": layer.op, "axis": f.axis, "n": f.n, "out": f.out,
            "k": f.kernel, "s": f.stride, "d": f.dilation, "k_e": f.k_e, "p_b": f.pad_begin,
            "p_e": f.pad_end, "used_pad_end": f.used_pad_end, "unused_pad_end": f.unused_pad_end,
            "ignored_input_end": f.ignored_input_end, "ignored_input": f.ignored_input,
            "explicit_begin": f.explicit_begin, "explicit_end": f.explicit_end,
            "begin": begin, "end": end, "rows": cell_word(f.axis, f.ignored_input_end or 2),
            "nd": len(layer.axes), "because": ""}


def run_rules(trace: Trace, rules: Iterable[Rule], suggested=None) -> list[Finding]:
    """Apply ``rules`` to one trace. Findings come in layer order, then rule, then axis.

    ``suggested`` (a :class:`padlint.sizes.suggest.Suggestion`) gives the model-level nearest
    clean input sizes; a rule's ``model`` fix variant, when it has one, then replaces
    its layer-local ``default`` fix, and where no size near is clean, its ``none`` (or
    ``<variant>_none``) variant says why."""
    rules = list(rules)
    findings = []
    for rule in rules:
        if rule.scope != "model":
            continue
        for layer, axis, source, fields in rule.check(trace, rule.params):
            message, fix = rule.render(fields)
            findings.append(Finding(rule.code, rule.name, rule.severity, layer, axis, message, fix,
                                    source, fields.get("describe", ""), _numbers(fields)))
    axis_rules = [r for r in rules if r.scope == "axis"]
    for layer in trace.layers:
        for rule in axis_rules:
            for f in layer.axes:
                extra = rule.check(layer, f)
                if extra is None:
                    continue
                fields = base_fields(layer, f) | extra
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
