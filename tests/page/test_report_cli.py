"""`padlint report TARGET -o FILE.html` through the command line, in this process.

- The bad-input matrix: exit 2, nothing on stdout, exactly one `padlint: error: ...` line
  (the full, exact line) naming the file, flag or model and what to do, no traceback, and
  no page written: neither the -o file nor a `.padlint-*.html` temporary file, and nothing
  else in the folder changed.
- A failure leaves an existing page byte for byte as it was; --debug adds the traceback.
- matplotlib missing: the command and `padlint.html_report` name the `report` extra.
- Exit codes and the success line (examples/resnet.py at 64, a clean model at 224).
- The options that shape the page: --range (the size strip against `padlint.sweep`),
  --baselines, and `[tool.padlint]` ignore / --isolated.

Speed: tiny models at 32x32 or 33x33 wherever the size is not the point; resnet at 64.
"""
import errno
import os
import re
import sys

import pytest
import torch

pytest.importorskip("matplotlib")

import padlint  # noqa: E402
from cli_helpers import ERROR_PREFIX, assert_one_error_line, write  # noqa: E402
from model_sources import TWO  # noqa: E402
from paths import EXAMPLES  # noqa: E402

RESNET = str(EXAMPLES / "resnet.py")

# stem and down are stride-2 (k=3, p=1): PAD101 on H and W unless n = 1 mod 4.
NET = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.act = nn.ReLU()
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.down(self.act(self.stem(x)))
"""

# Stride 1, 'same' padding: no lint finding at any size.
CLEAN = """\
from torch import nn


class Clean(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
"""

# Three zero-padded average pools: at 8x8 the border covers 81 % of the last map (PAD202).
POOLS = """\
from torch import nn


class Pools(nn.Sequential):
    def __init__(self):
        super().__init__(*[nn.AvgPool2d(3, stride=1, padding=1) for _ in range(3)])
"""

# A 5x5 conv without padding: the smallest input that runs is 5.
VALID = """\
from torch import nn


class Valid(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 5)

    def forward(self, x):
        return self.conv(x)
"""

# A 1x1 stride-2 conv: PAD103 (info) on H and W at 33, and nothing else.
SHORTCUT = """\
from torch import nn


class Shortcut(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1, stride=2)

    def forward(self, x):
        return self.conv(x)
"""


BROKEN = """\
from torch import nn


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        raise RuntimeError("the forward is broken on purpose")
"""


@pytest.fixture
def folder(tmp_path):
    write(tmp_path, "net.py", NET)
    write(tmp_path, "clean.py", CLEAN)
    write(tmp_path, "valid.py", VALID)
    write(tmp_path, "shortcut.py", SHORTCUT)
    write(tmp_path, "two.py", TWO)
    write(tmp_path, "broken.py", BROKEN)
    write(tmp_path, "empty.py", "x = 1\n")
    torch.save({"nothing": torch.zeros(1)}, tmp_path / "wrong.pt")
    torch.save(torch.zeros(2, 1, 32, 32), tmp_path / "gray.pt")
    torch.save(torch.rand(2, 3, 40, 40), tmp_path / "forty.pt")
    (tmp_path / "existing").mkdir()
    return tmp_path


def snapshot(root) -> dict[str, bytes]:
    """Every file under ``root`` (bytecode caches aside) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def temporaries(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".padlint-*"))


def page(folder, name: str) -> str:
    text = (folder / name).read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.endswith("</html>\n"), text[:200]
    return text


def success_line(folder, name: str, what: str) -> str:
    """The exact line `padlint report` prints after writing ``name``."""
    return f"wrote {name} ({os.path.getsize(folder / name) / 1e6:.1f} MB): {what}\n"


def rule_ids(html: str) -> list[str]:
    return re.findall(r'<div class="rule" id="rule-(PAD\d+)">', html)


# --------------------------------------------------------------------------- bad input

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")

