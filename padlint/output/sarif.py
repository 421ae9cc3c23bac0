"""``--format sarif``: SARIF 2.1.0, as GitHub code scanning and other viewers read it.

One run; one ``reportingDescriptor`` per selected rule, with the YAML docs as its
descriptions and help; one result per finding, located at the construction line
relative to the project root (``%SRCROOT%``), with a fingerprint that does not
depend on line numbers, so that moving code does not make findings look new.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import urllib.parse

from padlint import __version__
from padlint.config import relative_to
from padlint.engine.registry import all_rules
from padlint.ir.report import Finding, Report
from padlint.ir.source import Source

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
UNUSED_NOQA = "unused-noqa"


def _text(value) -> str:
    return " ".join(str(value or "").split())


def rule_descriptor(rule) -> dict:
    docs = rule.docs
    help_parts = [("Why is this bad?", docs.get("why")), ("Example", docs.get("example")),
                  ("Use instead", docs.get("use_instead"))]
    help_text = "\n\n".join(f"{title}\n{_text(body)}" for title, body in help_parts if body)
    help_md = "\n\n".join(f"**{title}** {_text(body)}" for title, body in help_parts if body)
    refs = docs.get("references") or []
    if refs:
        help_md += "\n\n**References** " + "; ".join(map(str, refs))
    return {"id": rule.code, "name": rule.name,
            "shortDescription": {"text": rule.title or rule.name},
            "fullDescription": {"text": _text(docs.get("what")) or rule.title or rule.name},
            "help": {"text": help_text or rule.title, "markdown": help_md or rule.title},
            "defaultConfiguration": {"level": LEVELS[rule.severity]},
            "properties": {"tags": ["padlint", rule.name]}}


class _Locator:
    """Repo-relative URIs under ``%SRCROOT%``; absolute file URIs outside the root."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def relative(self, path: str) -> str | None:
        return relative_to(self.root, path)

    def artifact(self, path: str) -> dict:
        rel = self.relative(path)
        if rel is not None:
            return {"uri": urllib.parse.quote(rel, safe="/"), "uriBaseId": "%SRCROOT%"}
        return {"uri": pathlib.Path(os.path.abspath(path)).as_uri()}

    def location(self, source: Source) -> dict:
        region = {"startLine": source.line, "startColumn": source.col,
                  "endLine": max(source.end_line or source.line, source.line)}
        if source.end_col is not None:
            region["endColumn"] = source.end_col
        return {"physicalLocation": {"artifactLocation": self.artifact(source.path),
                                     "region": region}}

    def stable_target(self, target: str) -> str:
        """'examples/vgg.py:TinyVGG' relative to the root, whatever the working directory."""
        path, sep, attr = target.rpartition(":")
        if sep and path.endswith(".py"):
            return f"{self.relative(path) or os.path.abspath(path)}:{attr}"
        return target


def _fingerprint(*parts) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def _result(finding: Finding, result, index: dict, where: _Locator) -> dict:
    shape = "x".join(map(str, result.input_shape))
    text = f"{finding.layer or '<model>'}"
    if finding.op:
        text += f" ({finding.op})"
    out = {"ruleId": finding.rule, "ruleIndex": index[finding.rule],
           "level": LEVELS[finding.severity],
           "message": {"text": f"{text} {finding.message}. Fix: {finding.fix}"}}
    path = finding.source.path if finding.source else None
    if finding.source is not None:
        out["locations"] = [where.location(finding.source)]
        out["locations"][0]["logicalLocations"] = [
            {"name": finding.layer or "<model>",
             "fullyQualifiedName": f"{where.stable_target(result.target)}/{finding.layer}"}]
    out["partialFingerprints"] = {"padlintFinding/v1": _fingerprint(
        finding.rule, where.relative(path) if path else "", where.stable_target(result.target),
        finding.layer, finding.axis, shape)}
    out["properties"] = {"target": result.target, "inputShape": list(result.input_shape),
                         "layer": finding.layer, "axis": finding.axis, "op": finding.op,
                         "severity": finding.severity, "data": finding.data}
    return out


def to_sarif(report: Report, rules, root: str, show_suppressed: bool = False) -> dict:
    """The SARIF log of ``report``; ``rules`` are the selected :class:`padlint.rules.Rule`s."""
    where = _Locator(root)
    descriptors = [rule_descriptor(r) for r in rules]
    fired = {f.rule for f in report.findings} | {s.finding.rule for s in report.suppressed}
    known = {d["id"] for d in descriptors}
    descriptors += [rule_descriptor(all_rules()[c]) for c in sorted(fired - known)]
    if report.unused_noqa:
        descriptors.append({"id": UNUSED_NOQA, "name": UNUSED_NOQA,
                            "shortDescription": {"text": "a noqa comment that suppresses nothing"},
                            "fullDescription": {"text": "A # noqa comment names padlint codes "
                                                "that no finding on its line has."},
                            "help": {"text": "Remove the codes, or the comment."},
                            "defaultConfiguration": {"level": "warning"}})
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = []
    for result in report.results:
        results += [_result(f, result, index, where) for f in result.findings]
        if show_suppressed:
            for s in result.suppressed:
                entry = _result(s.finding, result, index, where)
                entry["suppressions"] = [{"kind": "inSource" if s.by == "noqa" else "external",
                                          "justification": s.label}]
                results.append(entry)
    for unused in report.unused_noqa:
        results.append({"ruleId": UNUSED_NOQA, "ruleIndex": index[UNUSED_NOQA], "level": "warning",
                        "message": {"text": unused.message},
                        "locations": [where.location(unused.source)],
                        "partialFingerprints": {"padlintFinding/v1": _fingerprint(
                            UNUSED_NOQA, where.relative(unused.source.path), unused.codes)}})
    invocation: dict[str, object] = {"executionSuccessful": not report.errors}
    if report.errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": e["message"]}} for e in report.errors]
    return {
        "$schema": SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "padlint", "version": __version__,
                                "semanticVersion": __version__, "rules": descriptors}},
            "originalUriBaseIds": {"%SRCROOT%": {
                "uri": pathlib.Path(where.root).as_uri() + "/"}},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
