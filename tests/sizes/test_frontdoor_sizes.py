"""Issue 19, item 4: no "use input size 1". A merge whose branches are equal at the
analysed size must stay equal at every swept size (a length-1 map broadcast against a
longer one is not a run of the model), on the fast and the exact path; and when no size
near is clean, `padlint check` says why and offers a change to the layer instead.
"""
from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from padlint._rules.uneven_padding import kernel_change
from torch import nn

import padlint
from padlint.cli.main import main
from padlint.engine.select import select_rules
from padlint.geometry.axis import axis_facts
from padlint.load.target import Candidate
from padlint.sizes.exact import exact_axis
from padlint.sizes.fast import fast_axis, fast_path_problem
from padlint.sizes.suggest import size_set
from padlint.trace.build import prepare, trace_at
from paths import FRONTDOOR

warnings.filterwarnings("ignore", category=FutureWarning)
EVENADD = str(FRONTDOOR / "evenadd.py")
RULES = select_rules(["PAD101", "PAD102"])
EVENADD_WHY = ("the branches of add agree only at even sizes, and down (Conv2d k=3 s=2 p=1) "
               "is uneven at all of them")


def run(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args] + ["--timeout", "0"])
    return code, capsys.readouterr().out


# -- evenadd: the skip add runs at even sizes only, where the stride-2 conv is uneven ----------

def test_evenadd_check_says_why_no_size_is_clean_and_offers_the_kernel(capsys):
    code, out = run(capsys, "check", EVENADD, "--select", "PAD101,PAD102")
    assert code == 1
    assert not re.search(r"input size 1\b", out) and "sees 223 or 225" not in out
    lines = out.splitlines()
    assert lines[-2].endswith("2 findings (2 warning); no input size within 256 of 224x224 is "
                              f"clean: {EVENADD_WHY}")
    fixes = [line.split(" Fix: ", 1)[1] for line in lines if " PAD101 " in line]
    assert fixes == [f"no input size within 256 of 224 is clean on H, W: {EVENADD_WHY}; "
                     "use kernel 4 with padding 1 instead"]            # H and W on one line


def test_evenadd_json_suggests_no_size(capsys):
    code, out = run(capsys, "check", EVENADD, "--format", "json")
    assert code == 1
    (result,) = json.loads(out)["results"]
    assert result["suggested_sizes"] == []
    assert {f["rule"] for f in result["findings"]} == {"PAD101", "PAD107"}


def test_evenadd_sizes_lists_odd_sizes_as_invalid_with_the_reason(capsys):
    code, out = run(capsys, "sizes", EVENADD, "--range", "1:12", "--axis", "H", "--format", "json")
    assert code == 0
    (h,) = json.loads(out)["axis_results"]
    assert h["clean"] == []
    assert h["invalid"] == {
        "1": "pool (AvgPool2d) would get 1 on H and needs at least 2",
        "3": "add: merged branches disagree (2 vs 1)",      # ran before: 1 row broadcast to 2
        "5": "add: merged branches disagree (3 vs 2)", "7": "add: merged branches disagree (4 vs 3)",
        "9": "add: merged branches disagree (5 vs 4)", "11": "add: merged branches disagree (6 vs 5)"}
    assert h["first_uneven"] == {str(n): "down" for n in range(2, 13, 2)}


def test_evenadd_sizes_text_names_the_merge(capsys):
    code, out = run(capsys, "sizes", EVENADD, "--range", "1:12", "--axis", "H")
    assert code == 0
    assert "    3, 5, …, 11: add: merged branches disagree (2 vs 1) (at the first of them)" in out


