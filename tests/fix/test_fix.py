"""`padlint fix`: the unified diff it prints (exact text), `--apply` (writes the files; without
it nothing is written), the printed diff applied with `patch -p1` and `git apply` to a copy of
`examples/fixable.py` (the fixed rules' findings gone, the same output shape), the three
rewrites (transposed k3/s2/p1/op1 -> k4/s2/p1, a 1x1 stride-2 shortcut -> AvgPool + 1x1 conv,
an odd stride-2 kernel on an even input -> k+1), `--size-policy any`, the edits verification
drops, and the bad-input matrix (exit 2, one `padlint: error:` line, nothing on stdout).

Speed: everything runs ``padlint.cli.main`` in this process on tiny models at 8-32 pixels.
"""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest
import torch

from cli_helpers import assert_one_error_line, write
from model_sources import TWO
from paths import EXAMPLES

# At 16: stem (k3 s2 p1) and pool (k3 s2 p1) are uneven (PAD101), the 1x1 stride-2 conv in
# the torchvision-style downsample drops the last row (PAD102) and skips every other one
# (PAD103), the transposed conv has a checkerboard (PAD104) and an uneven crop (PAD101).
NET = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, kernel_size=(3, 3), stride=2, padding=1)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.downsample = nn.Sequential(
            nn.Conv2d(8, 16, kernel_size=1, stride=2, bias=False),
            nn.BatchNorm2d(16),
        )
        self.up = nn.ConvTranspose2d(16, 4, 3, 2, 1, 1)

    def forward(self, x):
        return self.up(self.downsample(self.pool(self.stem(x))))


PADLINT_TARGETS = [(Net, 16)]
"""

NET_DIFF = """\
--- a/net.py
+++ b/net.py
@@ -5,13 +5,13 @@
 class Net(nn.Module):
     def __init__(self):
         super().__init__()
-        self.stem = nn.Conv2d(3, 8, kernel_size=(3, 3), stride=2, padding=1)
-        self.pool = nn.MaxPool2d(3, 2, 1)
+        self.stem = nn.Conv2d(3, 8, kernel_size=(4, 4), stride=2, padding=1)
+        self.pool = nn.MaxPool2d(4, 2, 1)
         self.downsample = nn.Sequential(
-            nn.Conv2d(8, 16, kernel_size=1, stride=2, bias=False),
+            nn.Sequential(nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False), nn.Conv2d(8, 16, kernel_size=1, bias=False)),
             nn.BatchNorm2d(16),
         )
-        self.up = nn.ConvTranspose2d(16, 4, 3, 2, 1, 1)
+        self.up = nn.ConvTranspose2d(16, 4, 4, 2, 1)
 
     def forward(self, x):
         return self.up(self.downsample(self.pool(self.stem(x))))
