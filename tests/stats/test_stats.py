"""``padlint stats`` (SCIENCE.md §4): mean k×k kernels, mean k×k input patches, safe
checkpoint loading and the PAD301/PAD302 rules. Every mean patch is checked against an
independent reference that pads the input the way PyTorch does and unfolds it (the
reference may unfold; padlint must not); the zero-padding patches of constant inputs
are checked against numbers computed by hand. Models are built with random weights
after torch.manual_seed(0); nothing is downloaded."""
import datetime
import math
import multiprocessing
import os
import pathlib
import sys
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import padlint
import padlint.stats
from padlint import PadlintError
from padlint.stats.checkpoint import Loaded, load_weights, read_checkpoint
from padlint.stats.facts import analyze, mean_kernels, mean_patches

torchvision = pytest.importorskip("torchvision")

RTOL = 1e-6

RESNET18_CONVS = [
    "conv1",
    "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2",
    "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv1", "layer2.1.conv2",
    "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0", "layer3.1.conv1", "layer3.1.conv2",
    "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample.0", "layer4.1.conv1", "layer4.1.conv2",
]
RESNET18_1X1 = ["layer2.0.downsample.0", "layer3.0.downsample.0", "layer4.0.downsample.0"]
RESNET18_PATCHED = [n for n in RESNET18_CONVS if n not in RESNET18_1X1]
RESNET18_STRIDE2_3X3 = ["conv1", "layer2.0.conv1", "layer3.0.conv1", "layer4.0.conv1"]   # conv1 is 7x7


# -- helpers ------------------------------------------------------------------------------

def _resnet18():
    torch.manual_seed(0)
    return torchvision.models.resnet18()


def _rand(*shape, seed=1, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=dtype)


