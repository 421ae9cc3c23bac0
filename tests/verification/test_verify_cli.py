"""`padlint check --verify` through the command line: the text, JSON, SARIF and GitHub
output of the verify stage, `--device`, `--baselines`, `--images` (happy paths and the
bad-input matrix: exit 2, one `padlint: error: --images PATH: ...` line, nothing on
stdout, no traceback unless --debug), `--batch-size`, the `[tool.padlint] verify`
configuration, and PAD201 with its `# noqa`.

Speed: most cases call ``padlint.cli.main`` in this process with ``--timeout 0`` (the
same code path as the command) on a one-conv model at 32x32; a few run the real command
(default child-process path) end to end.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from cli_helpers import ERROR_PREFIX, assert_one_error_line, write
from model_sources import ROLL_LINE, rolled
from padlint.output.heatmap import SHADES
from padlint.verification.baselines import check_images, load_images

NUM = r"[0-9][0-9.e+-]*"

# One 3x3 stride-2 conv: at 32x32 PAD101 (warning) on H and W (line 7); 33x33 is clean.
STRIDED = """\
from torch import nn
import torch  # seeded below: PAD202 depends on the weights

class Strided(nn.Module):
    def __init__(self):
        super().__init__(); torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
"""

# The same conv with fixed weights, so two runs can be compared.
SEEDED = """\
import torch
from torch import nn


