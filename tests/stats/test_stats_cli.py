"""`padlint stats` through the command line: the text report (header, table with the
stride-2 layers first, the mean-kernel and mean-patch matrices, findings and summary),
`--format json` (the §4 facts of every convolution, `stats`, PAD301/PAD302 findings),
`--weights` (state dicts, checkpoint dicts, .safetensors, `--no-strict`), the `--data`
forms (.pt, .npy, image folders, path.py:callable and module:callable) with `--limit`,
exit codes (`--exit-zero`, `--fail-on`), and the bad-input matrix: exit 2, one
`padlint: error: ...` line naming the flag and the file, nothing on stdout, no traceback
unless --debug. Also `padlint rules` / `padlint rule` for PAD301 and PAD302.

Speed: everything calls ``padlint.cli.main`` in this process (stats has no child process)
on a three-conv model at 32x32 (224/225 only where the size is the point); resnet18
appears in two tests and one test runs the real command end to end.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from cli_helpers import assert_one_error_line, write
from model_sources import TWO

# stem (line 9, col 21) and down (line 12) are stride-2: PAD101 on H and W at 224 and 32,
# even at 225 and 33; mid is stride 1 and even everywhere. Seeded: the initial weights are
# the same in every run (a freshly initialised net: no PAD301).
NET = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.act = nn.ReLU()
        self.mid = nn.Conv2d(8, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.down(self.mid(self.act(self.stem(x))))
"""


# A model that runs at 32x32 only (its Linear fixes the size).
FIXED = """\
from torch import nn


class Fixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.fc = nn.Linear(4 * 16 * 16, 2)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
"""

# --data module:callable sources. batches(): 12 samples in batches of 4, (x, y) pairs.
LOADER = """\
import torch
from torch.utils.data import DataLoader, TensorDataset


def batches():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(12, 3, 32, 32, generator=g)
    y = torch.zeros(12, dtype=torch.long)
    return DataLoader(TensorDataset(x, y), batch_size=4)


def broken():
    raise RuntimeError("disk on fire")


def empty():
    return []


def number():
    return 5


def mixed():
    yield torch.rand(2, 3, 32, 32)
    yield torch.rand(2, 1, 32, 32)


def ragged():
    yield torch.rand(2, 3, 32, 32)
    yield torch.rand(2, 3, 40, 40)
"""

TABLE_COLUMNS = ["layer", "op", "padding", "kernel asym.", "heavier", "vs noise", "patch asym."]


def net_state(top: float = 0.2, seed: int = 1) -> dict:
    """A state dict for NET: every weight normal(0, 0.01); ``top`` added to the top row of
    every kernel of the stride-2 ``stem`` (its mean kernel is heavier at the top on H only)."""
    g = torch.Generator().manual_seed(seed)
    shapes = {"stem.weight": (8, 3, 3, 3), "stem.bias": (8,), "mid.weight": (8, 8, 3, 3),
              "mid.bias": (8,), "down.weight": (8, 8, 3, 3), "down.bias": (8,)}
    state = {k: torch.randn(s, generator=g) * 0.01 for k, s in shapes.items()}
    state["stem.weight"][:, :, 0, :] += top
    return state


