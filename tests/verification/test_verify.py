"""The verify stage (``analyze(..., verify=True)``): the symmetric-kernel probe of
SCIENCE.md §3.1 on real architectures and on small models with planted asymmetries,
the real-weights baselines and their §3 measures, PAD201/PAD202, and the checks on the
verify arguments. Every number here is recomputed on the CPU in float64 (the probe) or
float32 (the baselines); models are built with random weights after torch.manual_seed(0)."""
import copy
import gc
import inspect
import math
import os
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import padlint
from model_classes import StemRegisteredLast
from padlint import PadlintError
from padlint.engine.registry import all_rules
from padlint.geometry.measures import downsample, flip_asymmetry, measure_map, round_sig
from padlint.output.verification import summary
from padlint.verification.baselines import run_maps
from padlint.verification.options import resolve_device, verify_options
from padlint.verification.probe import TOLERANCE, asymmetry, symmetrise
from padlint.verification.stage import Verification, clean_shape

torchvision = pytest.importorskip("torchvision")

VERIFIED = ("PAD101", "PAD102")


# -- helpers ------------------------------------------------------------------------------

def _verify(model, size, **kwargs):
    """The one result of a verified analysis (a model failure fails the test)."""
    kwargs.setdefault("device", "cpu")
    report = padlint.analyze(model, size, verify=True, **kwargs)
    assert report.errors == [], report.errors
    assert len(report.results) == 1
    result = report.results[0]
    assert isinstance(result.verification, Verification)
    return result


def _rules(result, *codes):
    return [f for f in result.findings if f.rule in codes]


def _pairs(findings):
    return sorted((f.layer, f.axis) for f in findings)


def _worst(run):
    return max((x for n in run.nodes for x in n.asym.values()), default=0.0)


def _line_of(func, marker):
    """The line of ``marker`` in ``func``'s source (so no line number is hard-coded)."""
    lines, start = inspect.getsourcelines(func)
    hits = [start + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, marker
    return hits[0]


def _torchvision(name):
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None)


# -- real architectures (module-scoped: each verified analysis costs seconds) -----------

@pytest.fixture(scope="module")
def resnet18():
    return _torchvision("resnet18")


@pytest.fixture(scope="module")
def mobilenet_v2():
    return _torchvision("mobilenet_v2")


@pytest.fixture(scope="module")
def resnet18_224(resnet18):
    return _verify(resnet18, 224, baselines=["constant", "random", "zeros"])


@pytest.fixture(scope="module")
def resnet18_225(resnet18):
    return _verify(resnet18, 225, baselines=[])      # the probe alone


@pytest.fixture(scope="module")
def mobilenet_v2_224(mobilenet_v2):
    return _verify(mobilenet_v2, 224, baselines=[])


@pytest.fixture(scope="module")
def mobilenet_v2_225(mobilenet_v2):
    return _verify(mobilenet_v2, 225, baselines=[])


@pytest.fixture(scope="module")
def vgg11_225():
    return _verify(_torchvision("vgg11"), 225, baselines=[])


STEM = {"resnet18": "conv1", "mobilenet_v2": "features.0.0"}


@pytest.mark.parametrize("name, findings, windowed", [("resnet18", 16, 21), ("mobilenet_v2", 10, 52)])
def test_uneven_stride_models_at_224_every_static_finding_is_confirmed(request, name, findings, windowed):
    result = request.getfixturevalue(f"{name}_224")
    v = result.verification
    verified = _rules(result, *VERIFIED)
    assert len(verified) == findings
    assert [f.verification["status"] for f in verified] == ["confirmed"] * findings
    assert {f.verification["dtype"] for f in verified} == {"float64"}
    assert {f.verification["tolerance"] for f in verified} == {1e-6}
    assert {tuple(f.verification["input_shape"]) for f in verified} == {(224, 224)}
    assert _rules(result, "PAD201") == [] and v.unexplained == []
    # SCIENCE.md §3.1's table: every windowed output asymmetric, one origin at the stem
    assert v.probe.windowed == windowed == len(result.layers)
    assert [n.index for n in v.probe.asymmetric()] == list(range(windowed))
    origins = v.probe.origins()
    assert [(v.node_name(n), n.op, n.origin) for n in origins] == [(STEM[name], "Conv2d", ("H", "W"))]
    assert v.probe.dtype == "float64" and v.probe.tolerance == TOLERANCE[torch.float64] == 1e-6
    assert v.device == "cpu"
    # the stem's own finding is confirmed by the whole-model probe, with the stem's figure
    stem = {f.axis: f.verification for f in verified if f.layer == STEM[name]}
    assert set(stem) == {"H", "W"}
    for axis, status in stem.items():
        assert status["probe"] == "model"
        assert status["asymmetry"] == round_sig(origins[0].asym[axis]) > 0.1
    # the later ones are hidden behind the stem: each was confirmed by running that layer alone
    later = [f.verification for f in verified if f.layer != STEM[name]]
    assert later and {s["probe"] for s in later} == {"layer"}
    assert {s["layer_input"] for s in later} <= {"constant", "symmetrised"}


