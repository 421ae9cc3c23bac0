"""A convolution's learned kernels are, on average, heavier on one side; reads
``padlint stats`` facts."""
from __future__ import annotations

from padlint.geometry.words import sides
from padlint.ir.trace import Trace


def check(stats, trace: Trace, params: dict):
    threshold = float(params.get("threshold", 0.5))
    min_sig = float(params.get("min_significance", 3.0))
    for s in stats.layers:
        for axis in s.axes:
            asym, sig = s.asymmetry.get(axis), s.significance.get(axis)
            if asym is None or sig is None or asym <= threshold or sig < min_sig:
                continue
            heavy = s.heavier.get(axis) or sides(axis)[0]
            k = s.kernel[s.axes.index(axis)]
            weak = (f"; the measure is weak for a {'x'.join(map(str, s.kernel))} kernel (larger "
                    "than 3), so take this as a hint, not a certainty") if max(s.kernel) > 3 else ""
            yield s.name, axis, s.source, s.describe(), {
                "layer": s.name, "axis": axis, "asymmetry": f"{asym:.3g}", "heavier": heavy,
                "significance": f"{sig:.3g}" if sig != float("inf") else "inf",
                "channels": s.channels, "k": k, "uneven": _uneven_note(s, axis), "weak": weak}


def _uneven_note(s, axis: str) -> str:
    codes = s.uneven.get(axis)
    if codes:
        return f"; the layer's padding is uneven on {axis} at this input size ({', '.join(codes)})"
    return (f"; its padding is even on {axis} at this input size, so the padding arithmetic "
            "does not explain it here")