class Seeded(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
"""


def images_array(n=4, c=3, h=32, w=32, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, size=(n, c, h, w), dtype=np.uint8)
    return rng.random((n, c, h, w)).astype(dtype)


def run_cli(cwd, *args, timeout=300):
    """The real command in a child process (the default --timeout: its own child too)."""
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "padlint", *map(str, args)], cwd=str(cwd),
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def strided(tmp_path):
    write(tmp_path, "strided.py", STRIDED)
    return tmp_path


def verify_json(cli, cwd, *args):
    code, out, err = cli(cwd, "check", *args, "--timeout", "0", "--format", "json")
    doc = json.loads(out) if out else None
    return code, doc, err


# --------------------------------------------------------------------------- text output

def test_text_output_confirms_pad101_prints_probe_summary_and_plain_heatmap(strided):
    """The default child-process path, end to end; stdout is a pipe, so no colour."""
    proc = run_cli(strided, "check", "strided.py", "-s", "32", "--verify", "--device", "cpu")
    assert proc.returncode == 1, proc.stderr          # PAD101 warnings
    assert proc.stderr == ""
    out = proc.stdout
    assert "\x1b[" not in out and "▀" not in out      # no colour, no half blocks
    lines = out.splitlines()

    pad101 = [line for line in lines if " PAD101 [warning] " in line]
    assert [line.split(" on ")[1][:4] for line in pad101] == ["H, W"]      # one line for both
    for line in pad101:
        assert line.startswith("strided.py:7:21: PAD101 [warning] conv (Conv2d k=3 s=2 p=1) ")
        m = re.search(rf" \[confirmed: asymmetry ({NUM}) on H, ({NUM}) on W at 32x32, ({NUM}) at 33x33\]$", line)
        assert m, line
        assert float(m.group(1)) > 1e-3 and float(m.group(2)) > 1e-3 and float(m.group(3)) == 0.0

    summary = [line for line in lines if "symmetric-kernel probe" in line]
    assert len(summary) == 1
    assert re.fullmatch(r"  symmetric-kernel probe \(float64, cpu\): 1 of 1 windowed outputs "
                        rf"asymmetric at 32x32, 0 of 1 at 33x33 \(worst {NUM}\); origins: conv "
                        r"\(H, W\); 2 of 2 PAD101/PAD102 findings confirmed", summary[0]), summary[0]

    caption = [i for i, line in enumerate(lines) if "mean feature maps" in line]
    assert len(caption) == 1
    i = caption[0]
    assert lines[i].startswith("  mean feature maps of the flagged layers on the constant baseline "
                               "(mean over batch and channels; ' ' lowest")
    assert lines[i + 1].startswith("conv 16x16")
    # the 16x16 map, without colour: 12 rows of 12 cells, each cell one shade character twice
    grid = lines[i + 2:i + 2 + 12]
    for row in grid:
        cells = row[:24]
        assert len(cells) == 24 and set(cells) <= set(SHADES), repr(row)
        assert all(cells[k] == cells[k + 1] for k in range(0, 24, 2)), repr(row)
        assert row[24:].strip() == ""
    assert lines[i + 14].strip() == ""                 # the map ends after 12 rows
    assert len({row[:24] for row in grid}) > 1         # a border artifact shows
    # the one-row border covers 23 % of the 16x16 map, below PAD202's 75 %: no PAD202
    assert lines[-1] == "Found 2 findings (2 warning) in 1 model run."


def test_text_heatmap_caption_names_images_when_there_is_no_constant_baseline(strided, cli):
    np.save(strided / "imgs.npy", images_array())
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--baselines", "zeros", "--images", "imgs.npy", "--device", "cpu")
    assert (code, err) == (1, "")
    assert "  mean feature maps of the flagged layers on the images baseline " in out


# --------------------------------------------------------------------------- JSON

def test_json_carries_verification_facts_and_statuses(strided, cli):
    code, doc, err = verify_json(cli, strided, "strided.py", "-s", "32", "--verify", "--device", "cpu",
                                 "--baselines", "constant,random,zeros")
    assert (code, err) == (1, "")
    (result,) = doc["results"]
    v = result["verification"]
    assert set(v) == {"device", "baselines", "probe", "clean_probe", "maps"}
    assert v["device"] == "cpu"
    assert v["baselines"] == ["constant", "random", "zeros"]

    probe = v["probe"]
    assert probe["input_shape"] == [1, 3, 32, 32]
    assert probe["dtype"] == "float64"
    assert probe["windowed"] == 1
    assert probe["asymmetric"] == ["conv"]
    (origin,) = probe["origins"]
    assert (origin["node"], origin["op"], origin["axes"]) == ("conv", "Conv2d", ["H", "W"])
    assert probe["worst"] == max(origin["asymmetry"].values()) > 1e-3

    clean = v["clean_probe"]
    assert clean["input_shape"] == [1, 3, 33, 33]
    assert (clean["dtype"], clean["windowed"], clean["asymmetric"], clean["origins"]) == \
        ("float64", 1, [], [])
    assert clean["worst"] == 0.0

    assert list(v["maps"]) == ["conv"]
    assert sorted(v["maps"]["conv"]) == ["constant", "random", "zeros"]
    for baseline, m in v["maps"]["conv"].items():
        assert set(m) == {"magnitude", "extent", "cover", "asymmetry", "scale"}, baseline
        assert set(m["extent"]) == {"top", "bottom", "left", "right"}
        assert set(m["asymmetry"]) == {"H", "W"}
    zeros = v["maps"]["conv"]["zeros"]          # a zero input gives a flat map (the bias)
    assert zeros["magnitude"] == 0.0 and set(zeros["extent"].values()) == {0}

    pad101 = [f for f in result["findings"] if f["rule"] == "PAD101"]
    assert [f["axis"] for f in pad101] == ["H", "W"]
    for f in pad101:
        s = f["verification"]
        assert s["status"] == "confirmed"
        assert (s["input_shape"], s["dtype"], s["probe"]) == ([32, 32], "float64", "model")
        assert (s["clean_shape"], s["clean_asymmetry"]) == ([33, 33], 0.0)
        assert s["asymmetry"] == origin["asymmetry"][f["axis"]]


def test_json_without_verify_has_no_verification_anywhere(strided, cli):
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--format", "json")
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert [f["rule"] for f in doc["results"][0]["findings"]] == ["PAD101", "PAD101"]
    assert "verification" not in out


def test_no_verify_flag_wins_over_device_and_baselines(strided, cli):
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0", "--format",
                         "json", "--device", "cpu", "--baselines", "constant", "--no-verify")
    assert (code, err) == (1, "")
    assert "verification" not in out


# --------------------------------------------------------------------------- --baselines

def test_baselines_constant_only(strided, cli):
    code, doc, err = verify_json(cli, strided, "strided.py", "-s", "32", "--baselines", "constant",
                                 "--device", "cpu")
    assert (code, err) == (1, "")       # --baselines turns verification on by itself
    v = doc["results"][0]["verification"]
    assert v["baselines"] == ["constant"]
    assert {layer: list(per) for layer, per in v["maps"].items()} == {"conv": ["constant"]}


@pytest.mark.parametrize("value", ["nonsense", "constant,nonsense"])
def test_unknown_baseline_is_one_line(strided, cli, value):
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--baselines", value)
    assert_one_error_line(code, out, err, "'nonsense'", "constant", "random", "zeros")


# --------------------------------------------------------------------------- --device

@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_device_cuda_without_cuda_is_one_line_end_to_end(strided):
    proc = run_cli(strided, "check", "strided.py", "-s", "32", "--device", "cuda")
    assert_one_error_line(proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("padlint: error: --device cuda: CUDA is not available"), proc.stderr


def test_device_cuda_unavailable_and_auto_falls_back_to_cpu(strided, cli, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--device", "cuda")
    line = assert_one_error_line(code, out, err)
    assert line.startswith("padlint: error: --device cuda: CUDA is not available")
    assert "use cpu, or auto" in line

    code, doc, err = verify_json(cli, strided, "strided.py", "-s", "32", "--device", "auto",
                                 "--baselines", "constant")
    assert (code, err) == (1, "")
    assert doc["results"][0]["verification"]["device"] == "cpu"


@pytest.mark.skipif(bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
                    reason="MPS is available here")
def test_device_mps_without_mps_is_one_line(strided, cli):
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--device", "mps")
    assert_one_error_line(code, out, err, "--device mps:", "use cpu")


# --------------------------------------------------------------------------- --images: bad input

class WritesMarker:
    """Unpickling this runs open(marker, "w"): code execution that weights_only must refuse."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _bad_images(kind, root):
    """(the --images argument, parts the error line must hold)."""
    if kind == "missing":
        return "missing.npy", ["--images missing.npy: no such file or folder"]
    if kind == "txt":
        write(root, "imgs.txt", "not a tensor\n")
        return "imgs.txt", ["--images imgs.txt: unknown kind of file", ".pt or .npy"]
    if kind == "ndim2":
        np.save(root / "flat.npy", np.zeros((32, 32), np.float32))
        return "flat.npy", ["--images flat.npy: shape 32x32 is not (N, C, H, W)"]
    if kind == "int64":
        np.save(root / "ints.npy", np.zeros((2, 3, 32, 32), np.int64))
        return "ints.npy", ["--images ints.npy: dtype int64 is not an image type", "uint8"]
    if kind == "bool":
        np.save(root / "mask.npy", np.zeros((2, 3, 32, 32), bool))
        return "mask.npy", ["--images mask.npy: dtype bool is not an image type"]
    if kind == "channels":
        np.save(root / "gray.npy", images_array(c=1))
        return "gray.npy", ["--images gray.npy: 1 channel, but strided.py:Strided takes 3",
                            "(N, 3, 32, 32)"]
    if kind == "spatial":
        np.save(root / "big.npy", images_array(h=40, w=40))
        return "big.npy", ["--images big.npy: images are 40x40", "analysed at 32x32",
                           "--input-size 40x40"]
    if kind == "axes":
        np.save(root / "vol.npy", np.zeros((2, 3, 4, 32, 32), np.float32))
        return "vol.npy", ["--images vol.npy: shape 2x3x4x32x32 has 5 axes", "takes 4"]
    if kind == "corrupt":
        (root / "noise.npy").write_bytes(np.random.default_rng(1).bytes(512))
        return "noise.npy", ["--images noise.npy: it is not a numeric .npy array", "numpy.save"]
    if kind == "pickle-dict":
        torch.save({"images": torch.zeros(2, 3, 32, 32), "meta": WritesMarker(str(root / "MARKER"))},
                   root / "obj.pt")
        return "obj.pt", ["--images obj.pt: it holds pickled Python objects", "never loads"]
    if kind == "pickle-object":
        torch.save(WritesMarker(str(root / "MARKER")), root / "evil.pt")
        return "evil.pt", ["--images evil.pt: it holds pickled Python objects", "could run code"]
    if kind == "list":
        torch.save([torch.zeros(2, 3, 32, 32)], root / "list.pt")
        return "list.pt", ["--images list.pt: holds a list, not a tensor"]
    if kind == "nan":
        a = images_array()
        a[1, 2, 3, 4] = np.nan
        np.save(root / "nan.npy", a)
        return "nan.npy", ["--images nan.npy: holds NaN or infinite values"]
    if kind == "inf":
        a = images_array()
        a[0, 0, 0, 0] = np.inf
        np.save(root / "inf.npy", a)
        return "inf.npy", ["--images inf.npy: holds NaN or infinite values"]
    if kind == "empty-folder":
        (root / "empty").mkdir()
        return "empty", ["--images empty: the folder has no image file", ".png"]
    if kind == "n0":
        np.save(root / "none.npy", np.zeros((0, 3, 32, 32), np.float32))
        return "none.npy", ["--images none.npy: shape 0x3x32x32 holds no image"]
    raise AssertionError(kind)


BAD_IMAGES = ["missing", "txt", "ndim2", "int64", "bool", "channels", "spatial", "axes", "corrupt",
              "pickle-dict", "pickle-object", "list", "nan", "inf", "empty-folder", "n0"]


@pytest.mark.parametrize("kind", BAD_IMAGES)
def test_bad_images_are_one_line(strided, cli, kind):
    arg, parts = _bad_images(kind, strided)
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--device", "cpu", "--images", arg)
    line = assert_one_error_line(code, out, err, *parts)
    assert line.startswith(f"{ERROR_PREFIX}--images {arg}: "), line
    assert not (strided / "MARKER").exists()


def test_pickle_payload_never_runs_even_in_the_child_process(strided):
    marker = strided / "MARKER"
    torch.save(WritesMarker(str(marker)), strided / "evil.pt")
    proc = run_cli(strided, "check", "strided.py", "-s", "32", "--device", "cpu",
                   "--images", "evil.pt")
    assert_one_error_line(proc.returncode, proc.stdout, proc.stderr, "--images evil.pt: it holds pickled")
    assert not marker.exists()
    # the payload is real: an unrestricted load runs it
    torch.load(strided / "evil.pt", weights_only=False)
    assert marker.exists()


def test_refused_pickle_error_line_has_no_terminal_escapes(strided, cli):
    torch.save(WritesMarker(str(strided / "MARKER")), strided / "evil.pt")
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--device", "cpu", "--images", "evil.pt")
    assert_one_error_line(code, out, err, "--images evil.pt")
    assert "\x1b" not in err, repr(err)


def test_images_error_with_debug_shows_a_traceback(strided, cli):
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--images", "missing.npy", "--debug")
    assert code == 2 and out == ""
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == f"{ERROR_PREFIX}--images missing.npy: no such file or folder"


def test_bad_image_file_in_a_folder_is_one_line(strided, cli):
    pytest.importorskip("PIL")
    (strided / "imgs").mkdir()
    (strided / "imgs" / "x.png").write_bytes(b"not a png")
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--images", "imgs")
    assert_one_error_line(code, out, err, "x.png: cannot read it as an image")


# --------------------------------------------------------------------------- --images: accepted

@pytest.mark.parametrize("kind", ["float32-npy", "float64-npy", "uint8-npy", "float-pt", "bfloat16-pt"])
def test_images_tensors_are_accepted(strided, cli, kind):
    if kind.endswith("npy"):
        dtype = {"float32": np.float32, "float64": np.float64, "uint8": np.uint8}[kind.split("-")[0]]
        np.save(strided / "imgs.npy", images_array(dtype=dtype))
        arg = "imgs.npy"
    else:
        t = torch.from_numpy(images_array())
        torch.save(t.bfloat16() if kind.startswith("bfloat16") else t, strided / "imgs.pt")
        arg = "imgs.pt"
    code, doc, err = verify_json(cli, strided, "strided.py", "-s", "32", "--device", "cpu",
                                 "--baselines", "constant", "--images", arg)
    assert (code, err) == (1, "")       # PAD101; --images turns verification on by itself
    v = doc["results"][0]["verification"]
    assert v["baselines"] == ["constant", "images"]
    assert sorted(v["maps"]["conv"]) == ["constant", "images"]
    assert [f["verification"]["status"] for f in doc["results"][0]["findings"]
            if f["rule"] == "PAD101"] == ["confirmed", "confirmed"]


def test_uint8_images_are_scaled_to_unit_range(tmp_path, cli):
    """uint8 u and float32 u / 255 give the same maps (fixed weights)."""
    write(tmp_path, "seeded.py", SEEDED)
    u8 = images_array(dtype=np.uint8)
    np.save(tmp_path / "u8.npy", u8)
    np.save(tmp_path / "f32.npy", u8.astype(np.float32) / 255.0)
    maps = {}
    for name in ("u8", "f32"):
        code, doc, err = verify_json(cli, tmp_path, "seeded.py", "-s", "32", "--device", "cpu",
                                     "--baselines", "zeros", "--images", f"{name}.npy")
        assert (code, err) == (1, "")
        maps[name] = doc["results"][0]["verification"]["maps"]["conv"]["images"]
    assert maps["u8"]["magnitude"] == pytest.approx(maps["f32"]["magnitude"], rel=1e-3)
    assert maps["u8"]["extent"] == maps["f32"]["extent"]
    assert maps["u8"]["asymmetry"] == pytest.approx(maps["f32"]["asymmetry"], rel=1e-3)
    # the maps' measures are relative to the median, so check the scaling itself too
    a = load_images(str(tmp_path / "u8.npy")).array
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, u8.astype(np.float32) / 255.0, rtol=1e-6)


