"""Cell alignment and coverage (PAD106-PAD109): the tracker's facts against autograd ground
truth, and the four rules on hand-built and torchvision models (built without weights).

Ground truth:
- where a cell sits: with every weight 1 (bias 0) a conv or average pool is a symmetric
  sum, so the gradient of output cell j over the input is symmetric about the cell's
  centre; its centroid is S*j + O for an interior cell (SCIENCE.md §2). For upsampling
  (each output cell copies or blends one or two inputs) the pair of cells 2i, 2i+1 is
  centred at S*(2i + 1/2) + O.
- coverage: with averaging weights (1/k per tap) and zero padding, a constant-ones input
  gives each output cell exactly its share of paths that end on real input, and the
  gradient of the output's sum over the input is the per-pixel usage (foveation) map.
"""
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import padlint
from padlint.trace.frontend import FrontEnd


def output_grid(model: nn.Module, shape) -> tuple:
    trace = FrontEnd(model).run(shape)
    (grids,) = trace.alignment.outputs
    return grids[2:]


def ones_(model: nn.Module, value=1.0) -> nn.Module:
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.fill_(0.0 if name.endswith("bias") else value)
    return model


def centroid(model: nn.Module, n: int, cells) -> float:
    """Mean input position of the gradient of ``cells`` (summed) of a 1-D model's output."""
    x = torch.ones(1, 1, n, requires_grad=True)
    y = model(x)
    y[0, 0, list(cells)].sum().backward()
    g = x.grad[0, 0].double()
    return float((torch.arange(n, dtype=torch.float64) * g).sum() / g.sum())


class Pad(nn.Module):
    def __init__(self, begin, end):
        super().__init__()
        self.begin, self.end = begin, end

    def forward(self, x):
        return F.pad(x, (self.begin, self.end))


class Slice(nn.Module):
    def __init__(self, start, step):
        super().__init__()
        self.start, self.step = start, step

    def forward(self, x):
        return x[..., self.start::self.step]


class Up(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode=self.mode)


# (id, 1-D model, S, O): every one checked against autograd below
CHAINS = [
    ("conv-k3-s2-p1", lambda: nn.Conv1d(1, 1, 3, stride=2, padding=1), 2, 0),
    ("avgpool-2", lambda: nn.AvgPool1d(2), 2, Fraction(1, 2)),
    ("conv-k4-s2-p1", lambda: nn.Conv1d(1, 1, 4, stride=2, padding=1), 2, Fraction(1, 2)),
    ("conv-k3-valid", lambda: nn.Conv1d(1, 1, 3), 1, 1),
    ("conv-k3-d2-p1", lambda: nn.Conv1d(1, 1, 3, dilation=2, padding=1), 1, 1),
    ("pad-2-0-then-k3", lambda: nn.Sequential(Pad(2, 0), nn.Conv1d(1, 1, 3)), 1, -1),
    ("crop-3", lambda: Slice(3, 1), 1, 3),
    ("phase-1-of-2", lambda: Slice(1, 2), 2, 1),
    ("stem-7-s2-p3-pool-3-s2-p1", lambda: nn.Sequential(nn.Conv1d(1, 1, 7, stride=2, padding=3),
                                                        nn.AvgPool1d(3, stride=2, padding=1)), 4, 0),
    ("two-k2-s1", lambda: nn.Sequential(nn.Conv1d(1, 1, 2), nn.Conv1d(1, 1, 2)), 1, 1),
]

UPSAMPLING = [
    ("k3s2p1-then-transposed-k2s2", lambda: nn.Sequential(nn.Conv1d(1, 1, 3, stride=2, padding=1),
                                                          nn.ConvTranspose1d(1, 1, 2, stride=2)),
     1, Fraction(-1, 2)),
    ("pool2-then-transposed-k2s2", lambda: nn.Sequential(nn.AvgPool1d(2), nn.ConvTranspose1d(1, 1, 2, stride=2)),
     1, 0),
    ("pool2-then-transposed-k4s2p1", lambda: nn.Sequential(nn.AvgPool1d(2),
                                                           nn.ConvTranspose1d(1, 1, 4, stride=2, padding=1)),
     1, 0),
    ("pool2-then-nearest-x2", lambda: nn.Sequential(nn.AvgPool1d(2), Up("nearest")), 1, 0),
    ("k3s2p1-then-linear-x2", lambda: nn.Sequential(nn.Conv1d(1, 1, 3, stride=2, padding=1), Up("linear")),
     1, Fraction(-1, 2)),
]