"""

STEM = ("padlint: fix: net.py:8:21 stem PAD101 (H, W): kernel_size=4; note: the weight shape "
        "changes (3x3 -> 4x4): old checkpoints no longer load")
POOL = "padlint: fix: net.py:9:21 pool PAD101 (H, W): kernel_size=4"
SHORTCUT = ("padlint: fix: net.py:11:13 downsample.0 PAD102, PAD103 (H, W): AvgPool2d(2, "
            "stride=2, ceil_mode=True, count_include_pad=False) + 1x1 Conv2d; note: this changes "
            "the state_dict keys (downsample.0.weight -> downsample.0.1.weight)")
UP = ("padlint: fix: net.py:14:19 up PAD101, PAD104 (H, W): kernel_size=4, stride=2, padding=1, "
      "output_padding dropped")


def _read(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _model(path, name):
    spec = importlib.util.spec_from_file_location(f"fixed_{abs(hash(str(path)))}", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)().eval()


def _out_shape(path, name, size):
    with torch.no_grad():
        return tuple(_model(path, name)(torch.zeros(1, 3, size, size)).shape)


def test_diff_is_printed_and_nothing_is_written(cli, tmp_path):
    path = write(tmp_path, "net.py", NET)
    code, out, err = cli(tmp_path, "fix", "net.py")
    assert (code, out) == (1, NET_DIFF), err
    assert err.splitlines() == [STEM, POOL, SHORTCUT, UP]
    assert _read(path) == NET
    assert sorted(os.listdir(tmp_path)) == ["net.py"]


def test_apply_writes_the_files(cli, tmp_path):
    path = write(tmp_path, "net.py", NET)
    code, out, err = cli(tmp_path, "fix", "net.py", "--apply")
    assert (code, out) == (0, "fixed net.py: 4 calls rewritten\n"), err
    assert err.splitlines() == [STEM, POOL, SHORTCUT, UP]
    fixed = _read(path)
    assert fixed == NET.replace("(3, 3)", "(4, 4)").replace("MaxPool2d(3, 2, 1)", "MaxPool2d(4, 2, 1)") \
        .replace("nn.Conv2d(8, 16, kernel_size=1, stride=2, bias=False)",
                 "nn.Sequential(nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False), "
                 "nn.Conv2d(8, 16, kernel_size=1, bias=False))") \
        .replace("ConvTranspose2d(16, 4, 3, 2, 1, 1)", "ConvTranspose2d(16, 4, 4, 2, 1)")
    assert sorted(os.listdir(tmp_path)) == ["net.py"]          # no temp file left
    assert _out_shape(path, "Net", 16) == (1, 4, 4, 4)
    code, out, err = cli(tmp_path, "fix", "net.py")
    assert (code, out, err) == (0, "", "padlint: nothing to fix\n")
    code, out, err = cli(tmp_path, "check", "net.py", "--select", "PAD101,PAD102,PAD103,PAD104",
                         "--timeout", "0")
    assert code == 0, out + err
    assert out.splitlines()[-1] == "No findings in 1 model run."


def test_crlf_and_missing_final_newline_kept(cli, tmp_path):
    text = NET.replace("\n", "\r\n").rstrip("\r\n")
    path = tmp_path / "net.py"
    path.write_bytes(text.encode())
    code, out, err = cli(tmp_path, "fix", "net.py", "--select", "PAD104")
    assert code == 1, err
    assert "-        self.up = nn.ConvTranspose2d(16, 4, 3, 2, 1, 1)\r\n" in out
    assert err == UP.replace("PAD101, PAD104", "PAD104") + "\n"
    cli(tmp_path, "fix", "net.py", "--select", "PAD104", "--apply")
    assert path.read_bytes() == text.replace("ConvTranspose2d(16, 4, 3, 2, 1, 1)",
                                             "ConvTranspose2d(16, 4, 4, 2, 1)").encode()


def test_form_feed_lines_make_a_diff_that_applies(cli, tmp_path):
    """A form feed (a page break, as PEP 8 allows) is not a line end to Python, patch or git."""
    text = NET.replace("\n\nclass Net", "\n\x0c\nclass Net").replace(
        "        super().__init__()\n", "        super().__init__()  # \x0c\x1c\u2028 kept\n")
    path = write(tmp_path, "net.py", text)
    code, diff, err = cli(tmp_path, "fix", "net.py")
    assert code == 1, err
    assert "No newline" not in diff
    assert diff.split("\n")[2:6] == ["@@ -5,13 +5,13 @@", " class Net(nn.Module):", "     def __init__(self):",
                                      "         super().__init__()  # \x0c\x1c\u2028 kept"]
    if shutil.which("git"):
        done = subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=diff.encode(), capture_output=True,
                              env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
        assert done.returncode == 0, done.stderr
        applied = write(tmp_path / "applied", "net.py", text)
        assert cli(tmp_path / "applied", "fix", "net.py", "--apply")[0] == 0
        assert _read(path) == _read(applied)


def test_interrupted_apply_leaves_no_temp_file(cli, tmp_path, monkeypatch):
    path = write(tmp_path, "net.py", NET)

    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", interrupted)
    assert cli(tmp_path, "fix", "net.py", "--apply")[:2] == (130, "")
    assert sorted(os.listdir(tmp_path)) == ["net.py"]
    assert _read(path) == NET


def test_the_python_installation_under_the_working_directory_is_not_reimported(tmp_path, monkeypatch):
    """A conda environment inside the project: its standard library sits under the working
    directory without 'site-packages' in its path, and must not be imported afresh."""
    import sysconfig

    from padlint.fix.recheck import users_modules
    stdlib = tmp_path / "env" / "lib" / "python3.11"
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"stdlib": str(stdlib)})
    monkeypatch.chdir(tmp_path)
    users = users_modules({str(tmp_path / "edited.py"): ""})
    assert not users("enum", str(stdlib / "enum.py"))
    assert not users("numpy", str(tmp_path / ".venv" / "lib" / "site-packages" / "numpy" / "__init__.py"))
    assert users("layers", str(tmp_path / "layers.py"))
    assert users("x", str(tmp_path / "edited.py"))
    assert users("proj.padlint_user_0123abcd_net", "/elsewhere/net.py")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))       # a project under the prefix
    assert users_modules({})("layers", str(tmp_path / "layers.py"))
    assert not users("json", "/elsewhere/json.py") and not users("sys", None)


def _example_copy(root, name):
    os.makedirs(root / "examples", exist_ok=True)
    shutil.copy(os.path.join(EXAMPLES, name), root / "examples" / name)
    return root / "examples" / name


FIXABLE_DIFF = """\
--- a/examples/fixable.py
+++ b/examples/fixable.py
@@ -6,11 +6,11 @@
 class Fixable(nn.Module):
     def __init__(self):
         super().__init__()
