"""A transposed conv whose taps hit the output phases unequally."""
from __future__ import annotations

from padlint.geometry.axis import AxisFacts
from padlint.ir.trace import Layer


def vector(f):
    return f.transposed & f.taps_unequal


def check(layer: Layer, f: AxisFacts) -> dict | None:
    if not f.transposed or len(set(f.taps)) <= 1:
        return None
    k_fix = -(-f.kernel // f.stride) * f.stride
    return {"taps": "/".join(map(str, f.taps)), "k_fix": k_fix, "p_fix": (k_fix - f.stride) // 2}
