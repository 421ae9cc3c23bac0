"""Output that stays machine-readable and readable in CI (issue 19, items 2, 3 and 14).

- The user's prints never reach stdout: `stats`, `fix`, `report`, `check` and `sizes` on
  tests/frontdoor/printer.py (prints at import and in ``__init__``) keep stdout to their
  own output (JSON that parses, a diff, the "wrote" line) and show the prints on stderr;
  `check`/`sizes` both in the child process and with ``--timeout 0``; and writes straight
  to file descriptor 1 (C code, a kept ``sys.__stdout__``) go to stderr too.
- `stats --format json` keeps full float64 precision (mean kernels and mean patches equal
  :func:`padlint.stats.mean_kernels` / :func:`padlint.stats.mean_patches` to 1e-9); the
  text view still rounds.
- The `stats` table never cuts a layer name when stdout is a pipe: not at the default
  width, not at ``COLUMNS=60``, and ``COLUMNS`` is honoured.

Speed: every command runs as a real process (stdout a pipe, as in CI) on one-conv and
three-conv models at 32-64 pixels.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from padlint.geometry.measures import flip_asymmetry
from padlint.stats.facts import conv_modules, mean_kernels, mean_patches
from paths import FRONTDOOR

PRINTER = str(FRONTDOOR / "printer.py")
PRINTS = ("hello from the model file", "building Printer")

# Writes to the stdout descriptor itself at import, as C code or a kept stream does.
RAW_WRITER = """\
import os
import sys

from torch import nn

os.write(1, b"raw write from the model file\\n")
sys.__stdout__.write("kept stream of the model file\\n")


