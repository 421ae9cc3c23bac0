"""Helpers that several axis rules share."""
from __future__ import annotations

from padlint.geometry.axis import AxisFacts, even_input_lengths


def n_fix(f: AxisFacts) -> str:
    """The input lengths nearest this layer's ('193 or 225') at which it is even."""
    below, above = even_input_lengths(f.n, f.kernel, f.stride, f.dilation, f.pad_begin,
                                      f.pad_end, f.ceil_mode, f.explicit_end)
    return " or ".join(str(v) for v in (below, above) if v is not None) or "another size"


def is_shortcut(f: AxisFacts) -> bool:
    """A 1x1 window at a stride above 1 (a ResNet downsample shortcut)."""
    return f.k_e == 1 and f.stride > 1
