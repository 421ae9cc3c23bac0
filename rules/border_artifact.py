"""A layer's mean feature map is dominated by its border; reads the verify stage's
facts."""
from __future__ import annotations

from padlint.geometry.words import cell_word, sides
from padlint.ir.trace import Trace


def check(v, trace: Trace, params: dict):
    """Every windowed layer's map is measured, but a zero-padded layer always has some
    border: the rule fires only where the border matters, where it departs strongly
    (magnitude above ``threshold``) and covers more than ``map_share`` of the map's
    cells (a deep, small map the border has taken over, or a border that reaches far
    into a larger one). The strongest such baseline is reported."""
    threshold = float(params.get("threshold", 0.5))
    map_share = float(params.get("map_share", 0.75))
    for layer in trace.layers:
        best = None
        for baseline in [b for b in v.baselines if b in params.get("baselines", v.baselines)]:
            m = v.measures.get(baseline, {}).get(layer.name)
            if (m is not None and m.magnitude > threshold and m.cover > map_share
                    and (best is None or m.magnitude > best[1].magnitude)):
                best = (baseline, m)
        if best is None:
            continue
        baseline, m = best
        edge, reach = m.worst_edge()
        axis = next(a for a in m.asymmetry if edge in sides(a))
        others = ", ".join(f"{e} {n}" for e, n in m.extent.items())
        yield layer.name, axis, layer.source, layer.describe(), {
            "layer": layer.name, "baseline": baseline, "edge": edge, "reach": reach,
            "rows": cell_word(axis, reach), "magnitude": f"{m.magnitude:.2f}",
            "relative_to": "its median" if m.scale == "median" else "its largest value",
            "extents": others, "axis": axis, "cover": round(100 * m.cover),
            "shape": "x".join(map(str, m.shape)), "map_share": round(100 * map_share),
            "tolerance": f"{100 * float(params.get('tolerance', 0.1)):g}"}
