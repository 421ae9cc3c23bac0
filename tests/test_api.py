"""The Python API and the front end on small models written for the purpose."""
import json
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import padlint
from padlint import Finding, PadlintError


def test_finding_is_a_small_frozen_dataclass():
    f = padlint.analyze(nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1)), 224).findings[0]
    assert isinstance(f, Finding)
    with pytest.raises(AttributeError):
        f.rule = "PAD999"
    assert (f.rule, f.name, f.severity, f.layer, f.axis) == ("PAD101", "uneven-padding", "warning", "0", "H")
    assert f.message == "uses its padding unevenly on H at input 224: 1 top but 0 bottom (1 end padding row never read)"
    assert f.fix == ("use input size 223 or 225 on H instead of 224, where every layer uses its padding "
                     "evenly and drops nothing, or kernel 4 with padding 1")
    assert f.op == "Conv2d k=3 s=2 p=1"
    assert f.data["unused_pad_end"] == 1 and f.data["n"] == 224
    assert hash(f) == hash(f)


def test_report_json_contract():
    report = padlint.analyze(nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1)), "224,225")
    doc = json.loads(report.to_json())
    assert doc["padlint_version"] == padlint.__version__ and doc["schema_version"] == 1
    assert [r["input_shape"] for r in doc["results"]] == [[1, 3, 224, 224], [1, 3, 225, 225]]
    layer = doc["results"][0]["layers"][0]
    assert layer["name"] == "0" and layer["op"] == "Conv2d"
    h = layer["axes"][0]
    assert {k: h[k] for k in ("axis", "in", "out", "kernel", "stride", "dilation", "pad_begin", "pad_end",
                              "unused_pad_end", "ignored_input_end", "ignored_input")} == {
        "axis": "H", "in": 224, "out": 112, "kernel": 3, "stride": 2, "dilation": 1, "pad_begin": 1,
        "pad_end": 1, "unused_pad_end": 1, "ignored_input_end": 0, "ignored_input": 0}
    finding = doc["results"][0]["findings"][0]
    assert set(finding) >= {"rule", "name", "severity", "layer", "axis", "message", "fix", "source"}
    assert doc["results"][1]["findings"] == [] and doc["errors"] == []


def test_select_and_ignore_take_prefixes():
    model = nn.Sequential(nn.Conv2d(3, 4, 1, 2))          # PAD102 + PAD103 at 224
    assert {f.rule for f in padlint.analyze(model, 224).findings} == {"PAD102", "PAD103"}
    assert {f.rule for f in padlint.analyze(model, 224, select=["PAD102"]).findings} == {"PAD102"}
    assert {f.rule for f in padlint.analyze(model, 224, ignore=["PAD10"]).findings} == set()
    with pytest.raises(PadlintError, match="unknown rule"):
        padlint.analyze(model, 224, select=["XYZ"])


def test_model_training_flags_are_restored():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout())
    model.train()
    model[1].eval()
    padlint.analyze(model, 32)
    assert [m.training for m in model] == [True, False, True]


def test_a_module_called_twice_gets_numbered():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            return self.pool(self.pool(x))

    layers = padlint.analyze(Twice(), (1, 3, 64, 64)).layers
    assert [(layer.name, layer.axis("H").n) for layer in layers] == [("pool", 64), ("pool#2", 32)]


def test_functional_ops_are_named_by_fx_node_and_located():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(8, 3, 3, 3))

        def forward(self, x):
            x = F.conv2d(x, self.weight, stride=2, padding=1)
            return F.avg_pool2d(x, 3, 2, ceil_mode=True)

    report = padlint.analyze(Functional(), 224)
    names = [(layer.name, layer.op, layer.axis("H").n) for layer in report.layers]
    assert names == [("conv2d", "F.conv2d", 224), ("avg_pool2d", "F.avg_pool2d", 112)]
    src = report.layers[0].source
    assert src.path.endswith("tests/test_api.py") and src.col == 17
    import inspect
    lines, start = inspect.getsourcelines(Functional.forward)
    assert src.line == start + 1


