"""Input cells between windows that no window reads."""
from __future__ import annotations

from padlint.geometry.axis import AxisFacts
from padlint.geometry.words import cell_word
from padlint.ir.trace import Layer

from ._axis import is_shortcut


def check(layer: Layer, f: AxisFacts) -> dict | None:
    interior = f.ignored_input_interior
    if interior <= 0 or f.transposed:
        return None
    if is_shortcut(f):
        how, variant = f" (a 1x1 window at stride {f.stride})", "shortcut"
    elif f.dilation > 1 and f.k_e >= f.stride:
        how, variant = f" (dilation {f.dilation} with stride {f.stride}: gridding)", "dilation"
    else:
        how, variant = f" (stride {f.stride} exceeds the kernel extent {f.k_e})", "default"
    return {"interior": interior, "how": how, "fix_variant": variant,
            "rows": cell_word(f.axis, interior)}