def _ints(*shape, seed=2):
    """Integer-valued float32 data: every sum over it is exact, so means compare exactly."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 10, shape, generator=g).to(torch.float32)


def _unfold_patch(x, kernel, stride=1, dilation=1, padding=0):
    """Reference mean patch of a 2-D convolution whose input is ``x`` (already padded
    when the padding is not zeros): ``F.unfold``, averaged over batch, channels and positions."""
    x = x.detach().to(torch.float64)
    k = nn.modules.utils._pair(kernel)
    cols = F.unfold(x, k, dilation=dilation, padding=padding, stride=stride)   # N, C*kh*kw, L
    return cols.reshape(x.shape[0], x.shape[1], k[0] * k[1], -1).mean(dim=(0, 1, 3)).reshape(k).numpy()


def _unfold_patch_nd(x, kernel, stride, dilation):
    """Reference mean patch of an N-d convolution of the (already padded) ``x``, by
    ``Tensor.unfold`` along every spatial axis."""
    x = x.detach().to(torch.float64)
    nd = len(kernel)
    for i, (k, s, d) in enumerate(zip(kernel, stride, dilation)):
        x = x.unfold(2 + i, d * (k - 1) + 1, s)                 # appends the window axis
    windows = x[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]
    return windows.mean(dim=tuple(range(2 + nd))).numpy()


def _inputs(model, names, x):
    """The input each named module gets in an eval-mode forward of ``x``."""
    modules = dict(model.named_modules())
    seen, handles = {}, []
    for name in names:
        handles.append(modules[name].register_forward_pre_hook(
            lambda m, args, name=name: seen.setdefault(name, args[0].detach().clone())))
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was)
        for h in handles:
            h.remove()
    return seen


def _close(actual, expected, rtol=RTOL):
    assert actual.dtype == np.float64 and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def _rules(report, code):
    return [f for f in report.findings if f.rule == code]


def _pairs(findings):
    return sorted((f.layer, f.axis) for f in findings)


# -- mean_kernels -------------------------------------------------------------------------

def test_mean_kernels_of_a_hand_built_conv():
    """w[o, c, i, j] = 18o + 9c + 3i + j - 27: the mean over o and c is 3i + j - 4.5."""
    conv = nn.Conv2d(2, 3, 3, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(54, dtype=torch.float32).reshape(3, 2, 3, 3) - 27)
    got = mean_kernels(nn.Sequential(conv))
    assert list(got) == ["0"]
    assert got["0"].dtype == np.float64 and got["0"].shape == (3, 3)
    np.testing.assert_array_equal(got["0"], [[-4.5, -3.5, -2.5], [-1.5, -0.5, 0.5], [1.5, 2.5, 3.5]])


def test_mean_kernels_absolute_averages_the_magnitudes():
    conv = nn.Conv2d(1, 2, 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[1., -2.], [3., -4.]]], [[[-1., 0.], [5., 2.]]]]))
    model = nn.Sequential(conv)
    np.testing.assert_array_equal(mean_kernels(model)["0"], [[0.0, -1.0], [4.0, -1.0]])
    np.testing.assert_array_equal(mean_kernels(model, absolute=True)["0"], [[1.0, 1.0], [4.0, 3.0]])


def test_mean_kernels_of_resnet18_name_every_conv_including_the_1x1_downsamples():
    model = _resnet18()
    got = mean_kernels(model)
    assert list(got) == RESNET18_CONVS
    modules = dict(model.named_modules())
    for name, kernel in got.items():
        assert isinstance(kernel, np.ndarray) and kernel.dtype == np.float64
        assert kernel.shape == modules[name].kernel_size
        np.testing.assert_array_equal(kernel, modules[name].weight.detach().double().mean(dim=(0, 1)).numpy())
    assert got["conv1"].shape == (7, 7) and got["layer3.0.downsample.0"].shape == (1, 1)
    absolute = mean_kernels(model, absolute=True)
    assert list(absolute) == RESNET18_CONVS
    assert all((absolute[n] > np.abs(got[n])).all() for n in RESNET18_CONVS)


def test_mean_kernels_skip_transposed_convs_and_keep_1d_3d_and_grouped_shapes():
    model = nn.Sequential(nn.Conv2d(4, 4, 3, groups=4), nn.ConvTranspose2d(4, 4, 3, stride=2),
                          nn.Conv1d(4, 2, 5), nn.ConvTranspose1d(2, 2, 4), nn.Conv3d(2, 2, (2, 3, 3)))
    got = mean_kernels(model)
    assert list(got) == ["0", "2", "4"]
    assert [got[n].shape for n in got] == [(3, 3), (5,), (2, 3, 3)]
    assert all(v.dtype == np.float64 for v in got.values())


# -- mean_patches against an unfold reference ---------------------------------------------

@pytest.fixture(scope="module")
def resnet18_patches():
    model = _resnet18()
    x = _rand(2, 3, 224, 224)
    return mean_patches(model, [x]), _inputs(model, ["conv1", "layer1.0.conv1", "layer2.0.conv1"], x)


def test_mean_patches_of_resnet18_have_every_conv_but_the_1x1_ones(resnet18_patches):
    patches, _ = resnet18_patches
    assert list(patches) == RESNET18_PATCHED
    assert {p.shape for n, p in patches.items() if n != "conv1"} == {(3, 3)} and patches["conv1"].shape == (7, 7)
    assert all(p.dtype == np.float64 for p in patches.values())


@pytest.mark.parametrize("name, kernel, stride, padding", [
    ("conv1", 7, 2, 3), ("layer1.0.conv1", 3, 1, 1), ("layer2.0.conv1", 3, 2, 1)])
def test_mean_patches_of_resnet18_at_224_match_unfold(resnet18_patches, name, kernel, stride, padding):
    patches, inputs = resnet18_patches
    expected = _unfold_patch(inputs[name], kernel, stride=stride, padding=padding)
    _close(patches[name], expected)
    if stride == 2:   # at 224 the top padding row is read, the bottom one never
        assert not np.allclose(expected, expected[::-1], rtol=1e-3)


def test_mean_patches_of_a_dilated_strided_rectangular_conv_match_unfold():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, (3, 5), stride=(2, 3), padding=(2, 1), dilation=(2, 1)))
    x = _rand(3, 2, 13, 17)
    got = mean_patches(model, [x])
    assert list(got) == ["0"]
    _close(got["0"], _unfold_patch(x, (3, 5), stride=(2, 3), dilation=(2, 1), padding=(2, 1)))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_mean_patches_of_padding_same_with_even_kernels_put_the_extra_cell_at_the_end():
    """kernel 4 (total padding 3) and kernel 4 dilated by 3 (total 9): PyTorch pads
    (1, 2) and (4, 5), the odd cell at the end."""
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 4, padding="same", dilation=(1, 3))
    x = _rand(2, 2, 10, 19)
    padded = F.pad(x, (4, 5, 1, 2))                    # (left, right, top, bottom)
    with torch.no_grad():                              # that is PyTorch's own convention
        torch.testing.assert_close(conv(x), F.conv2d(padded, conv.weight, conv.bias, dilation=(1, 3)))
    got = mean_patches(nn.Sequential(conv), [x])["0"]
    expected = _unfold_patch(padded, 4, dilation=(1, 3))
    _close(got, expected)
    mirrored = _unfold_patch(F.pad(x, (5, 4, 2, 1)), 4, dilation=(1, 3))
    assert not np.allclose(got, mirrored, rtol=1e-3)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_mean_patches_of_non_zero_padding_modes_see_the_padded_input(mode):
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, padding_mode=mode)
    x = _rand(2, 2, 16, 16)
    padded = F.pad(x, (1, 1, 1, 1), mode=mode)
    with torch.no_grad():
        torch.testing.assert_close(conv(x), F.conv2d(padded, conv.weight, conv.bias, stride=2))
    got = mean_patches(nn.Sequential(conv), [x])["0"]
    _close(got, _unfold_patch(padded, 3, stride=2))
    assert not np.allclose(got, _unfold_patch(x, 3, stride=2, padding=1), rtol=1e-3)   # not zeros


def test_mean_patches_of_timm_tf_same_convs_see_the_dynamically_padded_input():
    """tf_efficientnet_b0's stride-2 Conv2dSame pads with F.pad in its forward: at 224 the
    3x3 stem pads (0, 1), the 5x5 blocks.2.0.conv_dw at 56 pads (1, 2)."""
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = timm.create_model("tf_efficientnet_b0", pretrained=False)
    modules = dict(model.named_modules())
    assert type(modules["conv_stem"]).__name__ == type(modules["blocks.2.0.conv_dw"]).__name__ == "Conv2dSame"
    x = _rand(1, 3, 224, 224)
    patches = mean_patches(model, [x])
    windowed = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    assert list(patches) == windowed and len(windowed) == 17
    inputs = _inputs(model, ["conv_stem", "blocks.2.0.conv_dw"], x)
    assert inputs["blocks.2.0.conv_dw"].shape[-2:] == (56, 56)
    for name, k, (begin, end) in [("conv_stem", 3, (0, 1)), ("blocks.2.0.conv_dw", 5, (1, 2))]:
        n = inputs[name].shape[-1]
        total = (math.ceil(n / 2) - 1) * 2 + k - n          # TensorFlow's SAME
        assert (total // 2, total - total // 2) == (begin, end)
        padded = F.pad(inputs[name], (begin, end, begin, end))
        _close(patches[name], _unfold_patch(padded, k, stride=2))


@pytest.mark.parametrize("kernel, stride, padding, dilation", [(5, 2, 2, 1), (3, 1, 2, 2)])
def test_mean_patches_of_a_conv1d_match_unfold(kernel, stride, padding, dilation):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(2, 3, kernel, stride=stride, padding=padding, dilation=dilation))
    x = _rand(3, 2, 21)
    got = mean_patches(model, [x])["0"]
    expected = _unfold_patch(x.unsqueeze(2), (1, kernel), stride=(1, stride), dilation=(1, dilation),
                             padding=(0, padding))[0]
    _close(got, expected)
    _close(got, _unfold_patch_nd(F.pad(x, (padding, padding)), (kernel,), (stride,), (dilation,)))


def test_mean_patches_of_a_conv3d_match_unfold():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv3d(2, 2, 3, stride=(1, 2, 2), padding=1))
    x = _rand(2, 2, 5, 8, 7)
    got = mean_patches(model, [x])["0"]
    assert got.shape == (3, 3, 3)
    _close(got, _unfold_patch_nd(F.pad(x, (1,) * 6), (3, 3, 3), (1, 2, 2), (1, 1, 1)))


# -- what mean_patches accepts and how it runs --------------------------------------------

def _small():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))


def test_mean_patches_take_pairs_dicts_and_dataloaders_alike():
    model, x = _small(), _ints(10, 3, 12, 12)
    y = torch.arange(10)
    whole = mean_patches(model, [x])
    assert list(whole) == ["0", "2"]
    pairs = mean_patches(model, [(x[:4], y[:4]), (x[4:], y[4:])])
    dicts = mean_patches(model, [{"image": x[:7], "label": y[:7]}, {"image": x[7:], "label": y[7:]}])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=3)
    loaded = mean_patches(model, loader)
    for got in (pairs, dicts, loaded):
        assert list(got) == ["0", "2"]
        np.testing.assert_array_equal(got["0"], whole["0"])         # integer data: exact sums
        _close(got["2"], whole["2"])


def test_mean_patches_limit_uses_the_first_samples_only_and_stops_reading():
    model, x = _small(), _ints(12, 3, 12, 12)

    def batches():
        yield x[:4]
        yield x[4:8]
        raise AssertionError("read a batch past the limit")

    for limit in (6, 8, 4, 1):
        got = mean_patches(model, batches(), limit=limit)
        expected = mean_patches(model, [x[:limit]])
        np.testing.assert_array_equal(got["0"], expected["0"])
        _close(got["2"], expected["2"])
    assert not np.array_equal(mean_patches(model, [x[:6]])["0"], mean_patches(model, [x[:8]])["0"])
    _, seen = padlint.stats.collect_patches(model, batches(), limit=6)
    assert seen == 6
    assert mean_patches(model, [x[:4], x[4:]], limit=100)["0"].tolist() == mean_patches(model, [x])["0"].tolist()


def test_mean_patches_run_in_eval_mode_and_leave_the_model_as_it_was():
    """BatchNorm normalises with its running statistics (eval mode), which stay untouched;
    the training mode is restored."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
    bn = model[1]
    with torch.no_grad():
        bn.running_mean.fill_(0.5)
        bn.running_var.fill_(4.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = _rand(4, 3, 10, 10)
    model.train()
    got = mean_patches(model, [x[:2], x[2:]])
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert int(after["1.num_batches_tracked"]) == 0
    assert all(p.grad is None for p in model.parameters())
    assert all("forward" not in m.__dict__ for m in model.modules())    # no wrapper left behind
    expected = _unfold_patch(_inputs(model, ["3"], x)["3"], 3, padding=1)
    _close(got["3"], expected)
    with torch.no_grad():
        trained = F.relu(F.batch_norm(model[0](x), None, None, bn.weight, bn.bias, training=True))
    assert not np.allclose(got["3"], _unfold_patch(trained, 3, padding=1), rtol=1e-2)
    model.eval()
    mean_patches(model, [x])
    assert not any(m.training for m in model.modules())


def test_mean_patches_restore_the_mode_of_each_submodule():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3, padding=1))
    model.train()
    model[1].eval()                                         # a frozen BatchNorm, as in fine-tuning
    mean_patches(model, [_rand(2, 3, 8, 8)])
    assert [m.training for m in model] == [True, False, True]