def test_explicit_pads_fold_add_up_and_keep_their_mode():
    model = nn.Sequential(nn.ZeroPad2d((0, 1, 2, 0)), nn.ReflectionPad2d(1), nn.Conv2d(3, 4, 3, 2))
    layer = padlint.analyze(model, (1, 3, 32, 32)).layers[0]
    h, w = layer.axis("H"), layer.axis("W")
    assert (h.n, h.pad_begin, h.pad_end, w.pad_begin, w.pad_end) == (32, 3, 1, 1, 2)
    assert layer.padding_mode == "constant+reflect"
    assert layer.input_shape == (1, 3, 32, 32)


def test_padding_mode_reflect_is_the_same_geometry():
    layer = padlint.analyze(nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, padding_mode="reflect")), 224).layers[0]
    f = layer.axis("H")
    assert (f.pad_begin, f.pad_end, f.unused_pad_end, layer.padding_mode) == (1, 1, 1, "reflect")


def test_negative_pad_is_a_crop_and_not_folded():
    model = nn.Sequential(nn.ZeroPad2d((0, -1, 0, -1)), nn.Conv2d(3, 4, 3, 2, 1))
    f = padlint.analyze(model, 225).layers[0].axis("H")
    assert (f.n, f.pad_begin, f.pad_end, f.uneven) == (224, 1, 1, True)


def test_ceil_mode_with_an_explicit_pad_matches_torch():
    # PyTorch's ceil-mode rule counts the explicit pad as input: padlint must agree
    model = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.MaxPool2d(2, 2, ceil_mode=True))
    # (SCIENCE.md's "(o-1)*s >= n + p_b" would give 4 here; torch gives 5)
    f = padlint.analyze(model, (1, 1, 8, 8)).layers[0].axis("H")
    assert (f.n, f.out, f.pad_begin, f.pad_end, f.overhang, f.used_pad_end) == (8, 5, 0, 1, 1, 2)


def test_1d_and_3d_models_and_channels_from_the_first_conv():
    r1 = padlint.analyze(nn.Sequential(nn.Conv1d(5, 4, 3, 2, 1)), 100)
    assert r1.results[0].input_shape == (1, 5, 100) and r1.layers[0].axis("L").unused_pad_end == 1
    r3 = padlint.analyze(nn.Sequential(nn.Conv3d(2, 4, 3, 2, 1)), "16x112x112")
    assert r3.results[0].input_shape == (1, 2, 16, 112, 112)
    assert [f.axis for f in r3.findings] == ["D", "H", "W"]
    r3c = padlint.analyze(nn.Sequential(nn.Conv3d(2, 4, 3, 2, 1)), "2x15x111x111")
    assert r3c.findings == []


def test_input_size_forms():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1))
    shapes = [r.input_shape for r in padlint.analyze(model, "224x320,3x225x225").results]
    assert shapes == [(1, 3, 224, 320), (1, 3, 225, 225)]
    with pytest.raises(PadlintError, match="invalid --input-size"):
        padlint.analyze(model, "22x")


class ShapeDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, 2, 1)

    def forward(self, x):
        if x.shape[-1] > 100:                     # FX cannot trace this; meta can run it
            x = x[..., :-1]
        return self.conv(x)


class DataDependent(ShapeDependent):
    def forward(self, x):
        if x.sum() > 0:                           # neither FX nor meta can run this
            x = x + 1
        return self.conv(x)


def test_untraceable_model_falls_back_to_hooks_with_pad901():
    result = padlint.analyze(ShapeDependent(), 225).results[0]
    assert result.trace.method == "hooks"
    codes = [(f.rule, f.layer, f.axis) for f in result.findings]
    assert codes == [("PAD901", "", None), ("PAD101", "conv", "W")]
    assert result.findings[0].message.startswith("torch.fx could not trace the model (TraceError: ")
    assert result.findings[0].source.path.endswith("tests/test_api.py")