class Raw(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
"""
RAW_PRINTS = ("raw write from the model file", "kept stream of the model file")

# Three stride-2 convolutions whose qualified names are 72 characters long.
DEEP = """\
from torch import nn

NAMES = [f"residual_stage{i}_block" for i in range(3)]


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder_backbone_features = nn.ModuleDict({
            name: nn.ModuleDict({"depthwise_separable_conv": nn.Conv2d(3 if i == 0 else 8, 8, 3,
                                                                       stride=2, padding=1)})
            for i, name in enumerate(NAMES)})

    def forward(self, x):
        for name in NAMES:
            x = self.encoder_backbone_features[name]["depthwise_separable_conv"](x)
        return x
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder with a copy of printer.py (fix must never touch the original), the other
    models, and 12 random inputs at 32x32."""
    root = tmp_path_factory.mktemp("frontdoor")
    shutil.copy(PRINTER, root / "printer.py")
    (root / "raw.py").write_text(RAW_WRITER)
    (root / "deep.py").write_text(DEEP)
    torch.save(torch.rand(12, 3, 32, 32, generator=torch.Generator().manual_seed(1)), root / "data.pt")
    return root


_RUNS: dict = {}


def padlint(cwd, *args, columns=None):
    """``padlint ARGS`` as a real process with stdout and stderr pipes; COLUMNS as given.
    Each distinct command runs once (the tests that read the same output share it)."""
    key = (str(cwd), tuple(map(str, args)), columns)
    if key not in _RUNS:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
        if columns is not None:
            env["COLUMNS"] = str(columns)
        _RUNS[key] = subprocess.run([sys.executable, "-m", "padlint", *key[1]], cwd=key[0],
                                    capture_output=True, text=True, timeout=300, env=env)
    return _RUNS[key]


def show(proc) -> str:
    return f"\n--- exit {proc.returncode}\n--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"


def build(path: str, name: str):
    """The model class ``name`` of the file at ``path``, built as padlint builds it: the
    CPU RNG seeded at 0 (padlint.load._seeded)."""
    spec = importlib.util.spec_from_file_location(f"frontdoor_{name.lower()}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return getattr(module, name)()


def assert_prints_on_stderr(proc, prints=PRINTS):
    """Each print is a line of stderr and no line of stdout (a diff may quote the code)."""
    for text in prints:
        assert text not in proc.stdout.splitlines(), f"the user's print {text!r} reached stdout" + show(proc)
        assert text in proc.stderr, f"the user's print {text!r} is lost" + show(proc)


# -- item 2: the user's prints go to stderr ----------------------------------------------

@pytest.mark.parametrize("args", [
    ("stats", "printer.py", "--format", "json"),
    ("check", "printer.py", "--format", "json"),
    ("check", "printer.py", "--format", "json", "--timeout", "0"),
    ("sizes", "printer.py", "--format", "json", "-r", "30:34"),
    ("sizes", "printer.py", "--format", "json", "-r", "30:34", "--timeout", "0"),
], ids=["stats", "check", "check-timeout-0", "sizes", "sizes-timeout-0"])
def test_json_commands_keep_the_prints_off_stdout(work, args):
    proc = padlint(work, *args, "-s", "32")
    assert proc.returncode in (0, 1), show(proc)
    assert_prints_on_stderr(proc)
    doc = json.loads(proc.stdout)             # the whole of stdout is one JSON document
    if args[0] == "sizes":
        assert doc["target"] == "printer.py:Printer", doc
    else:
        assert [r["target"] for r in doc["results"]] == ["printer.py:Printer"]
        assert doc["errors"] == []


def test_stats_text_keeps_the_prints_off_stdout(work):
    proc = padlint(work, "stats", "printer.py", "-s", "32")
    assert proc.returncode == 0, show(proc)
    assert_prints_on_stderr(proc)
    assert proc.stdout.startswith("printer.py:Printer @ 1x3x32x32 · initial weights (no --weights)\n")


def test_fix_stdout_is_only_the_diff(work):
    proc = padlint(work, "fix", "printer.py", "-s", "32")
    assert proc.returncode == 1, show(proc)      # a diff to apply
    assert_prints_on_stderr(proc)
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["--- a/printer.py", "+++ b/printer.py"], show(proc)
    assert all(line[:1] in (" ", "+", "-", "@") for line in lines), show(proc)
    assert "+        self.conv = nn.Conv2d(3, 8, 4, stride=2, padding=1)" in lines, show(proc)
    assert (work / "printer.py").read_text() == open(PRINTER).read()     # no --apply: unchanged


def test_report_stdout_is_only_the_wrote_line(work):
    page = work / "printer.html"
    proc = padlint(work, "report", "printer.py", "-s", "32", "-o", page)
    assert proc.returncode == 1, show(proc)      # PAD101 at 32
    assert_prints_on_stderr(proc)
    (line,) = proc.stdout.splitlines()
    assert line.startswith(f"wrote {page} (") and "): printer.py:Printer at 32x32, 2 findings (2 warning)" in line, \
        show(proc)
    assert page.stat().st_size > 0


@pytest.mark.parametrize("args", [
    ("stats", "raw.py", "--format", "json"),
    ("check", "raw.py", "--format", "json", "--timeout", "0"),
    ("fix", "raw.py"),
], ids=["stats", "check-timeout-0", "fix"])
def test_writes_to_the_stdout_descriptor_go_to_stderr(work, args):
    proc = padlint(work, *args, "-s", "32")
    assert proc.returncode in (0, 1), show(proc)
    assert_prints_on_stderr(proc, RAW_PRINTS)
    if args[0] != "fix":
        json.loads(proc.stdout)


# -- item 3: JSON keeps full precision; text rounds --------------------------------------

def _layer(doc, name):
    (result,) = doc["results"]
    return next(e for e in result["layers"] if e["name"] == name)


def test_stats_json_mean_kernel_has_full_precision(work):
    proc = padlint(work, "stats", "printer.py", "--format", "json", "-s", "32")
    assert proc.returncode == 0, show(proc)
    conv = _layer(json.loads(proc.stdout), "conv")
    model = build(PRINTER, "Printer")
    expected = mean_kernels(model)["conv"]
    np.testing.assert_allclose(conv["mean_kernel"], expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(conv["mean_abs_kernel"], mean_kernels(model, absolute=True)["conv"],
                               rtol=0, atol=1e-9)
    for i, axis in enumerate("HW"):
        assert conv["asymmetry"][axis] == pytest.approx(flip_asymmetry(expected, i, 2), abs=1e-12)


def test_stats_json_mean_patch_has_full_precision(work):
    proc = padlint(work, "stats", "printer.py", "--format", "json", "-d", "data.pt")
    assert proc.returncode in (0, 1), show(proc)
    conv = _layer(json.loads(proc.stdout), "conv")
    data = torch.load(work / "data.pt")
    expected = mean_patches(build(PRINTER, "Printer"), [data[i:i + 8] for i in range(0, 12, 8)])["conv"]
    np.testing.assert_allclose(conv["mean_patch"], expected, rtol=0, atol=1e-9)


def test_stats_text_still_rounds(work):
    proc = padlint(work, "stats", "printer.py", "-s", "32")
    assert proc.returncode == 0, show(proc)
    kernel = mean_kernels(build(PRINTER, "Printer"))["conv"]
    asym = [flip_asymmetry(kernel, i, 2) for i in range(2)]
    lines = proc.stdout.splitlines()
    (row,) = _table(proc.stdout)[1:]
    assert row.split()[0] == "conv", row
    assert f"H:{asym[0]:.2f} W:{asym[1]:.2f}" in row, row
    scale = 10.0 ** np.floor(np.log10(np.abs(kernel).max()))
    start = lines.index(next(line for line in lines if line.startswith("mean kernel ×")))
    for r in range(3):
        assert lines[start + 1 + r].rstrip() == " ".join(f"{v / scale:+6.2f}" for v in kernel[r])


# -- item 14: layer names are never cut; COLUMNS is honoured ----------------------------

def _deep_names(work):
    return [name for name, _ in conv_modules(build(str(work / "deep.py"), "Deep"))]


def _table(stdout: str) -> list[str]:
    """The table's lines: from the heading line to the legend line after it."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    end = next(i for i, line in enumerate(lines) if line.startswith("padding: PAD101/PAD102"))
    return lines[start:end]


@pytest.mark.parametrize("columns", [None, 60, 200], ids=["unset", "60", "200"])
def test_stats_table_never_cuts_a_layer_name(work, columns):
    proc = padlint(work, "stats", "deep.py", "-s", "64", columns=columns)
    assert proc.returncode == 0, show(proc)
    names = _deep_names(work)
    assert len(names) == 3 and all(len(n) == 72 for n in names), names
    assert "…" not in proc.stdout, show(proc)
    table = _table(proc.stdout)
    assert table[0].split()[:3] == ["layer", "op", "padding"], table[0]
    assert [line.split()[0] for line in table[1:] if not line.startswith(" ")] == names, show(proc)
    for name in names:                         # the matrix panels are titled whole too
        assert f"{name} (Conv2d k=3 s=2 p=1)" in proc.stdout, show(proc)


def test_stats_honours_columns(work):
    """Wide enough (COLUMNS=200), each layer is one line of the table; at COLUMNS=60 the
    measures wrap (H and W on two lines) but the names stay whole."""
    wide = _table(padlint(work, "stats", "deep.py", "-s", "64", columns=200).stdout)
    narrow = _table(padlint(work, "stats", "deep.py", "-s", "64", columns=60).stdout)
    assert len(wide) == 1 + 3, wide
    assert len(narrow) == 1 + 2 * 3, narrow
    names = _deep_names(work)
    assert [line.split()[0] for line in narrow[1::2]] == names, narrow
    assert all(line.startswith(" " * 72) and line.split()[0].startswith("W:") for line in narrow[2::2]), narrow
