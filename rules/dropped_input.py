"""Trailing input cells that no window reads."""
from __future__ import annotations

from padlint.geometry.axis import AxisFacts
from padlint.ir.trace import Layer

from ._axis import is_shortcut, n_fix


def vector(f):
    return f.ignored_input_end > 0


def check(layer: Layer, f: AxisFacts) -> dict | None:
    if f.ignored_input_end <= 0:
        return None
    return {"last_input": f.last_read - f.pad_begin, "n_fix": n_fix(f),
            "pad_needed": f.stride - f.leftover % f.stride if f.leftover % f.stride else f.stride,
            "fix_variant": "shortcut" if is_shortcut(f) else "default"}