-        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
-        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
-        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
-        self.shortcut = nn.Conv2d(8, 16, 1, stride=2, bias=False)
-        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
+        self.stem = nn.Conv2d(3, 8, 4, stride=2, padding=1, bias=False)
+        self.pool = nn.MaxPool2d(4, stride=2, padding=1)
+        self.down = nn.Conv2d(8, 16, 4, stride=2, padding=1)
+        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False), nn.Conv2d(8, 16, 1, bias=False))
+        self.up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
         self.head = nn.Conv2d(8, 3, 3, padding=1)
 
     def forward(self, x):
"""

FIXED_RULES = "PAD101,PAD102,PAD103,PAD104"


@pytest.mark.parametrize("tool", ["patch", "git"])
def test_printed_diff_applies_to_the_example(cli, tmp_path, tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    source = tmp_path / "src"
    _example_copy(source, "fixable.py")
    code, diff, err = cli(source, "fix", "examples/fixable.py")
    assert (code, diff) == (1, FIXABLE_DIFF), err
    assert len(err.splitlines()) == 5 and "not fixed" not in err
    before = cli(source, "check", "examples/fixable.py", "--select", FIXED_RULES, "--timeout", "0")
    assert before[0] == 1 and before[1].splitlines()[-1] == \
        "Found 14 findings (2 error, 10 warning, 2 info) in 1 model run."
    target = tmp_path / "dst"
    path = _example_copy(target, "fixable.py")
    command = ["patch", "-p1", "--quiet"] if tool == "patch" else ["git", "apply", "-"]
    done = subprocess.run(command, cwd=target, input=diff, text=True, capture_output=True,
                          env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    applied = tmp_path / "applied"
    _example_copy(applied, "fixable.py")
    assert cli(applied, "fix", "examples/fixable.py", "--apply")[:2] == (
        0, "fixed examples/fixable.py: 5 calls rewritten\n")
    assert _read(path) == _read(applied / "examples" / "fixable.py")
    code, out, err = cli(target, "check", "examples/fixable.py", "--select", FIXED_RULES,
                         "--timeout", "0")
    assert code == 0, out + err
    assert out.splitlines()[-1] == "No findings in 1 model run."
    assert _out_shape(path, "Fixable", 32) == _out_shape(source / "examples" / "fixable.py",
                                                         "Fixable", 32) == (1, 3, 8, 8)


def test_decoder_example_gets_kernel_4(cli, tmp_path):
    path = _example_copy(tmp_path, "decoder.py")
    original = _read(path)
    code, out, err = cli(tmp_path, "fix", "examples/decoder.py")
    assert code == 1, err
    assert out == """\