def test_mean_patches_restore_the_model_when_its_forward_fails():
    class Fails(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            self.conv(x)
            raise RuntimeError("boom")

    model = Fails().train()
    with pytest.raises(RuntimeError, match="boom"):
        mean_patches(model, [_rand(1, 3, 8, 8)])
    assert model.training and model.conv.training
    assert "forward" not in model.conv.__dict__


def test_a_conv_called_twice_gets_name_and_name_2():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(F.relu(self.conv(x)))

    torch.manual_seed(0)
    model = Twice()
    x = _rand(4, 2, 9, 9)
    got = mean_patches(model, [x[:2], x[2:]])               # the count restarts every batch
    assert list(got) == ["conv", "conv#2"]
    _close(got["conv"], _unfold_patch(x, 3, padding=1))
    with torch.no_grad():
        second = F.relu(model.conv(x))
    _close(got["conv#2"], _unfold_patch(second, 3, padding=1))


def test_1x1_and_transposed_convs_have_no_patch():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 3, padding=1),
                          nn.ConvTranspose2d(4, 4, 3, stride=2), nn.Conv2d(4, 2, (1, 1)))
    assert list(mean_patches(model, [_rand(2, 3, 8, 8)])) == ["1"]


# -- zero padding at an uneven stride-2 layer, by hand -----------------------------------