def test_resnet18_224_verified_findings_and_summary(resnet18_224):
    v = resnet18_224.verification
    verified = _rules(resnet18_224, *VERIFIED)
    uneven = ["conv1", "maxpool", "layer2.0.conv1", "layer3.0.conv1", "layer4.0.conv1"]
    shortcuts = ["layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0"]
    assert _pairs(_rules(resnet18_224, "PAD101")) == sorted((n, a) for n in uneven for a in "HW")
    assert _pairs(_rules(resnet18_224, "PAD102")) == sorted((n, a) for n in shortcuts for a in "HW")
    assert {(f.layer, f.axis): f.verification for f in verified} == v.statuses
    text = summary(v)
    assert re.fullmatch(
        r"symmetric-kernel probe \(float64, cpu\): 21 of 21 windowed outputs asymmetric at 224x224, "
        r"0 of 21 at 225x225 \(worst [0-9.]+e-[0-9]+\); origins: conv1 \(H, W\); "
        r"16 of 16 PAD101/PAD102 findings confirmed", text), text
    doc = v.to_json()
    assert doc["probe"]["asymmetric"] == [layer.name for layer in resnet18_224.layers]
    assert doc["probe"]["origins"] == [{"node": "conv1", "op": "Conv2d", "axes": ["H", "W"],
                                        "asymmetry": {a: round_sig(v.probe.layer(0).asym[a]) for a in "HW"},
                                        "cause": "its windows cover the two ends unevenly"}]
    assert doc["clean_probe"]["input_shape"] == [1, 3, 225, 225] and doc["clean_probe"]["asymmetric"] == []


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_uneven_stride_models_at_225_are_symmetric(request, name):
    result = request.getfixturevalue(f"{name}_225")
    v = result.verification
    assert v.probe.input_shape == (1, 3, 225, 225)
    assert v.probe.asymmetric() == []
    assert _worst(v.probe) < 1e-12
    assert v.probe.origins() == [] and v.unexplained == []
    assert _rules(result, "PAD201") == [] and _rules(result, *VERIFIED) == []
    assert v.clean is None                 # no flagged axis: no clean size to compare with
    assert v.baselines == [] and v.measures == {}


def test_clean_size_comparison_resnet18_224(resnet18_224):
    v = resnet18_224.verification
    assert clean_shape(resnet18_224) == (1, 3, 225, 225) == v.clean.input_shape
    verified = _rules(resnet18_224, *VERIFIED)
    assert len(verified) == 16
    for f in verified:
        s = f.verification
        assert s["clean_shape"] == [225, 225], f.layer
        assert s["clean_asymmetry"] < 1e-9, f.layer
        assert s["asymmetry"] > 0.1, f.layer
    # the clean probe itself: nothing asymmetric anywhere at 225
    assert v.clean.asymmetric() == [] and v.clean.origins() == [] and _worst(v.clean) < 1e-12


def test_vgg11_at_225_the_first_pool_is_the_only_origin(vgg11_225):
    v = vgg11_225.verification
    assert [(v.node_name(n), n.op, n.origin) for n in v.probe.origins()] == [("features.2", "MaxPool2d", ("H", "W"))]
    assert v.probe.windowed == 13
    asym = [v.node_name(n) for n in v.probe.asymmetric()]
    assert len(asym) == 12 and "features.0" not in asym        # only the first conv precedes it
    verified = _rules(vgg11_225, *VERIFIED)
    assert _pairs(verified) == [("features.2", "H"), ("features.2", "W")]
    assert {f.rule for f in verified} == {"PAD102"}
    for f in verified:
        s = f.verification
        assert (s["status"], s["probe"]) == ("confirmed", "model")
        assert s["asymmetry"] > 0.1 and s["clean_shape"] == [224, 224] and s["clean_asymmetry"] < 1e-9
    assert _rules(vgg11_225, "PAD201") == []
    # at 224 (the clean size) nothing is asymmetric
    assert v.clean.input_shape == (1, 3, 224, 224)
    assert v.clean.asymmetric() == [] and v.clean.origins() == [] and _worst(v.clean) < 1e-12


