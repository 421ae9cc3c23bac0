"""Real architectures nobody here wrote, built without weights, checked layer by layer
against SCIENCE.md §1 and against autograd."""
import inspect
import re

import pytest

import padlint
from autograd_truth import conv_axis_truth

torchvision = pytest.importorskip("torchvision")


def _by_name(report):
    return {layer.name: layer for layer in report.layers}


def _codes(report, code):
    return sorted({(f.layer, f.axis) for f in report.findings if f.rule == code})


def _line_of(func, pattern):
    """The line of ``pattern`` in ``func``'s source file (so no line number is hard-coded)."""
    lines, start = inspect.getsourcelines(func)
    for i, text in enumerate(lines):
        if re.search(pattern, text):
            return start + i
    raise AssertionError(pattern)


RESNET_UNEVEN = ["conv1", "maxpool", "layer2.0.conv2", "layer3.0.conv2", "layer4.0.conv2"]
RESNET_SHORTCUTS = ["layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0"]


@pytest.fixture(scope="module")
def resnet50_224():
    return padlint.analyze("torchvision.models:resnet50", 224)


def test_resnet50_224_findings(resnet50_224):
    r = resnet50_224
    assert not r.errors and r.results[0].trace.method == "fx"
    hw = [(n, a) for n in RESNET_UNEVEN for a in "HW"]
    assert _codes(r, "PAD101") == sorted(hw)
    assert _codes(r, "PAD102") == sorted((n, a) for n in RESNET_SHORTCUTS for a in "HW")
    assert _codes(r, "PAD103") == sorted((n, a) for n in RESNET_SHORTCUTS for a in "HW")
    assert {f.rule for f in r.findings} == {"PAD101", "PAD102", "PAD103"}
    assert len(r.layers) == 54


@pytest.mark.parametrize("name, n, out, k, s, p, used_end", [
    ("conv1", 224, 112, 7, 2, 3, 2),
    ("maxpool", 112, 56, 3, 2, 1, 0),
    ("layer2.0.conv2", 56, 28, 3, 2, 1, 0),
    ("layer3.0.conv2", 28, 14, 3, 2, 1, 0),
    ("layer4.0.conv2", 14, 7, 3, 2, 1, 0),
])
def test_resnet50_224_uneven_layers(resnet50_224, name, n, out, k, s, p, used_end):
    for f in _by_name(resnet50_224)[name].axes:
        assert (f.n, f.out, f.kernel, f.stride, f.pad_begin, f.pad_end) == (n, out, k, s, p, p)
        assert (f.leftover, f.unused_pad_end, f.used_pad_end, f.ignored_input_end) == (1, 1, used_end, 0)