# (args after `report`, the -o path, the error line after "padlint: error: "); {root} is
# the folder the command runs in. Where the size is not the point, -s 32 keeps it quick.
BAD = [
    pytest.param(["missing.py", "-s", "32"], "out.html", "missing.py: no such file",
                 id="target-missing"),
    pytest.param(["empty.py", "-s", "32"], "out.html",
                 "empty.py: no model found; define an nn.Module subclass that builds with no "
                 "arguments, or list models in PADLINT_TARGETS", id="no-model"),
    pytest.param(["two.py", "-s", "32"], "out.html",
                 "two.py: defines 2 models (two.py:A, two.py:B); padlint report takes one: name "
                 "it as path.py:Name", id="two-models"),
    pytest.param(["two.py:C", "-s", "32"], "out.html",
                 "two.py:C: 'C' not found; check the name after ':'", id="named-model-missing"),
    pytest.param(["broken.py", "-s", "32"], "out.html",
                 "broken.py:Broken: its forward fails at input 32x32 on the meta device "
                 "(RuntimeError: the forward is broken on purpose) and on the CPU (RuntimeError: "
                 "the forward is broken on purpose); fix the forward (run with --debug for the "
                 "traceback)", id="forward-raises"),
    pytest.param(["valid.py", "--input-size", "2"], "out.html",
                 "valid.py:Valid: input 2x2 is too small: conv (Conv2d) would get 2 on H and needs "
                 "at least 5; the smallest input that works is 5", id="input-too-small"),
    pytest.param(["net.py", "--input-size", "0"], "out.html",
                 "invalid --input-size '0': sizes must be positive; use 224, 224x320, 3x224x224, "
                 "16x112x112 or a comma list such as 224,225", id="input-size-0"),
    pytest.param(["net.py", "--input-size", "1x32x32"], "out.html",
                 "net.py:Net: its forward fails at input 1x32x32 on the meta device (RuntimeError: "
                 "Invalid channel dimensions) and on the CPU (RuntimeError: Given groups=1, weight of "
                 "size [8, 3, 3, 3], expected input[1, 1, 32, 32] to have 3 channels, but got 1 "
                 "channels instead); the model's first convolution takes 3 channels: give 32x32 or "
                 "3x32x32 (run with --debug for the traceback)", id="input-size-channels"),
    pytest.param(["net.py", "-s", "32"], "nowhere/r.html",
                 "--output nowhere/r.html: folder {root}/nowhere does not exist",
                 id="output-folder-missing"),
    pytest.param(["net.py", "-s", "32"], "existing",
                 "--output existing: is a folder; give a file name such as "
                 "existing/padlint-report.html", id="output-is-a-folder"),
    pytest.param(["net.py", "-s", "32", "--limit", "0"], "out.html",
                 "--limit 0: give a positive number", id="limit-0"),
    pytest.param(["net.py", "-s", "32", "--limit", "-3"], "out.html",
                 "--limit -3: give a positive number", id="limit-negative"),
    pytest.param(["net.py", "-s", "32", "--batch-size", "0"], "out.html",
                 "--batch-size 0: give a positive number", id="batch-size-0"),
    pytest.param(["net.py", "-s", "32", "--range", "10:5"], "out.html",
                 "invalid --range '10:5': the start (10) is larger than the end (5); use A:B "
                 "with A <= B, e.g. 5:10", id="range-reversed"),
    pytest.param(["net.py", "-s", "32", "--range", "abc"], "out.html",
                 "invalid --range 'abc': use A:B or A:B:S with whole numbers, e.g. 32:1024 or "
                 "32:1024:8", id="range-text"),
    pytest.param(["net.py", "-s", "32", "--range", "0:10"], "out.html",
                 "invalid --range '0:10': sizes must be positive; use A:B or A:B:S with whole "
                 "numbers, e.g. 32:1024 or 32:1024:8", id="range-zero"),
    pytest.param(["net.py", "-s", "32", "--range", "10:20:0"], "out.html",
                 "invalid --range '10:20:0': the step must be at least 1; use A:B or A:B:S with "
                 "whole numbers, e.g. 32:1024 or 32:1024:8", id="range-step-0"),
    pytest.param(["net.py", "-s", "32", "--baselines", "bogus"], "out.html",
                 "unknown baseline 'bogus': use constant, random, simplified, zeros", id="baselines-bogus"),
    pytest.param(["net.py", "-s", "32", "--baselines", "constant,bogus"], "out.html",
                 "unknown baseline 'bogus': use constant, random, simplified, zeros",
                 id="baselines-one-bogus"),
    pytest.param(["net.py", "-s", "32", "--weights", "nope.pt"], "out.html",
                 "--weights nope.pt: no such file", id="weights-missing"),
    pytest.param(["net.py", "-s", "32", "--weights", "wrong.pt"], "out.html",
                 "--weights wrong.pt: does not match net.py:Net: 4 missing (stem.weight, "
                 "stem.bias, down.weight, down.bias); 1 unexpected (nothing); pass --no-strict "
                 "to load the tensors that match", id="weights-wrong-keys"),
    pytest.param(["net.py", "-s", "32", "--weights", "gray.pt"], "out.html",
                 "--weights gray.pt: holds a Tensor, not a state_dict; save model.state_dict()",
                 id="weights-a-tensor"),
    pytest.param(["net.py", "-s", "32", "--data", "nope.npy"], "out.html",
                 "--data nope.npy: no such file or folder; give a .pt/.npy tensor, a folder of "
                 "images, or module:callable returning batches", id="data-missing"),
    pytest.param(["net.py", "-s", "32", "--data", "gray.pt"], "out.html",
                 "--data gray.pt: 1 channel(s), but net.py:Net takes 3", id="data-channels"),
    pytest.param(["net.py", "-s", "32", "--data", "wrong.pt"], "out.html",
                 "--data wrong.pt: holds a dict, not a tensor; save one tensor of shape "
                 "(N, C, H, W)", id="data-a-dict"),
    pytest.param(["net.py", "--data", "forty.pt", "--input-size", "32"], "out.html",
                 "--data forty.pt: its inputs are 40x40, but --input-size is 32x32; drop "
                 "--input-size (the data's size is analysed) or resize the data",
                 id="data-size-contradicts-input-size"),
    pytest.param(["net.py", "-s", "32", "--device", "cuda"], "out.html",
                 "--device cuda: CUDA is not available (no CUDA GPU is visible); use cpu, or "
                 "auto to take CUDA only where there is one", id="device-cuda", marks=NO_CUDA),
    # select_rules rejects a code or prefix that no rule has, in --select and --ignore alike
    pytest.param(["net.py", "-s", "32", "--select", "PAD999"], "out.html",
                 "unknown rule code or prefix 'PAD999'; `padlint rules` lists them",
                 id="select-unknown"),
    pytest.param(["net.py", "-s", "32", "--select", "PAD101,PAD999"], "out.html",
                 "unknown rule code or prefix 'PAD999'; `padlint rules` lists them",
                 id="select-one-unknown"),
    pytest.param(["net.py", "-s", "32", "--ignore", "PAD999"], "out.html",
                 "unknown rule code or prefix 'PAD999'; `padlint rules` lists them",
                 id="ignore-unknown"),
]