class InPlaceEvenAdd(nn.Module):
    """evenadd with ``out += shortcut``: torch lets the 1-row shortcut broadcast in place at
    3, and refuses a 2-row one at 5."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.AvgPool2d(2)
        self.proj = nn.Conv2d(3, 8, 1)

    def forward(self, x):
        out = self.down(x)
        out += self.proj(self.pool(x))
        return out


def evenadd():
    import importlib.util
    spec = importlib.util.spec_from_file_location("evenadd", EVENADD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EvenAdd


@pytest.mark.parametrize("build", [evenadd, lambda: InPlaceEvenAdd], ids=["add", "in-place"])
def test_fast_and_exact_paths_reject_the_same_broadcasts(build):
    model = build()
    prep = prepare(Candidate(model.__name__, model))
    trace = trace_at(prep, (224,), program=True)
    assert fast_path_problem(prep.front, trace) is None
    sizes = np.arange(1, 41)
    fast = fast_axis(trace, 0, sizes, RULES)
    exact = exact_axis(prep.front, trace, 0, sizes, RULES)
    assert sorted(fast.invalid) == sorted(exact.invalid) == list(range(1, 41, 2))
    assert fast.invalid[3] == exact.invalid[3] == "add: merged branches disagree (2 vs 1)"
    assert fast.clean == exact.clean == []
    assert fast.first_uneven == exact.first_uneven == {n: "down" for n in range(2, 41, 2)}


# -- a Linknet decoder on torchvision's resnet18: it used to be told "use input size 1" --------

class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)

    def forward(self, x, skip):
        return self.up(x) + skip


class LinkNet(nn.Module):
    """Linknet's shape: resnet18 encoder, stride-2 transposed convs added to the skips."""

    def __init__(self):
        super().__init__()
        from torchvision.models import resnet18
        r = resnet18(weights=None)
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.layers = nn.ModuleList([r.layer1, r.layer2, r.layer3, r.layer4])
        self.ups = nn.ModuleList([Up(512, 256), Up(256, 128), Up(128, 64)])
        self.head = nn.ConvTranspose2d(64, 2, 4, stride=4)

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        y = feats[-1]
        for up, skip in zip(self.ups, reversed(feats[:-1])):
            y = up(y, skip)
        return self.head(y)


LINKNET_WHY = ("the branches of ups.0.add_8, ups.1.add_9 and ups.2.add_10 agree only at sizes "
               "≡ 0, 29, 30 or 31 (mod 32), and layers.1.0.conv1 (Conv2d k=3 s=2 p=1) is uneven "
               "at all of them")


def test_linknet_is_not_told_input_size_1():
    report = padlint.analyze(LinkNet, 256, select=["PAD101", "PAD102"])
    (result,) = report.results
    assert result.suggested_sizes == []
    assert result.suggested.text() == f"no input size within 256 of 256x256 is clean: {LINKNET_WHY}"
    fixes = {(f.layer, f.axis): f.fix for f in result.findings}
    assert len(fixes) == 16 and not any("input size 1 " in fix for fix in fixes.values())
    why = f"no input size within 256 of 256 is clean on H: {LINKNET_WHY}; "
    assert fixes["stem.0", "H"] == why + "use kernel 8 with padding 3 instead"
    assert fixes["stem.3", "H"] == why + "use kernel 4 with padding 1 instead"
    assert fixes["layers.1.0.downsample.0", "H"] == why + (
        "replace the 1x1 stride-2 shortcut with AvgPool2d(2, ceil_mode=True, "
        "count_include_pad=False) followed by a 1x1 conv (ResNet-D) instead")


def test_linknet_runs_only_where_its_merges_agree():
    h = padlint.sweep(LinkNet, range(1, 65), axis="H", input_size=256).axis("H")
    assert h.clean == []                                   # 1 was clean by broadcasting
    assert sorted(set(range(1, 65)) - set(h.invalid)) == [29, 30, 31, 32, 61, 62, 63, 64]
    assert h.invalid[1] == "ups.0.add_8: merged branches disagree (2 vs 1)"


# -- a timm model: DLA's pooled shortcuts agree with its stride-2 convs only at some sizes -----

def test_timm_dla34_says_which_merges_restrict_the_sizes():
    import timm
    report = padlint.analyze(lambda: timm.create_model("dla34", pretrained=False), 224,
                             select=["PAD101", "PAD102"])
    (result,) = report.results
    why = ("the branches of level2.tree1.add, level3.tree1.tree1.add_2, level4.tree1.tree1.add_6 "
           "and level5.tree1.add_10 agree only at sizes ≡ 0 or 31 (mod 32), and level2.tree1.conv1 "
           "(Conv2d k=3 s=2 p=1) is uneven at all of them")
    assert result.suggested.text() == f"no input size within 256 of 224x224 is clean: {why}"
    assert result.suggested_sizes == []
    assert {f.fix for f in result.findings if f.axis == "W"} == {
        f"no input size within 256 of 224 is clean on W: {why}; use kernel 4 with padding 1 instead"}