--- a/examples/decoder.py
+++ b/examples/decoder.py
@@ -5,7 +5,7 @@
 class Decoder(nn.Module):
     def __init__(self):
         super().__init__()
-        self.up1 = nn.ConvTranspose2d(3, 16, 3, stride=2, padding=1, output_padding=1)
+        self.up1 = nn.ConvTranspose2d(3, 16, 4, stride=2, padding=1)
         self.up2 = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
         self.out = nn.Conv2d(8, 3, 3, padding=1)
 
"""
    assert err == ("padlint: fix: examples/decoder.py:8:20 up1 PAD101, PAD104 (H, W): "
                   "kernel_size=4, stride=2, padding=1, output_padding dropped\n")
    assert _read(path) == original


def test_size_policy_any_skips_the_odd_kernel_rewrite(cli, tmp_path):
    write(tmp_path, "net.py", NET)
    code, out, err = cli(tmp_path, "fix", "net.py", "--size-policy", "any")
    assert code == 1, err
    assert "+        self.up = nn.ConvTranspose2d(16, 4, 4, 2, 1)\n" in out
    assert "nn.Sequential(nn.AvgPool2d(2, stride=2" in out
    assert "(4, 4)" not in out and "MaxPool2d(4" not in out
    reason = "no rewrite is even at every input size; pick an input size with `padlint sizes`"
    assert err.splitlines() == [SHORTCUT, UP,
                                f"padlint: not fixed: net.py:8:21 stem PAD101 (H, W): {reason}",
                                f"padlint: not fixed: net.py:9:21 pool PAD101 (H, W): {reason}"]


POOLS = """\
from torch import nn
from torch.nn import MaxPool2d


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = MaxPool2d(3, padding=1)
        self.b = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        return self.b(self.a(x))


PADLINT_TARGETS = [(Pools, 17)]
"""


def test_pool_without_stride_keeps_its_stride(cli, tmp_path):
    # a: 17 -> 6 (k3 s3 p1: 0 of 1 end padding read, PAD101); k4 with stride=3 spelled out
    # keeps 6 and is even. b: 6 -> 3 (k3 s2 p1, PAD101) -> k4.
    write(tmp_path, "pools.py", POOLS)
    code, out, err = cli(tmp_path, "fix", "pools.py")
    assert code == 1, err
    assert [line for line in out.splitlines() if line[:1] in "+-"] == [
        "--- a/pools.py", "+++ b/pools.py",
        "-        self.a = MaxPool2d(3, padding=1)",
        "-        self.b = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)",
        "+        self.a = MaxPool2d(4, padding=1, stride=3)",
        "+        self.b = nn.AvgPool2d(kernel_size=4, stride=2, padding=1)"]


def test_odd_input_shortcut_fails_verification(cli, tmp_path):
    # At 9 the 1x1 stride-2 conv only skips rows (PAD103); the average pool that would replace
    # it overhangs the end in ceil mode (PAD101 at 9), so verification drops the edit.
    write(tmp_path, "sc.py", NET.replace("(Net, 16)", "(Net, 34)"))
    code, out, err = cli(tmp_path, "fix", "sc.py:Net", "-s", "34", "--select", "PAD102,PAD103")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [
        "padlint: not fixed: sc.py:11:13 downsample.0 PAD103 (H, W): verification failed: "
        "PAD101 still fires on downsample.0.0 H after the rewrite",
        "padlint: nothing fixed, 1 not fixed"]


NOT_LITERAL = """\
from torch import nn


