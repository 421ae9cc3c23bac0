"""PAD107 at the front door (issue 19, items 7 and 15).

- Item 7: on the tutorial U-Net of ``tests/frontdoor/unet_ac.py`` (bilinear upsampling with
  ``align_corners=True``) every merge is misaligned; the finding names the interpolation and
  align_corners as the cause (exact text), ``padlint fix`` rewrites it to
  ``align_corners=False`` (exact diff) and the re-check has no PAD107; a call it cannot
  rewrite (align_corners through a variable), a flip that verification rejects and a merge
  that align_corners does not explain are listed as ``not fixed``.
- Item 15: two ``torch.cat`` (or two adaptive pools) of one forward analysed with module
  hooks got the same name (``up.cat`` twice, as on diffusers' UNet2DModel); the second is now
  ``up.cat#2``, as a repeated module call is ``name#2``.

Speed: the command runs in this process on models of 16 to 64 pixels.
"""
import importlib.util
import os
import shutil

import torch

import padlint
from cli_helpers import write
from paths import EXAMPLES
from paths import FRONTDOOR as _FRONTDOOR

FRONTDOOR = str(_FRONTDOOR)    # for os.path

CAUSE = ("because interpolate{n} at unet_ac.py:{line} uses align_corners=True (it keeps the first "
         "and last cell centres, which stretches the cells between them); with align_corners=False "
         "all inputs would be centred at {plain}")
FIX = ("use align_corners=False (the default) in interpolate{n} at unet_ac.py:{line}: the cells of "
       "every input then sit at {plain} (`padlint fix` rewrites a literal call)")


CALL_TRUE = 'mode="bilinear", align_corners=True)'
CALL_FALSE = 'mode="bilinear", align_corners=False)'


def _unet(tmp_path):
    shutil.copy(os.path.join(FRONTDOOR, "unet_ac.py"), tmp_path / "unet_ac.py")
    return tmp_path / "unet_ac.py"