@pytest.mark.parametrize("args, output, message", BAD)
def test_bad_input_is_one_error_line_and_writes_nothing(folder, cli, args, output, message):
    before = snapshot(folder)
    code, out, err = cli(folder, "report", *args, "-o", output)
    line = assert_one_error_line(code, out, err)
    assert line == ERROR_PREFIX + message.format(root=folder), line
    assert snapshot(folder) == before                  # nothing written, nothing changed
    assert temporaries(folder) == []
    if output == "existing":
        assert list((folder / "existing").iterdir()) == []
    else:
        assert not (folder / output).exists()
    assert not (folder / "nowhere").exists()


def test_bad_config_file_is_one_error_line_naming_it(folder, cli):
    write(folder, "pyproject.toml", '[tool.padlint]\nignore = ["PAD999"]\n')
    before = snapshot(folder)
    code, out, err = cli(folder, "report", "net.py", "-s", "32", "-o", "out.html")
    line = assert_one_error_line(code, out, err)
    assert line == (f"{ERROR_PREFIX}{folder}/pyproject.toml: [tool.padlint] ignore: unknown rule "
                    "code 'PAD999'; `padlint rules` lists them")
    assert snapshot(folder) == before and temporaries(folder) == []


def test_output_with_a_trailing_slash_is_one_error_line(folder, cli):
    code, out, err = cli(folder, "report", "net.py", "-s", "32", "-o", "x.html/")
    assert_one_error_line(code, out, err, "--output x.html/")
    assert temporaries(folder) == [] and not (folder / "x.html").exists()


