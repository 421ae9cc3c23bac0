"""``--input-size`` parsing: sizes as given (224, 224x320, 3x224x224, ranges), checked."""
from __future__ import annotations

import re
from collections.abc import Iterable

from padlint.errors import PadlintError

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
