"""Issue 19, item 16: a layer built inside a library keeps the finding at the user's line;
the JSON adds the library's line (``defined_at``) and ``-v`` shows it in the text."""
from __future__ import annotations

import json
from pathlib import Path

import torchvision.models.resnet as tv_resnet

from cli_helpers import write

LIBNET = """\
from torch import nn
from torchvision.models import resnet18


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = resnet18()

    def forward(self, x):
        return self.body(x)
"""


def _line_of(path: str, text: str) -> int:
    return next(i for i, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line)


def test_json_carries_the_library_line(cli, tmp_path):
    write(tmp_path, "libnet.py", LIBNET)
    code, out, err = cli(tmp_path, "check", "libnet.py", "--format", "json", "--timeout", "0")
    assert code == 1, err
    findings = {(f["layer"], f["axis"], f["rule"]): f for f in json.loads(out)["results"][0]["findings"]}
    conv1 = findings[("body.conv1", "H", "PAD101")]
    assert conv1["source"] == {"path": "libnet.py", "line": 8, "col": 21, "end_line": 8, "end_col": 31}
    assert Path(conv1["defined_at"]["path"]) == Path(tv_resnet.__file__)
    assert conv1["defined_at"]["line"] == _line_of(tv_resnet.__file__, "self.conv1 = nn.Conv2d(3, self.inplanes")
    shortcut = findings[("body.layer2.0.downsample.0", "H", "PAD102")]
    assert shortcut["defined_at"]["line"] == _line_of(tv_resnet.__file__, "return nn.Conv2d(in_planes, out_planes, kernel_size=1")


def test_text_shows_it_with_verbose_only(cli, tmp_path):
    write(tmp_path, "libnet.py", LIBNET)
    _, plain, _ = cli(tmp_path, "check", "libnet.py", "--timeout", "0")
    _, verbose, _ = cli(tmp_path, "check", "libnet.py", "-v", "--timeout", "0")
    assert "defined at" not in plain
    first = verbose.splitlines()[0]
    assert first.startswith("libnet.py:8:21: PAD101 [warning] body.conv1 (Conv2d k=7 s=2 p=3)")
    line = _line_of(tv_resnet.__file__, "self.conv1 = nn.Conv2d(3, self.inplanes")
    assert first.endswith(f" (defined at {tv_resnet.__file__}:{line}:22)")
    assert [ln.split(" (defined at ")[0] for ln in verbose.splitlines()] == plain.splitlines()


def test_a_layer_in_the_users_own_file_has_no_definition(cli, tmp_path):
    write(tmp_path, "own.py", """\
from torch import nn


class Own(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
""")
    _, out, _ = cli(tmp_path, "check", "own.py", "--format", "json", "--timeout", "0")
    assert all("defined_at" not in f for f in json.loads(out)["results"][0]["findings"])
