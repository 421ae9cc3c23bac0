"""An even kernel at an odd stride shifts the output grid half a cell.

An even kernel at an odd stride (usually 1) puts its cells half a cell off the grid that
stride keeps: (k_e-1)/2 - p_b is a half-integer, (s-1)/2 is not. At an even stride the
centred grid s*j + (s-1)/2 of s x s blocks is itself on half cells, so an even kernel
(2x2/2 pooling, a 4x4/2 conv with padding 1) is the centred choice and is not reported.
One output cell whose window is centred on the input (a final k x k conv on a k x k map,
as in HardNet and SOSNet) sits on no grid at all: it is exactly centred, not shifted.
"""
from __future__ import annotations

from padlint.geometry.axis import AxisFacts, effective_kernel, min_input_length
from padlint.ir.trace import Layer


def _centred_single_cell(f) -> bool:
    return (f.out == 1) & (effective_kernel(f.kernel, f.dilation) - 2 * f.pad_begin == f.n)


def vector(f):
    return ~f.transposed & (effective_kernel(f.kernel, f.dilation) % 2 == 0) & (
        f.stride % 2 == 1) & ~_centred_single_cell(f)


def check(layer: Layer, f: AxisFacts) -> dict | None:
    if f.transposed or f.k_e % 2 or f.stride % 2 == 0 or _centred_single_cell(f):
        return None
    # the odd neighbour that still gives a non-empty output at this input
    fits = f.n >= min_input_length(f.kernel + 1, f.dilation, f.pad_begin, f.pad_end)
    return {"k_odd": f.kernel + 1 if fits or f.kernel == 1 else f.kernel - 1}
