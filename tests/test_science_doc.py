"""docs/science.md, the project's own science page (issue 19 item 20).

- Its measured tables are what ``scripts/science_tables.py`` computes now: every table
  the script makes has one block in the page, and the fast ones (all but the
  symmetric-kernel probe, which runs three real models in float64) are compared cell for
  cell with a fresh run of the script's functions.
- Every ``§N`` and ``docs/science.md#…`` reference in README.md, and every ``#…`` link
  inside the page, lands on a heading or anchor of the page.
"""
from __future__ import annotations

import importlib.util
import re
from urllib.parse import unquote

import pytest

from paths import ROOT

DOC = ROOT / "docs" / "science.md"
README = ROOT / "README.md"
FAST = ("worked_examples", "clean_sizes", "edge_cases", "alignment", "coverage", "patches")


def _script():
    spec = importlib.util.spec_from_file_location("science_tables", ROOT / "scripts" / "science_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tables = _script()


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)]


def anchors(text: str) -> set[str]:
    """Every fragment that lands somewhere in the page: heading slugs and explicit ids."""
    return {github_slug(h) for h in headings(text)} | set(re.findall(r'<a id="([^"]+)"></a>', text))


def section_numbers(text: str) -> set[str]:
    """'3.1' for a heading '### §3.1 The symmetric-kernel probe …'."""
    return {m.group(1) for h in headings(text) for m in [re.match(r"§(\d+(?:\.\d+)*)\b", h)] if m}


# -- the tables -------------------------------------------------------------------------

def test_every_table_of_the_script_has_one_filled_block_in_the_page():
    text = _doc()
    blocks = tables.blocks_in(text)
    assert sorted(blocks) == sorted(tables.TABLES)
    for name in tables.TABLES:
        assert text.count(tables.BEGIN.format(name)) == 1, name
        assert blocks[name].startswith("| "), f"table {name!r} is empty: run the script with --write"


@pytest.mark.parametrize("name", FAST)
def test_table_in_the_page_is_what_the_script_computes_now(name):
    assert tables.blocks_in(_doc())[name] == tables.TABLES[name]()


def test_worked_examples_agree_with_autograd_and_the_seed_figures():
    """The §1 rows the README and SCIENCE.md quote, read back from the page."""
    rows = {(r[0], r[1]): r for r in _rows(tables.blocks_in(_doc())["worked_examples"])}
    conv1 = rows[("resnet50 @ 224", "`conv1`")]
    assert conv1[3:9] == ["224→112", "7", "230", "228", "1", "3 / 2"]
    down = rows[("resnet50 @ 224", "`layer2.0.downsample.0`")]
    assert down[10:] == ["1 / 28", "28 / 28", "no", "PAD102, PAD103"]
    assert rows[("resnet50 @ 225", "`conv1`")][7:9] == ["0", "3 / 3"]
    for row in rows.values():       # padlint's o and ignored input are autograd's
        out = row[3].split("→")[1]
        assert row[11] == f"{out} / {row[10].split(' / ')[1]}", row


def _rows(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]


def test_clean_size_periods():
    rows = {r[0]: r for r in _rows(tables.blocks_in(_doc())["clean_sizes"])}
    one, zero = "n ≡ 1 (mod 32)", "n ≡ 0 (mod 32)"
    assert {m: rows[m][3] for m in rows} == {
        "resnet18": one, "resnet50": one, "mobilenet_v2": one, "efficientnet_b0": one,
        "vgg16": zero, "convnext_tiny": zero}


def test_progression_names_a_period_only_when_every_such_size_is_clean():
    sizes = range(32, 1025)
    every = list(range(33, 1025, 32))
    assert tables.progression(every, sizes) == "n ≡ 1 (mod 32)"
    assert tables.progression(every[:-1], sizes) == ", ".join(map(str, every[:-1]))
    assert tables.progression([], sizes) == "none"


def test_write_replaces_only_the_named_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("intro\n" + tables.block("a", "| old |") + "\nmiddle\n"
                    + tables.BEGIN.format("b") + "\n" + tables.END + "\nend\n", encoding="utf-8")
    tables.write(page, {"b": "| new |\n|---|"})
    assert page.read_text(encoding="utf-8") == ("intro\n" + tables.block("a", "| old |") + "\nmiddle\n"
                                                 + tables.block("b", "| new |\n|---|") + "\nend\n")
    with pytest.raises(SystemExit, match="0 blocks for table 'c'"):
        tables.write(page, {"c": "| x |"})


def test_the_page_names_the_command_that_regenerates_it():
    assert "python scripts/science_tables.py --write" in _doc()


# -- the references -------------------------------------------------------------------------

def test_page_has_the_seed_pages_sections():
    assert {"1", "1.1", "2", "3", "3.1", "4", "5"} <= section_numbers(_doc())
    assert "where-this-differs-from-the-seed-page" in anchors(_doc())


def test_every_section_reference_in_the_readme_resolves():
    readme = README.read_text(encoding="utf-8")
    cited = set(re.findall(r"§(\d+(?:\.\d+)*)", readme))
    assert cited, "the README cites no section"
    numbers, found = section_numbers(_doc()), anchors(_doc())
    assert sorted(cited - numbers) == []
    assert sorted(f"§{n}" for n in cited if f"§{n}" not in found) == []


def test_every_link_to_the_page_in_the_readme_resolves():
    readme = README.read_text(encoding="utf-8")
    found = anchors(_doc())
    links = [unquote(f) for f in re.findall(r"docs/science\.md#([^)\s\"'>]+)", readme)]
    assert sorted(f for f in links if f not in found) == []


def test_every_link_inside_the_page_resolves():
    text = _doc()
    links = [unquote(f) for f in re.findall(r"\]\(#([^)]+)\)", text)]
    assert links
    assert sorted(f for f in links if f not in anchors(text)) == []