@pytest.mark.parametrize("build, stride, offset", [c[1:] for c in CHAINS], ids=[c[0] for c in CHAINS])
def test_grid_matches_the_autograd_centroid(build, stride, offset):
    model = ones_(build())
    (grid,) = output_grid(model, (1, 1, 64))
    assert (grid.stride, grid.offset) == (stride, offset)
    for j in (5, 6, 9):                          # interior cells: no padding in reach
        assert centroid(model, 64, [j]) == pytest.approx(float(stride * j + offset), abs=1e-9)


@pytest.mark.parametrize("build, stride, offset", [c[1:] for c in UPSAMPLING], ids=[c[0] for c in UPSAMPLING])
def test_upsampled_pairs_are_centred_where_the_grid_says(build, stride, offset):
    model = ones_(build())
    (grid,) = output_grid(model, (1, 1, 64))
    assert (grid.stride, grid.offset) == (stride, offset)
    for i in (6, 9, 12):
        cells = [2 * i, 2 * i + 1]
        centre = stride * (2 * i + Fraction(1, 2)) + offset
        assert centroid(model, 64, cells) == pytest.approx(float(centre), abs=1e-9)


def test_align_corners_keeps_the_first_and_last_centre():
    class Net(nn.Module):
        def forward(self, x):
            return F.interpolate(F.avg_pool1d(x, 2), size=63, mode="linear", align_corners=True)
    (grid,) = output_grid(Net(), (1, 1, 64))
    # 32 cells at 2j + 1/2 resampled to 63 cells from the first to the last: S = 2*31/62
    assert (grid.stride, grid.offset) == (1, Fraction(1, 2))


class Resample(nn.Module):
    """A 2x average pool (cells at 2j + 1/2), then F.interpolate."""

    def __init__(self, mode, **how):
        super().__init__()
        self.mode, self.how = mode, how

    def forward(self, x):
        return F.interpolate(F.avg_pool1d(x, 2), mode=self.mode, **self.how)


RESAMPLING = [(mode, how) for mode in ("nearest", "nearest-exact", "area")
              for how in ({"scale_factor": 0.5}, {"scale_factor": 0.4}, {"scale_factor": 1.5},
                          {"scale_factor": 3}, {"size": 21}, {"size": 36})]