def test_batch_size_does_not_change_the_images_maps(tmp_path, cli):
    write(tmp_path, "seeded.py", SEEDED)
    np.save(tmp_path / "imgs.npy", images_array(n=5))
    maps = []
    for batch in ("1", "2", "8"):
        code, doc, err = verify_json(cli, tmp_path, "seeded.py", "-s", "32", "--device", "cpu",
                                     "--baselines", "constant", "--images", "imgs.npy",
                                     "--batch-size", batch)
        assert (code, err) == (1, "")
        maps.append(doc["results"][0]["verification"]["maps"]["conv"]["images"])
    for m in maps[1:]:
        assert m["magnitude"] == pytest.approx(maps[0]["magnitude"], rel=1e-3)
        assert m["extent"] == maps[0]["extent"]


def test_folder_of_images_is_accepted_and_resized(strided, cli):
    Image = pytest.importorskip("PIL.Image")
    folder = strided / "imgs"
    folder.mkdir()
    left_white = np.zeros((16, 24, 3), np.uint8)               # H=16, W=24: left half white
    left_white[:, :12] = 255
    Image.fromarray(left_white).save(folder / "a.png")
    Image.fromarray(left_white[..., 0]).save(folder / "b.png")                  # grayscale
    Image.fromarray(np.dstack([left_white, np.full((16, 24, 1), 255, np.uint8)])).save(folder / "c.png")
    (folder / "notes.txt").write_text("not an image")                           # passed over

    code, doc, err = verify_json(cli, strided, "strided.py", "-s", "32", "--device", "cpu",
                                 "--images", "imgs")
    assert (code, err) == (1, "")
    v = doc["results"][0]["verification"]
    assert v["baselines"] == ["constant", "random", "images"]
    assert "images" in v["maps"]["conv"]

    # resized to the analysed size, H x W the right way round, values in [0, 1]
    data = check_images(load_images(str(folder)), (1, 3, 32, 48), "strided.py:Strided")
    assert data.shape == (3, 3, 32, 48) and data.dtype == np.float32
    assert data.min() == 0.0 and data.max() == 1.0
    assert np.allclose(data[:, :, :, :20], 1.0) and np.allclose(data[:, :, :, 28:], 0.0)
    code, out, err = cli(strided, "check", "strided.py", "-s", "32x48", "--timeout", "0",
                         "--device", "cpu", "--baselines", "constant", "--images", "imgs")
    assert (code, err) == (1, "")


