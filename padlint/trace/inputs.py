"""The full input shape a model gets: its spatial dimensions and channels, read off its first
convolution (or pool), and what a size as given (224, 224x320, 3x224x224) becomes."""
from __future__ import annotations

import re

from torch import nn

from padlint.errors import PadlintError
from padlint.trace.ops import WINDOWED_MODULES


def model_layout(model: nn.Module) -> tuple[int, int | None]:
    """(spatial dims, input channels) from the first conv module, else the first pool
    module, else the first parameter shaped like a conv weight."""
    for m in model.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            return len(m.kernel_size), m.in_channels
    for m in model.modules():
        if isinstance(m, WINDOWED_MODULES):
            digit = re.search(r"([123])d$", type(m).__name__)
            if digit:
                return int(digit.group(1)), None      # pools take any channels
    for p in model.parameters():        # a functional conv's weight: (out, in, *kernel)
        if 3 <= p.dim() <= 5:
            return p.dim() - 2, p.shape[1]
    raise PadlintError("cannot tell the input shape: the model has no Conv or Pool module; "
                       "give a full shape such as 1x3x224x224 (in PADLINT_TARGETS or --input-size)")


def declared_channels(model: nn.Module) -> int | None:
    """Input channels a model declares (timm's ``pretrained_cfg['input_size']``), tried when
    the first conv's channels do not run: it may come after a reshaping stem (TResNet's
    space-to-depth takes 3 channels to 48)."""
    for attr in ("pretrained_cfg", "default_cfg"):
        cfg = getattr(model, attr, None)
        size = cfg.get("input_size") if isinstance(cfg, dict) else None
        if isinstance(size, (tuple, list)) and size and isinstance(size[0], int):
            return size[0]
    return None


def full_shape(size: tuple[int, ...], model: nn.Module, label: str) -> tuple[int, ...] | None:
    """``(1, C, *spatial)`` for ``size``: one number is used on every spatial axis,
    ``nd`` numbers are the spatial sizes, ``nd+1`` add the channels, ``nd+2`` the batch.
    Channels the user gives win over the first convolution's: that is only a guess (a
    hand-written stem may expand 1 channel to 10 before it)."""
    try:
        nd, channels = model_layout(model)
    except PadlintError:
        # No conv or pool module and no conv-shaped weight: a full shape is used as given
        # (a functional model may still have windowed calls); else there is nothing to run.
        return tuple(size) if len(size) >= 2 else None
    if len(size) == 1:
        return (1, channels or 3) + size * nd
    if len(size) == nd:
        return (1, channels or 3) + size
    if len(size) == nd + 1:
        return (1,) + size
    if len(size) == nd + 2:
        return size
    want = {1: "L or CxL", 2: "HxW or CxHxW", 3: "DxHxW or CxDxHxW"}[nd]
    raise PadlintError(f"{label}: input size {'x'.join(map(str, size))} does not fit a "
                       f"{nd}-D model: give one number or {want}")