# -- planted asymmetries that no static rule sees -----------------------------------------

class Rolled(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        x = self.a(x)
        x = torch.roll(x, 1, dims=-1)  # <- the planted roll
        return self.b(x)


class SlicedAndRepadded(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        x = self.a(x)
        x = x[..., 1:, 1:]  # <- the planted slice
        x = F.pad(x, (1, 0, 1, 0))
        return self.b(F.relu(x))


class TFSame(nn.Module):
    """TensorFlow's SAME padding by hand: one extra row and column at the end, then a
    stride-2 conv without padding."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, stride=2)

    def forward(self, x):
        return self.b(F.pad(self.a(x), (0, 1, 0, 1)))


class PositionalEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.pos = nn.Parameter(torch.randn(1, 4, 16, 16))
        self.b = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        x = self.a(x) + self.pos  # <- the planted embedding
        return self.b(x)


class ChannelsLastNorm(nn.Module):
    """A ConvNeXt-style LayerNorm over channels, in channels-last layout, then a
    stride-2 conv on an even size."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.LayerNorm(8)
        self.b = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        x = self.a(x).permute(0, 2, 3, 1)
        x = self.norm(x).permute(0, 3, 1, 2)
        return self.b(x)


def _planted(cls, size=16, **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault("baselines", [])
    return _verify(cls(), size, **kwargs)


def test_roll_between_convs_is_pad201_at_the_roll_line():
    result = _planted(Rolled)
    v = result.verification
    assert _rules(result, *VERIFIED) == []
    found = _rules(result, "PAD201")
    assert [(f.layer, f.axis, f.op, f.severity, f.name) for f in found] == [
        ("roll", "W", "torch.roll", "warning", "asymmetry-introduced")]
    f = found[0]
    assert os.path.abspath(f.source.path) == os.path.abspath(__file__)
    assert f.source.line == _line_of(Rolled.forward, "the planted roll")
    assert f.message.startswith("turns a mirror-symmetric input into an asymmetric output on W")
    assert f.message.endswith("it shifts the map cyclically")
    # the roll is the only origin; the conv after it is asymmetric but inherits it
    assert [(n.name, n.origin) for n in v.probe.origins()] == [("roll", ("W",))]
    b = v.probe.layer(1)
    assert b.asym["W"] > TOLERANCE[torch.float64] and b.origin == ()
    assert b.asym["H"] < 1e-12 and max(v.probe.layer(0).asym.values()) < 1e-12


def test_uneven_slice_then_repad_is_pad201_on_the_slice():
    result = _planted(SlicedAndRepadded)
    v = result.verification
    assert _rules(result, *VERIFIED) == []
    found = _rules(result, "PAD201")
    assert [(f.layer, f.axis, f.op) for f in found] == [("getitem", "H", "Tensor.__getitem__"),
                                                       ("getitem", "W", "Tensor.__getitem__")]
    line = _line_of(SlicedAndRepadded.forward, "the planted slice")
    assert {(os.path.abspath(f.source.path), f.source.line) for f in found} == {(os.path.abspath(__file__), line)}
    assert all(f.message.endswith(": it slices the map unevenly") for f in found)
    assert [(n.name, n.origin) for n in v.probe.origins()] == [("getitem", ("H", "W"))]
    # the pad, the relu and the conv downstream carry the asymmetry but are no origins
    names = [n.name for n in v.probe.nodes]
    assert names == ["a", "getitem", "pad", "relu", "b"]
    b = v.probe.layer(1)
    assert min(b.asym.values()) > TOLERANCE[torch.float64] and b.origin == ()


def test_tf_same_pad_confirms_the_static_finding_and_is_no_pad201():
    result = _planted(TFSame)
    v = result.verification
    verified = _rules(result, *VERIFIED)
    assert [(f.rule, f.layer, f.axis) for f in verified] == [("PAD101", "b", "H"), ("PAD101", "b", "W")]
    assert _rules(result, "PAD201") == [] and v.unexplained == []
    pad = v.probe.feeding_pad(1)
    assert (pad.name, pad.op, pad.origin) == ("pad", "F.pad", ("H", "W"))
    assert [n.name for n in v.probe.origins()] == ["pad"]
    for f in verified:
        s = f.verification
        assert (s["status"], s["probe"]) == ("confirmed", "model")
        assert s["asymmetry"] == round_sig(pad.asym[f.axis]) > 0.1
        assert s["clean_shape"] == [17, 17] and s["clean_asymmetry"] < 1e-9


def test_positional_embedding_is_pad201_naming_it():
    result = _planted(PositionalEmbedding)
    found = _rules(result, "PAD201")
    assert _pairs(found) == [("add", "H"), ("add", "W")]
    line = _line_of(PositionalEmbedding.forward, "the planted embedding")
    for f in found:
        assert "positional embedding" in f.message
        assert f.source.line == line and os.path.abspath(f.source.path) == os.path.abspath(__file__)
    assert _rules(result, *VERIFIED) == []


def test_channels_last_layout_is_followed_through_permutes():
    result = _planted(ChannelsLastNorm)
    v = result.verification
    assert [n.name for n in v.probe.nodes] == ["a", "permute", "norm.layer_norm", "permute#2", "b"]
    assert v.probe.untracked == []
    verified = _rules(result, *VERIFIED)
    assert [(f.rule, f.layer, f.axis) for f in verified] == [("PAD101", "b", "H"), ("PAD101", "b", "W")]
    assert all(f.verification["status"] == "confirmed" and f.verification["probe"] == "model"
               for f in verified)
    assert [(n.name, n.origin) for n in v.probe.origins()] == [("b", ("H", "W"))]
    assert _rules(result, "PAD201") == []
    # the map of the channels-last LayerNorm is kept in axis order, H x W
    maps = _verify(ChannelsLastNorm(), (1, 3, 16, 12), baselines=["constant"]).verification.maps
    assert maps["constant"]["norm.layer_norm"].shape == (16, 12)


class Tokens(nn.Module):
    """A ViT-style round trip through tokens (B, HW, C) before a stride-2 conv."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.mix = nn.Linear(8, 8)
        self.b = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        x = self.a(x)
        n, c, h, w = x.shape
        t = self.mix(x.flatten(2).transpose(1, 2))
        return self.b(t.transpose(1, 2).reshape(n, c, h, w))


def test_layout_change_leaves_the_finding_not_checked():
    result = _planted(Tokens)
    v = result.verification
    verified = _rules(result, *VERIFIED)
    assert [(f.rule, f.layer, f.axis) for f in verified] == [("PAD101", "b", "H"), ("PAD101", "b", "W")]
    for f in verified:
        s = f.verification
        assert s["status"] == "not-checked"
        assert "layout change" in s["reason"]
        assert "probe" not in s and "asymmetry" not in s
    assert v.probe.untracked == [1]
    assert [n.name for n in v.probe.nodes] == ["a"]          # nothing after the flatten is followed
    assert _rules(result, "PAD201") == [] and v.probe.origins() == []
    assert summary(v).endswith("; 0 of 2 PAD101/PAD102 findings confirmed; "
                               "1 windowed layers not followed (after a layout change)")
    assert v.to_json()["probe"]["not_followed"] == ["b"]


def test_dropped_input_of_the_model_input_is_confirmed_by_symmetric_noise():
    alone = _verify(nn.Sequential(nn.MaxPool2d(2)), 17, baselines=[])
    assert alone.verification.probe.asymmetric() == []   # the constant input stays constant
    for f in _rules(alone, *VERIFIED):
        assert f.rule == "PAD102"
        s = f.verification
        # so the pool runs alone on symmetric inputs: the constant and the symmetrised real
        # input (the same constant) show nothing; symmetric noise shows the dropped row
        assert (s["status"], s["probe"], s["layer_input"]) == ("confirmed", "layer", "symmetric noise")
        assert s["asymmetry"] > 0.1 and s["clean_asymmetry"] < 1e-12
    assert len(_rules(alone, *VERIFIED)) == 2
    torch.manual_seed(0)
    padded = _verify(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(2)), 17, baselines=[])
    statuses = [(f.rule, f.layer, f.axis, f.verification["status"], f.verification["probe"])
                for f in _rules(padded, *VERIFIED)]
    assert statuses == [("PAD102", "1", "H", "confirmed", "model"), ("PAD102", "1", "W", "confirmed", "model")]


# -- real-weights baselines, PAD202 ---------------------------------------------------------

def _conv_stack(mode):
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, padding_mode=mode), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1, padding_mode=mode))


@pytest.fixture(scope="module")
def zero_and_reflect():
    torch.manual_seed(0)
    zeros = _conv_stack("zeros")
    reflect = _conv_stack("reflect")
    reflect.load_state_dict(zeros.state_dict())
    return _verify(zeros, 32), _verify(reflect, 32)


def test_reflect_padding_has_a_smaller_border_than_zero_padding(zero_and_reflect):
    zeros, reflect = zero_and_reflect
    mz, mr = (r.verification.measures["constant"] for r in (zeros, reflect))
    assert set(mz) == set(mr) == {"0", "2"}
    for layer in ("0", "2"):
        assert mr[layer].magnitude < mz[layer].magnitude, layer
        assert mz[layer].magnitude > 0.5
        # a constant input through reflect padding stays exactly constant
        assert mr[layer].magnitude < 1e-6
        assert mr[layer].extent == {"top": 0, "bottom": 0, "left": 0, "right": 0}
    # zero padding: one border row per padded conv (1 after the first, 2 after the second)
    assert mz["0"].extent == {"top": 1, "bottom": 1, "left": 1, "right": 1}
    assert mz["2"].extent == {"top": 2, "bottom": 2, "left": 2, "right": 2}
    # the cover is exactly those bands: 1 - 30²/32² and 1 - 28²/32² of the cells
    assert mz["0"].cover == 1 - 30 ** 2 / 32 ** 2 and mz["2"].cover == 1 - 28 ** 2 / 32 ** 2
    assert mr["0"].cover == mr["2"].cover == 0.0
    # bands that thin are far below PAD202's map_share (75 %): no finding on either model
    # (tests/verification/test_frontdoor_verify.py has the maps the border does take over)
    assert _rules(zeros, "PAD202") == [] and _rules(reflect, "PAD202") == []


def test_pad202_fires_exactly_above_the_yaml_thresholds_on_constant(resnet18_224):
    v = resnet18_224.verification
    assert v.baselines == ["constant", "random", "zeros"]
    assert set(v.measures) == set(v.maps) == {"constant", "random", "zeros"}
    names = [layer.name for layer in resnet18_224.layers]
    for baseline in v.measures:
        assert list(v.measures[baseline]) == names
    params = all_rules()["PAD202"].params
    assert (params["threshold"], params["map_share"]) == (0.5, 0.75)
    expected = sorted(n for n in names if v.measures["constant"][n].magnitude > params["threshold"]
                      and v.measures["constant"][n].cover > params["map_share"])
    assert 0 < len(expected) <= len(names) / 4
    assert sorted(f.layer for f in _rules(resnet18_224, "PAD202")) == expected
    assert all(" on the constant baseline that covers " in f.message for f in _rules(resnet18_224, "PAD202"))
    # the zeros baseline is measured (in the JSON) even though PAD202 ignores it
    assert all(m.shape == v.maps["zeros"][n].shape for n, m in v.measures["zeros"].items())


def test_images_constant_one_equal_the_constant_baseline():
    torch.manual_seed(0)
    model = _conv_stack("zeros")
    ones = np.ones((3, 3, 32, 32), dtype=np.float32)
    result = _verify(model, 32, baselines=["constant"], images=ones, batch_size=2)
    v = result.verification
    assert v.baselines == ["constant", "images"]
    assert set(v.maps["images"]) == set(v.maps["constant"])
    for name, m in v.maps["constant"].items():
        np.testing.assert_allclose(v.maps["images"][name], m, rtol=0, atol=1e-6)
    for name, m in v.measures["constant"].items():
        other = v.measures["images"][name]
        assert other.extent == m.extent and other.scale == m.scale
        assert other.magnitude == pytest.approx(m.magnitude, rel=1e-4)     # relative to a small median
    # a different constant is a different input: the images are really used
    half = _verify(model, 32, baselines=["constant"], images=np.full((2, 3, 32, 32), 0.5, np.float32))
    assert not np.allclose(half.verification.maps["images"]["0"], v.maps["constant"]["0"])
    # and a tensor works as an array does
    tensor = _verify(model, 32, baselines=[], images=torch.ones(2, 3, 32, 32))
    np.testing.assert_allclose(tensor.verification.maps["images"]["2"], v.maps["constant"]["2"], atol=1e-6)


def test_run_maps_keeps_one_float64_map_per_node_and_no_activation(monkeypatch):
    import padlint.verification.baselines as baselines
    seen = []

    class Recording(baselines.MapObserver):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(baselines, "MapObserver", Recording)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3, padding=1)).eval()
    gen = torch.Generator().manual_seed(1)
    data = [torch.randn(2, 3, 20, 12, generator=gen), torch.randn(3, 3, 20, 12, generator=gen)]
    maps, order = run_maps(model, (b.clone() for b in data), torch.device("cpu"), torch.float32, 2)
    assert list(maps) == list(order) == ["0", "1.relu", "2", "3"]
    shapes = {"0": (10, 6), "1.relu": (10, 6), "2": (5, 3), "3": (5, 3)}
    for name, m in maps.items():
        assert isinstance(m, np.ndarray) and m.dtype == np.float64
        assert m.shape == shapes[name] == order[name].shape[-2:]
    # the maps are the means over both batches and every channel
    with torch.no_grad():
        outs = [model[0](x) for x in data]
        for name, upto in (("0", 1), ("2", 3), ("3", 4)):
            full = torch.cat([model[:upto](x) for x in data]).double()
            np.testing.assert_allclose(maps[name], full.mean(dim=(0, 1)).numpy(), rtol=1e-5, atol=1e-6)
    del outs
    # the observer keeps sums of size H*W in float64, and no activation outlives the run
    (observer,) = seen
    assert set(observer.sums) == set(maps)
    for name, total in observer.sums.items():
        assert total.dtype == torch.float64 and tuple(total.shape) == shapes[name]
    assert sum(t.numel() for t in observer.sums.values()) == sum(h * w for h, w in shapes.values())
    assert observer.counts == {"0": 20, "1.relu": 20, "2": 20, "3": 30}   # batch x channels
    gc.collect()
    assert len(observer.spatial) == 0


def test_verify_restores_the_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.Dropout(),
                          nn.Conv2d(4, 4, 3, padding=1))
    model.train()
    model[1].eval()
    before = copy.deepcopy(model.state_dict())
    _verify(model, 16)
    assert [m.training for m in model] == [True, False, True, True]
    after = model.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(after[k], before[k]) for k in before)     # no kernel left symmetrised
    assert torch.get_default_dtype() == torch.float32


# -- the measures, on hand-made arrays ------------------------------------------------------

def test_flip_asymmetry_values():
    sym = np.array([[1.0, 2.0, 1.0], [3.0, 5.0, 3.0], [1.0, 2.0, 1.0]])
    assert flip_asymmetry(sym, 0, 2) == 0.0 and flip_asymmetry(sym, 1, 2) == 0.0
    # [1, 0, 0, 0]: mean 1/4, ||x - mean|| = sqrt(3/4), ||x - flip x|| = ||[1, 0, 0, -1]|| = sqrt(2)
    x = np.array([1.0, 0.0, 0.0, 0.0])
    assert flip_asymmetry(x, 0, 1) == pytest.approx(math.sqrt(2 / 0.75), rel=1e-12)
    # the mean is per channel: two channels, each constant, are flat
    assert flip_asymmetry(np.stack([np.ones((4, 4)), 5 * np.ones((4, 4))]), 0, 2) == 0.0
    # over channels: opposite ramps do not cancel
    ramp = np.arange(4.0)[:, None] * np.ones((4, 4))
    both = np.stack([ramp, ramp[::-1]])
    assert flip_asymmetry(both, 0, 2) == pytest.approx(2.0) and flip_asymmetry(both, 1, 2) == 0.0


def test_measure_map_of_a_hand_made_border():
    m = np.ones((8, 8))
    m[0, :] = 0.5
    m[:, 0] = 0.5
    got = measure_map(m)
    assert got.magnitude == 0.5 and got.scale == "median" and got.shape == (8, 8)
    assert got.extent == {"top": 1, "bottom": 0, "left": 1, "right": 0}
    assert got.worst_edge() == ("top", 1)
    # ||X - flip X||: 14 cells of the first/last row differ by 0.5; ||X - mean||: 15 cells
    # of 0.5 and 49 of 1 around their mean 56.5 / 64
    mu = 56.5 / 64
    expected = math.sqrt(14 * 0.25) / math.sqrt(15 * (0.5 - mu) ** 2 + 49 * (1 - mu) ** 2)
    assert got.asymmetry["H"] == pytest.approx(expected, rel=1e-12)
    assert got.asymmetry["W"] == pytest.approx(expected, rel=1e-12)
    assert got.cover == 15 / 64                   # the 15 cells of the first row and column
    assert got.to_json() == {"magnitude": 0.5, "scale": "median",
                             "extent": {"top": 1, "bottom": 0, "left": 1, "right": 0},
                             "cover": round_sig(15 / 64),
                             "asymmetry": {"H": round_sig(expected), "W": round_sig(expected)}}


def test_measure_map_of_a_constant_map():
    got = measure_map(np.full((6, 9), 3.25))
    assert got.magnitude == 0.0
    assert got.extent == {"top": 0, "bottom": 0, "left": 0, "right": 0}
    assert got.asymmetry == {"H": 0.0, "W": 0.0}


def test_measure_map_with_a_zero_median_uses_the_largest_value():
    m = np.zeros((5, 5))
    m[0, :] = 2.0
    got = measure_map(m)
    assert got.scale == "max" and got.magnitude == 1.0
    assert got.extent == {"top": 1, "bottom": 0, "left": 0, "right": 0}


def test_downsample_sizes_and_means():
    out = downsample(np.full((100, 50), 2.5), 24)
    assert out.shape == (24, 24)                  # each side at most 24 (the aspect is not kept)
    np.testing.assert_allclose(out, 2.5, rtol=0, atol=1e-12)
    assert downsample(np.ones((10, 5)), 24).shape == (10, 5)          # small maps stay as they are
    assert downsample(np.ones((30, 7)), 24).shape == (24, 7)
    assert downsample(np.arange(6.0), 24).shape == (1, 6)             # a 1-D map becomes one row
    assert downsample(np.ones((4, 30, 30)), 24).shape == (24, 24)     # a 3-D map: mean over depth
    # block means: 4 rows into 2 blocks
    np.testing.assert_array_equal(downsample(np.arange(4.0)[:, None] * np.ones((4, 1)), 2), [[0.5], [2.5]])


# -- the probe's pieces ------------------------------------------------------------------------

@pytest.mark.parametrize("shape, nd", [((4, 3, 5, 5), 2), ((4, 3, 3, 4), 2), ((2, 2, 3), 1),
                                       ((2, 2, 3, 3, 3), 3), ((4, 3, 1, 1), 2)])
def test_symmetrise_makes_a_kernel_equal_to_its_flips(shape, nd):
    torch.manual_seed(0)
    w = torch.randn(shape, dtype=torch.float64)
    s = symmetrise(w, nd)
    assert s.shape == w.shape and s.dtype == w.dtype
    dims = range(w.dim() - nd, w.dim())
    for d in dims:
        assert torch.equal(s, s.flip(d)), d
    assert torch.equal(s, s.flip(tuple(dims)))
    # the average over every combination of flips: the sum over the kernel is kept
    assert torch.allclose(s.sum(dim=tuple(dims)), w.sum(dim=tuple(dims)))
    assert torch.allclose(symmetrise(s, nd), s)
    if any(w.shape[d] > 1 for d in dims):
        assert not torch.equal(s, w)


def test_symmetrise_is_the_average_of_the_four_flips():
    torch.manual_seed(0)
    w = torch.randn(2, 3, 3, 5, dtype=torch.float64)
    expected = (w + w.flip(-1) + w.flip(-2) + w.flip((-2, -1))) / 4
    kept = w.clone()
    assert torch.allclose(symmetrise(w, 2), expected, rtol=0, atol=1e-15)
    assert torch.equal(w, kept)        # the kernel itself is not changed in place


def test_asymmetry_of_flat_and_known_tensors():
    assert asymmetry(torch.full((1, 4, 8, 8), 3.0, dtype=torch.float64), 2, 1e-9) == [0.0, 0.0]
    assert asymmetry(torch.zeros(2, 3, 5), 1, 1e-9) == [0.0]
    x = torch.tensor([[[1.0, 0.0, 0.0, 0.0]]], dtype=torch.float64)
    assert asymmetry(x, 1, 1e-9) == [pytest.approx(math.sqrt(2 / 0.75), rel=1e-12)]
    ramp = torch.arange(4.0, dtype=torch.float64)[:, None].expand(4, 4)[None, None]
    h, w = asymmetry(ramp, 2, 1e-9)
    assert h == pytest.approx(2.0, rel=1e-12) and w == 0.0


# -- bad arguments ------------------------------------------------------------------------------

_ONE_CONV = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1))


def _error(call, *facts):
    """The PadlintError ``call`` raises: one line that carries every one of ``facts``
    (the exact wording is the CLI's business; what it must say is tested here)."""
    with pytest.raises(PadlintError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for fact in facts:
        assert fact in message, (fact, message)
    return message


def test_unknown_baseline_is_an_error():
    _error(lambda: padlint.analyze(_ONE_CONV, 16, verify=True, device="cpu", baselines=["constant", "noise"]),
           "baseline", "'noise'", "constant, random, simplified, zeros")
    _error(lambda: verify_options("cpu", "constant,images"), "baseline", "'images'")


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "8"])
def test_bad_batch_size_is_an_error(bad):
    _error(lambda: padlint.analyze(_ONE_CONV, 16, verify=True, device="cpu", batch_size=bad),
           f"batch size {bad!r}", "positive integer")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_an_error():
    _error(lambda: padlint.analyze(_ONE_CONV, 16, verify=True, device="cuda"),
           "cuda", "CUDA is not available", "cpu")
    assert resolve_device("auto") == torch.device("cpu")


def test_unknown_device_is_an_error():
    _error(lambda: verify_options("tpu"), "'tpu'", "auto, cpu, cuda or mps")
    assert resolve_device("cpu") == torch.device("cpu")


def test_images_of_the_wrong_kind_are_errors():
    with pytest.raises(PadlintError, match=r"images: a list is not a path, array or tensor"):
        verify_options("cpu", images=[1.0, 2.0])
    with pytest.raises(PadlintError, match=r"NaN or infinite"):
        verify_options("cpu", images=np.full((1, 3, 8, 8), np.nan, dtype=np.float32))
    with pytest.raises(PadlintError, match=r"dtype int64 is not an image type"):
        verify_options("cpu", images=np.ones((1, 3, 8, 8), dtype=np.int64))
    with pytest.raises(PadlintError, match=r"no such file or folder"):
        verify_options("cpu", images="/nonexistent/images.npy")


def _image_error(images):
    """Images that do not fit the model are known only per model: the model gets an
    error entry (as every per-model failure does) and no result, so analyze raises."""
    with pytest.raises(PadlintError) as info:
        padlint.analyze(_ONE_CONV, 16, verify=True, device="cpu", images=images)
    report = info.value.report
    assert report.results == []
    (entry,) = report.errors
    assert entry["target"] == "Sequential"
    assert "exception" not in entry          # a PadlintError: one line, no traceback
    return entry["message"]


def test_images_with_the_wrong_channel_count():
    message = _image_error(np.ones((2, 1, 16, 16), dtype=np.float32))
    assert re.search(r"\b1 channels?\b.*\btakes 3\b", message), message
    assert "(N, 3, 16, 16)" in message


def test_images_of_the_wrong_spatial_size():
    message = _image_error(np.ones((2, 3, 20, 20), dtype=np.float32))
    assert "20x20" in message and "16x16" in message
    message = _image_error(np.ones((2, 3, 16), dtype=np.float32))
    assert "2x3x16" in message and "3 axes" in message


# -- found along the way (the static front end, which the verify stage needs first) ---------

def test_explicit_shape_of_a_model_whose_first_registered_conv_runs_later():
    torch.manual_seed(0)
    report = padlint.analyze(StemRegisteredLast(), (1, 3, 16, 16), verify=True, device="cpu", baselines=[])
    assert report.errors == []
    statuses = [(f.layer, f.axis, f.verification["status"]) for f in _rules(report.results[0], *VERIFIED)]
    assert statuses == [("down", "H", "confirmed"), ("down", "W", "confirmed")]


# --------------------------------------------------------------------------- heatmaps

def test_plain_heatmap_is_one_shade_pair_per_cell():
    from padlint.output.heatmap import SHADES, heatmap
    m = np.array([[0.0, 1.0], [1.0, 2.0]])           # median 1: one cell below, one above
    text = heatmap(m, "t 2x2", color=False).plain
    low, mid, high = SHADES[0], SHADES[round(0.5 * (len(SHADES) - 1))], SHADES[-1]
    assert text == f"t 2x2\n{low * 2}{mid * 2}\n{mid * 2}{high * 2}\n"


def test_colour_heatmap_packs_two_rows_per_line_with_half_blocks():
    from rich.console import Console

    from padlint.output.heatmap import heatmap
    m = np.arange(12.0).reshape(3, 4)                 # 3 rows -> 2 text lines, the last half empty
    text = heatmap(m, "t", color=True)
    lines = text.plain.split("\n")
    assert lines[:3] == ["t", "▀" * 4, "▀" * 4] and lines[3] == ""
    console = Console(force_terminal=True, color_system="truecolor", width=40)
    with console.capture() as cap:
        console.print(text)
    out = cap.get()
    assert "\x1b[38;2;" in out and ";48;2;" in out        # foreground and background colours
    # the top-left cell (lowest) is blue, the bottom-right (highest) yellow
    spans = [s for s in text.spans if s.style and getattr(s.style, "color", None)]
    first, last_top = spans[0].style.color.triplet, spans[7].style.color.triplet
    assert first.blue > first.red and last_top.red > last_top.blue
