"""The recorder's own answers for output shapes (padlint.trace.record) against torch's
meta kernels: the same shape and dtype on every call answered, and no answer (torch's
kernel, with its error) for calls torch rejects."""
import pytest
import torch
import torch.nn.functional as F

from padlint.geometry import axis as geometry
from padlint.trace import record
from padlint.trace.ops import bind, window_args


def meta(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


CALLS = [
    ("cat", torch.cat, ([meta(1, 3, 5, 5), meta(1, 4, 5, 5)], 1), {}),
    ("cat", torch.cat, ([meta(2, 3, 5), meta(2, 3, 7)],), {"dim": -1}),
    ("mean", torch.mean, (meta(2, 3, 5, 7), (2, 3)), {}),
    ("mean", torch.mean, (meta(2, 3, 5, 7), [-1, -2]), {"keepdim": True}),
    ("sum", torch.sum, (meta(2, 3, 5, 7), 1), {}),
    ("amax", torch.amax, (meta(2, 3, 5, 7), (1, 3), True), {}),
    ("adaptive_avg_pool2d", F.adaptive_avg_pool2d, (meta(2, 3, 9, 7), 1), {}),
    ("adaptive_avg_pool2d", F.adaptive_avg_pool2d, (meta(2, 3, 9, 7), (4, None)), {}),
    ("adaptive_avg_pool1d", F.adaptive_avg_pool1d, (meta(2, 3, 9), 4), {}),
    ("linear", F.linear, (meta(2, 7, 12), meta(5, 12), meta(5)), {}),
    ("linear", F.linear, (meta(2, 12), meta(5, 12)), {}),
]


@pytest.mark.parametrize("name, func, args, kwargs", CALLS)
def test_an_answered_call_has_the_shape_and_dtype_torch_gives(name, func, args, kwargs):
    fast = record._fast_shape(func, args, kwargs)
    real = func(*args, **kwargs)
    assert fast is not None and fast.device.type == "meta"
    assert (tuple(fast.shape), fast.dtype) == (tuple(real.shape), real.dtype)


REJECTED = [
    (torch.cat, ([meta(1, 3, 5, 5), meta(1, 4, 6, 5)], 1), {}),           # sizes differ off dim
    (torch.cat, ([meta(1, 3), meta(1, 3, dtype=torch.float16)], 1), {}),   # dtypes differ
    (torch.mean, (meta(2, 3), (1, 1)), {}),                               # a dim twice
    (torch.sum, (meta(2, 3, dtype=torch.int64), 1), {}),                  # sum of ints is int64
    (torch.mean, (meta(2, 3),), {}),                                      # no dim: torch's
    (F.linear, (meta(2, 11), meta(5, 12)), {}),                           # features differ
    (F.adaptive_avg_pool2d, (meta(2, 3, 0, 7), 1), {}),                   # empty input
]


@pytest.mark.parametrize("func, args, kwargs", REJECTED)
def test_a_call_not_answered_goes_to_torch(func, args, kwargs):
    assert record._fast_shape(func, args, kwargs) is None


def _window(func, family, nd, *args, **kwargs):
    bound = bind(family, args, kwargs)
    wa = window_args(family, nd, bound)
    x = bound["input"]
    axes = [geometry.axis_facts("HW"[i], int(x.shape[2 + i]), wa.kernel[i], wa.stride[i], wa.dilation[i],
                                wa.padding[i], wa.padding[i], wa.ceil_mode) for i in range(nd)]
    return record._window_out(wa, bound, axes)


@pytest.mark.parametrize("func, family, args, kwargs", [
    (F.conv2d, "conv", (meta(2, 6, 17, 16), meta(8, 3, 3, 5)), {"stride": 2, "padding": (1, 2), "groups": 2}),
    (F.conv2d, "conv", (meta(1, 3, 9, 9), meta(4, 3, 3, 3), meta(4)), {"dilation": 2}),
    (F.max_pool2d, "max_pool", (meta(1, 3, 10, 11), 3, 2, 1), {"ceil_mode": True}),
    (F.avg_pool2d, "avg_pool", (meta(1, 3, 10, 11), 2), {}),
])
def test_a_plain_window_has_the_shape_torch_gives(func, family, args, kwargs):
    fast = _window(func, family, 2, *args, **kwargs)
    real = func(*args, **kwargs)
    assert fast is not None and (tuple(fast.shape), fast.dtype) == (tuple(real.shape), real.dtype)


@pytest.mark.parametrize("func, family, args, kwargs", [
    (F.conv2d, "conv", (meta(1, 4, 9, 9), meta(4, 3, 3, 3)), {}),          # channels differ
    (F.conv2d, "conv", (meta(1, 3, 9, 9), meta(4, 3, 3, 3), meta(5)), {}), # bias too long
    (F.max_pool2d, "max_pool", (meta(1, 3, 10, 10), 3, 2, 2), {}),        # padding over half the kernel
    (F.max_pool2d, "max_pool", (meta(1, 3, 10, 10), 3, 2, 1), {"return_indices": True}),
])
def test_a_window_torch_would_question_goes_to_torch(func, family, args, kwargs):
    assert _window(func, family, 2, *args, **kwargs) is None