def _out_shape(path, size=64):
    spec = importlib.util.spec_from_file_location(f"unet_{abs(hash(_read(path)))}", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with torch.no_grad():
        return tuple(module.UNetAlignCorners().eval()(torch.zeros(1, 3, size, size)).shape)


def _read(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _pad107(out):
    return [line for line in out.splitlines() if " PAD107 " in line]


# --------------------------------------------------------------- item 7: the message

def test_unet_align_corners_finding_names_the_interpolation_as_the_cause(cli, tmp_path):
    _unet(tmp_path)
    code, out, err = cli(tmp_path, "check", "unet_ac.py", "--select", "PAD107", "-s", "64", "--timeout", "0")
    assert code == 1, err
    lines = _pad107(out)
    assert len(lines) == 2                                       # H and W on one line each
    assert lines[0] == (
        "unet_ac.py:30:22: PAD107 [warning] cat merges feature maps whose cells on H, W have different "
        "strides (2 vs 1.93548 input pixels per cell), +1 input pixels apart at the first cell and -1 "
        "at the last: cell j is centred at input 2j+0.5 and 1.935j+1.5, "
        + CAUSE.format(n="", line=29, plain="2j+0.5") + ". Fix: " + FIX.format(n="", line=29, plain="2j+0.5"))
    assert lines[1] == (
        "unet_ac.py:32:22: PAD107 [warning] cat_1 merges feature maps whose cells on H, W have different "
        "strides (1 vs 0.984127 input pixels per cell), +0.5 input pixels apart at the first cell and "
        "-0.5 at the last: cell j is centred at input j and 0.9841j+0.5, "
        + CAUSE.format(n="_1", line=31, plain="j") + ". Fix: " + FIX.format(n="_1", line=31, plain="j"))
    # the same model with align_corners=False: no finding
    write(tmp_path, "unet_ac.py", _read(tmp_path / "unet_ac.py").replace(CALL_TRUE, CALL_FALSE))
    code, out, err = cli(tmp_path, "check", "unet_ac.py", "--select", "PAD107", "-s", "64", "--timeout", "0")
    assert (code, out.splitlines()[-1]) == (0, "No findings in 1 model run."), out + err


# ------------------------------------------------------------ item 7: padlint fix

UNET_DIFF = """\
--- a/unet_ac.py
+++ b/unet_ac.py
@@ -26,8 +26,8 @@
         x1 = self.inc(x)
         x2 = self.down1(x1)
         x3 = self.down2(x2)
-        u = F.interpolate(x3, scale_factor=2, mode="bilinear", align_corners=True)
+        u = F.interpolate(x3, scale_factor=2, mode="bilinear", align_corners=False)
         u = self.up1(torch.cat([x2, u], dim=1))
-        u = F.interpolate(u, scale_factor=2, mode="bilinear", align_corners=True)
+        u = F.interpolate(u, scale_factor=2, mode="bilinear", align_corners=False)
         u = self.up2(torch.cat([x1, u], dim=1))
         return self.outc(u)
"""


def test_fix_rewrites_align_corners_and_the_recheck_is_clean(cli, tmp_path):
    path = _unet(tmp_path)
    original, shape = _read(path), _out_shape(path)
    code, diff, err = cli(tmp_path, "fix", "unet_ac.py", "-s", "64")
    assert (code, diff) == (1, UNET_DIFF), err
    assert err.splitlines() == [
        "padlint: fix: unet_ac.py:29:13 cat PAD107 (H, W): align_corners=False",
        "padlint: fix: unet_ac.py:31:13 cat_1 PAD107 (H, W): align_corners=False"]
    assert _read(path) == original
    code, out, err = cli(tmp_path, "fix", "unet_ac.py", "-s", "64", "--apply")
    assert (code, out) == (0, "fixed unet_ac.py: 2 calls rewritten\n"), err
    assert _read(path) == original.replace(CALL_TRUE, CALL_FALSE)
    assert _out_shape(path) == shape == (1, 2, 64, 64)
    code, out, err = cli(tmp_path, "check", "unet_ac.py", "-s", "64", "--timeout", "0")
    assert code == 0, out + err
    assert _pad107(out) == [] and out.splitlines()[-1] == "No findings in 1 model run."


UPSAMPLE = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.down = nn.MaxPool2d(2)
        self.up = nn.Upsample(None, 2, "bilinear", True)

    def forward(self, x):
        skip = self.enc(x)
        return torch.cat([skip, self.up(self.down(skip))], 1)


PADLINT_TARGETS = [(Net, 16)]
"""


def test_fix_rewrites_a_positional_align_corners_of_nn_upsample(cli, tmp_path):
    path = write(tmp_path, "net.py", UPSAMPLE)
    code, diff, err = cli(tmp_path, "fix", "net.py")
    assert code == 1, err
    assert [line for line in diff.splitlines() if line[:1] in "+-"] == [
        "--- a/net.py", "+++ b/net.py",
        '-        self.up = nn.Upsample(None, 2, "bilinear", True)',
        '+        self.up = nn.Upsample(None, 2, "bilinear", False)']
    assert err == "padlint: fix: net.py:10:19 cat PAD107 (H, W): align_corners=False\n"
    assert _read(path) == UPSAMPLE


VARIABLE = """\
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, corners=True):
        super().__init__()
        self.corners = corners
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        skip = self.enc(x)
        up = F.interpolate(self.pool(skip), scale_factor=2, mode="bilinear", align_corners=self.corners)
        return torch.cat([skip, up], 1)


PADLINT_TARGETS = [(Net, 16)]
"""


def test_align_corners_through_a_variable_is_not_fixed(cli, tmp_path):
    path = write(tmp_path, "net.py", VARIABLE)
    code, out, err = cli(tmp_path, "fix", "net.py")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [
        "padlint: not fixed: net.py:15:14 cat PAD107 (H, W): arguments not literal "
        "(align_corners=self.corners)",
        "padlint: nothing fixed, 1 not fixed"]
    assert _read(path) == VARIABLE


# a and b sit on the same align_corners grid: flipping a lines the cat up but puts the add apart
TWO_WAYS = VARIABLE.replace("""\
        up = F.interpolate(self.pool(skip), scale_factor=2, mode="bilinear", align_corners=self.corners)
        return torch.cat([skip, up], 1)
""", """\
        low = self.pool(skip)
        a = F.interpolate(low, scale_factor=2, mode="bilinear", align_corners=True)
        b = F.interpolate(low, scale_factor=2, mode="bilinear", align_corners=self.corners)
        return torch.cat([skip, a], 1), a + b
""")


def test_a_flip_that_puts_another_merge_apart_fails_verification(cli, tmp_path):
    path = write(tmp_path, "net.py", TWO_WAYS)
    code, out, err = cli(tmp_path, "fix", "net.py")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [
        "padlint: not fixed: net.py:16:13 cat PAD107 (H, W): verification failed: the rewrite makes "
        "PAD107 fire on add H",
        "padlint: nothing fixed, 1 not fixed"]
    assert _read(path) == TWO_WAYS


# the skip is on j, the strided conv's cells on 2j: half-pixel upsampling puts them on j-0.5
PARTLY = """\
import torch
from torch import nn
from torch.nn.functional import interpolate


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)

    def forward(self, x):
        skip = self.enc(x)
        up = interpolate(self.down(skip), scale_factor=2, mode="bilinear", align_corners=True)
        return torch.cat([skip, up], 1)


