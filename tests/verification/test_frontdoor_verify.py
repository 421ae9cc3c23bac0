"""Issue 19, items 10 and 11: `--verify` says something.

Item 10: PAD202 fired on every zero-padded layer (21 of 21 in resnet18). It now fires only
where the border matters: its magnitude is above the YAML `threshold` and it covers more
than the YAML `map_share` of the map's cells. Every layer is still measured (JSON).

Item 11: with no sweep to trust, the verify stage compared a 1-D model with 16001 without
checking that 16001 is clean (it was not), and its summary put "0 of 7 windowed outputs
asymmetric" beside "2 of 2 findings confirmed" without saying that the layer-alone probe
confirmed them.

Models are built with random weights after torch.manual_seed(0); everything runs on the CPU.
"""
import re
import sys

import numpy as np
import pytest
import torch

import padlint
from cli_helpers import write
from padlint.engine.registry import all_rules
from padlint.geometry.measures import round_sig
from paths import EXAMPLES as _EXAMPLES

torchvision = pytest.importorskip("torchvision")

EXAMPLES = str(_EXAMPLES)      # for sys.path


def _verify(model, size):
    report = padlint.analyze(model, size, verify=True, device="cpu", baselines=["constant"])
    assert report.errors == [], report.errors
    (result,) = report.results
    return result


def _pad202(result):
    return [f for f in result.findings if f.rule == "PAD202"]


def _resnet18():
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None)


def _unet():
    sys.path.insert(0, EXAMPLES)
    try:
        from unet import UNet
    finally:
        sys.path.remove(EXAMPLES)
    torch.manual_seed(0)
    return UNet()


@pytest.fixture(scope="module")
def resnet18_224():
    return _verify(_resnet18(), 224)


@pytest.fixture(scope="module")
def resnet18_32():
    return _verify(_resnet18(), 32)


@pytest.fixture(scope="module")
def unet_224():
    return _verify(_unet(), 224)


@pytest.fixture(scope="module")
def unet_16():
    return _verify(_unet(), 16)


def _cover(m, tolerance=0.1):
    """The share of the map's cells more than ``tolerance`` of the median off the median,
    recomputed here from the mean map itself."""
    m = np.asarray(m, dtype=np.float64)
    med = np.median(m)
    return float((np.abs(m - med) / abs(med) > tolerance).mean())


# -- item 10: PAD202 where the border matters -------------------------------------------------

def test_the_thresholds_live_in_the_yaml():
    params = all_rules()["PAD202"].params
    assert params == {"threshold": 0.5, "tolerance": 0.1, "map_share": 0.75,
                      "baselines": ["constant", "images"]}


def test_resnet18_at_224_fires_on_the_deep_maps_only(resnet18_224):
    names = [layer.name for layer in resnet18_224.layers]
    fired = [f.layer for f in _pad202(resnet18_224)]
    assert len(names) == 21
    assert fired == ["layer3.1.conv2", "layer4.0.conv1", "layer4.0.conv2", "layer4.1.conv1",
                     "layer4.1.conv2"]
    assert len(fired) <= len(names) / 4
    # the border cells of each, counted on the mean map: 189 of 14x14, 39, 39, 48, 43 of 7x7
    maps = resnet18_224.verification.maps["constant"]
    assert {n: round(_cover(maps[n]) * maps[n].size) for n in fired} == {
        "layer3.1.conv2": 189, "layer4.0.conv1": 39, "layer4.0.conv2": 39,
        "layer4.1.conv1": 48, "layer4.1.conv2": 43}
    # the shallow maps keep a thin border: conv1's 2-row band covers 4 % of 112x112
    m = resnet18_224.verification.measures["constant"]["conv1"]
    assert m.magnitude > 0.5 and m.cover == _cover(maps["conv1"]) < 0.05


