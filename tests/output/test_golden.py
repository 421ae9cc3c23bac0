"""Snapshot of the text output on the shipped examples (ruff-style): a change in the
rendered diagnostics shows up in review. Regenerate with PADLINT_UPDATE_GOLDEN=1."""
import os
import subprocess
import sys

from paths import GOLDEN, ROOT, check_golden


def _run(*args):
    return subprocess.run([sys.executable, "-m", "padlint", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "80"})


def test_examples_text_output():
    proc = _run("check", "examples/")
    assert proc.returncode == 1
    check_golden("examples.txt", proc.stdout)
    assert proc.stderr.splitlines() == [
        "padlint: examples/resnet.py: BasicBlock needs arguments; it is analysed inside the models "
        "that use it"]


def test_examples_at_225_text_output():
    proc = _run("check", "examples/resnet.py", "examples/dynamic.py", "--input-size", "225")
    assert proc.returncode == 1          # dynamic.py crops to an even width, then drops a row
    check_golden("examples-225.txt", proc.stdout)


def test_rule_docs_output():
    proc = _run("rule", "PAD102")
    assert proc.returncode == 0
    check_golden("rule-PAD102.txt", proc.stdout)


def test_rules_list_output():
    proc = _run("rules")
    assert proc.returncode == 0
    check_golden("rules.txt", proc.stdout)


def test_readme_first_command_exits_zero():
    proc = _run("check", "examples/", "--exit-zero")
    assert proc.returncode == 0
    assert proc.stdout == (GOLDEN / "examples.txt").read_text()
