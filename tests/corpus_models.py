"""The real-architecture corpus of test_corpus.py: models nobody here wrote, built
without weights (``weights=None`` / ``pretrained=False``; nothing is downloaded).

Each entry is ``(id, constructor, sizes, expected_method)``:

* ``id``: ``tv.<name>`` (torchvision classification), ``tvseg.<name>`` (torchvision
  segmentation), ``tvvideo.<name>`` (torchvision video) or ``timm.<name>``.
* ``constructor``: a no-argument callable that builds the model.
* ``sizes``: the input sizes padlint gets (its ``input_size`` syntax): odd, even and
  non-square where the architecture allows it (see the notes on the exceptions).
* ``expected_method``: padlint's trace method, ``'fx'`` unless the model cannot be
  traced by torch.fx, in which case padlint falls back to ``'hooks'`` and says why
  in a PAD901 finding (``HOOKS_REASONS`` holds what that finding must name).
"""
from __future__ import annotations

IMAGE = (224, 225, "193x257")          # even, odd, non-square (odd x odd, both off any grid)
VIDEO = ("16x112x112", "15x113x111")


def tv(name, **kwargs):
    def build():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kwargs)
    return build


def tvseg(name, **kwargs):
    def build():
        import torchvision
        return getattr(torchvision.models.segmentation, name)(
            weights=None, weights_backbone=None, aux_loss=False, **kwargs)
    return build


def tvvideo(name):
    def build():
        import torchvision
        return getattr(torchvision.models.video, name)(weights=None)
    return build


def timm_model(name, **kwargs):
    def build():
        import timm
        return timm.create_model(name, pretrained=False, **kwargs)
    return build


NO_AUX = dict(aux_logits=False, init_weights=False)