@pytest.mark.parametrize("mode, how", RESAMPLING, ids=[f"{m}-{h}" for m, h in RESAMPLING])
def test_nearest_and_area_resampling_sit_where_the_grid_says_on_average(mode, how):
    """A nearest-neighbour copy sits on a staircase: cell j copies source floor(j*r)
    ('nearest') or floor((j + 1/2)*r) ('nearest-exact'), r = 1/scale_factor where one is
    given (PyTorch's rule), else n/m. Over a whole period of the staircase the cells sit on
    average at S*j + O; downsampling by 2, 'nearest' keeps the even cells (O unchanged),
    unlike the half-pixel modes."""
    model = Resample(mode, **how)
    (grid,) = output_grid(model, (1, 1, 96))
    m = model(torch.zeros(1, 1, 96)).shape[-1]
    period = (grid.stride / 2).denominator * (2 if mode == "nearest-exact" else 1)
    cells = range(period * max(1, (m - 1) // period))
    mean = np.mean([centroid(model, 96, [j]) - float(grid.stride) * j for j in cells])
    assert mean == pytest.approx(float(grid.offset), abs=1e-9)


def test_nearest_downsampling_keeps_the_even_cells():
    for mode, offset in (("nearest", Fraction(1, 2)), ("nearest-exact", Fraction(5, 2)),
                         ("linear", Fraction(3, 2)), ("area", Fraction(3, 2))):
        (grid,) = output_grid(Resample(mode, scale_factor=0.5), (1, 1, 96))
        assert (grid.stride, grid.offset) == (4, offset), mode


@pytest.mark.parametrize("how", [{"scale_factor": 0.4}, {"scale_factor": 1.5}, {"size": 21}])
def test_linear_resampling_with_a_scale_factor_uses_pytorchs_step(how):
    """With scale_factor=0.4 on 48 cells PyTorch steps 2.5 source cells (1/0.4), not 48/19."""
    model = ones_(Resample("linear", **how))
    (grid,) = output_grid(model, (1, 1, 96))
    m = model(torch.zeros(1, 1, 96)).shape[-1]
    for j in range(3, m - 3):                    # away from the clamped ends
        assert centroid(model, 96, [j]) == pytest.approx(float(grid.stride * j + grid.offset), abs=1e-5)


# ------------------------------------------------------------------------------- merges

def merges(model, shape):
    return [(m.name, m.op, m.axis, [(g.stride, g.offset) for g in m.grids], m.length)
            for m in FrontEnd(model).run(shape).alignment.merges]


class Skip(nn.Module):
    """U-Net step: skip + up(down(skip)), merged by cat or add."""

    def __init__(self, down, up, how="cat"):
        super().__init__()
        self.enc, self.down, self.up, self.how = nn.Conv2d(3, 4, 3, padding=1), down, up, how

    def forward(self, x):
        skip = self.enc(x)
        deep = self.up(self.down(skip))
        return torch.cat([skip, deep], 1) if self.how == "cat" else skip + deep


def test_unet_skip_after_a_strided_conv_is_half_a_pixel_off():
    model = Skip(nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.ConvTranspose2d(4, 4, 2, stride=2))
    half = Fraction(-1, 2)
    assert merges(model, (1, 3, 32, 32)) == [("cat", "cat", "H", [(1, 0), (1, half)], 32),
                                              ("cat", "cat", "W", [(1, 0), (1, half)], 32)]


def test_unet_skip_after_max_pool_is_aligned():
    model = Skip(nn.MaxPool2d(2), nn.ConvTranspose2d(4, 4, 2, stride=2), how="add")
    assert merges(model, (1, 3, 32, 32)) == []


def test_an_uncentred_crop_is_reported_on_its_axis_only():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 5)

        def forward(self, x):
            return self.conv(x) + x[:, :, 2:-2, 1:-3]
    assert merges(Net(), (1, 3, 20, 20)) == [("add", "add", "W", [(1, 2), (1, 1)], 16)]


def test_broadcast_global_features_and_space_to_depth_are_not_merges():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(12, 8, 3, stride=2, padding=1)

        def forward(self, x):
            x = torch.cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], 1)
            y = self.conv(x)
            return y * F.adaptive_avg_pool2d(y, 1).sigmoid() + y.mean(dim=(2, 3), keepdim=True)
    assert merges(Net(), (1, 3, 32, 32)) == []


