"""The FX path and the hook fallback must agree on the windowed ops, and the fast
shape path must not change any shape."""
import pytest

import padlint.trace.record as record_mod
from padlint.trace.frontend import FrontEnd

torchvision = pytest.importorskip("torchvision")


def _summary(layers):
    return [(layer.name, layer.op, layer.input_shape, layer.output_shape,
             tuple(f.to_json().items() for f in layer.axes).__repr__()) for layer in layers]


def _models():
    from torchvision import models
    yield "resnet18", models.resnet18()
    yield "mobilenet_v3_small", models.mobilenet_v3_small()
    yield "googlenet", models.googlenet(init_weights=False, aux_logits=False)
    timm = pytest.importorskip("timm")
    yield "tf_efficientnet_b0", timm.create_model("tf_efficientnet_b0")
    yield "resnet50d", timm.create_model("resnet50d")


@pytest.fixture(scope="module", params=["resnet18", "mobilenet_v3_small", "googlenet",
                                        "tf_efficientnet_b0", "resnet50d"])
def model(request):
    return dict(_models())[request.param]


def test_fx_and_hooks_give_the_same_windowed_ops(model):
    front = FrontEnd(model)
    assert front.graph is not None
    shape = (1, 3, 224, 224)
    fx, hooks = front._run_fx(shape)[0], front._run_hooks(shape)[0]
    assert len(fx) > 10
    assert _summary(fx) == _summary(hooks)


def test_fast_shape_path_changes_nothing(model, monkeypatch):
    shape = (1, 3, 225, 225)
    fast = FrontEnd(model).run(shape)
    monkeypatch.setattr(record_mod, "_fast_shape", lambda *a: None)
    monkeypatch.setattr(record_mod, "_window_out", lambda *a: None)
    slow = FrontEnd(model).run(shape)
    assert _summary(fast.layers) == _summary(slow.layers)
