"""Every valid/invalid example in the rules' YAML runs as a test (Fixit-style), and every
rule file is checked against tests/rule.schema.json."""
import importlib
import json
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

import padlint
from padlint.blindspots.stage import analyze as blindspots_analyze
from padlint.engine.registry import CORE, all_rules, load_pack
from paths import ROOT, TESTS

RULES = all_rules()


def _examples():
    for rule in RULES.values():
        for kind in ("invalid", "valid"):
            for ex in rule.examples.get(kind, []):
                yield pytest.param(rule, kind, ex, id=f"{rule.code}-{kind}-{ex['id']}")


def build_example(ex) -> nn.Module:
    namespace = {"nn": nn, "F": F, "torch": torch}
    if "code" in ex:
        exec(compile(ex["code"], f"<example {ex['id']}>", "exec"), namespace)
        return namespace["model"]
    return eval(ex["model"], namespace)


@pytest.mark.parametrize("rule, kind, ex", list(_examples()))
def test_rule_example(rule, kind, ex):
    torch.manual_seed(0)
    if rule.scope == "blindspots":        # PAD203: the map of the example's symmetric kernels
        report = blindspots_analyze(build_example(ex), tuple(ex["input"]), select=[rule.code], device="cpu")
    elif rule.scope == "stats":             # PAD3xx: the example's weights, and a constant batch
        report = padlint.stats.analyze(build_example(ex), input_size=tuple(ex["input"]),
                                       data=[torch.ones(ex["input"])], select=[rule.code], device="cpu")
    else:
        verify = rule.scope == "verify"   # PAD2xx: facts of the verify stage
        report = padlint.analyze(build_example(ex), input_size=tuple(ex["input"]), select=[rule.code],
                                 verify=verify, device="cpu")
    assert not report.errors
    got = sorted((f.layer, f.axis or "") for f in report.findings)
    want = sorted((e["layer"], e["axis"] or "") for e in ex.get("expect", []))
    assert got == want
    if kind == "invalid":
        assert want, "an invalid example must expect at least one finding"
        assert all(f.rule == rule.code and f.severity == rule.severity for f in report.findings)
        assert all("{" not in f.message and "{" not in f.fix for f in report.findings), \
            "every template field must be filled"


def test_every_rule_has_both_kinds_of_example():
    for rule in RULES.values():
        assert rule.examples.get("invalid") and rule.examples.get("valid"), rule.code


@pytest.mark.parametrize("path", sorted(Path(r.path) for r in RULES.values()), ids=lambda p: p.stem)
def test_rule_file_matches_schema(path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((TESTS / "rule.schema.json").read_text())
    data = yaml.safe_load(path.read_text())
    jsonschema.validate(data, schema)
    assert path.name == f"{data['code']}-{data['name']}.yaml"


def test_the_readme_rules_table_lists_every_rule():
    """The README's table of rules has one row per rule, with its YAML's code, name and
    severity (and no row for a rule that does not exist)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([A-Z]+[0-9]+) \| ([a-z-]+) \| ([a-z]+) \|", readme, re.M)
    core = load_pack(importlib.import_module(CORE))          # not the plugin packs
    assert sorted(rows) == sorted((r.code, r.name, r.severity) for r in core)