class Evil:
    """Unpickling this creates ``marker`` (a real payload: see the control in the test)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One folder with the model files, checkpoints and data files every test reads."""
    root = tmp_path_factory.mktemp("stats")
    write(root, "net.py", NET)
    write(root, "two.py", TWO)
    write(root, "fixed.py", FIXED)
    write(root, "loader.py", LOADER)
    asym = net_state()
    torch.save(asym, root / "asym.pt")
    torch.save({"state_dict": asym, "epoch": 3}, root / "wrapped.pt")
    torch.save(net_state(top=0.0), root / "sym.pt")
    from safetensors.torch import save_file
    save_file(asym, str(root / "asym.safetensors"))
    keys = dict(asym)
    del keys["mid.bias"]
    keys["extra.weight"] = torch.zeros(2)
    torch.save(keys, root / "keys.pt")
    shape = dict(asym)
    shape["stem.weight"] = torch.zeros(8, 3, 5, 5)
    torch.save(shape, root / "shape.pt")
    torch.save(torch.rand(3), root / "tensor.pt")
    torch.save({"epoch": 1, "lr": 0.1}, root / "meta.pt")
    (root / "garbage.safetensors").write_bytes(b"not a safetensors file")

    torch.save(torch.ones(6, 3, 32, 32), root / "ones32.pt")
    torch.save(torch.ones(5, 3, 33, 33), root / "ones33.pt")
    np.save(root / "x.npy", np.random.default_rng(0).random((10, 3, 32, 32)).astype(np.float32))
    torch.save(torch.rand(4, 3, 40, 40), root / "x40.pt")
    torch.save(torch.randint(0, 255, (4, 3, 32, 32)), root / "int.pt")
    torch.save(torch.rand(4, 1, 32, 32), root / "gray.pt")
    torch.save(torch.rand(3, 32, 32), root / "three.pt")
    np.save(root / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return root


def stats_json(cli, cwd, *args):
    code, out, err = cli(cwd, "stats", *args, "--format", "json")
    return code, json.loads(out), err


def table_rows(out: str) -> list[dict]:
    """The rows of the stats table, as {column: cell} (cells hold single spaces only)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() and line.split()[0] == "layer")
    assert re.split(r"\s{2,}", lines[start].strip()) == TABLE_COLUMNS, lines[start]
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("padding: PAD101/PAD102 at this input size"):
            return rows
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == len(TABLE_COLUMNS), line
        rows.append(dict(zip(TABLE_COLUMNS, cells)))
    raise AssertionError("the table has no legend line after it:\n" + out)


def by_name(result) -> dict:
    return {entry["name"]: entry for entry in result["layers"]}


# --------------------------------------------------------------------------- text output

def test_text_at_224_header_table_order_matrices_and_summary(work, cli):
    code, out, err = cli(work, "stats", "net.py")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "net.py:Net @ 1x3x224x224 · initial weights (no --weights)"
    rows = table_rows(out)
    assert [r["layer"] for r in rows] == ["stem", "down", "mid"]       # stride 2 first
    assert [r["op"] for r in rows] == ["Conv2d k=3 s=2 p=1", "Conv2d k=3 s=2 p=1",
                                       "Conv2d k=3 s=1 p=1"]
    assert [r["padding"] for r in rows] == ["PAD101 H,W", "PAD101 H,W", "even"]
    assert all(r["patch asym."] == "-" for r in rows)                  # no --data
    assert all(re.fullmatch(r"H:\d+\.\d\d W:\d+\.\d\d", r["kernel asym."]) for r in rows), rows
    assert all(re.fullmatch(r"H:\d+\.\d W:\d+\.\d", r["vs noise"]) for r in rows), rows
    # matrices: one panel per conv, in table order, a kernel and a |kernel| matrix each
    titles = [line for line in lines if "(Conv2d k=3" in line and "mean" not in line]
    assert len(titles) == 1
    assert re.split(r"\s{2,}", titles[0].strip()) == [
        "stem (Conv2d k=3 s=2 p=1)", "down (Conv2d k=3 s=2 p=1)", "mid (Conv2d k=3 s=1 p=1)"]
    assert out.count("mean kernel") == 3 and out.count("mean |kernel|") == 3
    assert "mean input patch" not in out
    assert "more layers (--all-matrices" not in out
    assert lines[-2] == "net.py:Net @ 1x3x224x224: 3 convolution(s) measured, 0 finding(s)"
    assert lines[-1] == "No findings in 1 model run."
    assert "\x1b[" not in out                                         # not a terminal


def test_text_at_225_every_layer_is_even(work, cli):
    code, out, err = cli(work, "stats", "net.py", "--input-size", "225")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "net.py:Net @ 1x3x225x225 · initial weights (no --weights)"
    rows = table_rows(out)
    assert [r["layer"] for r in rows] == ["stem", "down", "mid"]
    assert [r["padding"] for r in rows] == ["even", "even", "even"]
    assert out.splitlines()[-2] == "net.py:Net @ 1x3x225x225: 3 convolution(s) measured, 0 finding(s)"


def test_text_with_asymmetric_weights_reports_pad301_and_exits_1(work, cli):
    code, out, err = cli(work, "stats", "net.py", "--weights", "asym.pt", "-s", "32")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == "net.py:Net @ 1x3x32x32 · weights asym.pt"
    rows = {r["layer"]: r for r in table_rows(out)}
    assert rows["stem"]["heavier"].startswith("H:top ")
    assert float(re.match(r"H:(\S+)", rows["stem"]["vs noise"]).group(1)) > 3
    # the mean kernel of stem: its top row is ~0.2 (x1e-01 -> about +2.00), the rest ~0
    i = next(i for i, line in enumerate(lines) if line.startswith("stem (Conv2d k=3 s=2 p=1)"))
    assert lines[i + 1].startswith("mean kernel ×1e-01")
    top = [float(v) for v in lines[i + 2].split()[:3]]
    assert all(abs(v - 2.0) < 0.15 for v in top), lines[i + 2]
    pad301 = [line for line in lines if " PAD301 " in line]
    assert len(pad301) == 1
    assert pad301[0].startswith(
        "net.py:9:21: PAD301 [warning] stem (Conv2d k=3 s=2 p=1) mean kernel is asymmetric on H: "
        "its top side is heavier (asymmetry ")
    assert ("x what channel noise over 24 kernels would give); the layer's padding is uneven on H "
            "at this input size (PAD101). Fix: train at an input size") in pad301[0]
    assert lines[-2] == "net.py:Net @ 1x3x32x32: 3 convolution(s) measured, 1 finding(s) (1 warning)"
    assert lines[-1] == "Found 1 finding (1 warning) in 1 model run."


def test_pad301_at_an_even_size_says_padding_does_not_explain_it(work, cli):
    code, out, err = cli(work, "stats", "net.py", "-w", "asym.pt", "-s", "33")
    assert (code, err) == (1, "")
    (line,) = [line for line in out.splitlines() if " PAD301 " in line]
    assert ("; its padding is even on H at this input size, so the padding arithmetic does not "
            "explain it here. Fix: ") in line


@pytest.mark.parametrize("flags, expected", [
    ([], 1),
    (["--exit-zero"], 0),
    (["--fail-on", "error"], 0),
    (["--fail-on", "warning"], 1),
    (["--fail-on", "info"], 1),
    (["--ignore", "PAD301"], 0),
    (["--select", "PAD302"], 0),
])
def test_exit_codes_with_pad301(work, cli, flags, expected):
    code, out, err = cli(work, "stats", "net.py", "-w", "asym.pt", "-s", "32", *flags)
    assert (code, err) == (expected, "")
    fired = " PAD301 [warning] stem " in out
    assert fired == (flags[:1] not in (["--ignore"], ["--select"]))


def test_symmetric_weights_exit_0_and_name_the_checkpoint(work, cli):
    code, out, err = cli(work, "stats", "net.py", "-w", "sym.pt", "-s", "32")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "net.py:Net @ 1x3x32x32 · weights sym.pt"
    assert "PAD301" not in out


@pytest.mark.parametrize("ckpt, label", [("wrapped.pt", "wrapped.pt[state_dict]"),
                                         ("asym.safetensors", "asym.safetensors")])
def test_checkpoint_dicts_and_safetensors_load(work, cli, ckpt, label):
    code, out, err = cli(work, "stats", "net.py", "-w", ckpt, "-s", "32")
    assert (code, err) == (1, "")                       # the asymmetric weights were loaded
    assert out.splitlines()[0] == f"net.py:Net @ 1x3x32x32 · weights {label}"
    code, doc, err = stats_json(cli, work, "net.py", "-w", ckpt, "-s", "32")
    assert doc["results"][0]["stats"]["weights"] == label
    assert [f["rule"] for f in doc["results"][0]["findings"]] == ["PAD301"]


def test_text_with_data_shows_mean_input_patches_and_pad302(work, cli):
    code, out, err = cli(work, "stats", "net.py", "--data", "ones32.pt")
    assert (code, err) == (0, "")                       # PAD302 is info
    lines = out.splitlines()
    assert lines[0] == ("net.py:Net @ 1x3x32x32 · initial weights (no --weights) · "
                        "data ones32.pt (6 samples)")
    rows = table_rows(out)
    assert [r["layer"] for r in rows] == ["stem", "down", "mid"]
    assert all(re.fullmatch(r"H:\d+\.\d\d W:\d+\.\d\d", r["patch asym."]) for r in rows), rows
    panels = [line for line in lines if " PAD302 " not in line]
    assert sum(line.count("mean input patch") for line in panels) == 3
    stem_h = [line for line in lines if line.startswith("net.py:9:21: PAD302 [info] stem ")]
    assert [line.split(" on ")[1][:1] for line in stem_h] == ["H", "W"]
    assert ("the windows read real input at 0.918 of positions in the top row of the patch but "
            "0.979 in the bottom row: the padding is used unevenly") in stem_h[0]
    assert lines[-1].startswith("Found ") and lines[-1].endswith(" info) in 1 model run.")


def test_text_one_sample_is_singular(work, cli):
    code, out, err = cli(work, "stats", "net.py", "-d", "x.npy", "--limit", "1", "--exit-zero")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == ("net.py:Net @ 1x3x32x32 · initial weights (no --weights) · "
                                   "data x.npy (1 sample)")


def test_all_matrices_prints_every_panel(tmp_path, cli):
    code, out, err = cli(tmp_path, "stats", "torchvision.models:resnet18", "-s", "32",
                         "--all-matrices")
    assert (code, err) == (0, "")
    assert out.count("mean kernel ×") == out.count("mean |kernel| ×") == 17
    assert "more layers (--all-matrices" not in out


# --------------------------------------------------------------------------- resnet18

def test_resnet18_text_with_weights_at_224(tmp_path, cli):
    import torchvision
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "r18.pt")
    code, out, err = cli(tmp_path, "stats", "torchvision.models:resnet18", "--weights", "r18.pt")
    assert (code, err) == (0, "")                      # freshly initialised: no PAD301
    lines = out.splitlines()
    assert lines[0] == "torchvision.models:resnet18 @ 1x3x224x224 · weights r18.pt"
    rows = table_rows(out)
    assert len(rows) == 17
    assert [r["layer"] for r in rows[:4]] == ["conv1", "layer2.0.conv1", "layer3.0.conv1",
                                             "layer4.0.conv1"]
    assert [r["op"] for r in rows[:4]] == ["Conv2d k=7 s=2 p=3"] + ["Conv2d k=3 s=2 p=1"] * 3
    assert [r["padding"] for r in rows[:4]] == ["PAD101 H,W"] * 4
    assert [r["layer"] for r in rows[4:7]] == ["layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1"]
    assert all(" s=1 " in r["op"] and r["padding"] == "even" for r in rows[4:])
    legend = next(line for line in lines if line.startswith("padding: PAD101/PAD102"))
    assert legend.endswith("; 3 1x1 convolution(s) passed over")
    assert out.count("mean kernel ×") == 16                # the first 16 panels by default
    assert "… and 1 more layers (--all-matrices prints them; --format json lists every matrix)" in lines
    assert lines[-2] == ("torchvision.models:resnet18 @ 1x3x224x224: 17 convolution(s) measured, "
                         "0 finding(s)")
    assert lines[-1] == "No findings in 1 model run."


def test_resnet18_json_at_225_is_even_and_skips_1x1(tmp_path, cli):
    code, doc, err = stats_json(cli, tmp_path, "torchvision.models:resnet18", "-s", "225")
    assert (code, err) == (0, "")
    (result,) = doc["results"]
    assert result["input_shape"] == [1, 3, 225, 225]
    assert result["stats"] == {"weights": None, "data": None, "samples": 0, "skipped_1x1": 3,
                               "missing_keys": [], "unexpected_keys": []}
    convs = [e for e in result["layers"] if "mean_kernel" in e]
    assert len(convs) == 17
    assert all(e["uneven"] == {} and e["mean_patch"] is None for e in convs)
    layers = by_name(result)
    assert "mean_kernel" not in layers["layer2.0.downsample.0"]       # 1x1: passed over
    conv1 = layers["conv1"]
    assert conv1["kernel_size"] == [7, 7] and conv1["stride"] == [2, 2]
    assert np.array(conv1["mean_kernel"]).shape == (7, 7)
    assert result["findings"] == []


# --------------------------------------------------------------------------- JSON

def test_json_facts_of_every_conv_without_data(work, cli):
    code, doc, err = stats_json(cli, work, "net.py", "-w", "asym.pt", "-s", "32")
    assert (code, err) == (1, "")
    assert doc["errors"] == []
    (result,) = doc["results"]
    assert result["target"] == "net.py:Net"
    assert result["input_shape"] == [1, 3, 32, 32]
    assert result["stats"] == {"weights": "asym.pt", "data": None, "samples": 0, "skipped_1x1": 0,
                               "missing_keys": [], "unexpected_keys": []}
    layers = by_name(result)
    assert [e["name"] for e in result["layers"]] == ["stem", "mid", "down"]   # execution order
    state = net_state()
    for name in ("stem", "mid", "down"):
        e = layers[name]
        mk, mak = np.array(e["mean_kernel"]), np.array(e["mean_abs_kernel"])
        assert mk.shape == mak.shape == (3, 3)
        w = state[f"{name}.weight"].double()
        np.testing.assert_allclose(mk, w.mean(dim=(0, 1)).numpy(), rtol=1e-3, atol=1e-7)
        np.testing.assert_allclose(mak, w.abs().mean(dim=(0, 1)).numpy(), rtol=1e-3)
        assert (mak >= np.abs(mk) - 1e-9).all()
        assert e["mean_patch"] is None and e["patch_asymmetry"] == {}
        assert set(e["asymmetry"]) == set(e["heavier"]) == set(e["significance"]) == {"H", "W"}
        assert e["kernel_size"] == [3, 3]
    assert layers["stem"]["stride"] == layers["down"]["stride"] == [2, 2]
    assert layers["mid"]["stride"] == [1, 1]
    assert layers["stem"]["uneven"] == layers["down"]["uneven"] == {"H": ["PAD101"], "W": ["PAD101"]}
    assert layers["mid"]["uneven"] == {}
    stem = layers["stem"]
    assert stem["heavier"]["H"] == "top"
    assert stem["asymmetry"]["H"] > 0.5 and stem["significance"]["H"] > 3
    assert stem["asymmetry"]["W"] < 0.5 or stem["significance"]["W"] < 3

    (f,) = result["findings"]
    assert (f["rule"], f["name"], f["severity"], f["layer"], f["axis"]) == \
        ("PAD301", "asymmetric-mean-kernel", "warning", "stem", "H")
    assert f["message"].startswith("mean kernel is asymmetric on H: its top side is heavier (asymmetry ")
    assert f["source"]["path"] == "net.py" and (f["source"]["line"], f["source"]["col"]) == (9, 21)
    assert f["op"] == "Conv2d k=3 s=2 p=1"
    assert f["data"]["channels"] == 24


def test_json_mean_patch_of_constant_data_is_the_window_coverage(work, cli):
    """On ones, each patch entry is the share of output positions at which that tap reads
    real input: at 32 the top/left taps of stem read the padding at 1 of 16 positions."""
    code, doc, err = stats_json(cli, work, "net.py", "--data", "ones32.pt")
    assert (code, err) == (0, "")
    (result,) = doc["results"]
    assert result["input_shape"] == [1, 3, 32, 32]                   # the data's size
    assert result["stats"]["data"] == "ones32.pt"
    assert result["stats"]["samples"] == 6
    stem = by_name(result)["stem"]
    c = np.array([15 / 16, 1.0, 1.0])
    np.testing.assert_allclose(np.array(stem["mean_patch"]), np.outer(c, c), rtol=1e-3)
    assert set(stem["patch_asymmetry"]) == {"H", "W"}
    pad302 = [(f["layer"], f["axis"]) for f in result["findings"] if f["rule"] == "PAD302"]
    assert ("stem", "H") in pad302 and ("stem", "W") in pad302
    assert all(f["severity"] == "info" for f in result["findings"])
    for f in result["findings"]:
        assert set(f) >= {"rule", "layer", "axis", "message"}
    (stem_h,) = [f for f in result["findings"] if (f["layer"], f["axis"]) == ("stem", "H")]
    assert stem_h["message"].startswith("mean input patch is asymmetric on H (asymmetry ")
    assert stem_h["message"].endswith(": the padding is used unevenly")
    assert "reads its top and bottom padding alike" in stem_h["fix"]

    # at 33 the stem reads its top and bottom padding alike: a symmetric patch, no PAD302 there
    code, doc, err = stats_json(cli, work, "net.py", "--data", "ones33.pt")
    assert (code, err) == (0, "")
    (result,) = doc["results"]
    assert result["input_shape"] == [1, 3, 33, 33]
    stem = by_name(result)["stem"]
    c = np.array([16 / 17, 1.0, 16 / 17])
    np.testing.assert_allclose(np.array(stem["mean_patch"]), np.outer(c, c), rtol=1e-3)
    assert not [f for f in result["findings"] if f["layer"] == "stem"]


# --------------------------------------------------------------------------- --data forms

def test_data_npy_with_limit(work, cli):
    code, doc, err = stats_json(cli, work, "net.py", "--data", "x.npy", "--limit", "3")
    assert (code, err) == (0, "")
    st = doc["results"][0]["stats"]
    assert (st["data"], st["samples"]) == ("x.npy", 3)
    assert all(np.array(e["mean_patch"]).shape == (3, 3)
               for e in doc["results"][0]["layers"] if "mean_kernel" in e)


def test_data_limit_above_the_data_counts_what_there_is(work, cli):
    code, doc, err = stats_json(cli, work, "net.py", "-d", "x.npy", "--limit", "100",
                                "--batch-size", "3")
    assert (code, err) == (0, "")
    assert doc["results"][0]["stats"]["samples"] == 10


def _png_folder(folder, n, size):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
            os.path.join(folder, f"{i}.png"))


def test_data_image_folder_is_resized_to_the_input_size(tmp_path, cli):
    write(tmp_path, "net.py", NET)
    _png_folder(tmp_path / "imgs", 5, 40)
    code, doc, err = stats_json(cli, tmp_path, "net.py", "--data", "imgs", "--input-size", "32",
                                "--limit", "4")
    assert (code, err) == (0, "")
    (result,) = doc["results"]
    assert result["input_shape"] == [1, 3, 32, 32]
    assert (result["stats"]["data"], result["stats"]["samples"]) == ("imgs", 4)
    assert np.array(by_name(result)["stem"]["mean_patch"]).shape == (3, 3)


def test_data_image_folder_size_is_the_default_input_size(tmp_path, cli):
    write(tmp_path, "net.py", NET)
    _png_folder(tmp_path / "imgs", 3, 64)
    code, out, err = cli(tmp_path, "stats", "net.py", "--data", "imgs")
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith("net.py:Net @ 1x3x64x64 · ")


def test_data_path_callable_returning_a_dataloader(work, cli):
    code, doc, err = stats_json(cli, work, "net.py", "--data", "loader.py:batches")
    assert (code, err) == (0, "")
    st = doc["results"][0]["stats"]
    assert (st["data"], st["samples"]) == ("loader.py:batches", 12)
    # --limit cuts inside a batch of 4
    code, doc, err = stats_json(cli, work, "net.py", "--data", "loader.py:batches", "--limit", "5")
    assert (code, err) == (0, "")
    assert doc["results"][0]["stats"]["samples"] == 5
    assert doc["results"][0]["input_shape"] == [1, 3, 32, 32]


def test_data_importable_module_callable(tmp_path, cli, monkeypatch):
    write(tmp_path, "net.py", NET)
    name = "stats_cli_data_source"                     # unique: the import is cached
    write(tmp_path, f"{name}.py", LOADER)
    monkeypatch.setattr(sys, "path", list(sys.path))   # the CLI puts the cwd on sys.path
    monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        code, doc, err = stats_json(cli, tmp_path, "net.py", "--data", f"{name}:batches",
                                    "--limit", "8")
    finally:
        sys.modules.pop(name, None)
    assert (code, err) == (0, "")
    st = doc["results"][0]["stats"]
    assert (st["data"], st["samples"]) == (f"{name}:batches", 8)


# --------------------------------------------------------------------------- bad input

BAD = [
    ("weights-missing", ["-w", "nope.pt"], ["--weights nope.pt: no such file"]),
    ("weights-keys", ["-w", "keys.pt"],
     ["--weights keys.pt: does not match net.py:Net: 1 missing (mid.bias); 1 unexpected "
      "(extra.weight); pass --no-strict to load the tensors that match"]),
    ("weights-shape", ["-w", "shape.pt"],
     ["--weights shape.pt: shapes differ from net.py:Net's in 1 tensor(s) (checkpoint vs model): "
      "stem.weight (8, 3, 5, 5) vs (8, 3, 3, 3); is it the same architecture?"]),
    ("weights-tensor", ["-w", "tensor.pt"],
     ["--weights tensor.pt: holds a Tensor, not a state_dict; save model.state_dict()"]),
    ("weights-dict-without-state", ["-w", "meta.pt"],
     ["--weights meta.pt: a dict with no state_dict in it (keys: 'epoch', 'lr')"]),
    ("weights-bad-safetensors", ["-w", "garbage.safetensors"],
     ["--weights garbage.safetensors: cannot read it as safetensors ("]),
    ("data-missing", ["-d", "nope.pt"],
     ["--data nope.pt: no such file or folder; give a .pt/.npy tensor, a folder of images, or "
      "module:callable returning batches"]),
    ("data-channels", ["-d", "gray.pt"], ["--data gray.pt: 1 channel(s), but net.py:Net takes 3"]),
    ("data-axes", ["-d", "three.pt"],
     ["--data three.pt: batches of shape (3, 32, 32) have 3 axes, but net.py:Net takes 4 (N, C, …)"]),
    ("data-int-dtype", ["-d", "int.pt"],
     ["--data int.pt: dtype int64 is not an image type; give float values (or uint8 0-255)"]),
    ("data-object-npy", ["-d", "obj.npy"],
     ["--data obj.npy: ", "unpickle", "numpy.save"]),
    ("data-callable-raises", ["-d", "loader.py:broken"],
     ["--data loader.py:broken: calling broken() failed (RuntimeError: disk on fire); it must take "
      "no argument and return batches"]),
    ("data-no-attr", ["-d", "loader.py:nothere"], ["--data loader.py:nothere: loader.py has no nothere"]),
    ("data-no-module", ["-d", "stats_cli_no_such_module:batches"],
     ["--data stats_cli_no_such_module:batches: cannot import stats_cli_no_such_module "
      "(ModuleNotFoundError"]),
    ("data-empty", ["-d", "loader.py:empty"], ["--data loader.py:empty: holds no batch"]),
    ("data-not-iterable", ["-d", "loader.py:number"],
     ["--data loader.py:number: gave a int, which is not an iterable of batches"]),
    ("limit-0", ["-d", "x.npy", "--limit", "0"], ["--limit 0: give a positive number of samples"]),
    ("limit-negative", ["-d", "x.npy", "--limit", "-3"], ["--limit -3: give a positive number"]),
    ("batch-size-0", ["-d", "x.npy", "--batch-size", "0"],
     ["--batch-size 0: give a positive number of samples"]),
]


@pytest.mark.parametrize("args, parts", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_error_line(work, cli, monkeypatch, args, parts):
    monkeypatch.setattr(sys, "path", list(sys.path))
    code, out, err = cli(work, "stats", "net.py", "-s", "32", *args)
    assert_one_error_line(code, out, err, *parts)


def test_malicious_pickle_is_refused_and_never_run(tmp_path, cli):
    write(tmp_path, "net.py", NET)
    marker = tmp_path / "PWNED"
    torch.save({"stem.weight": Evil(marker)}, tmp_path / "evil.pt")
    # control: a full unpickle runs the payload
    torch.load(tmp_path / "evil.pt", weights_only=False)["stem.weight"].close()
    assert marker.exists()
    marker.unlink()
    code, out, err = cli(tmp_path, "stats", "net.py", "--weights", "evil.pt")
    line = assert_one_error_line(code, out, err, "--weights evil.pt: refused: ",
                                 "pickled Python code", "torch.save(model.state_dict(), path)")
    assert "io.open" in line, line                     # it names what the pickle would call
    assert not marker.exists()


def test_no_strict_loads_what_matches_and_lists_the_rest(work, cli):
    code, out, err = cli(work, "stats", "net.py", "-w", "keys.pt", "--no-strict", "-s", "32")
    assert (code, err) == (1, "")                      # stem's asymmetric weights were loaded
    lines = out.splitlines()
    assert lines[0] == "net.py:Net @ 1x3x32x32 · weights keys.pt"
    assert lines[1] == "1 tensor(s) missing from the checkpoint (left as built): mid.bias"
    assert lines[2] == "1 tensor(s) in the checkpoint but not in the model (ignored): extra.weight"
    assert " PAD301 [warning] stem " in out
    code, doc, err = stats_json(cli, work, "net.py", "-w", "keys.pt", "--no-strict", "-s", "32")
    st = doc["results"][0]["stats"]
    assert (st["missing_keys"], st["unexpected_keys"]) == (["mid.bias"], ["extra.weight"])


def test_data_size_differs_from_explicit_input_size(work, cli):
    code, out, err = cli(work, "stats", "net.py", "-s", "32", "--data", "x40.pt")
    assert_one_error_line(code, out, err, "--data x40.pt: its inputs are 40x40, but --input-size "
                          "is 32x32; drop --input-size")


def test_data_failing_mid_stream(work, cli):
    code, out, err = cli(work, "stats", "net.py", "--data", "loader.py:mixed")
    assert_one_error_line(code, out, err, "net.py:Net: running it on --data loader.py:mixed failed "
                          "(RuntimeError", "run with --debug for the traceback")


def test_data_later_batch_of_another_size(work, cli):
    code, out, err = cli(work, "stats", "net.py", "-s", "32", "--data", "loader.py:ragged")
    assert_one_error_line(code, out, err, "--data loader.py:ragged", "40x40")


def test_model_that_cannot_run_at_the_input_size(work, cli):
    code, out, err = cli(work, "stats", "fixed.py", "-s", "33")
    assert_one_error_line(code, out, err, "fixed.py:Fixed: its forward fails at input 33x33",
                          "run with --debug for the traceback")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("data", [[], ["-d", "x.npy"]], ids=["no-data", "data"])
def test_device_cuda_without_cuda(work, cli, data):
    code, out, err = cli(work, "stats", "net.py", "-s", "32", "--device", "cuda", *data)
    assert_one_error_line(code, out, err, "--device cuda: CUDA is not available")


def test_two_models_in_one_file_must_name_one(work, cli):
    code, out, err = cli(work, "stats", "two.py")
    assert_one_error_line(code, out, err, "two.py: defines 2 models (two.py:A, two.py:B)",
                          "name it as path.py:Name")
    code, out, err = cli(work, "stats", "two.py:B", "-s", "32")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "two.py:B @ 1x3x32x32 · initial weights (no --weights)"


def test_two_models_message_does_not_talk_about_a_sweep(work, cli):
    code, out, err = cli(work, "stats", "two.py")
    line = assert_one_error_line(code, out, err)
    assert "sweep" not in line, line


def test_debug_shows_the_traceback(work, cli):
    code, out, err = cli(work, "stats", "net.py", "-w", "nope.pt", "--debug")
    assert (code, out) == (2, "")
    assert err.startswith("Traceback (most recent call last):")
    assert "padlint.errors.PadlintError: --weights nope.pt: no such file" in err
    assert err.splitlines()[-1] == "padlint: error: --weights nope.pt: no such file"


# --------------------------------------------------------------------------- end to end

def test_real_command_prints_pure_json(work):
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run([sys.executable, "-m", "padlint", "stats", "net.py", "-w", "asym.pt",
                           "-d", "loader.py:batches", "--limit", "6", "--format", "json"],
                          cwd=str(work), capture_output=True, text=True, timeout=300, env=env)
    assert (proc.returncode, proc.stderr) == (1, "")
    doc = json.loads(proc.stdout)
    st = doc["results"][0]["stats"]
    assert (st["weights"], st["data"], st["samples"]) == ("asym.pt", "loader.py:batches", 6)
    assert "PAD301" in [f["rule"] for f in doc["results"][0]["findings"]]


# --------------------------------------------------------------------------- rules

def test_rules_lists_pad301_and_pad302(cli, tmp_path):
    code, out, err = cli(tmp_path, "rules")
    assert (code, err) == (0, "")
    rows = {line.split()[0]: re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line.strip()}
    assert rows["PAD301"][:3] == ["PAD301", "asymmetric-mean-kernel", "warning"]
    assert rows["PAD302"][:3] == ["PAD302", "asymmetric-input-patch", "info"]
    code, out, err = cli(tmp_path, "rules", "--format", "json")
    listed = {r["code"]: r for r in json.loads(out)}
    assert listed["PAD301"]["severity"] == "warning" and listed["PAD302"]["severity"] == "info"


@pytest.mark.parametrize("code_arg, first", [
    ("PAD301", "PAD301 asymmetric-mean-kernel (warning): a convolution's learned kernels are, "
               "on average, heavier on one side"),
    ("pad302", "PAD302 asymmetric-input-patch (info): the mean input window a convolution sees "
               "over a dataset is lopsided"),
])
def test_rule_prints_the_docs(cli, tmp_path, code_arg, first):
    code, out, err = cli(tmp_path, "rule", code_arg)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == first
    for section in ("What it does", "Why is this bad?", "Example", "Use instead", "References",
                    "Message"):
        assert section in lines, section
    assert "padlint stats TARGET" in out
    assert "Mind the Pad" in out


def test_progress_bar_on_a_terminal_counts_the_samples(work, cli, monkeypatch):
    """On a terminal, --data shows a rich progress bar on stderr (transient: stdout keeps
    only the report); in a pipe there is none."""
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term, pipe = Terminal(), sys.stderr
    monkeypatch.setattr(sys, "stderr", term)
    code, out, _ = cli(work, "stats", "net.py", "--data", "loader.py:batches", "--limit", "8")
    assert code == 0 and out.startswith("net.py:Net @ 1x3x32x32 · ")
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.getvalue())
    assert "mean patches" in shown and "8/8 samples" in shown, shown
    term.seek(0)
    term.truncate()
    code, out, _ = cli(work, "stats", "net.py", "--data", "x.npy")    # no --limit: the data's size
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.getvalue())
    assert code == 0 and "10/10 samples" in shown, shown
    monkeypatch.setattr(sys, "stderr", pipe)
    code, out, err = cli(work, "stats", "net.py", "--data", "loader.py:batches", "--limit", "8")
    assert (code, err) == (0, "") and out.startswith("net.py:Net @ 1x3x32x32 · ")


def test_a_list_of_input_sizes_is_one_error_line(work, cli):
    """stats analyses one size; a comma list is refused rather than cut to its first size."""
    code, out, err = cli(work, "stats", "net.py", "-s", "32,33")
    assert_one_error_line(code, out, err, "--input-size 32,33: padlint stats analyses one input "
                          "size; give one (padlint check runs each size of a list)")


def test_weights_naming_a_folder_says_so(work, cli):
    (work / "ckpts").mkdir(exist_ok=True)
    code, out, err = cli(work, "stats", "net.py", "-w", "ckpts", "-s", "32")
    assert_one_error_line(code, out, err, "--weights ckpts: is a folder; give the checkpoint "
                          "file in it (a .pt/.pth state_dict or a .safetensors file)")