# --------------------------------------------------------------------------- --batch-size

@pytest.mark.parametrize("value", ["0", "-2"])
def test_batch_size_below_one_is_one_line(strided, cli, value):
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--verify", "--batch-size", value)
    assert_one_error_line(code, out, err, f"--batch-size {value}", "positive number")


def test_batch_size_zero_is_rejected_without_verify_too(strided, cli):
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--batch-size", "0")
    assert_one_error_line(code, out, err, "--batch-size 0")


# --------------------------------------------------------------------------- configuration

def test_config_verify_true_turns_verification_on(strided, cli):
    write(strided, "pyproject.toml", "[tool.padlint]\nverify = true\n")
    code, doc, err = verify_json(cli, strided, "strided.py", "-s", "32")
    assert (code, err) == (1, "")
    assert doc["results"][0]["verification"]["baselines"] == ["constant", "random"]
    assert all(f["verification"]["status"] == "confirmed"
               for f in doc["results"][0]["findings"] if f["rule"] == "PAD101")


VERIFY_TABLE = ('[tool.padlint.verify]\nenabled = true\ndevice = "cpu"\nbaselines = ["constant"]\n'
                'images = "data/imgs.npy"\n')


@pytest.mark.parametrize("where", ["root", "subfolder", "subfolder --config", "elsewhere --config"])
def test_config_verify_table_is_used_with_images_relative_to_the_root(tmp_path, cli, where):
    root = tmp_path / "proj"
    write(root, "pyproject.toml", VERIFY_TABLE)
    write(root, "model.py", STRIDED)
    (root / "data").mkdir()
    np.save(root / "data" / "imgs.npy", images_array())
    cwd = {"root": root, "subfolder": root / "sub", "subfolder --config": root / "sub",
           "elsewhere --config": tmp_path / "other"}[where]
    cwd.mkdir(exist_ok=True)
    args = [os.path.relpath(root / "model.py", cwd), "-s", "32"]
    if "--config" in where:
        args += ["--config", os.path.relpath(root / "pyproject.toml", cwd)]
    code, doc, err = verify_json(cli, cwd, *args)
    assert (code, err) == (1, "")
    v = doc["results"][0]["verification"]
    assert (v["device"], v["baselines"]) == ("cpu", ["constant", "images"])
    assert sorted(v["maps"]["conv"]) == ["constant", "images"]


