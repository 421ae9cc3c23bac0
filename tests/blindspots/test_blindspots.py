"""``padlint blindspots`` on models written for the tests: the measured facts of issue 21
(a dropped row responds 0, a strided 1x1 stem blinds every other row and column, a
clean size is mirror-symmetric), the grid's symmetry, the JSON, and the one-line errors."""
from __future__ import annotations

import doctest
import importlib
import json

import numpy as np
import pytest
import torch
from torch import nn

from padlint.blindspots.grid import positions
from padlint.blindspots.run import mask
from padlint.blindspots.stage import analyze
from padlint.blindspots.stimulus import Stimulus
from padlint.errors import PadlintError
from paths import ROOT


def patch_stem(k: int = 2, s: int = 2) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, k, stride=s), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))


def strided_3x3() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))


@pytest.mark.parametrize("name", ["padlint.blindspots.grid", "padlint.blindspots.stimulus",
                                  "padlint.blindspots.region"])
def test_docstring_examples_pass(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("n, extent", [(224, 1), (225, 1), (33, 3), (7, 2), (5, 5)])
@pytest.mark.parametrize("count, step", [(5, None), (13, None), (None, 32), (None, 1), (400, None)])
def test_the_grid_holds_both_ends_and_is_mirror_symmetric(n, extent, count, step):
    got = positions(n, count=count, step=step, extent=extent)
    assert got[0] == 0 and got[-1] == n - extent
    assert got == sorted({n - extent - p for p in got})
    assert len(got) == len(set(got))


def test_a_dropped_row_and_column_do_not_respond_and_pad203_names_the_layer():
    report = analyze(patch_stem(), 33, device="cpu", select=["PAD203"])
    b = report.results[0].blindspots
    r = b.main.response
    assert b.main.positions["H"] == list(range(33))          # a tiny model: every position
    assert (r[32, :] == 0).all() and (r[:, 32] == 0).all()
    assert (r[:32, :32] > 0).all()
    [f] = report.findings
    assert (f.rule, f.layer, f.axis) == ("PAD203", "0", None)
    assert f.message == ("a square:1 stimulus at the bottom grid row (input row 32) and the right grid "
                         "column (input column 32) does not change the map of `2` at all: `0` drops "
                         "its last input row and its last input column (PAD102)")
    assert f.fix.startswith("use input size 34x34, where the same map has no blind position")
    assert b.clean is not None and b.clean.input_shape == (1, 3, 34, 34)
    assert max(b.clean.asymmetry.values()) < 1e-4


def test_the_same_stem_at_an_even_size_is_quiet_and_symmetric():
    report = analyze(patch_stem(), 32, device="cpu", dtype="float64")
    b = report.results[0].blindspots
    assert report.findings == []
    assert not b.main.blind.any()
    assert max(b.main.asymmetry.values()) < 1e-12
    assert b.clean is None and b.clean_why == "32x32 is clean"


def test_a_strided_1x1_stem_blinds_every_other_row_and_column():
    report = analyze(patch_stem(1, 2), 16, device="cpu")
    b = report.results[0].blindspots
    blind = b.main.blind
    rows = np.arange(16)
    want = (rows[:, None] % 2 == 1) | (rows[None, :] % 2 == 1)
    assert (blind == want).all()
    [f] = report.findings
    assert "every other row (input rows 1, 3, …, 15) and every other column (input columns 1, 3, …, 15)" in f.message
    assert "`0` skips input rows and columns between its windows (PAD103)" in f.message
    assert "does not help" in f.fix            # 17 is clean of PAD101/102, and still skips


def test_uneven_padding_is_lopsided_and_the_clean_size_is_mirror_symmetric():
    """Two stride-2 3x3 convs: at 32 each leaves its bottom/right padding unused."""
    model = strided_3x3()
    even = analyze(model, 32, device="cpu", dtype="float64").results[0].blindspots
    assert min(even.main.asymmetry.values()) > 0.05
    assert even.clean is not None and even.clean.input_shape[2:] == (33, 33)
    assert max(even.clean.asymmetry.values()) < 1e-12
    odd = analyze(model, 33, device="cpu", dtype="float64").results[0].blindspots
    assert np.allclose(odd.main.response, even.clean.response, rtol=0, atol=0)


def test_padding_modes_run_with_the_weights_unchanged():
    report = analyze(strided_3x3(), 32, device="cpu", padding_mode="all", step=4)
    b = report.results[0].blindspots
    assert list(b.remedies) == ["zeros", "reflect", "replicate", "circular"]
    assert np.array_equal(b.remedies["zeros"].response, b.main.response)
    assert not np.allclose(b.remedies["reflect"].response, b.main.response)
    circular = b.remedies["circular"]          # circular padding makes every position alike
    assert all(not m.error for m in b.remedies.values())
    assert circular.response.shape == b.main.response.shape


def test_the_json_object(cli):
    code, out, err = cli(ROOT, "blindspots", "tests/blindspots/stem.py", "-s", "33", "--format", "json")
    assert err == "" and code == 1
    data = json.loads(out)["results"][0]["blindspots"]
    assert data["positions"] == {"H": list(range(33)), "W": list(range(33))}
    assert len(data["response"]) == 33 and len(data["response"][0]) == 33
    assert data["response"][32][0] == 0.0
    assert data["response_of"] == {"layer": "conv", "shape": [8, 16, 16]}
    assert data["clean_size"] == [34, 34] and set(data["clean_asymmetry"]) == {"H", "W"}
    assert [32, 0] in data["blind"] and [0, 32] in data["blind"] and [0, 0] not in data["blind"]
    assert data["kernels"] == "symmetric" and data["stimulus"] == "square:1"


def test_the_output_index_watches_one_value():
    model = nn.Sequential(patch_stem(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    b = analyze(model, 33, device="cpu", output=3).results[0].blindspots
    assert b.watched == "output 3 (4)" and b.output == 3
    assert (b.main.response[32, :] == 0).all()


@pytest.mark.parametrize("args, message", [
    (["-s", "1"], "tests/blindspots/stem.py:Stem: input 1x1 is too small"),
    (["-s", "32", "--output", "2048"], "--output 2048: tests/blindspots/stem.py:Stem's output has 2048 "
                                       "values a sample (shape 8x16x16); give an index from 0 to 2047"),
    (["--stimulus", "blob:3"], "--stimulus 'blob:3': unknown shape 'blob'; give SHAPE:SIZE with SHAPE "
                               "one of square, disc, cross (e.g. square:1)"),
    (["--stimulus", "square:x"], "--stimulus 'square:x': the size 'x' is not a whole number of pixels (e.g. square:3)"),
    (["-s", "32", "--stimulus", "square:40"], "--stimulus square:40: it is larger than the input 32x32"),
    (["--padding-mode", "mirror"], "--padding-mode 'mirror': use zeros, reflect, replicate, circular or all"),
    (["--step", "0"], "--step 0: give a positive number of pixels"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, message):
    code, out, err = cli(ROOT, "blindspots", "tests/blindspots/stem.py", *args)
    assert code == 2 and out == ""
    assert err.startswith(f"padlint: error: {message}") and err.count("\n") == 1, err


def test_a_missing_file_is_one_line(cli):
    code, out, err = cli(ROOT, "blindspots", "nowhere.py")
    assert code == 2 and out == "" and err.count("\n") == 1 and "nowhere.py" in err


def test_errors_raise_padlint_error_in_the_api():
    with pytest.raises(PadlintError, match="--kernels 'odd'"):
        analyze(patch_stem(), 32, kernels="odd")


def test_resnet18_is_lopsided_at_224_and_mirror_symmetric_at_225():
    """Issue 21's measured facts on torchvision's resnet18 (no weights), symmetric kernels,
    float64, on a coarse grid: the bottom row barely responds at 224; 225 is symmetric."""
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)              # the random weights, whatever ran before (seeds 0-4: 0.09-0.14)
    model = models.resnet18()
    b = analyze(model, 224, device="cpu", dtype="float64", step=56, clean=False).results[0].blindspots
    assert b.watched == "layer4.1.relu.relu#2 (512x7x7)"
    r, rows, cols = b.main.response, b.main.positions["H"], b.main.positions["W"]
    assert rows[-1] == 223 and r[-1].mean() < 0.2 * r[0].mean()          # seed 0: 0.098
    assert cols[-1] == 223 and r[:, -1].mean() < 0.2 * r[:, 0].mean()    # seed 0: 0.103
    assert min(b.main.asymmetry.values()) > 0.3
    odd = analyze(model, 225, device="cpu", dtype="float64", step=56, clean=False).results[0].blindspots
    assert max(odd.main.asymmetry.values()) < 1e-6
    assert not odd.main.blind.any()


def test_the_stimulus_masks():
    assert mask(Stimulus("cross", 3), 2).astype(int).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    assert mask(Stimulus("disc", 3), 2).astype(int).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    assert mask(Stimulus("square", 2), 3).all() and mask(Stimulus("square", 2), 3).shape == (2, 2, 2)
    assert mask(Stimulus("disc", 4), 2).astype(int).tolist() == [[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 1, 0]]
