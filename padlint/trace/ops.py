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
    padding: tuple[int, ...] | str    # ints, or the string 'same' / 'valid'
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


# -- op names by what they do to shapes (the length program, the alignment tracker,
# the recorder's fast path and the verify stage's observer all read these) ----------

# Ops whose output has their first input's shape.
SAME_SHAPE = frozenset(
    "relu relu_ relu6 leaky_relu leaky_relu_ elu elu_ selu celu gelu silu mish hardswish "
    "hardsigmoid hardtanh hardtanh_ sigmoid sigmoid_ tanh tanh_ softplus dropout dropout1d "
    "dropout2d dropout3d alpha_dropout feature_alpha_dropout batch_norm instance_norm "
    "layer_norm group_norm clone contiguous".split())
# Elementwise arithmetic that broadcasts its inputs.
BROADCAST = frozenset(
    "add sub mul div add_ sub_ mul_ div_ __add__ __radd__ __iadd__ __sub__ __rsub__ __isub__ "
    "__mul__ __rmul__ __imul__ __truediv__ __rtruediv__ __itruediv__".split())

UNARY = SAME_SHAPE | frozenset(
    "softmax log_softmax softmin exp neg abs sqrt rsqrt pow clamp clamp_ clamp_min clamp_max clip "
    "sign square erf log log1p floor ceil round reciprocal to float half double bfloat16 type "
    "type_as detach contiguous clone masked_fill normalize local_response_norm __neg__ __abs__ "
    "sin cos logical_not __invert__ nan_to_num hardshrink softshrink softsign tanhshrink threshold "
    "threshold_ prelu rrelu silu_ gelu_ sigmoid_ exp_ mul_ channel_shuffle native_channel_shuffle "
    "relu_ hardswish_ hardsigmoid_ elu_ leaky_relu_ logsigmoid requires_grad_ float_power "
    "__pow__ __rpow__ rms_norm fill_ zero_ zeros_like ones_like empty_like full_like rand_like "
    "randn_like".split())
MERGE = BROADCAST | frozenset(
    "where maximum minimum eq ne lt le gt ge __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __and__ "
    "__or__ __xor__ logical_and logical_or addcmul addcdiv lerp mul true_divide floor_divide "
    "remainder fmod atan2 hypot rsub __floordiv__ __mod__ __matmul_elementwise__".split())
REDUCE = frozenset("mean sum amax amin nansum nanmean logsumexp max min std var".split())
ADAPTIVE = frozenset(f"adaptive_{kind}_pool{nd}d{suffix}" for kind in ("avg", "max")
                      for nd in (1, 2, 3) for suffix in ("", "_with_indices"))
INTERPOLATE = frozenset("interpolate upsample upsample_nearest upsample_bilinear".split())
SHAPE_READS = frozenset(("size", "numel"))

CAT = frozenset(("cat", "concat", "concatenate"))


# Ops that change the spatial sizes in place: their output is spatial when its rank is
# the input's, whatever its sizes.
RESIZING = frozenset(
    "interpolate upsample upsample_nearest upsample_bilinear adaptive_avg_pool1d "
    "adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d "
    "adaptive_max_pool3d pixel_shuffle pixel_unshuffle grid_sample __getitem__ narrow "
    "roll fold".split())

# Ops that only rearrange or split a tensor: they may change its rank.
LAYOUT = frozenset(
    "view reshape flatten unflatten permute transpose movedim moveaxis swapaxes swapdims squeeze "
    "unsqueeze expand expand_as contiguous chunk split unbind view_as reshape_as __getitem__".split())

# Elementwise and per-channel ops: mirror-equivariant, so they keep their inputs' symmetry
# (unless they combine the map with a tensor that varies in space). Normalisations over
# the whole map (instance, layer, group) are not: their statistics mix every position.
EQUIVARIANT = (SAME_SHAPE - {"instance_norm", "layer_norm", "group_norm"}) | BROADCAST | frozenset(
    "neg abs clamp clamp_ exp sqrt rsqrt pow square".split())


def op_name(func) -> str:
    """A torch call's name as the op sets spell it (``.shape`` for a property read)."""
    name = getattr(func, "__name__", "")
    if name == "__get__":                   # a property such as Tensor.shape
        return "." + getattr(getattr(func, "__self__", None), "__name__", "")
    return name


def tensors_in(obj) -> list[torch.Tensor]:
    """The tensors in a call's arguments or output: nested in tuples, lists and dicts."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in tensors_in(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in tensors_in(item)]
    return []


def positive_dim(dim, ndim: int) -> int:
    """A dimension index counted from the front (``-1`` of 4 dimensions is 3)."""
    return dim + ndim if dim < 0 else dim