def test_zero_padding_of_a_stride2_conv_at_16_is_read_at_the_top_only():
    """16 rows, k=3, s=2, p=1: 8 output rows; tap 0 reads rows -1, 1, … 13 (padding at 1
    of 8), taps 1 and 2 read real rows only. On ones the patch is [7/8, 1, 1] ⊗ [7/8, 1, 1]."""
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1))
    means, geometry, seen = padlint.stats.collect(model, [torch.ones(1, 1, 16, 16)])
    expected = np.array([[49 / 64, 7 / 8, 7 / 8], [7 / 8, 1, 1], [7 / 8, 1, 1]])
    np.testing.assert_array_equal(means["0"], expected)
    np.testing.assert_array_equal(geometry["0"].coverage, expected)
    assert seen == 1 and geometry["0"].out == (8, 8) and geometry["0"].pad == ((1, 1), (1, 1))
    assert not np.array_equal(means["0"], np.flip(means["0"], 0))


def test_zero_padding_of_a_stride2_conv_at_17_is_read_at_both_ends():
    """17 rows: 9 output rows; taps 0 and 2 each read padding at 1 of 9."""
    model = nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1))
    got = mean_patches(model, [torch.ones(3, 1, 17, 17)])["0"]
    np.testing.assert_array_equal(got, np.array([[64, 72, 64], [72, 81, 72], [64, 72, 64]]) / 81)
    np.testing.assert_array_equal(got, np.flip(got, 0))
    np.testing.assert_array_equal(got, np.flip(got, 1))


# -- torch.distributed: every process gets the whole dataset's means ---------------------

def _dist_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1),
                         nn.Conv2d(4, 2, 1)).double()


def _dist_data():
    return _rand(10, 3, 12, 12, seed=5, dtype=torch.float64)


