"""Receptive fields, effective strides and centre offsets (issue 22): the arithmetic of
padlint.geometry.receptive by hand, and every layer and axis of real models against the
gradient support of a positive copy (tests/receptive_truth.py)."""
from __future__ import annotations

import importlib.util
from fractions import Fraction

import pytest
import torch

import padlint
from padlint.geometry import receptive
from padlint.geometry.receptive import IDENTITY, Field
from paths import ROOT
from receptive_truth import measure

LADDER = (32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 640, 768, 1024, 1536, 2048, 3072, 4096)


# -- the arithmetic by hand ---------------------------------------------------------

def test_a_stack_of_3x3_convs_grows_by_two_strides():
    f = receptive.window(IDENTITY, 3, 2, 1, 1)           # 3x3 s2 p1: cell j sees 2j-1 .. 2j+1
    assert f == Field(((-1, 1),), 2)
    f = receptive.window(f, 3, 1, 1, 1)                  # then 3x3 s1: 2 cells either side
    assert f == Field(((-3, 3),), 2) and f.size == 7


def test_dilation_counts_the_span():
    assert receptive.window(IDENTITY, 3, 1, 4, 4) == Field(((-4, 4),), 1)


def test_a_stride_2_transposed_conv_has_period_2():
    """k=3 s=2 p=1: even outputs get one input (x = y/2), odd ones two (x = (y±1)/2)."""
    f = receptive.transposed(IDENTITY, 3, 2, 1, 1)
    assert f == Field(((0, 0), (0, 1)), 1) and f.sizes == (1, 2) and f.size == 2
    f = receptive.transposed(IDENTITY, 2, 2, 1, 0)       # k=2 s=2: both outputs of x see x
    assert f == Field(((0, 0), (0, 0)), 1)
    assert receptive.window(f, 2, 2, 1, 0) == Field(((0, 0),), 1)   # and a 2x2/2 pool undoes it


def test_resampling():
    half = Fraction(1, 2)
    assert receptive.resample(IDENTITY, half, "nearest") == Field(((0, 0), (0, 0)), 1)
    # bilinear x2: output y samples (y + 1/2)/2 - 1/2: -1/4 -> cells -1, 0; 1/4 -> 0, 1
    assert receptive.resample(IDENTITY, half, "linear") == Field(((-1, 0), (0, 1)), 1)
    assert receptive.resample(IDENTITY, Fraction(2), "linear") == Field(((0, 1),), 2)
    assert receptive.resample(IDENTITY, Fraction(3), "area") == Field(((0, 2),), 3)


def test_a_merge_unites_misaligned_fields():
    a = receptive.window(IDENTITY, 3, 2, 1, 1)            # centred at 2j
    b = receptive.window(IDENTITY, 2, 2, 1, 0)            # 2j .. 2j+1
    assert receptive.merge([a, b]) == Field(((-1, 1),), 2)
    c = receptive.window(IDENTITY, 1, 2, 1, -1)           # x[1::2]: 2j+1
    assert receptive.merge([a, c]) == Field(((-1, 1),), 2)
    assert receptive.merge([a, None]) is None


# -- padlint against the gradient support ---------------------------------------------

def _predicted(model, shape):
    """padlint's layers at ``shape`` (batch 1 prepended)."""
    return padlint.analyze(model, input_size=list(shape)).layers