PADLINT_TARGETS = [(Net, 16)]
"""


def test_a_merge_align_corners_does_not_explain_is_named_and_not_fixed(cli, tmp_path, monkeypatch):
    write(tmp_path, "net.py", PARTLY)
    monkeypatch.chdir(tmp_path)
    report = padlint.analyze("net.py", select=["PAD107"])
    f = report.findings[0]
    assert [(g.layer, g.axis) for g in report.findings] == [("cat", "H"), ("cat", "W")]
    assert f.message.endswith(
        "cell j is centred at input j and 0.9333j; interpolate at net.py:14 uses "
        "align_corners=True, but with "
        "align_corners=False the cells would still be centred at j and j-0.5")
    assert f.fix.startswith("use align_corners=False in interpolate at net.py:14, and give both "
                            "branches the same cell centres: pair 2x2 pooling")
    code, out, err = cli(tmp_path, "fix", "net.py", "--select", "PAD107")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [
        "padlint: not fixed: net.py:15:16 cat PAD107 (H, W): no rewrite known (align_corners=False "
        "in interpolate would not line the cells up)",
        "padlint: nothing fixed, 1 not fixed"]


def test_a_merge_without_align_corners_is_listed_as_not_fixed(cli, tmp_path):
    shutil.copy(EXAMPLES / "unet.py", tmp_path / "unet.py")
    code, out, err = cli(tmp_path, "fix", "unet.py", "--select", "PAD107")
    assert (code, out) == (0, ""), err
    reason = "no rewrite known (no align_corners=True interpolation puts these cells apart)"
    assert err.splitlines() == [f"padlint: not fixed: unet.py:32:23 cat PAD107 (H, W): {reason}",
                                f"padlint: not fixed: unet.py:33:23 cat_1 PAD107 (H, W): {reason}",
                                "padlint: nothing fixed, 2 not fixed"]


# ------------------------------------------------------------- item 15: distinct names

TWO_CATS = """\
import torch
from torch import nn


class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.fuse = nn.Conv2d(8, 4, 1)

    def forward(self, skip):
        deep = self.up(self.down(skip))                  # cells on j-0.5, the skip's on j
        wide = torch.cat([skip, deep], 1)
        return torch.cat([self.fuse(wide), deep], 1)     # the fused map keeps the skip's cells


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.up = Up()

    def forward(self, x):
        if x.shape[-1] % 2:                              # torch.fx cannot trace this: module hooks
            raise ValueError("even sizes only")
        return self.up(self.enc(x))


PADLINT_TARGETS = [(Net, 16)]
"""


def test_two_concatenations_of_one_forward_get_distinct_names(cli, tmp_path, monkeypatch):
    write(tmp_path, "net.py", TWO_CATS)
    monkeypatch.chdir(tmp_path)
    report = padlint.analyze("net.py:Net", select=["PAD107"])
    assert report.results[0].trace.method == "hooks"
    assert [(f.layer, f.axis, f.op, f.source.line, f.data["offset"]) for f in report.findings] == [
        ("up.cat", "H", "", 14, 0.5), ("up.cat", "W", "", 14, 0.5),
        ("up.cat#2", "H", "", 15, 0.5), ("up.cat#2", "W", "", 15, 0.5)]
    code, out, err = cli(tmp_path, "check", "net.py:Net", "--select", "PAD107", "--timeout", "0")
    assert code == 1, err
    heads = [line.split(" merges ")[0] for line in _pad107(out)]
    assert heads == ["net.py:14:16: PAD107 [warning] up.cat",          # H and W on one line
                     "net.py:15:16: PAD107 [warning] up.cat#2"]


POOLS = """\
import torch
from torch import nn
import torch.nn.functional as F


class Pyramid(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        if x.shape[-1] % 2:
            raise ValueError("even sizes only")
        y = self.conv(x)
        return [F.adaptive_avg_pool2d(y, bins) for bins in (3, 6)]


PADLINT_TARGETS = [(Pyramid, 16)]
"""


def test_two_adaptive_pools_of_one_forward_get_distinct_names(tmp_path, monkeypatch):
    write(tmp_path, "pools.py", POOLS)
    monkeypatch.chdir(tmp_path)
    report = padlint.analyze("pools.py", select=["PAD106"])
    assert [(f.layer, f.axis, f.data["m"]) for f in report.findings] == [
        ("adaptive_avg_pool2d", "H", 3), ("adaptive_avg_pool2d", "W", 3),
        ("adaptive_avg_pool2d#2", "H", 6), ("adaptive_avg_pool2d#2", "W", 6)]


HELPER = """\
import torch
from torch import nn
from torch.nn import functional


def up(x):
    return functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        skip = self.enc(x)
        return torch.cat([skip, up(self.pool(skip))], 1) + torch.cat([up(self.pool(skip)), skip], 1)


PADLINT_TARGETS = [(Net, 16)]
"""


def test_one_interpolation_helper_behind_two_merges_is_edited_once(cli, tmp_path):
    write(tmp_path, "net.py", HELPER)
    code, diff, err = cli(tmp_path, "fix", "net.py")
    assert code == 1, err
    assert [line for line in diff.splitlines() if line[:1] in "+-"] == [
        "--- a/net.py", "+++ b/net.py",
        '-    return functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)',
        '+    return functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)']
    assert err == "padlint: fix: net.py:7:12 cat, cat_1, add PAD107 (H, W): align_corners=False\n"