def test_no_verify_turns_the_configured_verification_off(strided, cli):
    # the configured images do not exist: with --no-verify they are never read
    write(strided, "pyproject.toml", '[tool.padlint.verify]\nenabled = true\nimages = "nope.npy"\n')
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--format", "json", "--no-verify")
    assert (code, err) == (1, "")
    assert "verification" not in out
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0")
    assert_one_error_line(code, out, err, "--images", "nope.npy")


def test_config_enabled_false_is_off_but_image_flag_turns_it_on(strided, cli):
    write(strided, "pyproject.toml", '[tool.padlint.verify]\nenabled = false\ndevice = "cpu"\n'
                                     'baselines = ["zeros"]\n')
    np.save(strided / "x.npy", images_array())
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--format", "json")
    assert (code, err) == (1, "")
    assert "verification" not in out
    code, doc, err = verify_json(cli, strided, "strided.py", "-s", "32", "--images", "x.npy")
    assert (code, err) == (1, "")
    v = doc["results"][0]["verification"]
    assert (v["device"], v["baselines"]) == ("cpu", ["zeros", "images"])  # the rest of the table holds


def test_isolated_ignores_the_configured_verification(strided, cli):
    write(strided, "pyproject.toml", "[tool.padlint]\nverify = true\n")
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0",
                         "--format", "json", "--isolated")
    assert (code, err) == (1, "")
    assert "verification" not in out