def test_unet_at_224_fires_nowhere(unet_224):
    assert len(unet_224.layers) == 15
    assert _pad202(unet_224) == []
    v = unet_224.verification
    # strong but thin borders: enc1.2 departs 3.09x its median, on 3.5 % of its cells
    m = v.measures["constant"]["enc1.2"]
    assert f"{m.magnitude:.2f}" == "3.09" and m.cover == _cover(v.maps["constant"]["enc1.2"])
    assert round(m.cover * m.shape[0] * m.shape[1]) == 224 ** 2 - 220 ** 2
    # up1's 2x2 transposed conv leaves a period-2 ripple over all of its map, but it departs
    # at most 0.40x: no border artifact
    up1 = v.measures["constant"]["up1"]
    assert up1.cover > 0.75 and up1.magnitude < 0.5


def test_resnet18_at_32_fires_where_the_border_covers_most_of_the_map(resnet18_32):
    fired = [f.layer for f in _pad202(resnet18_32)]
    assert fired == ["layer1.0.conv2", "layer1.1.conv1", "layer2.0.conv1", "layer2.0.conv2",
                     "layer2.0.downsample.0", "layer2.1.conv2", "layer3.0.conv2",
                     "layer3.0.downsample.0", "layer3.1.conv1"]
    v = resnet18_32.verification
    for f in _pad202(resnet18_32):
        m = v.measures["constant"][f.layer]
        assert m.magnitude > 0.5 and m.cover == _cover(v.maps["constant"][f.layer]) > 0.75, f.layer


def test_unet_at_16_fires_on_its_4x4_map_with_the_exact_text(unet_16):
    (f,) = _pad202(unet_16)
    assert (f.layer, f.axis, f.severity, f.op) == ("down2", "H", "info", "Conv2d k=3 s=2 p=1")
    m = unet_16.verification.measures["constant"]["down2"]
    maps = unet_16.verification.maps["constant"]
    assert m.shape == (4, 4) and m.cover == _cover(maps["down2"]) and round(m.cover * 16) == 13
    assert f.message == (
        "has a border artifact on the constant baseline that covers 81% of its 4x4 map: there "
        f"its mean map departs from the interior by more than 10%, up to {m.magnitude:.2f}x its "
        "median, and the border reaches 2 rows in from the top edge (top 2, bottom 2, left 2, "
        "right 2)")
    assert f.fix == ("pad with padding_mode='reflect' or 'replicate' instead of zeros "
                     "(count_include_pad=False for an average pool), or, where the model accepts "
                     "one, feed a larger input, on which the border is a smaller share of this 4x4 map")


def test_the_json_keeps_every_layers_measures(resnet18_224, unet_224):
    for result in (resnet18_224, unet_224):
        doc = result.verification.to_json()
        names = [layer.name for layer in result.layers]
        assert list(doc["maps"]) == names
        for name in names:
            m = result.verification.measures["constant"][name]
            assert doc["maps"][name] == {"constant": {
                "magnitude": round_sig(m.magnitude), "scale": "median",
                "extent": m.extent, "cover": round_sig(m.cover),
                "asymmetry": {a: round_sig(x) for a, x in m.asymmetry.items()}}}
        assert set(result.verification.maps["constant"]) >= set(names)


# -- item 11: the clean comparison and the summary's words ------------------------------------

# wav2vec2's feature encoder, narrowed: unpadded Conv1d. At 16000 the two 2/2 convs at the
# end each drop their last input cell (PAD102); a constant input stays constant through
# unpadded convs, so only the layer alone on symmetric noise shows it. 16001 is not clean
# (the first 10/5 conv drops a cell), nor is 15999; the nearest clean sizes are 15760 and 16080.
ENCODER = """\
import torch
from torch import nn


class FeatureEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        spec = [(10, 5)] + [(3, 2)] * 4 + [(2, 2)] * 2
        layers, c = [], 1
        for k, s in spec:
            layers += [nn.Conv1d(c, 16, k, stride=s), nn.GELU()]
            c = 16
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return self.conv(x)
"""

