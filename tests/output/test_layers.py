"""`padlint layers` (issue 22): golden tables on the examples, the JSON document, the
layout on and off a terminal, and the one-line errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rich.console import Console
from rich.text import Text

import padlint
from padlint.output.layers import exact, print_layers
from paths import ROOT, check_golden


def _run(*args, columns: str = "80"):
    return subprocess.run([sys.executable, "-m", "padlint", "layers", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": columns})


def test_examples_golden():
    proc = _run("examples/")
    assert proc.returncode == 0, proc.stderr
    check_golden("layers-examples.txt", proc.stdout)


def test_all_rows_golden():
    proc = _run("examples/unet.py", "--all")
    assert proc.returncode == 0, proc.stderr
    check_golden("layers-unet-all.txt", proc.stdout)


def test_unet_rows():
    """The U-Net: transposed convs halve the stride exactly, a misaligned concatenation
    shows both centres with PAD107, and the fields grow as the arithmetic says."""
    proc = _run("examples/unet.py")
    lines = proc.stdout.splitlines()
    assert lines[0] == "examples/unet.py:UNet @ 1x3x64x64"
    assert lines[1].split() == ["layer", "op", "in", "→", "out", "k/s/p/d", "pad", "used", "RF", "stride",
                                "centre", "findings"]
    row = {line.split()[0]: line.split() for line in lines[2:-1]}
    assert row["down1"] == ["down1", "Conv2d", "64", "→", "32", "3/2/1/1", "1,0", "7", "2", "0", "PAD101"]
    assert row["up1"] == ["up1", "ConvTranspose2d", "32", "→", "64", "2/2/0/1", "-", "43", "1", "-1/2"]
    assert row["cat_1"] == ["cat_1", "cat", "64", "→", "64", "43", "1", "0", "|", "-1/2", "PAD107"]
    assert row["head"][-3:] == ["47", "1", "0"]
    assert lines[-1].startswith("15 windowed layers (70,418 parameters); the last (head) sees 47 input "
                                "pixels at stride 1; findings per axis: PAD101 x4, PAD107 x4; no input size")


def test_json_document():
    proc = _run("examples/decoder.py", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 1
    (result,) = doc["results"]
    up1, up2, out = result["layers"]
    assert [(a["receptive_field"], a["effective_stride"], a["centre_offset"]) for a in up2["axes"]] == \
        [(2, 0.25, -0.125)] * 2
    assert up1["findings"] == ["PAD101", "PAD104"] and up1["depth"] == 0 and up1["params"] == 3 * 16 * 9 + 16
    assert out["axes"][0]["receptive_field"] == 3
    assert result["totals"]["layers"] == 3 and result["totals"]["params"] == 2723
    assert result["totals"]["axes"]["H"] == {"receptive_field": 3, "effective_stride": 0.25, "centre_offset": -0.125}


def test_check_json_grows_the_three_fields():
    report = padlint.analyze("examples/resnet.py")
    doc = report.results[0].to_json()
    axis = doc["layers"][0]["axes"][0]
    assert {"receptive_field", "effective_stride", "centre_offset"} <= set(axis)
    assert set(axis) >= {"in", "out", "kernel", "stride", "pad_begin", "unused_pad_end"}


def test_fractions_are_exact():
    from fractions import Fraction
    assert [exact(Fraction(1, 2)), exact(Fraction(-1, 8)), exact(Fraction(32)), exact(None)] == \
        ["1/2", "-1/8", "32", "?"]


def test_names_are_never_cut_off_a_terminal_and_fold_on_one():
    proc = _run("torchvision.models:resnet18", columns="40")
    assert "      layer2.0.downsample.0  Conv2d" in proc.stdout
    report = padlint.analyze("torchvision.models:resnet18")
    console = Console(width=90, force_terminal=True, file=open(os.devnull, "w"))
    with console.capture() as captured:
        print_layers(report.results, console)
    lines = [Text.from_ansi(line).plain for line in captured.get().splitlines()]
    rows = [line for line in lines if "Conv2d" in line or "Pool2d" in line or line.startswith("layer ")]
    assert len(rows) == 22 and all(len(line) <= 90 for line in rows)     # the table fits
    assert lines[lines.index("conv1") - 1].startswith("    layer1.0.  Conv2d")  # a name folded in two
    assert any("downsample" in line for line in lines)


@pytest.mark.parametrize("args, message", [
    (["examples/unet.py", "--input-size", "2"], "examples/unet.py"),
    (["no_such_file.py"], "no_such_file.py"),
    (["examples/unet.py", "--select", "PAD999"], "PAD999"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    proc = _run(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("padlint: error: ") and message in lines[0]
    assert "Traceback" not in proc.stderr
