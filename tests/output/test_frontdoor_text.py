"""Issue 19, items 12 and 13: output people can read in a CI log. One finding on H and W
is one line; --statistics counts per rule; -q prints the findings only; the building
blocks analysed inside a parent model share one short note."""
from __future__ import annotations

import json

from cli_helpers import write
from padlint.ir.report import Finding
from padlint.output.axisgroups import merge_axes
from paths import ROOT

NET = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.down = nn.Conv2d(8, 8, 1, stride=2)

    def forward(self, x):
        return self.down(self.stem(x))
"""

STEM = ("net.py:7:21: PAD101 [warning] stem (Conv2d k=3 s=2 p=1) uses its padding unevenly on "
        "H, W at input 224: 1 top/left but 0 bottom/right (1 end padding row/column never read). "
        "Fix: use input size 221 or 225 on H, W instead of 224, where every layer uses its "
        "padding evenly and drops nothing, or kernel 4 with padding 1")


def test_h_and_w_findings_are_one_line(cli, tmp_path):
    write(tmp_path, "net.py", NET)
    code, out, err = cli(tmp_path, "check", "net.py", "--timeout", "0")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == STEM
    assert [line.split(" ")[1] for line in lines[:-2]] == ["PAD101", "PAD102", "PAD103"]
    # the summary still counts one finding per layer axis, as the JSON lists them
    assert lines[-2].startswith("net.py:Net @ 1x3x224x224: 2 windowed layers, 6 findings (2 error, 2 warning, 2 info)")


def test_machine_formats_keep_one_finding_per_axis(cli, tmp_path):
    # concise, github and JSON are read by tools (grep, annotations): one record per axis
    write(tmp_path, "net.py", NET)
    _, out, _ = cli(tmp_path, "check", "net.py", "--format", "concise", "--timeout", "0")
    assert [line.split(" ")[1] for line in out.splitlines()[:-1]] == [
        "PAD101", "PAD101", "PAD102", "PAD102", "PAD103", "PAD103"]
    _, out, _ = cli(tmp_path, "check", "net.py", "--format", "json", "--timeout", "0")
    findings = json.loads(out)["results"][0]["findings"]
    assert [f["axis"] for f in findings] == ["H", "W"] * 3


def _finding(axis, message, fix="use 225"):
    return Finding("PAD101", "uneven-padding", "warning", "stem", axis, message, fix)


def test_axes_with_different_numbers_stay_apart():
    h = _finding("H", "uneven on H at input 224: 1 top but 0 bottom")
    w = _finding("W", "uneven on W at input 320: 1 left but 0 right")
    assert merge_axes([h, w]) == [h, w]
    w2 = _finding("W", "uneven on W at input 224: 1 left but 0 right")
    merged = merge_axes([h, w2])
    assert [(m.axis, m.message) for m in merged] == [("H, W", "uneven on H, W at input 224: 1 top/left but 0 bottom/right")]


def test_statistics_counts_per_rule(cli):
    code, out, err = cli(ROOT, "check", "examples/", "--statistics", "--timeout", "0")
    assert code == 1
    assert out.splitlines() == [
        "31  PAD101  uneven-padding [warning]",
        " 6  PAD102  dropped-input [error]",
        " 4  PAD103  skipped-input [info]",
        " 4  PAD104  transposed-checkerboard [warning]",
        " 4  PAD107  misaligned-merge [warning]",
        " 2  PAD901  untraceable [info]",
        "Found 51 findings (6 error, 39 warning, 6 info) in 8 model runs."]


def test_statistics_refuses_machine_formats(cli, tmp_path):
    write(tmp_path, "net.py", NET)
    code, out, err = cli(tmp_path, "check", "net.py", "--statistics", "--format", "json", "--timeout", "0")
    assert (code, out) == (2, "")
    assert err == ("padlint: error: --statistics counts findings in the text and concise formats, "
                   "not in json: drop one of them\n")


def test_quiet_prints_findings_only(cli):
    code, out, err = cli(ROOT, "check", "examples/resnet.py", "-q", "--timeout", "0")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 5 and all(" PAD10" in line for line in lines)
    assert err == ""
    code, out, err = cli(ROOT, "check", "examples/resnet.py", "--quiet", "--exit-zero", "--select", "PAD109", "--timeout", "0")
    assert (code, out, err) == (0, "", "")


def test_building_blocks_share_one_note(cli, tmp_path):
    write(tmp_path, "blocks.py", """\
from torch import nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


class Other(Block):
    pass


class Unused(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Sequential(Block(8), Other(8))

    def forward(self, x):
        return self.body(self.stem(x))
""")
    code, out, err = cli(tmp_path, "check", "blocks.py", "--timeout", "0")
    assert code == 0
    assert err.splitlines() == [
        "padlint: blocks.py:Unused: skipped, its __init__ needs width; to lint it, add "
        "PADLINT_TARGETS = [(lambda: Unused(...), 224)] to the file",
        "padlint: blocks.py: Block, Other need arguments; they are analysed inside the models "
        "that use them"]
    code, out, err = cli(tmp_path, "check", "blocks.py", "-q", "--timeout", "0")
    assert (code, out, err) == (0, "", "")


def test_rule_docs_print_code_with_brackets_whole(cli):
    code, out, _ = cli(ROOT, "rule", "PAD107")
    assert code == 0
    lines = out.splitlines()
    assert lines[lines.index("Example") + 1] == (
        "torch.cat([skip, nn.ConvTranspose2d(c, c, 2, stride=2)(nn.Conv2d(c, c, 3, stride=2, "
        "padding=1)(skip))], 1)")


def test_axes_whose_verifications_differ_keep_their_lines():
    from dataclasses import replace
    h = _finding("H", "uneven on H at input 224: 1 top but 0 bottom")
    w = _finding("W", "uneven on W at input 224: 1 left but 0 right")
    shape = [1, 3, 224, 224]
    h = replace(h, verification={"status": "confirmed", "asymmetry": 0.5, "input_shape": shape})
    w_same = replace(w, verification={"status": "confirmed", "asymmetry": 0.25, "input_shape": shape})
    (merged,) = merge_axes([h, w_same])
    assert merged.verification["text"] == "confirmed: asymmetry 0.5 on H, 0.25 on W at 1x3x224x224"
    w_other = replace(w, verification={"status": "not-observed", "asymmetry": 0.0, "input_shape": shape})
    assert merge_axes([h, w_other]) == [h, w_other]
