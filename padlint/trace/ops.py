"""Which torch calls are windowed ops or explicit pads, and their arguments.

Both front ends see the same functional calls (``F.conv2d``, ``F.max_pool2d``,
``F.pad`` …), whether a module made them or the user's forward did, so this table
is the single place that knows their signatures.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Positional parameter names after ``input`` for each family.
_SIGNATURES = {
    "conv": ("weight", "bias", "stride", "padding", "dilation", "groups"),
    "conv_transpose": ("weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"),
    "max_pool": ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    "avg_pool": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "lp_pool": ("norm_type", "kernel_size", "stride", "ceil_mode"),
    "pad": ("pad", "mode", "value"),
}


def _function_table() -> dict:
    table = {}
    names = {}
    for nd in (1, 2, 3):
        names[f"conv{nd}d"] = ("conv", nd)
        names[f"conv_transpose{nd}d"] = ("conv_transpose", nd)
        names[f"max_pool{nd}d"] = ("max_pool", nd)
        names[f"max_pool{nd}d_with_indices"] = ("max_pool", nd)
        names[f"avg_pool{nd}d"] = ("avg_pool", nd)
        names[f"lp_pool{nd}d"] = ("lp_pool", nd)
    names["pad"] = ("pad", 0)
    for name, value in names.items():
        for namespace in (F, torch, torch._C._nn, torch._C._VariableFunctions):
            obj = getattr(namespace, name, None)
            if obj is not None:
                table[obj] = (name, *value)
    return table


FUNCTIONS = _function_table()   # callable -> (name, family, ndim)

WINDOWED_MODULES = (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd,
                    nn.modules.pooling._AvgPoolNd, nn.modules.pooling._LPPoolNd)
PAD_MODULES = (nn.modules.padding._ConstantPadNd, nn.modules.padding._ReflectionPadNd,
               nn.modules.padding._ReplicationPadNd, nn.modules.padding._CircularPadNd,
               nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d)


def _ntuple(value, nd: int) -> tuple:
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return tuple(value) * nd
        return tuple(value)
    return (value,) * nd


@dataclass(frozen=True)
class WindowArgs:
    """The geometry arguments of one windowed call, one entry per spatial axis."""

    family: str                       # conv | conv_transpose | max_pool | avg_pool | lp_pool
    nd: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple                    # ints, or the string 'same' / 'valid'
    ceil_mode: bool = False
    output_padding: tuple[int, ...] = ()

    @property
    def transposed(self) -> bool:
        return self.family == "conv_transpose"


def bind(family: str, args: tuple, kwargs: dict) -> dict:
    """Name the arguments of a functional call (the first one is the input)."""
    bound = dict(zip(("input",) + _SIGNATURES[family], args))
    bound.update(kwargs)
    return bound


def window_args(family: str, nd: int, bound: dict) -> WindowArgs:
    if family in ("conv", "conv_transpose"):
        kernel = tuple(bound["weight"].shape[2:])
        padding = bound.get("padding", 0)
        padding = padding if isinstance(padding, str) else _ntuple(padding, nd)
        return WindowArgs(
            family, nd, kernel, _ntuple(bound.get("stride", 1), nd),
            _ntuple(bound.get("dilation", 1), nd), padding,
            output_padding=_ntuple(bound.get("output_padding", 0), nd)
            if family == "conv_transpose" else ())
    kernel = _ntuple(bound["kernel_size"], nd)
    stride = bound.get("stride")
    stride = kernel if stride is None or stride == [] or stride == () else _ntuple(stride, nd)
    return WindowArgs(
        family, nd, kernel, stride, _ntuple(bound.get("dilation", 1), nd),
        _ntuple(bound.get("padding", 0), nd), bool(bound.get("ceil_mode", False)))