def test_a_failed_write_is_one_error_line(folder, cli, monkeypatch):
    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("padlint.output.files.os.replace", full)
    code, out, err = cli(folder, "report", "net.py", "-s", "32", "-o", "out.html")
    assert_one_error_line(code, out, err, "--output out.html", "No space left on device")


def test_a_list_of_input_sizes_is_refused(folder, cli):
    code, out, err = cli(folder, "report", "net.py", "-s", "32,33", "-o", "out.html")
    assert_one_error_line(code, out, err, "--input-size", "32,33")
    assert not (folder / "out.html").exists()


def test_weights_naming_a_folder_says_it_is_a_folder(folder, cli):
    code, out, err = cli(folder, "report", "net.py", "-s", "32", "-w", "existing", "-o", "out.html")
    line = assert_one_error_line(code, out, err, "--weights existing")
    assert "no such file" not in line, line
    assert "folder" in line, line


# --------------------------------------------------------------------------- an existing page

def test_a_failure_leaves_an_existing_page_byte_for_byte(folder, cli):
    old = b"<!DOCTYPE html>\nthe previous page\r\n\x00\xff\n"
    (folder / "report.html").write_bytes(old)
    os.utime(folder / "report.html", (1_000_000_000, 1_000_000_000))
    before = snapshot(folder)
    code, out, err = cli(folder, "report", "broken.py", "-s", "32", "-o", "report.html")
    assert_one_error_line(code, out, err, "broken.py:Broken: its forward fails at input 32x32")
    assert (folder / "report.html").read_bytes() == old
    assert os.stat(folder / "report.html").st_mtime == 1_000_000_000
    assert snapshot(folder) == before and temporaries(folder) == []


def test_a_late_failure_leaves_an_existing_page_and_no_temporary(folder, cli, monkeypatch):
    """The rename is what fails: the page was rendered, the temporary file written."""
    from padlint.page.layout import write_page
    (folder / "report.html").write_bytes(b"old page\n")
    seen = []

    def refuse(src, dst):
        seen.append(os.path.basename(src))
        assert os.path.getsize(src) > 1000          # the whole new page was in it
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("padlint.output.files.os.replace", refuse)
    with pytest.raises(OSError, match="No space left on device"):
        write_page("<!DOCTYPE html>" + "x" * 5000, str(folder / "report.html"))
    assert len(seen) == 1 and re.fullmatch(r"\.padlint-.+\.html", seen[0]), seen
    assert (folder / "report.html").read_bytes() == b"old page\n"
    assert temporaries(folder) == []


