"""Every valid/invalid example in rules/*.yaml runs as a test (Fixit-style), and every
rule file is checked against tests/rule.schema.json."""
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch import nn

import padlint
from padlint.engine.rules import all_rules, core_rules_dir

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
    if rule.scope == "stats":             # PAD3xx: the example's weights, and a constant batch
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


@pytest.mark.parametrize("path", sorted(Path(core_rules_dir()).glob("*.yaml")), ids=lambda p: p.stem)
def test_rule_file_matches_schema(path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "rule.schema.json").read_text())
    data = yaml.safe_load(path.read_text())
    jsonschema.validate(data, schema)
    assert path.name == f"{data['code']}-{data['name']}.yaml"


def test_core_codes_are_the_design_table():
    assert {c: r.severity for c, r in RULES.items()} == {
        "PAD101": "warning", "PAD102": "error", "PAD103": "info", "PAD104": "warning",
        "PAD105": "info", "PAD106": "info", "PAD107": "warning", "PAD108": "info",
        "PAD109": "warning", "PAD201": "warning", "PAD202": "info", "PAD301": "warning",
        "PAD302": "info", "PAD901": "info"}
