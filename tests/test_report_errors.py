"""`padlint report` through the command line: the bad-input matrix (exit 2, one
`padlint: error: ...` line naming the file or flag and what to do, nothing on stdout, no
traceback unless --debug, and no page written: neither the file nor a temporary one, and
an existing file left as it was), matplotlib missing, exit codes, the success line, and
the options that shape the page (--range, --baselines, [tool.padlint])."""
import os
import re
import sys

import pytest
import torch

pytest.importorskip("matplotlib")

import padlint  # noqa: E402
from cli_helpers import assert_one_error_line, cli, write  # noqa: E402,F401 - cli is a fixture

# stem and down are stride-2: PAD101 on H and W at 32, clean at 33.
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

CLEAN = """\
from torch import nn


class Flat(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
"""

VALID = CLEAN.replace("nn.Conv2d(3, 8, 3, padding=1)", "nn.Conv2d(3, 8, 5)")

TWO = NET + "\n\nclass Other(Net):\n    pass\n"

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
    write(tmp_path, "two.py", TWO)
    write(tmp_path, "broken.py", BROKEN)
    write(tmp_path, "empty.py", "x = 1\n")
    write(tmp_path, "clean.py", CLEAN)
    write(tmp_path, "valid.py", VALID)
    torch.save({"nothing": torch.zeros(1)}, tmp_path / "wrong.pt")
    torch.save(torch.zeros(2, 1, 32, 32), tmp_path / "gray.pt")
    torch.save(torch.zeros(2, 3, 40, 40), tmp_path / "forty.pt")
    (tmp_path / "existing").mkdir()
    return tmp_path


