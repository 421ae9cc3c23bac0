"""From some layer on, every cell of the map sees the whole input (after rfa-toolbox's
"unproductive layers"): the layers after it add no new context at this input size."""
from __future__ import annotations

import numpy as np

from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.receptive import Field
from padlint.ir.trace import Trace


def saturated(field: Field, out: int, n: int) -> bool:
    """Every one of the ``out`` cells sees input pixels 0 … n-1: the first period's cells
    reach the last pixel and the last period's the first (fields grow with the cell index)."""
    if out < 1 or field.size < n:
        return False
    m = min(field.period, out)
    first = [field.span(j) for j in range(m)]
    last = [field.span(j) for j in range(out - m, out)]
    return (all(s is not None and s[1] >= n - 1 for s in first)
            and all(s is not None and s[0] <= 0 for s in last))


def check(trace: Trace, params: dict):
    spatial = list(trace.input_shape[2:])
    names = AXIS_NAMES.get(len(spatial), ())
    known: dict[tuple, int | None] = {}       # H and W of a square input grow together: one search
    for a, axis in enumerate(names):
        n = spatial[a]
        for i, layer in enumerate(trace.layers):
            cells = layer.cell(axis)
            f = next((f for f in layer.axes if f.axis == axis), None)
            if cells is None or cells.field is None or f is None or f.out <= 1:
                continue
            if not saturated(cells.field, f.out, n):
                continue
            after = trace.layers[i + 1:]
            if not after:
                break                     # the last layer: nothing follows it
            limit = int(params.get("search_factor", 8)) * n
            key = (i, n, cells.field, f.out, tuple(b for b, v in enumerate(spatial) if v == n))
            if key not in known:
                known[key] = _stops_at(trace, i, a, axis, cells.field, limit)
            stops = known[key]
            yield layer.name, axis, layer.source, {
                "axis": axis, "layer": layer.name, "describe": layer.describe(axis), "rf": cells.field.size, "n": n,
                "cells": f.out, "following": len(after),
                "layers_word": "layer" if len(after) == 1 else "layers", "params": f"{sum(x.params for x in after):,}",
                "stops": stops or "", "limit": limit,
                "fix_variant": "default" if stops else "none"}
            break


def _stops_at(trace: Trace, index: int, a: int, axis: str, field: Field, limit: int) -> int | None:
    """The smallest input length above the analysed one, on this axis and every axis of the
    same length with it, at which the model runs and the layer's cells stop all seeing the
    whole input (None when the length program cannot tell, or none up to ``limit``)."""
    program = trace.program
    if program is None or program.unmodelled or program.uncertain:
        return None
    window = next((w for w in program.windows if w.layer == index and w.axis == axis), None)
    if window is None:
        return None
    spatial = list(trace.input_shape[2:])
    together = [b for b, v in enumerate(spatial) if v == spatial[a]]
    start, step = spatial[a] + 1, 32
    while start <= limit:                 # the nearest sizes first: most answers are near
        sizes = np.arange(start, min(start + step, limit + 1))
        ev = program.evaluate({b: sizes for b in together})
        outs = np.broadcast_to(np.asarray(ev.values[window.out], dtype=np.int64), sizes.shape)
        for n, out, ok in zip(sizes.tolist(), outs.tolist(), ev.valid().tolist()):
            if ok and out >= 1 and not saturated(field, out, n):
                return n
        start, step = start + step, step * 4
    return None
