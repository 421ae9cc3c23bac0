"""An op makes maps mirror-asymmetric where no static rule predicts it; reads the
verify stage's facts."""
from __future__ import annotations

from padlint.ir.trace import Trace


def check(v, trace: Trace, params: dict):
    for node, axis in v.unexplained:
        name, source, op = _node_site(trace, node, axis)
        clean = ""
        if v.clean is not None:
            twin = next((n for n in v.clean.nodes if n.name == node.name), None)
            size = "x".join(map(str, v.clean.input_shape[2:]))
            if twin is not None:
                after = twin.asym.get(axis, 0.0)
                clean = (f"; it stays at input {size} ({after:.3g}), so it does not come from the input size"
                         if after > v.clean.tolerance else f"; it vanishes at input {size}")
        yield name, axis, source, op, {
            "layer": name, "op": node.op, "axis": axis, "asymmetry": f"{node.asym[axis]:.3g}",
            "cause": node.cause, "clean": clean}


def _node_site(trace: Trace, node, axis):
    """(name, source, op) of a probe node: a windowed layer's construction line, else
    the line of the call."""
    if node.index is not None and node.index < len(trace.layers):
        layer = trace.layers[node.index]
        return layer.name, layer.source, layer.describe(axis)
    return node.name, node.source, node.op