def leftovers(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.html"))


BAD = [
    (["missing.py"], ["missing.py"]),
    (["empty.py"], ["empty.py", "no model found"]),
    (["two.py"], ["two.py", "defines 2 models", "path.py:Name"]),
    (["broken.py"], ["broken.py:Broken", "its forward fails", "--debug"]),
    (["valid.py", "--input-size", "2"], ["valid.py:Flat", "too small", "the smallest input that works is 5"]),
    (["net.py", "-o", "nowhere/r.html"], ["--output nowhere/r.html", "does not exist"]),
    (["net.py", "-o", "existing"], ["--output existing", "is a folder"]),
    (["net.py", "--limit", "0"], ["--limit 0", "positive"]),
    (["net.py", "--batch-size", "0"], ["--batch-size 0", "positive"]),
    (["net.py", "--range", "10:5"], ["10:5"]),
    (["net.py", "--range", "abc"], ["abc", "A:B"]),
    (["net.py", "--baselines", "bogus"], ["unknown baseline 'bogus'", "constant"]),
    (["net.py", "--weights", "nope.pt"], ["nope.pt"]),
    (["net.py", "--weights", "wrong.pt"], ["wrong.pt", "nothing"]),
    (["net.py", "--data", "nope.npy"], ["--data nope.npy", "no such file"]),
    (["net.py", "--data", "gray.pt"], ["--data gray.pt", "1 channel", "takes 3"]),
    (["net.py", "--data", "forty.pt", "--input-size", "32"], ["--data forty.pt", "40x40", "--input-size"]),
    (["net.py", "--select", "PAD999"], ["PAD999"]),
]


@pytest.mark.parametrize("args,parts", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_writes_nothing(folder, cli, args, parts):
    small = [] if "--input-size" in args else ["--input-size", "32"]     # quick where it can be
    code, out, err = cli(folder, "report", *args, *small)
    assert_one_error_line(code, out, err, *parts)
    assert leftovers(folder) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_on_a_machine_without_it(folder, cli):
    code, out, err = cli(folder, "report", "net.py", "--device", "cuda")
    assert_one_error_line(code, out, err, "--device cuda", "CUDA is not available", "cpu")
    assert leftovers(folder) == []


def test_a_failure_leaves_an_existing_page_as_it_was(folder, cli):
    page = folder / "report.html"
    page.write_text("the previous page\n")
    code, out, err = cli(folder, "report", "broken.py", "-o", "report.html")
    assert_one_error_line(code, out, err, "broken.py:Broken")
    assert page.read_text() == "the previous page\n"
    assert leftovers(folder) == ["report.html"]


def test_debug_shows_the_traceback(folder, cli):
    code, out, err = cli(folder, "report", "broken.py", "--debug")
    assert code == 2 and out == ""
    assert "Traceback" in err and "the forward is broken on purpose" in err
    assert err.rstrip().splitlines()[-1].startswith("padlint: error: ")


def test_without_matplotlib_it_names_the_extra(folder, cli, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib -> ImportError
    code, out, err = cli(folder, "report", "net.py", "--input-size", "32")
    assert_one_error_line(code, out, err, "padlint report needs matplotlib",
                          "pip install 'padlint[report]'")
    assert leftovers(folder) == []
    with pytest.raises(padlint.PadlintError, match=re.escape("pip install 'padlint[report]'")):
        padlint.html_report(str(folder / "net.py"))


def test_exit_codes_and_the_success_line(folder, cli):
    code, out, err = cli(folder, "report", "net.py", "--input-size", "32", "-o", "a.html")
    assert code == 1, err
    assert re.fullmatch(r"wrote a\.html \(0\.\d MB\): net\.py:Net at 32x32, \d+ findings \(\d+ "
                        r"warning(, \d+ info)?\)\n", out), out
    assert (folder / "a.html").read_text().startswith("<!DOCTYPE html>")
    code, out, _ = cli(folder, "report", "net.py", "--input-size", "32", "-o", "b.html", "--exit-zero")
    assert code == 0 and (folder / "b.html").exists()
    code, _, _ = cli(folder, "report", "net.py", "--input-size", "32", "-o", "c.html", "--fail-on", "error")
    assert code == 0                          # warnings and infos only
    code, _, _ = cli(folder, "report", "net.py", "--input-size", "32", "-o", "d.html", "--fail-on", "info")
    assert code == 1
    assert padlint.analyze(str(folder / "clean.py"), 32).findings == []
    code, out, err = cli(folder, "report", "clean.py", "--input-size", "32")
    assert code == 0, err           # the verify stage's border artifact is only an info
    assert out == "wrote padlint-report.html (0.0 MB): clean.py:Flat at 32x32, 1 finding (1 info)\n"
    assert err == ""
    code, out, err = cli(folder, "report", "clean.py", "--input-size", "32", "--ignore", "PAD2")
    assert out == "wrote padlint-report.html (0.0 MB): clean.py:Flat at 32x32, 0 findings\n"
    assert leftovers(folder) == ["a.html", "b.html", "c.html", "d.html", "padlint-report.html"]


def strip(html: str, axis: str) -> list[tuple[str, int]]:
    start = html.index(f'<div class="strip" data-axis="{axis}">')
    body = html[start:html.index("</div>", start)]
    return [(kind, int(n)) for kind, n in re.findall(r'<span class="s (\w+)[^"]*" title="(\d+):', body)]


def test_range_sets_the_size_strip(folder, cli):
    code, _, err = cli(folder, "report", "net.py", "--input-size", "32", "--range", "20:60:2",
                       "--exit-zero")
    assert code == 0, err
    html = (folder / "padlint-report.html").read_text()
    sweep = padlint.sweep(str(folder / "net.py"), sizes=range(20, 61, 2), input_size=32)
    for axis in ("H", "W"):
        marks = strip(html, axis)
        assert [n for _, n in marks] == list(range(20, 61, 2))
        assert [n for kind, n in marks if kind == "clean"] == sweep.axis(axis).clean
    assert sweep.axis("H").clean == []          # every even size is uneven for this net


def test_baselines_choose_the_grids(folder, cli):
    cli(folder, "report", "net.py", "--input-size", "32", "--baselines", "constant", "-o", "c.html")
    html = (folder / "c.html").read_text()
    assert re.findall(r'<h3 id="maps-(\w+)">', html) == ["probe", "constant"]
    assert "Every layer, random input" not in html
    cli(folder, "report", "net.py", "--input-size", "32", "--baselines", "constant,zeros", "-o", "z.html")
    html = (folder / "z.html").read_text()
    assert re.findall(r'<h3 id="maps-(\w+)">', html) == ["probe", "constant", "zeros"]
    assert "Every layer, zero input, at 32x32" in html


def test_configuration_ignores_and_isolated_brings_back(folder, cli):
    write(folder, "pyproject.toml", '[tool.padlint]\nignore = ["PAD101"]\n')
    cli(folder, "report", "net.py", "--input-size", "32", "-o", "cfg.html")
    html = (folder / "cfg.html").read_text()
    assert 'id="rule-PAD101"' not in html
    cli(folder, "report", "net.py", "--input-size", "32", "-o", "iso.html", "--isolated")
    assert 'id="rule-PAD101"' in (folder / "iso.html").read_text()


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