def _dist_rank(rank, init, out):
    torch.set_num_threads(1)          # a forked child must not enter the parent's OpenMP pool
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=30))
    try:
        model, data = _dist_model(), _dist_data()
        mine = (data[:3], data[3:])[rank]                 # 2 batches on rank 0, 4 on rank 1
        halves = mean_patches(model, [(b, torch.zeros(len(b))) for b in torch.split(mine, 2)])
        lopsided = mean_patches(model, [] if rank == 0 else list(torch.split(data, 4)))
        as_tensors = lambda d: {k: torch.from_numpy(v) for k, v in d.items()}   # noqa: E731
        torch.save({"halves": as_tensors(halves), "lopsided": as_tensors(lopsided)}, out)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks two gloo processes (Linux)")
def test_distributed_ranks_get_the_means_of_the_whole_dataset(tmp_path, monkeypatch):
    import torch.distributed as dist
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", os.environ.get("GLOO_SOCKET_IFNAME", "lo"))
    ctx = multiprocessing.get_context("fork")            # no second torch import: fast
    init = (tmp_path / "rendezvous").as_uri()
    procs = [ctx.Process(target=_dist_rank, args=(r, init, str(tmp_path / f"rank{r}.pt"))) for r in range(2)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + 60
    for p in procs:
        p.join(max(deadline - time.monotonic(), 0.1))
    hung = [p for p in procs if p.is_alive()]
    for p in hung:
        p.kill()
        p.join(5)
    assert not hung, "a rank hung"
    assert [p.exitcode for p in procs] == [0, 0]
    assert not dist.is_initialized()
    whole = mean_patches(_dist_model(), [_dist_data()])
    assert list(whole) == ["0", "2"]
    for r in range(2):
        result = torch.load(tmp_path / f"rank{r}.pt", weights_only=True)
        for run in ("halves", "lopsided"):
            assert list(result[run]) == list(whole), (r, run)
            for name in whole:
                np.testing.assert_allclose(result[run][name].numpy(), whole[name], rtol=1e-9, atol=0)
    # one rank's half alone is not the answer: the all-reduce did the work
    assert not np.allclose(mean_patches(_dist_model(), [_dist_data()[:3]])["0"], whole["0"], rtol=1e-6)


# -- checkpoints --------------------------------------------------------------------------

def _net(seed=0, width=8):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, width, 3), nn.BatchNorm2d(width), nn.Conv2d(width, 4, 3))


NET_KEYS = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
            "1.num_batches_tracked", "2.weight", "2.bias"]


def _trained():
    """A state dict that differs from a fresh _net() in every tensor."""
    state = _net(seed=1).state_dict()
    state["1.running_mean"] += 0.25
    state["1.running_var"] += 2.0
    state["1.num_batches_tracked"] += 7
    return state


def _same(model, state):
    own = model.state_dict()
    return all(torch.equal(own[k], v) for k, v in state.items())


def _one_line(err):
    return "\n" not in str(err.value)


@pytest.mark.parametrize("wrap, key", [(lambda s: s, None), (lambda s: {"state_dict": s, "epoch": 3}, "state_dict"),
                                       (lambda s: {"model": s}, "model")])
def test_load_weights_from_a_state_dict_or_a_checkpoint_dict(tmp_path, wrap, key):
    state = _trained()
    path = tmp_path / "ckpt.pt"
    torch.save(wrap(state), path)
    assert read_checkpoint(str(path))[1] == key
    model = _net()
    assert not _same(model, state)
    loaded = load_weights(model, str(path), "Net")
    assert isinstance(loaded, Loaded)
    assert (loaded.loaded, loaded.key, loaded.missing, loaded.unexpected) == (9, key, [], [])
    assert loaded.label == ("ckpt.pt" if key is None else f"ckpt.pt[{key}]")
    assert _same(model, state)


def test_load_weights_strip_the_dataparallel_prefix(tmp_path):
    state = _trained()
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "dp.pth")
    model = _net()
    loaded = load_weights(model, str(tmp_path / "dp.pth"), "Net")
    assert (loaded.loaded, loaded.missing, loaded.unexpected) == (9, [], [])
    assert _same(model, state)