def test_data_dependent_model_runs_for_real_on_the_cpu():
    result = padlint.analyze(DataDependent(), 224).results[0]
    assert result.trace.method == "cpu"
    assert [(f.rule, f.layer, f.axis) for f in result.findings] == [
        ("PAD901", "", None), ("PAD901", "", None), ("PAD101", "conv", "H"), ("PAD101", "conv", "W")]
    assert result.findings[0].message.endswith(
        "analysed with module hooks on a real CPU forward of a constant input instead")
    assert result.findings[1].message.startswith("the model does not run on the meta device (")


def test_a_4096_input_is_shape_only():
    from torchvision.models import resnet18
    report = padlint.analyze(resnet18(), 4096)
    assert report.layers[0].axis("H").n == 4096 and report.results[0].trace.method == "fx"
    assert report.layers[-1].output_shape == (1, 512, 128, 128)


def test_too_small_names_the_layer_and_the_smallest_size_that_works():
    model = nn.Sequential(nn.Conv3d(1, 2, 1), nn.MaxPool3d((1, 4, 4)), nn.MaxPool3d((1, 4, 4)))
    with pytest.raises(PadlintError) as info:      # nothing analysed: it raises, never a false green
        padlint.analyze(model, "4x8x8")
    assert str(info.value) == (
        "Sequential: input 4x8x8 is too small: 2 (MaxPool3d) would get 2 on H and needs at least 4; "
        "the smallest HxW that works is 16")
    assert info.value.report.results == [] and len(info.value.report.errors) == 1
    with pytest.raises(PadlintError, match="the smallest input that works is 9$"):
        padlint.analyze(nn.Sequential(nn.Conv2d(3, 4, 5), nn.Conv2d(4, 4, 5)), 6)


def test_a_module_spec_is_found_in_the_working_directory(tmp_path, monkeypatch):
    """`padlint check pkg.net:Net` from the project root, as `python -m pkg.net` would
    import it (relative imports inside the package work)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "parts.py").write_text(
        "from torch import nn\n\n\ndef stem():\n    return nn.Conv2d(3, 8, 3, stride=2, padding=1)\n")
    (tmp_path / "pkg" / "net.py").write_text(
        "from torch import nn\n\nfrom .parts import stem\n\n\nclass Net(nn.Sequential):\n"
        "    def __init__(self):\n        super().__init__(stem())\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    try:
        report = padlint.analyze("pkg.net:Net", input_size=32, select=["PAD101"])
    finally:
        for name in ("pkg", "pkg.net", "pkg.parts"):
            sys.modules.pop(name, None)
    assert not report.errors
    assert [(f.layer, f.axis) for f in report.findings] == [("0", "H"), ("0", "W")]
    assert str(tmp_path) not in sys.path


def test_a_file_inside_a_package_keeps_its_relative_imports(tmp_path, monkeypatch):
    (tmp_path / "proj" / "models").mkdir(parents=True)
    for folder in ("proj", "proj/models"):
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "proj" / "layers.py").write_text(
        "from torch import nn\n\n\ndef stem():\n    return nn.Conv2d(3, 8, 3, stride=2, padding=1)\n")
    (tmp_path / "proj" / "models" / "net.py").write_text(
        "from torch import nn\n\nfrom ..layers import stem\n\n\nclass Net(nn.Sequential):\n"
        "    def __init__(self):\n        super().__init__(stem())\n")
    monkeypatch.chdir(tmp_path)
    try:
        with warnings.catch_warnings():    # __package__ != __spec__.parent is an ImportWarning
            warnings.simplefilter("error", ImportWarning)
            report = padlint.analyze("proj/models/net.py", input_size=32, select=["PAD101"])
    finally:
        for name in [n for n in sys.modules if n == "proj" or n.startswith("proj.")]:
            sys.modules.pop(name, None)
    assert not report.errors
    assert [(f.layer, f.axis) for f in report.findings] == [("0", "H"), ("0", "W")]
    assert str(tmp_path) not in sys.path