def test_configured_cuda_without_cuda_is_one_line(strided, cli, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    write(strided, "pyproject.toml", '[tool.padlint.verify]\nenabled = true\ndevice = "cuda"\n')
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0")
    assert_one_error_line(code, out, err, "CUDA is not available")


def test_configured_cuda_error_names_the_configuration_file(strided, cli, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    write(strided, "pyproject.toml", '[tool.padlint.verify]\nenabled = true\ndevice = "cuda"\n')
    code, out, err = cli(strided, "check", "strided.py", "-s", "32", "--timeout", "0")
    assert_one_error_line(code, out, err, "pyproject.toml")


# --------------------------------------------------------------------------- PAD201 and formats

def test_pad201_names_the_roll_and_noqa_silences_it(tmp_path, cli):
    write(tmp_path, "rolled.py", rolled())
    base = ("-s", "32", "--timeout", "0", "--device", "cpu", "--baselines", "constant")
    code, out, err = cli(tmp_path, "check", "rolled.py", "--timeout", "0", "-s", "32")
    assert (code, err) == (0, "")                     # nothing static to find
    assert "No findings in 1 model run." in out

    code, out, err = cli(tmp_path, "check", "rolled.py", *base)
    assert (code, err) == (1, "")
    (line,) = [line for line in out.splitlines() if " PAD201 " in line]
    assert re.match(rf"rolled\.py:{ROLL_LINE}:\d+: PAD201 \[warning\] roll \(torch\.roll\) .* on W ",
                    line), line
    assert not [line for line in out.splitlines() if "[warning]" in line and " PAD201 " not in line]
    assert "origins: roll (W)" in out

    write(tmp_path, "rolled.py", rolled("  # noqa: PAD201"))
    code, out, err = cli(tmp_path, "check", "rolled.py", *base, "--fail-on", "warning")
    assert (code, err) == (0, "")
    assert " PAD201 " not in out and "1 suppressed" in out
    code, out, err = cli(tmp_path, "check", "rolled.py", *base, "--show-suppressed")
    assert code == 0
    (line,) = [line for line in out.splitlines() if " PAD201 " in line]
    assert line.startswith(f"rolled.py:{ROLL_LINE}:") and "[suppressed by noqa at " in line


def test_sarif_and_github_carry_pad201(tmp_path, cli):
    write(tmp_path, "rolled.py", rolled())
    base = ("check", "rolled.py", "-s", "32", "--timeout", "0", "--verify", "--device", "cpu",
            "--baselines", "constant")
    code, out, err = cli(tmp_path, *base, "--format", "sarif")
    assert (code, err) == (1, "")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    pad201 = [r for r in results if r["ruleId"] == "PAD201"]
    assert len(pad201) == 1
    assert pad201[0]["level"] == "warning"
    region = pad201[0]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"].endswith("rolled.py")
    assert region["region"]["startLine"] == ROLL_LINE
    assert "PAD201" in [rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]]

    code, out, err = cli(tmp_path, *base, "--format", "github")
    assert (code, err) == (1, "")
    warnings = [line for line in out.splitlines() if line.startswith("::warning ")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"::warning file=rolled.py,line={ROLL_LINE},")
    assert "title=PAD201 " in warnings[0]


def test_random_init_model_verifies_the_same_in_every_process(tmp_path):
    """A model built with random weights (this one does not seed) is built from a seeded
    RNG, so two processes (each with its own random initial seed) print the same numbers."""
    write(tmp_path, "unseeded.py", STRIDED.replace("; torch.manual_seed(0)", ""))
    runs = [run_cli(tmp_path, "check", "unseeded.py", "-s", "32", "--verify", "--device", "cpu",
                    "--timeout", "0") for _ in range(2)]
    assert [r.returncode for r in runs] == [1, 1]
    assert "[confirmed: asymmetry " in runs[0].stdout
    assert runs[0].stdout == runs[1].stdout


def test_building_a_model_leaves_the_callers_rng_alone():
    import padlint
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    padlint.analyze(lambda: torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)), 32)
    assert torch.equal(torch.rand(3), expected)


def test_an_instance_made_at_import_is_seeded_too(tmp_path):
    write(tmp_path, "inst.py", STRIDED.replace("; torch.manual_seed(0)", "") + "\nmodel = Strided()\n")
    runs = [run_cli(tmp_path, "check", "inst.py:model", "-s", "32", "--verify", "--device", "cpu",
                    "--timeout", "0") for _ in range(2)]
    assert "[confirmed: asymmetry " in runs[0].stdout
    assert runs[0].stdout == runs[1].stdout