def conv(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv(3, 8, 2)
        self.up = nn.ConvTranspose2d(8, 8, **{"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1})

    def forward(self, x):
        return self.up(self.stem(x))


PADLINT_TARGETS = [(Net, 16)]
"""


def test_calls_it_cannot_read_are_not_fixed(cli, tmp_path):
    path = write(tmp_path, "net.py", NOT_LITERAL)
    code, out, err = cli(tmp_path, "fix", "net.py")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [
        "padlint: not fixed: net.py:5:12 stem PAD101 (H, W): arguments not literal (stride=stride)",
        "padlint: not fixed: net.py:12:19 up PAD101, PAD104 (H, W): arguments not literal "
        "(*args or **kwargs)",
        "padlint: nothing fixed, 2 not fixed"]
    assert _read(path) == NOT_LITERAL


def test_file_outside_the_working_directory_is_not_edited(cli, tmp_path):
    path = write(tmp_path, "models/net.py", NET)
    os.makedirs(tmp_path / "work")
    code, out, err = cli(tmp_path / "work", "fix", f"{path}:Net", "--select", "PAD104")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [
        f"padlint: not fixed: {path}:14:19 up PAD104 (H, W): outside the working directory",
        "padlint: nothing fixed, 1 not fixed"]


def test_clean_model_has_nothing_to_fix(cli, tmp_path):
    write(tmp_path, "net.py", NET)
    code, out, err = cli(tmp_path, "fix", "net.py", "-s", "17", "--select", "PAD102")
    assert (code, out) == (0, ""), err
    assert err == "padlint: nothing to fix\n"


@pytest.mark.parametrize("files, args, parts", [
    ({}, ["missing.py"], ["padlint: error: missing.py: no such file"]),
    ({"two.py": TWO}, ["two.py"], ["two.py: defines 2 models (two.py:A, two.py:B); padlint fix "
                                   "takes one: name it as path.py:Name"]),
    ({"net.py": NET}, ["net.py", "--size-policy", "every"],
     ["padlint: error: --size-policy every: use input or any"]),
    ({"net.py": NET}, ["net.py", "--select", "PAD105"],
     ["padlint: error: --select PAD105: selects no rule padlint fix can fix (PAD101, PAD102, "
      "PAD103, PAD104, PAD107)"]),
    ({"net.py": NET}, ["net.py", "-s", "16,17"], ["--input-size 16,17: padlint fix analyses one "
                                                  "input size"]),
    ({"net.py": NET}, ["net.py:Nope"], ["net.py:Nope: 'Nope' not found"]),
])
def test_bad_input(cli, tmp_path, files, args, parts):
    for name, text in files.items():
        write(tmp_path, name, text)
    code, out, err = cli(tmp_path, "fix", *args)
    assert_one_error_line(code, out, err, *parts)
    for name, text in files.items():
        assert _read(tmp_path / name) == text


# A residual block: 3x3 stride-2 main path (cells centred on 2j) beside a 1x1 stride-2
# shortcut (also 2j). An average-pool shortcut alone would sit on 2j+0.5 (PAD107); with
# the main conv rewritten to kernel 4 (2j+0.5 too) the two line up again.
RESIDUAL = """\
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.conv = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.shortcut = nn.Conv2d(8, 16, 1, stride=2, bias=False)

    def forward(self, x):
        x = self.stem(x)
        return torch.relu(self.conv(x)) + self.shortcut(x)


PADLINT_TARGETS = [(Block, 32)]
"""


def test_a_rewrite_that_would_misalign_a_merge_is_dropped(cli, tmp_path):
    write(tmp_path, "block.py", RESIDUAL)
    code, out, err = cli(tmp_path, "fix", "block.py", "--size-policy", "any")
    assert (code, out) == (0, "")
    assert err.splitlines() == [
        "padlint: not fixed: block.py:9:21 conv PAD101 (H, W): no rewrite is even at every input "
        "size; pick an input size with `padlint sizes`",
        "padlint: not fixed: block.py:10:25 shortcut PAD102, PAD103 (H, W): verification failed: "
        "the rewrite makes PAD107 fire on add H",
        "padlint: nothing fixed, 2 not fixed"]
    code, out, err = cli(tmp_path, "fix", "block.py", "--apply")
    assert (code, out) == (0, "fixed block.py: 2 calls rewritten\n")
    import padlint
    report = padlint.analyze(str(tmp_path / "block.py"), select=["PAD101", "PAD102", "PAD103", "PAD107"])
    assert (report.findings, report.errors) == ([], [])
