"""The README tells the truth (issue 19, items 17-19): its example outputs are what the
commands print today, its Quick start says what a fresh machine needs, and its pre-commit
section offers the recipe that works now."""
from __future__ import annotations

import difflib
import importlib.util
import re
import sys
import tomllib

from paths import ROOT

README = (ROOT / "README.md").read_text()

_spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
readme_examples = importlib.util.module_from_spec(_spec)
sys.modules["readme_examples"] = readme_examples          # dataclasses look their module up
_spec.loader.exec_module(readme_examples)


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_every_example_block_is_a_fresh_run():
    """Each marked block is regenerated from a real run; any drift fails with the diff
    (``python scripts/readme_examples.py`` rewrites them)."""
    found = readme_examples.examples(README)
    assert len(found) == 10
    fresh = readme_examples.regenerate(README)
    diff = "".join(difflib.unified_diff(README.splitlines(True), fresh.splitlines(True),
                                        "README.md", "fresh runs"))
    assert _rounding_noise(fresh) == _rounding_noise(README), diff


# float64 rounding noise in the verify stage's asymmetries (2.1e-15 on one CPU, 4.7e-15 or
# an exact 0 on another, by the kernels' summation order): the same reading, "zero"
_NOISE = re.compile(r"\b(?:\d(?:\.\d+)?e-(?:1[2-9]|[2-9]\d)|0)(?= at \d+x\d+|\))")


def _rounding_noise(text: str) -> str:
    return _NOISE.sub("≈0", text)


def test_rounding_noise_reads_as_zero_and_nothing_else_does():
    assert _rounding_noise("0.65 on W at 224x224, 2.7e-17 at 225x225") == "0.65 on W at 224x224, ≈0 at 225x225"
    assert _rounding_noise("at 224x224, 0 at 225x225 (worst 4.7e-15)") == "at 224x224, ≈0 at 225x225 (worst ≈0)"
    assert _rounding_noise("0 of 21 at 225x225; asymmetry 0.596 at 224x224; 3e-3 at 2x2") == \
        "0 of 21 at 225x225; asymmetry 0.596 at 224x224; 3e-3 at 2x2"


def test_selection_and_elision():
    example = readme_examples.Example("padlint x", "0 /b/ -1", False, (0, 0), "")
    assert readme_examples.render(example, ["a", "x", "b", "c", "d"]) == "$ padlint x\na\n...\nb\n...\nd\n"
    example = readme_examples.Example("padlint x", "0:2", False, (0, 0), "")
    assert readme_examples.render(example, ["a", "b", "c"]) == "$ padlint x\na\nb\n...\n"
    assert readme_examples.SITE.sub(".../", "/x/.venv/lib/python3.11/site-packages/torchvision/a.py:3") == \
        ".../torchvision/a.py:3"


def test_api_comment_matches_the_verify_example():
    """The Python API's verification comment is resnet18's conv1, as the `--verify`
    example (a fresh run, checked above) prints it."""
    block = next(b for b in readme_examples.examples(README) if b.command.endswith("resnet18 --verify"))
    printed = re.search(r"conv1 \(Conv2d k=7 s=2 p=3\).*\[confirmed: asymmetry ([0-9.]+) on H", block.body)
    api = README[README.index("## Python API"):README.index("## How it works")]
    assert 'padlint.analyze(resnet18(), 224, verify=True, device="cpu")' in api
    claimed = re.search(r"\{'status': 'confirmed', 'asymmetry': ([0-9.]+),", api)
    assert printed and claimed and claimed[1] == printed[1]


def test_quick_start_says_what_a_fresh_machine_needs():
    quick = README[README.index("## Quick start"):README.index("## What it prints")]
    first, second, cpu = _bash_blocks(quick)
    assert first.strip() == ("python3 -m venv .venv && . .venv/bin/activate && pip install -e . "
                             "&& padlint check examples/ --exit-zero")
    assert second.strip() == "pip install -e '.[test]' && pytest"
    assert second.strip() in (ROOT / ".ci" / "run").read_text()        # what CI runs
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and "Python 3.11 or newer" in quick
    assert cpu.strip() == ("python3 -m venv .venv && . .venv/bin/activate && "
                           "pip install torch --index-url https://download.pytorch.org/whl/cpu")


def test_pre_commit_offers_the_recipe_that_works_today_first():
    section = README[README.index("## In pre-commit"):README.index("## Configuration")]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert "repo: local" in blocks[0] and "language: system" in blocks[0]
    remote = blocks[1]
    assert "OWNER" not in section and "v0.1.0" not in section      # no made-up repository or tag
    assert "rev: TAG" in remote and "not yet" in remote
    assert section.index("**For when a release exists.**") < section.index(remote)


def test_the_science_page_the_readme_cites_is_in_the_repository():
    # every anchor it cites resolves: tests/test_science_doc.py
    assert "SCIENCE.md" not in README                               # outside the repository
    assert "](docs/science.md#§3)" in README and "](docs/science.md#§4)" in README
    assert (ROOT / "docs" / "science.md").is_file()


def test_every_usage_line_parses():
    """Each `padlint …` line of the Usage block is a command line the CLI accepts (its
    flags exist and their values parse); no model is loaded."""
    import shlex

    from padlint.cli.main import COMMANDS, build_parser
    usage = README.split("## Usage", 1)[1]
    lines = [line.split("  #")[0].strip() for line in _bash_blocks(usage)[0].splitlines()
             if line.startswith("padlint ")]
    assert len(lines) >= 15
    seen = set()
    for line in lines:
        argv = shlex.split(line)[1:]
        if argv and argv[0] not in COMMANDS:
            argv.insert(0, "check")
        args = build_parser().parse_args(argv)
        seen.add(args.command)
    assert seen == set(COMMANDS)