# Four padded stride-2 Conv1d: at 16000 each uses its padding unevenly; 16001 is clean.
PADDED = """\
import torch
from torch import nn


class AudioNet(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        layers, c = [], 1
        for out in (8, 16, 16, 32):
            layers += [nn.Conv1d(c, out, 3, stride=2, padding=1), nn.ReLU()]
            c = out
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x)
"""

HIDDEN = ("2 of 2 PAD101/PAD102 findings confirmed, 2 of them only by the layer alone on a "
          "symmetric input (in the model's own run on a constant input their outputs stay symmetric)")


def _check(cli, tmp_path, name):
    code, out, err = cli(tmp_path, "check", name, "--verify", "--input-size", "16000", "--device",
                         "cpu", "--baselines", "constant", "--timeout", "0")
    assert err == ""
    return code, out.splitlines()


def _summary(lines):
    (line,) = [line for line in lines if "symmetric-kernel probe" in line]
    return line


def test_16001_is_not_clean_for_the_encoder(tmp_path):
    path = write(tmp_path, "encoder.py", ENCODER)
    result = padlint.sweep(path, sizes=range(15990, 16100), input_size=16000)
    (axis,) = result.axis_results
    assert [n for n in axis.clean] == [16080]
    assert axis.first_uneven[16001] == "conv.0" and axis.first_uneven[15999] == "conv.0"


def test_without_a_trusted_sweep_an_unclean_guess_is_not_compared_with(tmp_path, cli, monkeypatch):
    write(tmp_path, "encoder.py", ENCODER)
    monkeypatch.setenv("PADLINT_NO_SUGGEST", "1")         # the sweep gives no clean size
    code, lines = _check(cli, tmp_path, "encoder.py")
    assert code == 1                                      # the PAD102 errors
    assert _summary(lines) == (
        "  symmetric-kernel probe (float64, cpu): 0 of 7 windowed outputs asymmetric at 16000 "
        "(worst 0.0e+00), no clean input size known to compare with (the size sweep cannot be "
        "trusted for this model, and 16001 and 15999 are not clean either); " + HIDDEN)
    pad102 = [line for line in lines if " PAD102 [error] " in line]
    assert [line.split(" ")[3] for line in pad102] == ["conv.10", "conv.12"]
    for line in pad102:
        assert re.search(r" \[confirmed: asymmetry [0-9.]+ \(layer alone, on a symmetric input\) "
                         r"at 16000\]$", line), line


def test_with_the_sweep_the_encoder_compares_with_16080(tmp_path, cli):
    write(tmp_path, "encoder.py", ENCODER)
    code, lines = _check(cli, tmp_path, "encoder.py")
    assert _summary(lines) == (
        "  symmetric-kernel probe (float64, cpu): 0 of 7 windowed outputs asymmetric at 16000 "
        "(worst 0.0e+00), 0 of 7 at 16080 (worst 0.0e+00); " + HIDDEN)
    for line in [line for line in lines if " PAD102 [error] " in line]:
        m = re.search(r" \[confirmed: asymmetry ([0-9.]+) \(layer alone, on a symmetric input\) "
                      r"at 16000, ([0-9.e+-]+) at 16080\]$", line)
        assert m and float(m.group(1)) > 0.5 and float(m.group(2)) < 1e-12, line


def test_without_a_trusted_sweep_a_clean_guess_is_compared_with(tmp_path, cli, monkeypatch):
    write(tmp_path, "audio.py", PADDED)
    monkeypatch.setenv("PADLINT_NO_SUGGEST", "1")
    code, lines = _check(cli, tmp_path, "audio.py")
    assert code == 1
    line = _summary(lines)
    assert re.fullmatch(r"  symmetric-kernel probe \(float64, cpu\): 4 of 4 windowed outputs "
                        r"asymmetric at 16000, 0 of 4 at 16001 \(worst [0-9.]+e-[0-9]+\); origins: "
                        r"features.0 \(L\); 4 of 4 PAD101/PAD102 findings confirmed", line), line