def test_a_channels_last_block_keeps_its_grid_through_permutes():
    class Block(nn.Module):                       # ConvNeXt-style: permute, norm, linear, back
        def __init__(self):
            super().__init__()
            self.dw = nn.Conv2d(4, 4, 7, padding=3, groups=4)
            self.norm, self.fc = nn.LayerNorm(4), nn.Linear(4, 4)
            self.shift = nn.Conv2d(4, 4, 2)

        def forward(self, x):
            y = self.fc(self.norm(self.dw(x).permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
            return x[..., 1:, 1:] + self.shift(y)   # the 2x2 conv moves y by half a cell
    half = Fraction(1, 2)
    assert merges(Block(), (1, 4, 16, 16)) == [("add", "add", "H", [(1, 1), (1, half)], 15),
                                                ("add", "add", "W", [(1, 1), (1, half)], 15)]


def test_misaligned_merge_finding_text():
    model = Skip(nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.ConvTranspose2d(4, 4, 2, stride=2))
    report = padlint.analyze(model, input_size=32, select=["PAD107"])
    assert [(f.rule, f.severity, f.layer, f.axis, f.op) for f in report.findings] == [
        ("PAD107", "warning", "cat", "H", ""), ("PAD107", "warning", "cat", "W", "")]
    assert report.findings[0].message == (
        "merges feature maps whose cells on H sit 0.5 input pixels apart: cell j is centred at "
        "input j and j-0.5")
    assert report.findings[0].data["offset"] == 0.5


def test_nearest_downsampled_skip_is_aligned_with_the_even_phase():
    class Net(nn.Module):
        def __init__(self, pool):
            super().__init__()
            self.pool = pool

        def forward(self, x):
            return self.pool(x) + F.interpolate(x, scale_factor=0.5, mode="nearest")
    assert merges(Net(Slice(0, 2)), (1, 3, 32)) == []
    # a 2x average pool sits between the two cells nearest keeps
    assert merges(Net(nn.AvgPool1d(2)), (1, 3, 32)) == [("add", "add", "L", [(2, Fraction(1, 2)), (2, 0)], 16)]


def test_fpn_top_down_adds_are_half_a_fine_cell_off():
    """torchvision's FPN adds a nearest-upsampled coarse map to a lateral one: the ResNet
    cells sit at S*j (stride-2 3x3 convs), the upsampled ones at S*j - S/2."""
    import torchvision
    model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    report = padlint.analyze(model, input_size=224, select=["PAD107"])
    got = [(f.layer, f.axis, f.message.split(": cell")[1]) for f in report.findings]
    assert got == [
        ("backbone.fpn.add_16", "H", " j is centred at input 16j and 16j-8"),
        ("backbone.fpn.add_16", "W", " j is centred at input 16j and 16j-8"),
        ("backbone.fpn.add_17", "H", " j is centred at input 8j and 8j-4"),
        ("backbone.fpn.add_17", "W", " j is centred at input 8j and 8j-4"),
        ("backbone.fpn.add_18", "H", " j is centred at input 4j and 4j-2"),
        ("backbone.fpn.add_18", "W", " j is centred at input 4j and 4j-2")]
    assert all(f.source.path.endswith("torchvision/ops/feature_pyramid_network.py") for f in report.findings)


def test_torchvision_resnet_residuals_are_aligned():
    import torchvision
    assert padlint.analyze(torchvision.models.resnet50(), input_size=224, select=["PAD107"]).findings == []


# ------------------------------------------------------------------------ adaptive pools

def test_uneven_adaptive_pool_names_bins_and_input_sizes():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(7))
    report = padlint.analyze(model, input_size=60, select=["PAD106"])
    f = report.findings[0]
    assert [(f.layer, f.axis, f.op) for f in report.findings] == [
        ("1", "H", "AdaptiveAvgPool2d 30->7"), ("1", "W", "AdaptiveAvgPool2d 30->7")]
    assert f.message == ("pools 30 rows into 7 bins on H (30 is not a multiple of 7): bin 3 takes "
                         "6 rows, the other 6 take 5 rows; bins 0/1, 1/2, 2/3, 3/4, 4/5, 5/6 overlap "
                         "(by up to 1 row)")
    # the conv maps n to ceil(n/2): 28 from 55 or 56, 35 from 69 or 70
    assert f.fix == ("use input size 56 or 69 on H, where the pool's input is a multiple of 7; "
                     "or pool to a size that divides 30")


class PoolAfter(nn.Module):
    """A strided conv, then an adaptive pool of a reshaped or sliced map."""

    def __init__(self, how):
        super().__init__()
        self.conv, self.how = nn.Conv2d(3, 8, 3, stride=2, padding=1), how

    def forward(self, x):
        y = self.conv(x)
        if self.how == "row":                     # a 1-d pool over H: the column 0 of each row
            return F.adaptive_avg_pool1d(y[..., 0], 5)
        if self.how == "flatten":
            return F.adaptive_avg_pool1d(y.flatten(2), 5)
        if self.how == "keyword":
            return F.adaptive_avg_pool2d(input=y, output_size=7)
        return F.adaptive_avg_pool2d(y.view(1, 8, 32, 32), 7)


@pytest.mark.parametrize("how, expect", [
    ("row", [("H", "pools 32 rows into 5 bins on H", "use input size 60 or 69 on H")]),
    ("flatten", [("L", "pools 1024 cells into 5 bins on L",
                  "make the pool's input a multiple of 5 on L (1020 or 1025 cells)")]),
    ("keyword", [("H", "pools 32 rows into 7 bins on H", "use input size 56 or 69 on H"),
                 ("W", "pools 32 columns into 7 bins on W", "use input size 56 or 69 on W")]),
    # a view to a fixed shape: no input size changes the pool's input
    ("view", [("H", "pools 32 rows into 7 bins on H", "make the pool's input a multiple of 7 on H (28 or 35 rows)"),
              ("W", "pools 32 columns into 7 bins on W", "make the pool's input a multiple of 7 on W (28 or 35 columns)")]),
])
def test_adaptive_pools_whose_cells_are_not_followed_are_still_reported(how, expect):
    report = padlint.analyze(PoolAfter(how), input_size=64, select=["PAD106"])
    got = [(f.axis, f.message.split(" (")[0], f.fix.split(", where")[0].split(", or pool")[0])
           for f in report.findings]
    assert got == expect


def test_vgg_pool_at_a_non_square_size():
    import torchvision
    report = padlint.analyze(torchvision.models.vgg11(), input_size="193x257", select=["PAD106"])
    assert [(f.layer, f.axis, f.op) for f in report.findings] == [
        ("avgpool", "H", "AdaptiveAvgPool2d 6->7"), ("avgpool", "W", "AdaptiveAvgPool2d 8->7")]
    assert report.findings[1].message.endswith(
        "every bin takes 2 columns; bins 0/1, 1/2, 2/3, 3/4, 4/5, 5/6 overlap (by up to 1 column)")
    assert report.findings[0].fix.startswith("use input size 224 on H,")   # 7x32; nothing below runs to 7


def test_adaptive_bins_follow_pytorch():
    from padlint._rules.uneven_adaptive_pooling import adaptive_bins
    for n, m in [(30, 7), (6, 7), (8, 7), (224, 7), (5, 3)]:
        x = torch.arange(n, dtype=torch.float64)[None, None]
        starts = F.adaptive_max_pool1d(x, m)[0, 0]          # the max of a bin is its last cell
        assert [e - 1 for _, e in adaptive_bins(n, m)] == [int(v) for v in starts]
        lows = -F.adaptive_max_pool1d(-x, m)[0, 0]
        assert [s for s, _ in adaptive_bins(n, m)] == [int(v) for v in lows]


# ----------------------------------------------------------------- padding dominance

def averaging(model: nn.Module) -> nn.Module:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0 / m.weight[0].numel())
                m.bias.zero_()
    return model