def test_debug_prints_the_traceback_and_still_exits_2(folder, cli):
    code, out, err = cli(folder, "report", "broken.py", "-s", "32", "-o", "out.html", "--debug")
    assert (code, out) == (2, "")
    assert err.startswith("Traceback (most recent call last):"), err[:300]
    assert 'raise RuntimeError("the forward is broken on purpose")' in err
    assert "padlint.errors.PadlintError: broken.py:Broken: its forward fails at input 32x32" in err
    last = err.splitlines()[-1]
    assert last.startswith(ERROR_PREFIX + "broken.py:Broken: its forward fails at input 32x32"), last
    assert sum(line.startswith(ERROR_PREFIX) for line in err.splitlines()) == 1
    assert not (folder / "out.html").exists() and temporaries(folder) == []


# --------------------------------------------------------------------------- matplotlib

def test_without_matplotlib_the_command_and_the_api_name_the_extra(folder, cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)   # import -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    before = snapshot(folder)
    code, out, err = cli(folder, "report", "net.py", "-s", "32", "-o", "out.html")
    line = assert_one_error_line(code, out, err, "padlint report needs matplotlib (",
                                 "); install the report extra: pip install 'padlint[report]'")
    assert line.endswith("pip install 'padlint[report]'"), line
    assert snapshot(folder) == before and temporaries(folder) == []
    with pytest.raises(padlint.PadlintError) as info:
        padlint.html_report(str(folder / "net.py"), str(folder / "api.html"), input_size=32)
    assert str(info.value) == line[len(ERROR_PREFIX):]
    assert not (folder / "api.html").exists()


# --------------------------------------------------------------------------- exit codes

def test_resnet_exit_codes_and_the_page_written_each_time(folder, cli):
    what = re.escape(f"{RESNET}:TinyResNet at 64x64, ")
    line = re.compile(r"wrote (\w+)\.html \(\d+\.\d MB\): " + what +
                      r"(\d+) findings \((\d+) error, (\d+) warning, (\d+) info\)\n")
    runs = [("default", [], 1), ("zero", ["--exit-zero"], 0), ("error", ["--fail-on", "error"], 1),
            ("never", ["--fail-on", "never"], 0)]
    for name, flags, expected in runs:
        code, out, err = cli(folder, "report", RESNET, "-s", "64", "-o", f"{name}.html", *flags)
        assert (code, err) == (expected, ""), (name, code, err)
        m = line.fullmatch(out)
        assert m and m.group(1) == name, out
        total, errors, warnings, infos = map(int, m.groups()[1:])
        assert errors >= 1 and warnings >= 1 and total == errors + warnings + infos, out
        assert out == success_line(folder, f"{name}.html", out.split(": ", 1)[1].rstrip("\n"))
        html = page(folder, f"{name}.html")
        assert "PAD102" in rule_ids(html) and "PAD101" in rule_ids(html)
    assert temporaries(folder) == []


def test_a_clean_model_exits_0_and_prints_the_exact_line(folder, cli):
    assert padlint.analyze(str(folder / "clean.py"), 224).findings == []
    code, out, err = cli(folder, "report", "clean.py", "-o", "clean.html")
    assert (code, err) == (0, ""), err
    # its one-row border covers 2 % of the 224x224 map: no PAD202 either (issue 19 item 10)
    assert out == success_line(folder, "clean.html", "clean.py:Clean at 224x224, 0 findings")
    html = page(folder, "clean.html")
    assert rule_ids(html) == [] and "No findings at this input size." in html
    # the verify stage's border artifact (PAD202) is an info, below the default --fail-on:
    # three zero-padded average pools (no weights) whose border takes over the last 8x8 map
    write(folder, "pools.py", POOLS)
    code, out, err = cli(folder, "report", "pools.py", "-s", "8", "-o", "pools.html")
    assert (code, err) == (0, ""), err
    assert out == success_line(folder, "pools.html", "pools.py:Pools at 8x8, 1 finding (1 info)")
    assert rule_ids(page(folder, "pools.html")) == ["PAD202"]
    code, out, err = cli(folder, "report", "pools.py", "-s", "8", "-o", "quiet.html", "--ignore", "PAD202")
    assert (code, err) == (0, "")
    assert out == success_line(folder, "quiet.html", "pools.py:Pools at 8x8, 0 findings")
    html = page(folder, "quiet.html")
    assert rule_ids(html) == [] and "No findings at this input size." in html
    code, out, err = cli(folder, "report", "pools.py", "-s", "8", "-o", "info.html", "--fail-on", "info")
    assert (code, err) == (1, "")                       # the info counts now
    assert out == success_line(folder, "info.html", "pools.py:Pools at 8x8, 1 finding (1 info)")


