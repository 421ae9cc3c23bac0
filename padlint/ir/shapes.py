"""``--input-size`` parsing, and the full input shape a model gets."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from padlint.errors import PadlintError

if TYPE_CHECKING:
    from torch import nn

_SIZE = re.compile(r"^\d+(x\d+)*$")
HELP = "use 224, 224x320, 3x224x224, 16x112x112 or a comma list such as 224,225"


def parse_input_sizes(text: str) -> list[tuple[int, ...]]:
    """``'224,3x225x225'`` -> ``[(224,), (3, 225, 225)]``."""
    sizes: list[tuple[int, ...]] = []
    for part in str(text).replace(" ", "").lower().split(","):
        if not _SIZE.match(part):
            raise PadlintError(f"invalid --input-size {text!r}: {HELP}")
        size = tuple(int(v) for v in part.split("x"))
        if any(v <= 0 for v in size) or len(size) > 5:
            raise PadlintError(f"invalid --input-size {text!r}: sizes must be positive; {HELP}")
        sizes.append(size)
    return sizes


def normalize_sizes(input_size: object) -> list[tuple[int, ...]]:
    """Accept what the Python API and ``PADLINT_TARGETS`` accept: an int, a string,
    a shape tuple, or a list of those (anything else is a :class:`PadlintError`)."""
    if isinstance(input_size, str):
        return parse_input_sizes(input_size)
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        input_size = (input_size,)
    if isinstance(input_size, (tuple, list)) and input_size and all(
            isinstance(v, int) and not isinstance(v, bool) for v in input_size):
        if any(v <= 0 for v in input_size) or len(input_size) > 5:
            raise PadlintError(f"invalid input size {input_size!r}: sizes must be positive; {HELP}")
        return [tuple(input_size)]
    if isinstance(input_size, (tuple, list)):
        return [s for item in input_size for s in normalize_sizes(item)]
    raise PadlintError(f"invalid input size {input_size!r}: {HELP}")


def model_layout(model: nn.Module) -> tuple[int, int | None]:
    """(spatial dims, input channels) from the first conv module, else the first pool
    module, else the first parameter shaped like a conv weight."""
    # Imported here: the rest of this module is torch-free.
    from torch import nn

    from padlint.trace.ops import WINDOWED_MODULES
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


def gives_channels(size: tuple[int, ...], nd: int) -> bool:
    """Whether an input size as given (``3x224x224``, ``1x3x224x224``) states the channels."""
    return len(size) > nd


def shape_str(shape: Iterable[object]) -> str:
    """``(1, 3, 224, 224)`` -> ``'1x3x224x224'``."""
    return "x".join(str(v) for v in shape)


RANGE_HELP = "use A:B or A:B:S with whole numbers, e.g. 32:1024 or 32:1024:8"
MAX_RANGE = 100_000


def parse_range(text: str) -> range:
    """``'32:1024'`` -> ``range(32, 1025)``; ``'32:1024:8'`` steps by 8. B is included."""
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) not in (2, 3) or not all(re.fullmatch(r"[+-]?\d+", p) for p in parts):
        raise PadlintError(f"invalid --range {text!r}: {RANGE_HELP}")
    a, b, step = (int(p) for p in parts + ["1"] * (3 - len(parts)))
    if a < 1 or b < 1:
        raise PadlintError(f"invalid --range {text!r}: sizes must be positive; {RANGE_HELP}")
    if step < 1:
        raise PadlintError(f"invalid --range {text!r}: the step must be at least 1; {RANGE_HELP}")
    if a > b:
        raise PadlintError(f"invalid --range {text!r}: the start ({a}) is larger than the end ({b}); "
                           f"use A:B with A <= B, e.g. {b}:{a}")
    sizes = range(a, b + 1, step)
    if len(sizes) > MAX_RANGE:
        raise PadlintError(f"invalid --range {text!r}: {len(sizes)} sizes is more than one sweep "
                           f"takes ({MAX_RANGE}); narrow it or add a step, e.g. {a}:{b}:"
                           f"{-(-len(sizes) // MAX_RANGE) * step}")
    return sizes