COVERAGE = [
    ("three-k7", lambda: nn.Sequential(*[nn.Conv2d(1, 1, 7, padding=3) for _ in range(3)]), 9),
    ("strided", lambda: nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1),
                                      nn.Conv2d(1, 1, 5, stride=2, padding=2),
                                      nn.AvgPool2d(3, stride=1, padding=1),
                                      nn.Conv2d(1, 1, 3, dilation=2, padding=2)), 20),
    ("non-square", lambda: nn.Sequential(nn.Conv2d(1, 1, (3, 5), stride=(2, 1), padding=(1, 2)),
                                         nn.Conv2d(1, 1, 3, padding=1)), (13, 10)),
    # nearest-neighbour downsampling keeps cells 0, 2, 4, …; nearest-exact 1, 3, 5, …
    ("nearest-down", lambda: nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Upsample(scale_factor=0.5),
                                           nn.Conv2d(1, 1, 3, padding=1)), 14),
    ("nearest-exact-down", lambda: nn.Sequential(nn.Conv2d(1, 1, 3, padding=1),
                                                 nn.Upsample(size=(5, 7), mode="nearest-exact"),
                                                 nn.Conv2d(1, 1, 3, padding=1)), (13, 16)),
]


@pytest.mark.parametrize("build, size", [c[1:] for c in COVERAGE], ids=[c[0] for c in COVERAGE])
def test_coverage_matches_an_averaging_network(build, size):
    model = averaging(build())
    shape = (1, 1) + ((size, size) if isinstance(size, int) else size)
    trace = FrontEnd(model).run(shape, coverage=True)
    deep = trace.alignment.deepest_map
    x = torch.ones(shape, dtype=torch.float64, requires_grad=True)
    y = model.double()(x)
    np.testing.assert_allclose(deep.padding_share(), 1 - y[0, 0].detach().numpy(), atol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(deep.usage(), x.grad[0, 0].numpy(), atol=1e-5)


def test_padding_dominated_map_finding():
    model = nn.Sequential(*[nn.Conv2d(3 if i == 0 else 8, 8, 7, padding=3) for i in range(3)])
    report = padlint.analyze(model, input_size=8, select=["PAD108"])
    (f,) = report.findings
    assert (f.rule, f.severity, f.layer, f.axis, f.op) == ("PAD108", "info", "2", None, "Conv2d k=7 s=1 p=3")
    assert f.message == (
        "the deepest map (8x8 cells at input 8x8) is mainly padding-driven: in 64 of its 64 "
        "cells (100%) more than 50% of the paths to the input end on padding (on average 72%); "
        "100% of its cells reach into the padding, and the input's corner pixel is used 0.3x as "
        "much as its centre")
    # at 12, 84 of 144 cells (58%) are mainly padding-driven: not three quarters
    assert padlint.analyze(model, input_size=12, select=["PAD108"]).findings == []
    # the same numbers from the averaging network (one channel: the same path shares)
    truth = averaging(nn.Sequential(*[nn.Conv2d(1, 1, 7, padding=3) for _ in range(3)])).double()
    for n, mainly, mean, corner in ((8, 64, 72, "0.3"), (12, 84, 53, "0.18")):
        x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
        y = truth(x)
        share = 1 - y[0, 0].detach()
        y.sum().backward()
        assert (int((share > 0.5).sum()), round(100 * float(share.mean()))) == (mainly, mean)
        assert f"{float(x.grad[0, 0, 0, 0] / x.grad[0, 0, n // 2, n // 2]):.2g}" == corner
    trace = FrontEnd(model).run((1, 3, 12, 12), coverage=True)
    share = trace.alignment.deepest_map.padding_share()
    assert (int((share > 0.5).sum()), round(100 * float(share.mean()))) == (84, 53)


@pytest.mark.parametrize("name, fires", [("convnext_tiny", True), ("resnet18", False)])
def test_padding_dominance_on_torchvision(name, fires):
    import torchvision
    report = padlint.analyze(getattr(torchvision.models, name)(), input_size=224, select=["PAD108"])
    assert [f.layer for f in report.findings] == (["features.7.2.block.0"] if fires else [])
    if fires:
        assert "in 49 of its 49 cells (100%)" in report.findings[0].message


# ------------------------------------------------------------------------ preprocessing

def test_fasterrcnn_transform_forces_uneven_sizes():
    import torchvision
    model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    report = padlint.analyze(model, input_size=224, select=["PAD109"])
    assert [(f.rule, f.layer, f.axis, f.op) for f in report.findings] == [
        ("PAD109", "transform", "H", "GeneralizedRCNNTransform size_divisible=32"),
        ("PAD109", "transform", "W", "GeneralizedRCNNTransform size_divisible=32")]
    f = report.findings[0]
    assert f.message == ("pads every image to a multiple of 32 on H, and "
                         "its backbone is uneven at every multiple of 32 up to 1344: every real "
                         "input gets uneven padding or dropped rows")
    # ResNet is clean at 32k+1; the FPN's extra stride-2 pool (k=1) on the stride-32 map
    # needs that map's length odd too: 64k+1
    assert f.fix == ("pad to 64k + 1 instead of a multiple of 32 (e.g. 65, 129, 193): its "
                     "backbone is clean at every such size on H")
    clean = {n: padlint.analyze(model.backbone, input_size=n, select=["PAD101", "PAD102"]).findings == []
             for n in (129, 161, 192, 193, 224)}
    assert clean == {129: True, 161: False, 192: False, 193: True, 224: False}


def test_coverage_is_followed_only_when_pad108_is_selected():
    model = nn.Sequential(*[nn.Conv2d(3 if i == 0 else 8, 8, 7, padding=3) for i in range(3)])
    assert FrontEnd(model).run((1, 3, 8, 8)).alignment.deepest_map is None
    report = padlint.analyze(model, input_size=8, ignore=["PAD108"])
    assert report.results[0].trace.alignment.deepest_map is None
    report = padlint.analyze(model, input_size=8, select=["PAD108"])
    assert report.results[0].trace.alignment.deepest_map.layer == 2


def _line_of(text: str) -> str:
    """'tests/trace/test_alignment.py:486': the line of this file that starts with ``text``, as
    findings name it."""
    from padlint.ir.source import display_path
    with open(__file__, encoding="utf-8") as fh:
        (line,) = [i for i, row in enumerate(fh, 1) if row.strip().startswith(text)]
    return f"{display_path(__file__)}:{line}"


def test_align_corners_upsampling_in_a_unet_drifts_from_plus_to_minus_half_a_pixel():
    """The popular U-Net layout: 2x2 max pool down (cells on 2j+0.5), bilinear
    align_corners=True up (cell 0 on the first coarse centre, the last on the last): the
    upsampled cells run from +0.5 to -0.5 input pixels off the skip's."""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.pool = nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(2)
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)

        def forward(self, x):
            skip = self.enc(x)
            return torch.cat([skip, self.up(self.pool(skip))], dim=1)
    report = padlint.analyze(Net(), input_size=32, select=["PAD107"])
    assert [(f.layer, f.axis) for f in report.findings] == [("cat", "H"), ("cat", "W")]
    up = f"up (Upsample) at {_line_of('self.up = nn.Upsample(scale_factor=2')}"
    assert report.findings[0].message == (
        "merges feature maps whose cells on H have different strides (1 vs 0.967742 input pixels "
        "per cell), +0.5 input pixels apart at the first cell and -0.5 at the last: cell j is "
        f"centred at input j and 0.9677j+0.5, because {up} "
        "uses align_corners=True (it keeps the first and last cell centres, which stretches the "
        "cells between them); with align_corners=False all inputs would be centred at j")
    assert report.findings[0].fix == (
        f"use align_corners=False (the default) in {up}: the "
        "cells of every input then sit at j (`padlint fix` rewrites a literal call)")
    assert report.findings[0].data["offset"] == 0.5


def test_a_tracker_failure_is_reported_and_the_other_facts_kept(monkeypatch):
    """An error inside padlint's alignment tracker costs only the facts after it, and
    PAD901 says so (it was silent: PAD106-PAD108 just came out short)."""
    from padlint.trace.alignment import AlignmentTracker

    def broken(self, name, inputs, out):
        raise RuntimeError("boom")
    monkeypatch.setattr(AlignmentTracker, "_merge", broken)
    model = Skip(nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.ConvTranspose2d(4, 4, 2, stride=2), how="add")
    report = padlint.analyze(model, input_size=32, select=["PAD901", "PAD107", "PAD101"])
    assert [(f.rule, f.layer, f.axis) for f in report.findings] == [
        ("PAD901", "", None), ("PAD101", "down", "H"), ("PAD101", "down", "W")]
    f = report.findings[0]
    assert f.message == ("padlint's alignment tracker failed on add: RuntimeError: boom; PAD106, "
                         "PAD107 and PAD108 saw only the calls before it")
    assert f.fix == "a padlint bug: please report it with the model; the other rules' findings are complete"
