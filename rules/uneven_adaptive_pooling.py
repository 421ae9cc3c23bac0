"""An adaptive pool from n to m cells with n not a multiple of m."""
from __future__ import annotations

import numpy as np

from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.coverage import adaptive_bins as bin_edges
from padlint.geometry.words import cell_word
from padlint.ir.trace import Trace


def check(trace: Trace, params: dict):
    alignment = trace.alignment
    if alignment is None:
        return
    for index, pool in enumerate(alignment.pools):
        if pool.m <= 1 or pool.n % pool.m == 0:
            continue
        below, above = pool.n // pool.m * pool.m, (pool.n // pool.m + 1) * pool.m
        lengths = " or ".join(str(v) for v in (below, above) if v > 0)
        inputs = _pool_input_sizes(trace, index, pool)
        yield pool.name, pool.axis, pool.source, {
            "layer": pool.name, "op": pool.op, "axis": pool.axis, "n": pool.n, "m": pool.m,
            "rows": cell_word(pool.axis, 2), "bins": _bins_text(adaptive_bins(pool.n, pool.m), pool.axis),
            "lengths": lengths, "describe": f"{pool.op} {pool.n}->{pool.m}",
            "fix_variant": "sizes" if inputs else "default", "inputs": inputs}


def adaptive_bins(n: int, m: int) -> list[tuple[int, int]]:
    """The cells ``[start, end)`` of each of the ``m`` bins of an adaptive pool over ``n``."""
    return [(int(s), int(e)) for s, e in zip(*bin_edges(n, m))]


def _bins_text(bins: list[tuple[int, int]], axis: str) -> str:
    """'bins 0, 6 take 1 row, the other 5 take 2 rows; bins 0/1, 1/2 overlap by 1 row'."""
    sizes = [end - start for start, end in bins]
    common = max(sorted(set(sizes)), key=sizes.count)
    odd = [i for i, size in enumerate(sizes) if size != common]
    if not odd:
        text = f"every bin takes {common} {cell_word(axis, common)}"
    else:
        odd_sizes = sorted({sizes[i] for i in odd})
        cells = "/".join(map(str, odd_sizes))
        text = (f"bin{'s' if len(odd) > 1 else ''} {_indices(odd)} take{'' if len(odd) > 1 else 's'} "
                f"{cells} {cell_word(axis, max(odd_sizes))}, the other {len(bins) - len(odd)} "
                f"take {common} {cell_word(axis, common)}")
    shared = [bins[i][1] - bins[i + 1][0] for i in range(len(bins) - 1)]
    overlaps = [i for i, v in enumerate(shared) if v > 0]
    if overlaps:
        most = max(shared)
        text += (f"; bins {_indices(overlaps, pairs=True)} overlap (by up to {most} "
                 f"{cell_word(axis, most)})")
    return text


def _indices(values: list[int], pairs: bool = False, shown: int = 6) -> str:
    text = [f"{v}/{v + 1}" if pairs else str(v) for v in values[:shown]]
    return ", ".join(text) + (f" and {len(values) - shown} more" if len(values) > shown else "")


def _pool_input_sizes(trace: Trace, index: int, pool, reach: int = 64) -> str:
    """The model input sizes nearest the analysed one (below and above, on the pool's axis
    and every input axis of the same length) at which the pool's input is a multiple of
    its bins; '' when the length program cannot tell."""
    program, alignment = trace.program, trace.alignment
    assert alignment is not None                  # check() reads the pools from it
    if (program is None or program.unmodelled or program.uncertain
            or len(program.pools) != len(alignment.pools)):
        return ""
    spatial = list(trace.input_shape[2:])
    names = AXIS_NAMES.get(len(spatial), ())
    if pool.axis not in names:            # a pool over a reshaped or non-spatial axis
        return ""
    axis = names.index(pool.axis)
    start = spatial[axis]
    probe = program.evaluate({axis: np.array([start, start + 1])})
    if np.ndim(probe.values[program.pools[index]]) == 0:
        return ""                         # the pool's input does not follow this input axis
    sizes = np.arange(max(1, start - reach), start + reach + 1)
    together = [a for a, v in enumerate(spatial) if v == start]
    ev = program.evaluate({a: sizes for a in together})
    n = np.broadcast_to(np.asarray(ev.values[program.pools[index]], dtype=np.int64), sizes.shape)
    good = sizes[ev.valid() & (n > 0) & (n % pool.m == 0)]
    below, above = good[good < start], good[good > start]
    found = ([int(below.max())] if below.size else []) + ([int(above.min())] if above.size else [])
    return " or ".join(str(v) for v in found)