CORPUS = [
    # ---------------------------------------------------------------- torchvision classification
    ("tv.resnet18", tv("resnet18"), IMAGE, "fx"),
    ("tv.resnet50", tv("resnet50"), IMAGE, "fx"),
    ("tv.resnext50_32x4d", tv("resnext50_32x4d"), IMAGE, "fx"),
    ("tv.wide_resnet50_2", tv("wide_resnet50_2"), IMAGE, "fx"),
    ("tv.vgg11", tv("vgg11"), IMAGE, "fx"),
    ("tv.vgg16_bn", tv("vgg16_bn"), IMAGE, "fx"),
    ("tv.alexnet", tv("alexnet"), IMAGE, "fx"),
    ("tv.squeezenet1_0", tv("squeezenet1_0"), IMAGE, "fx"),
    ("tv.squeezenet1_1", tv("squeezenet1_1"), IMAGE, "fx"),
    ("tv.densenet121", tv("densenet121"), IMAGE, "fx"),
    ("tv.inception_v3", tv("inception_v3", **NO_AUX), (299, 300), "fx"),
    ("tv.googlenet", tv("googlenet", **NO_AUX), IMAGE, "fx"),
    ("tv.mobilenet_v2", tv("mobilenet_v2"), IMAGE, "fx"),
    ("tv.mobilenet_v3_small", tv("mobilenet_v3_small"), IMAGE, "fx"),
    ("tv.mobilenet_v3_large", tv("mobilenet_v3_large"), IMAGE, "fx"),
    ("tv.mnasnet0_5", tv("mnasnet0_5"), IMAGE, "fx"),
    ("tv.shufflenet_v2_x1_0", tv("shufflenet_v2_x1_0"), IMAGE, "fx"),
    ("tv.efficientnet_b0", tv("efficientnet_b0"), IMAGE, "fx"),
    ("tv.efficientnet_b1", tv("efficientnet_b1"), IMAGE, "fx"),
    ("tv.efficientnet_b2", tv("efficientnet_b2"), IMAGE, "fx"),
    ("tv.efficientnet_b3", tv("efficientnet_b3"), IMAGE, "fx"),
    ("tv.efficientnet_v2_s", tv("efficientnet_v2_s"), IMAGE, "fx"),
    ("tv.regnet_y_400mf", tv("regnet_y_400mf"), IMAGE, "fx"),
    ("tv.regnet_x_400mf", tv("regnet_x_400mf"), IMAGE, "fx"),
    ("tv.convnext_tiny", tv("convnext_tiny"), IMAGE, "fx"),
    ("tv.swin_t", tv("swin_t"), IMAGE, "fx"),
    # MaxViT's block and grid partitions need every stage's map (input / 32 after the
    # stride-2 stem, rounded up) to be 7: 223 and 224 on each axis (and 448, …); 225, 256
    # and 193x257 fail in its own forward (a real CPU forward too).
    ("tv.maxvit_t", tv("maxvit_t"), (224, 223, "223x224"), "fx"),
    # ---------------------------------------------------------------- torchvision segmentation
    ("tvseg.fcn_resnet50", tvseg("fcn_resnet50"), IMAGE, "fx"),
    ("tvseg.deeplabv3_resnet50", tvseg("deeplabv3_resnet50"), IMAGE, "fx"),
    ("tvseg.lraspp_mobilenet_v3_large", tvseg("lraspp_mobilenet_v3_large"), IMAGE, "fx"),
    # ---------------------------------------------------------------- torchvision video
    ("tvvideo.r3d_18", tvvideo("r3d_18"), VIDEO, "fx"),
    ("tvvideo.mc3_18", tvvideo("mc3_18"), VIDEO, "fx"),
    ("tvvideo.r2plus1d_18", tvvideo("r2plus1d_18"), VIDEO, "fx"),
    # ---------------------------------------------------------------- timm
    ("timm.resnet50d", timm_model("resnet50d"), IMAGE, "fx"),
    ("timm.efficientnet_b0", timm_model("efficientnet_b0"), IMAGE, "fx"),
    ("timm.tf_efficientnet_b0", timm_model("tf_efficientnet_b0"), IMAGE, "fx"),
    ("timm.mixnet_s", timm_model("mixnet_s"), IMAGE, "fx"),
    ("timm.tf_mixnet_s", timm_model("tf_mixnet_s"), IMAGE, "fx"),
    ("timm.regnety_016", timm_model("regnety_016"), IMAGE, "fx"),
    ("timm.cspresnet50", timm_model("cspresnet50"), IMAGE, "fx"),
    ("timm.cspdarknet53", timm_model("cspdarknet53"), IMAGE, "fx"),
    # DLA and HRNet add branches whose stride-2 paths must agree in length: 224, 223
    # and 191x255 work (n = 0 or 31 mod 32); 225 and 193x257 fail in their own forward.
    ("timm.dla34", timm_model("dla34"), (224, 223, "191x255"), "fx"),
    ("timm.hrnet_w18_small", timm_model("hrnet_w18_small"), (224, 223, "191x255"), "fx"),
    ("timm.xception41", timm_model("xception41"), IMAGE, "fx"),
    ("timm.rexnet_100", timm_model("rexnet_100"), IMAGE, "fx"),
    ("timm.convnext_tiny", timm_model("convnext_tiny"), IMAGE, "fx"),
    ("timm.ghostnet_100", timm_model("ghostnet_100"), IMAGE, "fx"),
    ("timm.repvgg_a2", timm_model("repvgg_a2"), IMAGE, "fx"),
    ("timm.res2net50_26w_4s", timm_model("res2net50_26w_4s"), IMAGE, "fx"),
    ("timm.densenet121", timm_model("densenet121"), IMAGE, "fx"),
    ("timm.inception_v4", timm_model("inception_v4"), IMAGE, "fx"),
    ("timm.darknet53", timm_model("darknet53"), IMAGE, "fx"),
    # TResNet's space-to-depth stem needs both sides divisible by 4: no odd size.
    ("timm.tresnet_m", timm_model("tresnet_m"), (224, "196x260"), "fx"),
    ("timm.efficientvit_b0", timm_model("efficientvit_b0"), IMAGE, "hooks"),
    ("timm.mobilevit_xs", timm_model("mobilevit_xs"), IMAGE, "hooks"),
]

# Models padlint must analyse with its hook fallback, and what their PAD901 finding
# must name (a regular expression searched in its message).
HOOKS_REASONS: dict[str, str] = {
    # LiteMLA.forward branches on ``v.device.type != 'meta'``: a Python `if` on a Proxy
    "timm.efficientvit_b0": r"could not trace module 'stages\.2\.blocks\.1\.context_module\.main' "
                            r"\(TraceError: symbolically traced variables cannot be used as inputs "
                            r"to control flow\)",
    # MobileVitBlock.forward branches on ``new_h != H or new_w != W`` (shape-dependent)
    "timm.mobilevit_xs": r"could not trace module 'stages\.2\.1' \(TraceError: symbolically traced "
                         r"variables cannot be used as inputs to control flow\)",
}

# Models whose independent ground truth cannot come from an aten graph
# (make_fx(tracing_mode="fake") fails on them) and comes from a real CPU forward
# with module hooks instead; id -> why.
FALLBACK_TRUTH: dict[str, str] = {}

# The default run (no ``-m corpus``): a few models at two sizes.
FAST = [
    ("tv.resnet18", 224), ("tv.resnet18", 225),
    ("tv.mobilenet_v3_small", 224), ("tv.mobilenet_v3_small", "193x257"),
    ("tv.squeezenet1_1", 224), ("tv.squeezenet1_1", 225),
    ("tv.efficientnet_b0", 224), ("tv.efficientnet_b0", 225),
    ("timm.tf_efficientnet_b0", 224), ("timm.tf_efficientnet_b0", "193x257"),
    ("tvvideo.r3d_18", "16x112x112"),
]