@pytest.mark.parametrize("name, n", zip(RESNET_SHORTCUTS, (56, 28, 14)))
def test_resnet50_224_shortcuts_drop_and_skip(resnet50_224, name, n):
    for f in _by_name(resnet50_224)[name].axes:
        assert (f.n, f.out, f.kernel, f.stride, f.pad_begin) == (n, n // 2, 1, 2, 0)
        assert f.ignored_input_end == 1
        assert f.ignored_input == n // 2          # every other row, the last one included


def test_resnet50_224_every_other_layer_is_even(resnet50_224):
    flagged = set(RESNET_UNEVEN) | set(RESNET_SHORTCUTS)
    for layer in resnet50_224.layers:
        if layer.name not in flagged:
            assert all(not f.uneven and f.ignored_input_end == 0 for f in layer.axes), layer.name


def test_resnet50_construction_sites(resnet50_224):
    from torchvision.models import resnet
    by = {f.layer: f.source for f in resnet50_224.findings}
    assert by["conv1"].path.endswith("torchvision/models/resnet.py")
    assert by["conv1"].line == _line_of(resnet.ResNet.__init__, r"self\.conv1 = nn\.Conv2d\(")
    assert by["conv1"].col == 22
    assert by["maxpool"].line == _line_of(resnet.ResNet.__init__, r"self\.maxpool = nn\.MaxPool2d")
    assert by["layer2.0.conv2"].line == _line_of(resnet.conv3x3, r"return nn\.Conv2d")
    assert by["layer3.0.downsample.0"].line == _line_of(resnet.conv1x1, r"return nn\.Conv2d")


def test_resnet50_225_is_clean():
    r = padlint.analyze("torchvision.models:resnet50", 225)
    assert _codes(r, "PAD101") == [] and _codes(r, "PAD102") == []
    layers = _by_name(r)
    f = layers["conv1"].axis("H")
    assert (f.n, f.out, f.leftover, f.unused_pad_end) == (225, 113, 0, 0)
    assert [layers[n].axis("W").n for n in RESNET_SHORTCUTS] == [57, 29, 15]
    assert all(not f.uneven and f.ignored_input_end == 0 for layer in r.layers for f in layer.axes)
    # the 1x1 stride-2 shortcuts still skip every other row: info only
    assert _codes(r, "PAD103") == sorted((n, a) for n in RESNET_SHORTCUTS for a in "HW")
    assert r.exit_code() == 0


@pytest.mark.parametrize("size", [33, 193, 257])
def test_resnet50_clean_at_1_mod_32(size):
    r = padlint.analyze("torchvision.models:resnet50", size, select=["PAD101", "PAD102"])
    assert r.findings == []


def test_vgg16_224_even_and_225_drops_at_first_pool():
    r224, r225 = (padlint.analyze("torchvision.models:vgg16", s) for s in (224, 225))
    pools = [layer for layer in r224.layers if layer.op == "MaxPool2d"]
    assert [p.axis("H").n for p in pools] == [224, 112, 56, 28, 14]
    assert all(not f.uneven and f.ignored_input == 0 for p in pools for f in p.axes)
    assert r224.findings == []
    assert _codes(r225, "PAD102") == [("features.4", "H"), ("features.4", "W")]
    f = _by_name(r225)["features.4"].axis("H")
    assert (f.n, f.out, f.ignored_input_end, f.ignored_input) == (225, 112, 1, 1)
    assert [f.rule for f in r225.findings] == ["PAD102", "PAD102"]


def test_mobilenet_v2_224_five_stride2_convs():
    r = padlint.analyze("torchvision.models:mobilenet_v2", 224)
    stride2 = ["features.0.0", "features.2.conv.1.0", "features.4.conv.1.0",
               "features.7.conv.1.0", "features.14.conv.1.0"]
    assert _codes(r, "PAD101") == sorted((n, a) for n in stride2 for a in "HW")
    assert {f.rule for f in r.findings} == {"PAD101", "PAD110"}
    # PAD110: from the last block's depthwise conv (field 491 at stride 32 on 7 cells) on,
    # every cell sees the whole 224; at 247 (8 cells) the first cell's field ends at 245
    saturated = [f for f in r.findings if f.rule == "PAD110"]
    assert [(f.layer, f.axis) for f in saturated] == [("features.17.conv.1.0", "H"), ("features.17.conv.1.0", "W")]
    assert "a receptive field of 491 pixels on an input of 224, 7 cells" in saturated[0].message
    assert "the 2 windowed layers after it (716,800 parameters)" in saturated[0].message
    assert saturated[0].fix.startswith("use an input of at least 247 on H")
    layers = _by_name(r)
    assert [layers[n].axis("H").n for n in stride2] == [224, 112, 56, 28, 14]
    for n in stride2:
        f = layers[n].axis("W")
        assert (f.kernel, f.stride, f.pad_begin, f.used_pad_end) == (3, 2, 1, 0)
    assert {f.rule for f in padlint.analyze("torchvision.models:mobilenet_v2", 225).findings} == {"PAD110"}


def test_tf_efficientnet_b0_dynamic_same_padding_against_autograd():
    timm = pytest.importorskip("timm")
    import torch
    from timm.layers.padding import get_same_padding

    model = timm.create_model("tf_efficientnet_b0", pretrained=False)
    report = padlint.analyze(model, 224)
    assert not report.errors
    # real output shapes from a real CPU forward
    real = {}

    def keep(name):
        def hook(module, inputs, output):
            real[name] = tuple(output.shape)
        return hook

    hooks = [m.register_forward_hook(keep(name))
             for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    convs = [layer for layer in report.layers if layer.family == "conv"]
    assert len(convs) == len(real) == 81
    same = [layer for layer in convs if layer.op == "Conv2dSame"]
    assert [layer.axis("H").n for layer in same] == [224, 112, 56, 28, 14]
    for layer in convs:
        assert layer.output_shape == real[layer.name]
        module = model.get_submodule(layer.name)
        for f, n in zip(layer.axes, layer.input_shape[2:]):
            if layer.op == "Conv2dSame":    # timm's own TF-SAME rule gives the true pads
                total = get_same_padding(n, f.kernel, f.stride, f.dilation)
                assert (f.pad_begin, f.pad_end) == (total // 2, total - total // 2), layer.name
                assert (f.explicit_begin, f.explicit_end) == (f.pad_begin, f.pad_end)
            else:
                p = module.padding[0]
                assert (f.pad_begin, f.pad_end) == (p, p)
            truth = conv_axis_truth(n, f.kernel, f.stride, f.dilation, f.pad_begin, f.pad_end)
            assert {k: getattr(f, k) for k in truth} == truth, (layer.name, f.axis)
    assert _codes(report, "PAD101") == sorted((layer.name, a) for layer in same for a in "HW")
    # TF-SAME pads the extra cell at the end: uneven in the direction opposite to PyTorch's
    stem = same[0].axis("H")
    assert (stem.pad_begin, stem.used_pad_end) == (0, 1)


def test_cli_json_for_resnet50_lists_the_science_facts():
    import json
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "padlint", "check", "torchvision.models:resnet50",
                           "--input-size", "224,225", "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    at224, at225 = doc["results"]
    assert at224["target"] == "torchvision.models:resnet50" and at224["input_shape"] == [1, 3, 224, 224]
    by_rule = {}
    for f in at224["findings"]:
        by_rule.setdefault(f["rule"], set()).add(f["layer"])
        assert f["source"]["path"].endswith("torchvision/models/resnet.py")
    assert by_rule == {"PAD101": set(RESNET_UNEVEN), "PAD102": set(RESNET_SHORTCUTS),
                       "PAD103": set(RESNET_SHORTCUTS)}
    assert {f["rule"] for f in at225["findings"]} == {"PAD103"}
    assert [layer["name"] for layer in at224["layers"]][:3] == ["conv1", "maxpool", "layer1.0.conv1"]


def test_channels_when_the_first_conv_follows_a_reshaping_stem():
    timm = pytest.importorskip("timm")
    # TResNet's space-to-depth stem turns 3 channels into 48 before its first conv
    report = padlint.analyze(timm.create_model("tresnet_m"), 224)
    assert not report.errors and report.results[0].input_shape == (1, 3, 224, 224)
    # a model built for 1 channel keeps its first conv's channels
    report = padlint.analyze(timm.create_model("resnet18", in_chans=1), 224)
    assert report.results[0].input_shape == (1, 1, 224, 224)


def test_detection_model_backbone_at_the_size_its_transform_gives():
    # the factory is called with weights=None and weights_backbone=None: nothing downloads
    report = padlint.analyze("torchvision.models.detection:fasterrcnn_resnet50_fpn", "480x640")
    assert not report.errors
    result = report.results[0]
    assert result.input_shape == (1, 3, 800, 1088)       # resize to 800 x 1066.7, pad to /32
    note = next(f for f in result.findings if f.rule == "PAD901")
    assert (note.rule, note.layer, note.axis) == ("PAD901", "backbone", None)
    assert "analysed backbone (backbone and FPN) at 800x1088" in note.message
    assert "a 480x640 image" in note.message and "pads them to a multiple of 32" in note.message
    assert all(layer.name.startswith("backbone.") for layer in result.layers)
    layers = _by_name(report)
    assert layers["backbone.body.conv1"].axis("W").n == 1088
    # multiples of 32 are even at every stride-2 layer of a ResNet: always uneven
    assert ("backbone.body.conv1", "H") in _codes(report, "PAD101")
    assert ("backbone.body.layer2.0.downsample.0", "W") in _codes(report, "PAD102")


def test_ssd_backbone_sees_its_fixed_size():
    report = padlint.analyze("torchvision.models.detection:ssd300_vgg16", 512)
    assert not report.errors and report.results[0].input_shape == (1, 3, 300, 300)
    note = next(f for f in report.findings if f.rule == "PAD901")
    assert "resizes every image to 300x300" in note.message