# -- no regression where clean sizes exist -----------------------------------------------------

def test_resnet50_at_224_still_suggests_193_and_225():
    import torchvision
    report = padlint.analyze(lambda: torchvision.models.resnet50(weights=None), 224,
                             select=["PAD101", "PAD102"])
    (result,) = report.results
    assert result.suggested_sizes == [193, 225]
    assert result.suggested.why == {}
    assert result.suggested.text() == "the nearest clean sizes are 193 and 225"
    conv1 = next(f for f in result.findings if f.layer == "conv1" and f.axis == "H")
    assert conv1.fix == ("use input size 193 or 225 on H instead of 224, where every layer uses "
                         "its padding evenly and drops nothing, or kernel 8 with padding 3")


class TwoHeads(nn.Module):
    """Two outputs, no merge: the 3x3/2 conv is uneven at every even size, the 2x2 pool
    drops the last row at every odd one."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.conv(x), self.pool(x)


def test_no_single_layer_to_blame_names_each():
    (result,) = padlint.analyze(TwoHeads, 224, select=["PAD101", "PAD102"]).results
    assert result.suggested.text() == ("no input size within 256 of 224x224 is clean: at each size "
                                       "it runs at one of conv or pool is uneven or drops input")
    assert result.suggested_sizes == []


# -- the pieces ---------------------------------------------------------------------------------

def test_size_set_names_the_residues():
    sizes = np.arange(1, 200)
    assert size_set(sizes, sizes % 2 == 0) == "even sizes"
    assert size_set(sizes, sizes % 2 == 1) == "odd sizes"
    assert size_set(sizes, sizes % 32 == 0) == "multiples of 32"
    assert size_set(sizes, sizes % 32 == 1) == "sizes ≡ 1 (mod 32)"
    assert size_set(sizes, np.isin(sizes % 32, [0, 31])) == "sizes ≡ 0 or 31 (mod 32)"
    assert size_set(sizes, np.isin(sizes % 8, [0, 1, 2, 3, 4])) == "5 sizes in every 8"
    assert size_set(sizes, np.isin(sizes, [7, 100])) == "the sizes 7 and 100"


def test_kernel_change_is_even_and_reads_everything():
    f = axis_facts("H", 224, 3, 2, 1, 1, 1)
    assert kernel_change(f) == "use kernel 4 with padding 1"
    f = axis_facts("H", 224, 7, 2, 1, 3, 3)
    assert kernel_change(f) == "use kernel 8 with padding 3"
    f = axis_facts("H", 56, 1, 2, 1, 0, 0)          # a 1x1 stride-2 shortcut: kernel 2, as pooling
    assert kernel_change(f) == "use kernel 2 with padding 0"


def test_the_pad_to_skip_unet_sweeps_on_the_fast_path_and_agrees_with_the_exact_one():
    # tests/frontdoor/unet_pad.py reads x.size() to pad each upsampled map to its skip:
    # the length program follows the skip's length, so the sweep needs no run per size.
    import importlib.util
    spec = importlib.util.spec_from_file_location("unet_pad", FRONTDOOR / "unet_pad.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    prep = prepare(Candidate("unet_pad.py:UNet", module.UNet))
    trace = trace_at(prep, (224,), program=True)
    assert fast_path_problem(prep.front, trace) is None
    sizes = np.arange(100, 260)
    fast = fast_axis(trace, 0, sizes, RULES)
    exact = exact_axis(prep.front, trace, 0, sizes, RULES)
    assert (fast.clean, fast.first_uneven, sorted(fast.invalid)) == \
        (exact.clean, exact.first_uneven, sorted(exact.invalid))
    assert fast.clean == [112, 128, 144, 160, 176, 192, 208, 224, 240, 256]
    assert fast.invalid == {}
    assert fast.first_uneven[225] == "down1.maxpool_conv.0"
