"""The deepest map's cells mostly read padding."""
from __future__ import annotations

from padlint.ir.trace import Trace


def check(trace: Trace, params: dict):
    deep = trace.alignment.deepest_map if trace.alignment is not None else None
    if deep is None:
        return
    cell_share = float(params.get("cell_share", 0.5))
    map_share = float(params.get("map_share", 0.75))
    share = deep.padding_share()
    mainly = float((share > cell_share).mean())
    if mainly <= map_share:
        return
    layer = trace.layers[deep.layer]
    cells = "x".join(str(len(a.padding)) for a in deep.axes)
    yield layer.name, None, layer.source, {
        "layer": layer.name, "cells": cells, "count": int(share.size),
        "mainly": round(100 * mainly), "mainly_count": int((share > cell_share).sum()),
        "reach": round(100 * float(deep.reaching().mean())), "mean": round(100 * float(share.mean())),
        "cell_share": round(100 * cell_share), "corner": f"{deep.corner_ratio():.2g}",
        "input": "x".join(str(len(a.usage)) for a in deep.axes), "describe": layer.describe()}