def test_the_default_output_file_and_replacing_an_old_page(folder, cli):
    (folder / "padlint-report.html").write_text("old page\n")
    code, out, err = cli(folder, "report", "shortcut.py", "-s", "33", "--no-blindspots")
    assert (code, err) == (0, "")
    assert out == success_line(folder, "padlint-report.html",
                               "shortcut.py:Shortcut at 33x33, 2 findings (2 info)")
    assert rule_ids(page(folder, "padlint-report.html")) == ["PAD103"]
    assert oct(os.stat(folder / "padlint-report.html").st_mode & 0o777) == "0o644"
    assert temporaries(folder) == []


# --------------------------------------------------------------------------- the page's options

def strip_marks(html: str, axis: str) -> list[tuple[str, int]]:
    start = html.index(f'<div class="strip" data-axis="{axis}">')
    body = html[start:html.index("</div>", start)]
    marks = re.findall(r'<span class="s (\w+)[^"]*" title="(\d+):', body)
    assert len(marks) == body.count('class="s '), body[:500]
    return [(kind, int(n)) for kind, n in marks]


def test_range_gives_41_marks_per_axis_and_the_sweeps_clean_sizes(folder, cli):
    code, out, err = cli(folder, "report", "net.py", "--range", "200:240", "-o", "r.html")
    assert (code, err) == (1, "")                       # PAD101 at 224
    html = page(folder, "r.html")
    assert html.count('<div class="strip" data-axis=') == 2
    sweep = padlint.sweep(str(folder / "net.py"), sizes=range(200, 241))
    for axis in ("H", "W"):
        marks = strip_marks(html, axis)
        assert len(marks) == 41
        assert [n for _, n in marks] == list(range(200, 241))
        clean = [n for kind, n in marks if kind == "clean"]
        assert clean == sweep.axis(axis).clean == list(range(201, 241, 4))
        assert {kind for kind, n in marks if n not in clean} == {"uneven"}
        assert f"<h3>{axis}: 10 of 41 sizes clean; nearest clean to 224: 221 and 225</h3>" in html


def test_baselines_choose_the_grids(folder, cli):
    cli(folder, "report", "net.py", "-s", "32", "-o", "default.html")
    html = page(folder, "default.html")                 # the control: random is there by default
    assert re.findall(r'<h3 id="maps-(\w+)">', html) == ["probe", "constant", "random"]
    assert "Every layer, random input, at 32x32" in html

    code, _, err = cli(folder, "report", "net.py", "-s", "32", "--baselines", "constant",
                       "-o", "c.html")
    assert (code, err) == (1, "")
    html = page(folder, "c.html")
    assert re.findall(r'<h3 id="maps-(\w+)">', html) == ["probe", "constant"]
    assert "Every layer, symmetric-kernel probe, at 32x32" in html
    assert "Every layer, constant input, at 32x32" in html
    assert "Every layer, random input" not in html
    assert "zero input" not in html

    code, _, err = cli(folder, "report", "net.py", "-s", "32", "--baselines", "constant,zeros",
                       "-o", "z.html")
    assert (code, err) == (1, "")
    html = page(folder, "z.html")
    assert re.findall(r'<h3 id="maps-(\w+)">', html) == ["probe", "constant", "zeros"]
    assert "Every layer, zero input, at 32x32" in html
    assert "Every layer, random input" not in html