def test_load_weights_from_safetensors(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    state = _trained()
    safetensors_torch.save_file(state, str(tmp_path / "w.safetensors"))
    model = _net()
    loaded = load_weights(model, str(tmp_path / "w.safetensors"), "Net")
    assert (loaded.loaded, loaded.key, loaded.label) == (9, None, "w.safetensors")
    assert _same(model, state)


def test_load_weights_name_missing_and_unexpected_keys(tmp_path):
    state = _trained()
    del state["2.bias"]
    state["head.weight"] = torch.zeros(2)
    path = str(tmp_path / "w.pt")
    torch.save(state, path)
    model = _net()
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(PadlintError) as err:
        load_weights(model, path, "Net")
    assert str(err.value) == (f"--weights {path}: does not match Net: 1 missing (2.bias); 1 unexpected "
                              "(head.weight); pass --no-strict to load the tensors that match")
    assert _same(model, fresh)                                  # nothing was loaded
    loaded = load_weights(model, path, "Net", strict=False)
    assert (loaded.loaded, loaded.missing, loaded.unexpected) == (8, ["2.bias"], ["head.weight"])
    assert _same(model, {k: v for k, v in state.items() if k != "head.weight"})
    assert torch.equal(model.state_dict()["2.bias"], fresh["2.bias"])


def test_load_weights_count_and_shorten_many_missing_keys(tmp_path):
    path = str(tmp_path / "w.pt")
    torch.save({"0.weight": _trained()["0.weight"]}, path)
    with pytest.raises(PadlintError) as err:
        load_weights(_net(), path, "Net")
    assert ("8 missing (0.bias, 1.weight, 1.bias, 1.running_mean, 1.running_var and 3 more)"
            in str(err.value)) and "unexpected" not in str(err.value) and _one_line(err)
    loaded = load_weights(_net(), path, "Net", strict=False)
    assert loaded.loaded == 1 and loaded.missing == NET_KEYS[1:] and loaded.unexpected == []


def test_load_weights_fail_on_a_shape_mismatch_even_when_not_strict(tmp_path):
    state = _trained()
    state["2.weight"] = torch.zeros(4, 8, 5, 5)
    path = str(tmp_path / "w.pt")
    torch.save(state, path)
    for strict in (True, False):
        model = _net()
        fresh = {k: v.clone() for k, v in model.state_dict().items()}
        with pytest.raises(PadlintError) as err:
            load_weights(model, path, "Net", strict=strict)
        assert str(err.value) == (f"--weights {path}: shapes differ from Net's in 1 tensor(s) (checkpoint vs "
                                  "model): 2.weight (4, 8, 5, 5) vs (4, 8, 3, 3); is it the same architecture?")
        assert _same(model, fresh)


def test_load_weights_with_no_tensor_of_the_model_fail_even_when_not_strict(tmp_path):
    path = str(tmp_path / "w.pt")
    torch.save({"fc.weight": torch.zeros(2, 2), "fc.bias": torch.zeros(2)}, path)
    with pytest.raises(PadlintError) as err:
        load_weights(_net(), path, "Net", strict=False)
    assert "none of its 2 tensors is a tensor of Net (it has fc.weight, fc.bias)" in str(err.value)


def test_unreadable_checkpoints_fail_in_one_line(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint\nsecond line\n")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    torch.save({"epoch": 3, "lr": 0.1}, tmp_path / "meta.pt")
    (tmp_path / "junk.safetensors").write_bytes(b"junk\n")
    cases = [(tmp_path / "absent.pt", "no such file"),
             (text, ""),                                   # see test_a_text_file_is_not_called_pickled_code
             (tmp_path / "list.pt", "holds a list, not a state_dict; save model.state_dict()"),
             (tmp_path / "meta.pt", "a dict with no state_dict in it (keys: 'epoch', 'lr')"),
             (tmp_path / "junk.safetensors", "cannot read it as safetensors (")]
    for path, part in cases:
        with pytest.raises(PadlintError) as err:
            load_weights(_net(), str(path), "Net")
        assert str(err.value).startswith(f"--weights {path}: "), str(err.value)
        assert part in str(err.value) and _one_line(err), str(err.value)


def test_a_text_file_is_not_called_pickled_code(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint\n")
    with pytest.raises(PadlintError) as err:
        read_checkpoint(str(path))
    assert str(err.value).startswith(f"--weights {path}: cannot read it (") and "refused" not in str(err.value)


class _Creates:
    """Unpickling this calls open(path, 'w'): a file appears."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class _Touches:
    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


@pytest.mark.parametrize("payload", [
    lambda marker: _Creates(marker),
    lambda marker: {"0.weight": torch.zeros(8, 3, 3, 3), "hook": _Creates(marker)},
    lambda marker: {"state_dict": _trained(), "extra": _Touches(marker)}])
def test_a_pickle_that_runs_code_is_refused_and_never_run(tmp_path, payload):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save(payload(marker), path)
    assert not marker.exists()
    for call in (lambda: read_checkpoint(str(path)), lambda: load_weights(_net(), str(path), "Net"),
                 lambda: analyze(_net(), weights=str(path))):
        with pytest.raises(PadlintError) as err:
            call()
        assert str(err.value).startswith(f"--weights {path}: refused: loading it would run pickled Python code (")
        assert _one_line(err)
        assert not marker.exists()
    torch.load(path, weights_only=False)                     # the payload is live: it creates the file
    assert marker.exists()


# -- analyze: PAD301 / PAD302 -------------------------------------------------------------

@pytest.fixture(scope="module")
def lopsided_resnet18(tmp_path_factory):
    """resnet18's initial weights with +0.05 on the top row of every layer2.0.conv1 kernel,
    analysed at 224 on 8 uniform random images."""
    state = {k: v.clone() for k, v in _resnet18().state_dict().items()}
    with torch.no_grad():
        state["layer2.0.conv1.weight"][:, :, 0, :] += 0.05
    path = tmp_path_factory.mktemp("ckpt") / "r18.pt"
    torch.save(state, path)
    data = _rand(8, 3, 224, 224, seed=3)
    torch.manual_seed(123)                                   # the weights must come from the file
    report = analyze(torchvision.models.resnet18(), weights=str(path), data=data)
    return report, state, data


def test_pad301_fires_on_the_lopsided_layer_only_naming_the_heavier_side(lopsided_resnet18):
    report, _, _ = lopsided_resnet18
    found = _rules(report, "PAD301")
    assert _pairs(found) == [("layer2.0.conv1", "H")]
    message = found[0].message
    assert message.startswith("mean kernel is asymmetric on H: its top side is heavier (asymmetry ")
    assert "what channel noise over 8192 kernels would give" in message
    assert "the layer's padding is uneven on H at this input size (PAD101)" in message
    assert "hint" not in message
    s = report.results[0].stats.layer("layer2.0.conv1")
    assert s.heavier["H"] == "top" and s.asymmetry["H"] > 1.5 and s.significance["H"] > 10
    assert s.channels == 128 * 64


def test_pad301_is_quiet_on_freshly_initialised_weights():
    report = analyze(_resnet18())
    assert report.findings == []
    stats = report.results[0].stats
    assert stats.weights is None and stats.samples == 0 and stats.skipped_1x1 == 3
    assert [s.name for s in stats.layers] == RESNET18_PATCHED
    assert all(s.mean_patch is None for s in stats.layers)


def test_pad302_fires_at_the_stride2_layers_whose_padding_is_used_unevenly(lopsided_resnet18):
    report, _, _ = lopsided_resnet18
    found = _rules(report, "PAD302")
    geometric = [f for f in found if "the padding is used unevenly" in f.message]
    assert _pairs(geometric) == sorted((n, a) for n in RESNET18_STRIDE2_3X3 for a in "HW")
    assert all(f.layer in RESNET18_STRIDE2_3X3 for f in geometric)
    layer2 = next(f for f in geometric if f.layer == "layer2.0.conv1" and f.axis == "H")
    # 56 rows: tap 0 reads padding at 1 of 28 rows; (27/28) * (27/28 + 1 + 1)/3 = 0.953
    assert ("the windows read real input at 0.953 of positions in the top row of the patch but 0.988 "
            "in the bottom row: the padding is used unevenly") in layer2.message
    assert found == geometric                    # even windows: data-driven lopsidedness is no finding


def test_stats_json_of_conv_layers(lopsided_resnet18):
    report, state, data = lopsided_resnet18
    result = report.results[0].to_json()
    assert result["stats"] == {"weights": "r18.pt", "data": "data", "samples": 8, "skipped_1x1": 3,
                               "missing_keys": [], "unexpected_keys": []}
    layers = {entry["name"]: entry for entry in result["layers"]}
    for name in RESNET18_PATCHED:
        entry = layers[name]
        k = 7 if name == "conv1" else 3
        for key in ("mean_kernel", "mean_abs_kernel", "mean_patch"):
            assert np.array(entry[key]).shape == (k, k), (name, key)
            assert all(isinstance(v, float) for row in entry[key] for v in row)
        assert set(entry["asymmetry"]) == {"H", "W"}
    for name in RESNET18_1X1 + ["maxpool"]:
        assert "mean_kernel" not in layers[name] and "mean_patch" not in layers[name]
    weight = state["layer2.0.conv1.weight"].double()
    np.testing.assert_allclose(layers["layer2.0.conv1"]["mean_kernel"], weight.mean(dim=(0, 1)).numpy(), rtol=1e-9)
    np.testing.assert_allclose(layers["layer2.0.conv1"]["mean_abs_kernel"],
                               weight.abs().mean(dim=(0, 1)).numpy(), rtol=1e-9)
    # the stem reads the data itself: its patch is the unfold reference (the JSON is not rounded)
    np.testing.assert_allclose(layers["conv1"]["mean_patch"], _unfold_patch(data, 7, stride=2, padding=3),
                               rtol=1e-9)
    asym = layers["layer2.0.conv1"]["asymmetry"]
    assert asym["H"] > 1.5 > 0.5 > asym["W"]
    assert asym["H"] == report.results[0].stats.layer("layer2.0.conv1").asymmetry["H"]   # full precision


@pytest.fixture(scope="module")
def symmetric_resnet18_225():
    """resnet18 in float64 with every kernel made flip-symmetric, on constant ones at 225:
    every stride-2 layer uses its padding evenly, so every feature map is symmetric."""
    model = _resnet18().double()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                w = m.weight
                w.copy_((w + w.flip(2) + w.flip(3) + w.flip(2, 3)) / 4)
    return analyze(model, data=torch.ones(2, 3, 225, 225, dtype=torch.float64))


def test_at_225_the_stride2_patches_of_a_constant_input_are_symmetric(symmetric_resnet18_225):
    report = symmetric_resnet18_225
    stats = report.results[0].stats
    assert stats.samples == 2 and report.results[0].input_shape == (1, 3, 225, 225)
    for name in RESNET18_STRIDE2_3X3:
        p = stats.layer(name).mean_patch
        scale = np.abs(p).max()
        assert scale > 0
        assert np.abs(p - np.flip(p, 0)).max() <= 1e-9 * scale, name
        assert np.abs(p - np.flip(p, 1)).max() <= 1e-9 * scale, name
    # the stem on ones: taps read [111, 112, 112, 113, 112, 112, 111] of 113 rows
    rows = np.array([111, 112, 112, 113, 112, 112, 111]) / 113
    np.testing.assert_allclose(stats.layer("conv1").mean_patch, np.outer(rows, rows), rtol=1e-15, atol=0)
    assert _rules(report, "PAD302") == [] and _rules(report, "PAD301") == []


@pytest.mark.parametrize("where, axis, side", [((slice(None), slice(None), 0, slice(None)), "H", "top"),
                                               ((slice(None), slice(None), -1, slice(None)), "H", "bottom"),
                                               ((slice(None), slice(None), slice(None), 0), "W", "left"),
                                               ((slice(None), slice(None), slice(None), -1), "W", "right")])
def test_pad301_names_the_heavier_side(where, axis, side):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(8, 8, 3, stride=2, padding=1))
    with torch.no_grad():
        model[0].weight.normal_(0, 0.01)
        model[0].weight[where] += 0.2
    found = _rules(analyze(model, 16), "PAD301")
    assert _pairs(found) == [("0", axis)]
    assert found[0].message.startswith(f"mean kernel is asymmetric on {axis}: its {side} side is heavier")
    assert "hint" not in found[0].message


def test_pad301_on_a_kernel_larger_than_3_says_it_is_a_hint():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(8, 8, 5, stride=2, padding=2))
    with torch.no_grad():
        model[0].weight.normal_(0, 0.01)
        model[0].weight[:, :, 0, :] += 0.2
    found = _rules(analyze(model, 16), "PAD301")
    assert _pairs(found) == [("0", "H")]
    assert found[0].message.endswith("; the measure is weak for a 5x5 kernel (larger than 3), so take this "
                                     "as a hint, not a certainty")


def test_pad302_is_quiet_on_symmetric_kernels_at_an_even_size_with_stride_one():
    torch.manual_seed(0)
    report = analyze(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1)), data=torch.ones(2, 3, 16, 16))
    assert report.findings == []
    np.testing.assert_array_equal(report.results[0].stats.layer("0").mean_patch,
                                  np.outer([15 / 16, 1, 15 / 16], [15 / 16, 1, 15 / 16]))


def test_pad302_blames_the_padding_of_a_tf_same_conv():
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = nn.Sequential(timm.layers.Conv2dSame(3, 4, 3, stride=2))
    report = analyze(model, data=torch.ones(1, 3, 16, 16))
    found = _rules(report, "PAD302")
    assert _pairs(found) == [("0", "H"), ("0", "W")]
    assert all("the padding is used unevenly" in f.message for f in found)


def test_analyze_with_data_of_another_size_than_input_size_fails_in_one_line():
    with pytest.raises(PadlintError) as err:
        analyze(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 16, 16), data=_rand(2, 3, 17, 17))
    assert str(err.value) == ("data: its inputs are 17x17, but --input-size is 16x16; drop --input-size "
                              "(the data's size is analysed) or resize the data")


def test_tilt_keeps_the_direction_that_flip_asymmetry_drops():
    """tilt = (first half - last half) / ||K - mean K||: its sign says which end is heavier,
    and a kernel and its flip have the same asymmetry but opposite tilts."""
    from padlint.geometry.measures import flip_asymmetry
    from padlint.stats.facts import heavier_side, tilt
    k = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    spread = np.linalg.norm(k - k.mean())
    assert tilt(k, 0) == pytest.approx(4.0 / spread)
    assert tilt(np.flip(k, 0), 0) == pytest.approx(-4.0 / spread)
    assert tilt(k, 1) == 0.0 and heavier_side(k, 1, "W") is None
    assert flip_asymmetry(k, 0, 2) == pytest.approx(flip_asymmetry(np.flip(k, 0).copy(), 0, 2))
    assert heavier_side(k, 0, "H") == "top" and heavier_side(np.flip(k, 0), 0, "H") == "bottom"
