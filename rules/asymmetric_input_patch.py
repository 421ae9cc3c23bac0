"""The mean input window a convolution sees over a dataset is lopsided; reads
``padlint stats`` facts."""
from __future__ import annotations

import numpy as np

from padlint.geometry.words import cell_word, sides
from padlint.ir.trace import Trace


def check(stats, trace: Trace, params: dict):
    threshold = float(params.get("threshold", 0.5))
    min_relative = float(params.get("min_relative", 1e-3))
    for s in stats.layers:
        if s.mean_patch is None:
            continue
        for i, axis in enumerate(s.axes):
            asym, rel = s.patch_asymmetry.get(axis, 0.0), s.patch_relative.get(axis, 0.0)
            if asym <= threshold or rel < min_relative:
                continue
            cause = _cause(s, i, axis)
            if cause is None:         # even windows: the data's own lopsidedness, not a finding
                continue
            begin, end = sides(axis)
            yield s.name, axis, s.source, s.describe(), {
                "layer": s.name, "axis": axis, "asymmetry": f"{asym:.3g}", "relative": f"{rel:.2g}",
                "cause": cause, "begin": begin, "end": end}


def _cause(s, i: int, axis: str) -> str | None:
    """Why the patch is lopsided when the padding explains it; None when it does not."""
    begin, end = sides(axis)
    cause = None
    if s.uneven.get(axis):    # e.g. TF-SAME: an explicit pad the window counts as input
        cause = (f"the padding is used unevenly: {'/'.join(s.uneven[axis])} marks the layer "
                 f"uneven on {axis} at this input size")
    if s.coverage is not None:
        first, last = [float(v) for v in _ends(s.coverage, i)]
        if abs(first - last) > 1e-12:
            row = cell_word(axis, 1)
            cause = (f"the windows read real input at {first:.3g} of positions in the {begin} "
                     f"{row} of the patch but {last:.3g} in the {end} {row}: the padding is "
                     "used unevenly")
    return cause


def _ends(x, axis: int):
    """Mean of the first and of the last slice of ``x`` along ``axis``."""
    k = x.shape[axis]
    return np.take(x, 0, axis=axis).mean(), np.take(x, k - 1, axis=axis).mean()