def test_the_blind_spot_maps_add_pad203_and_no_blindspots_leaves_them_out(folder, cli):
    """A 1x1 stride-2 conv never sees every other input row and column: at 33 the map's
    12x12 grid holds 80 such positions, PAD203 fires (a warning: exit 1)."""
    code, out, err = cli(folder, "report", "shortcut.py", "-s", "33", "-o", "maps.html")
    assert (code, err) == (1, "")
    assert out == success_line(folder, "maps.html",
                               "shortcut.py:Shortcut at 33x33, 3 findings (1 warning, 2 info)")
    html = page(folder, "maps.html")
    assert rule_ids(html) == ["PAD203", "PAD103"]
    assert ("<li><b>as built</b> (33x33): asymmetry H 0, W 0; 80 of 144 positions blind "
            "(below 25 % of the median 0.865)</li>") in html
    code, out, err = cli(folder, "report", "shortcut.py", "-s", "33", "-o", "none.html", "--no-blindspots")
    assert (code, err) == (0, "")
    assert out == success_line(folder, "none.html", "shortcut.py:Shortcut at 33x33, 2 findings (2 info)")
    assert "No blind-spot maps: left out (--no-blindspots)." in page(folder, "none.html")


def test_config_ignore_drops_a_rule_and_isolated_brings_it_back(folder, cli):
    code, out, _ = cli(folder, "report", "shortcut.py", "-s", "33", "-o", "plain.html", "--no-blindspots")
    assert 'id="rule-PAD103"' in page(folder, "plain.html")            # the control
    write(folder, "pyproject.toml", '[tool.padlint]\nignore = ["PAD103"]\n')
    code, out, err = cli(folder, "report", "shortcut.py", "-s", "33", "-o", "cfg.html", "--no-blindspots")
    assert (code, err) == (0, "")
    assert out == success_line(folder, "cfg.html", "shortcut.py:Shortcut at 33x33, 0 findings")
    assert 'id="rule-PAD103"' not in page(folder, "cfg.html")
    code, out, err = cli(folder, "report", "shortcut.py", "-s", "33", "-o", "iso.html", "--isolated",
                         "--no-blindspots")
    assert (code, err) == (0, "")
    assert out == success_line(folder, "iso.html",
                               "shortcut.py:Shortcut at 33x33, 2 findings (2 info)")
    assert 'id="rule-PAD103"' in page(folder, "iso.html")


def test_config_select_is_honoured_like_the_select_flag(folder, cli):
    code, out, err = cli(folder, "report", "net.py", "-s", "32", "--select", "PAD102",
                         "-o", "flag.html")
    assert (code, err) == (0, "")
    assert out == success_line(folder, "flag.html", "net.py:Net at 32x32, 0 findings")
    write(folder, "pyproject.toml", '[tool.padlint]\nselect = ["PAD102"]\n')
    code, out, err = cli(folder, "report", "net.py", "-s", "32", "-o", "cfg.html")
    assert out == success_line(folder, "cfg.html", "net.py:Net at 32x32, 0 findings")
    assert (code, err) == (0, "")


# --------------------------------------------------------------------------- --weights

def test_weights_are_loaded_and_named(folder, cli):
    sys.path.insert(0, str(folder))
    try:
        import importlib
        net = importlib.import_module("net").Net()
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("net", None)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(0.25)
    torch.save(net.state_dict(), folder / "ckpt.pt")
    code, _, err = cli(folder, "report", "net.py", "--input-size", "32", "--weights", "ckpt.pt",
                       "--exit-zero")
    assert code == 0, err
    html = (folder / "padlint-report.html").read_text()
    assert "<dt>weights</dt><dd>ckpt.pt</dd>" in html
    kernels = html[html.index('<section id="kernels">'):]
    assert re.findall(r'<div class="card[^"]*"><div><code>([^<]+)</code>', kernels) == ["stem", "down"]
    assert "kernel asymmetry 0.00" in kernels         # a constant kernel is symmetric