def _truth_check(model, base: tuple[int, ...], limit: int = 4096) -> tuple[int, int]:
    """Every (windowed layer, axis) of ``model`` against the gradient support. Each axis is
    grown alone along the ladder from the ``base`` input (C, *spatial), the others kept
    small, so that a deep layer's field fits inside at the cost of a thin input; a layer's
    axis is measured at the first size where its two middle cells' fields lie inside. Its
    spans, and with period 1 its stride and centre, must equal the measured ones. Returns
    (layer axes checked, layer axes)."""
    checked, total = 0, None
    nd = len(base) - 1
    for a in range(nd):
        todo: set[str] | None = None
        plan: dict[tuple[int, ...], list] = {}
        for n in [base[1 + a]] + [n for n in LADDER if base[1 + a] < n <= limit]:
            shape = base[:1 + a] + (n,) + base[2 + a:]
            layers = _predicted(model, shape)
            if todo is None:
                todo = {layer.name for layer in layers}
                total = (total or 0) + len(layers)
            for layer in layers:
                c = layer.cells[a] if len(layer.cells) == nd else None
                if layer.name not in todo or c is None or c.field is None:
                    continue
                j0 = layer.axes[a].out // 2
                spans = [c.field.span(j0 + k) for k in range(2)]
                if all(s is not None and s[0] >= 0 and s[1] <= n - 1 for s in spans):
                    plan.setdefault(shape, []).append((layer, spans))
                    todo.discard(layer.name)
        for shape, entries in plan.items():
            got = measure(model, [layer.name for layer, _ in entries], shape)
            for layer, spans in entries:
                f, c = layer.axes[a], layer.cells[a]
                truth = [got[layer.name][k][a] for k in range(2)]
                assert truth == spans, (layer.name, f.axis, shape, truth, spans)
                if c.field.period == 1:               # a whole stride apart, centred on S*j + O
                    j0 = f.out // 2
                    assert truth[1][0] - truth[0][0] == c.stride, (layer.name, f.axis)
                    assert Fraction(truth[0][0] + truth[0][1], 2) == c.stride * j0 + c.offset, (layer.name, f.axis)
                checked += 1
    return checked, total or 0


def _example(name: str, cls: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, cls)()


def test_resnet18_last_conv_sees_435_pixels():
    from torchvision.models import resnet18
    layers = _predicted(resnet18(), (3, 224, 224))
    last = layers[-1]
    assert last.name == "layer4.1.conv2"
    assert [c.receptive_field for c in last.cells] == [435, 435]
    assert [c.stride for c in last.cells] == [32, 32] and [c.offset for c in last.cells] == [0, 0]
    down = next(layer for layer in layers if layer.name == "layer4.0.downsample.0")
    assert [c.receptive_field for c in down.cells] == [211, 211]


@pytest.mark.parametrize("name, cls, base, layers", [
    ("unet", "UNet", (3, 32, 32), 15),                # ConvTranspose2d k=2 s=2 and skips
    ("decoder", "Decoder", (3, 32, 32), 3),          # k=3 s=2 p=1 op=1 and k=4 s=2 p=1
    ("video", "TinyR3D", (3, 16, 32, 32), 2),        # 3-D
])
def test_examples_agree_with_the_gradient(name, cls, base, layers):
    assert _truth_check(_example(name, cls), base) == (layers * (len(base) - 1),) * 2


def test_resnet18_agrees_with_the_gradient():
    from torchvision.models import resnet18
    assert _truth_check(resnet18(), (3, 64, 64)) == (42, 42)


@pytest.mark.corpus
@pytest.mark.parametrize("build, base, layers", [
    ("googlenet", (3, 64, 64), 70),
    ("mobilenet_v2", (3, 64, 64), 52),
    ("densenet121", (3, 64, 64), 124),
    ("resnet50_dilated", (3, 64, 64), 54),          # dilation 2 and 4 in layer3 and layer4
    ("r3d_18", (3, 8, 32, 32), 20),
])
def test_torchvision_models_agree_with_the_gradient(build, base, layers):
    import torchvision.models as tvm
    import torchvision.models.video as video
    torch.manual_seed(0)
    model = {"googlenet": lambda: tvm.googlenet(init_weights=False, aux_logits=False),
             "mobilenet_v2": tvm.mobilenet_v2, "densenet121": tvm.densenet121,
             "resnet50_dilated": lambda: tvm.resnet50(replace_stride_with_dilation=[False, True, True]),
             "r3d_18": video.r3d_18}[build]()
    assert _truth_check(model, base) == (layers * (len(base) - 1),) * 2
