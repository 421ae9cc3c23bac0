"""The layer uses its padding unevenly at the two ends of an axis."""
from __future__ import annotations

from padlint.geometry.axis import AxisFacts, axis_facts, min_input_length
from padlint.geometry.words import cell_word
from padlint.ir.trace import Layer

from ._axis import n_fix


def vector(f):
    return f.uneven


def check(layer: Layer, f: AxisFacts) -> dict | None:
    if not f.uneven:
        return None
    if f.transposed:
        k_fix = -(-f.kernel // f.stride) * f.stride
        return {"because": f" (output_padding={f.output_padding} makes the output crop uneven)",
                "fix_variant": "transposed", "k_fix": k_fix, "p_fix": (k_fix - f.stride) // 2}
    fields = {"n_fix": n_fix(f), "alt": "", "k_odd": f.kernel + 1, "k_change": kernel_change(f)}
    if f.explicit_begin != f.explicit_end:
        fields.update(because=f" (explicit pad ({f.explicit_begin},{f.explicit_end}))",
                      fix_variant="explicit")
    elif f.overhang:
        fields["because"] = f" (ceil_mode: the last window overhangs the end by {f.overhang})"
    elif f.pad_begin != f.pad_end and f.stride == 1:
        fields.update(because=f" ('same' padding with even kernel extent {f.k_e})",
                      fix_variant="same_even")
    else:
        unused = f.unused_pad_end
        fields["because"] = f" ({unused} end padding {cell_word(f.axis, unused)} never read)"
        fits = f.n >= min_input_length(f.kernel + 1, f.dilation, f.pad_begin, f.pad_end)
        alt = fits and axis_facts(f.axis, f.n, f.kernel + 1, f.stride, f.dilation, f.pad_begin, f.pad_end)
        if alt and not alt.uneven and not alt.ignored_input_end:
            fields["alt"] = f", or kernel {f.kernel + 1} with padding {f.pad_begin}"
    return fields


def kernel_change(f: AxisFacts) -> str:
    """A change to this layer alone that makes it even at its input length and read every
    input cell: the smallest larger kernel, with the layer's padding or its own 'same'
    padding (for the fix when no input size is clean); else the arithmetic to meet."""
    for k in range(f.kernel + 1, f.kernel + 2 * f.stride + 1):
        for p in dict.fromkeys((f.pad_begin, f.dilation * (k - 1) // 2)):
            if f.n < min_input_length(k, f.dilation, p, p):
                continue
            alt = axis_facts(f.axis, f.n, k, f.stride, f.dilation, p, p)
            if not alt.uneven and not alt.ignored_input_end:
                return f"use kernel {k} with padding {p}"
    return (f"choose a kernel and padding for which {f.n} + p_b + p_e - k_e is a multiple of "
            f"{f.stride}")
