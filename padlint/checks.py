"""The core rules' logic: each check reads the facts of one layer axis (or of a whole
trace) and returns the fields its YAML templates need, or None when it does not fire.

Metadata (severity, message, fix, docs, examples) lives in ``rules/*.yaml``; the core
pack is registered under the ``padlint.rules`` entry-point group like any plugin pack.
"""
from __future__ import annotations

from .geometry import AxisFacts, axis_facts, effective_kernel, even_input_lengths, min_input_length
from .ir import Layer, Trace
from .rules import RulePack, axis_check, cell_word, model_check, stats_check, verify_check

CORE = RulePack("core")


def _n_fix(f: AxisFacts) -> str:
    below, above = even_input_lengths(f.n, f.kernel, f.stride, f.dilation, f.pad_begin,
                                      f.pad_end, f.ceil_mode, f.explicit_end)
    return " or ".join(str(v) for v in (below, above) if v is not None) or "another size"


def _is_shortcut(f: AxisFacts) -> bool:
    return f.k_e == 1 and f.stride > 1


@axis_check(CORE, "PAD101", vector=lambda f: f.uneven)
def uneven_padding(layer: Layer, f: AxisFacts) -> dict | None:
    if not f.uneven:
        return None
    if f.transposed:
        k_fix = -(-f.kernel // f.stride) * f.stride
        return {"because": f" (output_padding={f.output_padding} makes the output crop uneven)",
                "fix_variant": "transposed", "k_fix": k_fix, "p_fix": (k_fix - f.stride) // 2}
    fields = {"n_fix": _n_fix(f), "alt": "", "k_odd": f.kernel + 1}
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


@axis_check(CORE, "PAD102", vector=lambda f: f.ignored_input_end > 0)
def dropped_input(layer: Layer, f: AxisFacts) -> dict | None:
    if f.ignored_input_end <= 0:
        return None
    return {"last_input": f.last_read - f.pad_begin, "n_fix": _n_fix(f),
            "pad_needed": f.stride - f.leftover % f.stride if f.leftover % f.stride else f.stride,
            "fix_variant": "shortcut" if _is_shortcut(f) else "default"}


@axis_check(CORE, "PAD103")
def skipped_input(layer: Layer, f: AxisFacts) -> dict | None:
    interior = f.ignored_input_interior
    if interior <= 0 or f.transposed:
        return None
    if _is_shortcut(f):
        how, variant = f" (a 1x1 window at stride {f.stride})", "shortcut"
    elif f.dilation > 1 and f.k_e >= f.stride:
        how, variant = f" (dilation {f.dilation} with stride {f.stride}: gridding)", "dilation"
    else:
        how, variant = f" (stride {f.stride} exceeds the kernel extent {f.k_e})", "default"
    return {"interior": interior, "how": how, "fix_variant": variant,
            "rows": cell_word(f.axis, interior)}


@axis_check(CORE, "PAD104", vector=lambda f: f.transposed & f.taps_unequal)
def transposed_checkerboard(layer: Layer, f: AxisFacts) -> dict | None:
    if not f.transposed or len(set(f.taps)) <= 1:
        return None
    k_fix = -(-f.kernel // f.stride) * f.stride
    return {"taps": "/".join(map(str, f.taps)), "k_fix": k_fix, "p_fix": (k_fix - f.stride) // 2}


@axis_check(CORE, "PAD105", vector=lambda f: ~f.transposed & (
    effective_kernel(f.kernel, f.dilation) % 2 == 0) & (effective_kernel(f.kernel, f.dilation) != f.stride))
def even_kernel_shift(layer: Layer, f: AxisFacts) -> dict | None:
    if f.transposed or f.k_e % 2 or f.k_e == f.stride:
        return None
    return {"k_odd": f.kernel + 1}


@model_check(CORE, "PAD901")
def untraceable(trace: Trace):
    how = {"hooks": "; analysed with module hooks on a meta-device run instead",
           "cpu": "; analysed with module hooks on a real CPU forward of a constant input instead"}
    for note in trace.notes:
        if note.kind == "fx-fallback":
            yield note.layer, None, note.source, {"reason": note.reason,
                                                  "how": how.get(trace.method, "")}
        elif note.kind == "partial":
            yield note.layer, None, note.source, {"reason": note.reason, "how": "",
                                                  "fix_variant": "partial"}



# -- the verify stage's rules: they read padlint.verification.Verification facts -------------

def _node_site(v, trace: Trace, node, axis):
    """(name, source, op) of a probe node: a windowed layer's construction line, else
    the line of the call."""
    if node.index is not None and node.index < len(trace.layers):
        layer = trace.layers[node.index]
        return layer.name, layer.source, layer.describe(axis)
    return node.name, node.source, node.op


@verify_check(CORE, "PAD201")
def asymmetry_introduced(v, trace: Trace, params: dict):
    for node, axis in v.unexplained:
        name, source, op = _node_site(v, trace, node, axis)
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


@verify_check(CORE, "PAD202")
def border_artifact(v, trace: Trace, params: dict):
    from .measures import edges
    threshold = float(params.get("threshold", 0.5))
    for layer in trace.layers:
        best = None
        for baseline in [b for b in v.baselines if b in params.get("baselines", v.baselines)]:
            m = v.measures.get(baseline, {}).get(layer.name)
            if m is not None and m.magnitude > threshold and (best is None or m.magnitude > best[1].magnitude):
                best = (baseline, m)
        if best is None:
            continue
        baseline, m = best
        edge, reach = m.worst_edge()
        axis = next(a for a in m.asymmetry if edge in edges(a))
        others = ", ".join(f"{e} {n}" for e, n in m.extent.items())
        yield layer.name, axis, layer.source, layer.describe(), {
            "layer": layer.name, "baseline": baseline, "edge": edge, "reach": reach,
            "rows": cell_word(axis, reach), "magnitude": f"{m.magnitude:.2f}",
            "relative_to": "its median" if m.scale == "median" else "its largest value",
            "extents": others, "axis": axis}


# -- `padlint stats` rules: they read padlint.stats.LayerStats facts ----------------------------

def _uneven_note(s, axis: str) -> str:
    codes = s.uneven.get(axis)
    if codes:
        return f"; the layer's padding is uneven on {axis} at this input size ({', '.join(codes)})"
    return (f"; its padding is even on {axis} at this input size, so the padding arithmetic "
            "does not explain it here")


@stats_check(CORE, "PAD301")
def asymmetric_mean_kernel(stats, trace: Trace, params: dict):
    from .measures import edges
    threshold = float(params.get("threshold", 0.5))
    min_sig = float(params.get("min_significance", 3.0))
    for s in stats.layers:
        for axis in s.axes:
            asym, sig = s.asymmetry.get(axis), s.significance.get(axis)
            if asym is None or sig is None or asym <= threshold or sig < min_sig:
                continue
            heavy = s.heavier.get(axis) or edges(axis)[0]
            k = s.kernel[s.axes.index(axis)]
            weak = (f"; the measure is weak for a {'x'.join(map(str, s.kernel))} kernel (larger "
                    "than 3), so take this as a hint, not a certainty") if max(s.kernel) > 3 else ""
            yield s.name, axis, s.source, s.describe(), {
                "layer": s.name, "axis": axis, "asymmetry": f"{asym:.3g}", "heavier": heavy,
                "significance": f"{sig:.3g}" if sig != float("inf") else "inf",
                "channels": s.channels, "k": k, "uneven": _uneven_note(s, axis), "weak": weak}


@stats_check(CORE, "PAD302")
def asymmetric_input_patch(stats, trace: Trace, params: dict):
    from .measures import edges
    threshold = float(params.get("threshold", 0.5))
    min_relative = float(params.get("min_relative", 1e-3))
    for s in stats.layers:
        if s.mean_patch is None:
            continue
        for i, axis in enumerate(s.axes):
            asym, rel = s.patch_asymmetry.get(axis, 0.0), s.patch_relative.get(axis, 0.0)
            if asym <= threshold or rel < min_relative:
                continue
            begin, end = edges(axis)
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
            if cause is None:         # even windows: the data's own lopsidedness, not a finding
                continue
            yield s.name, axis, s.source, s.describe(), {
                "layer": s.name, "axis": axis, "asymmetry": f"{asym:.3g}", "relative": f"{rel:.2g}",
                "cause": cause, "begin": begin, "end": end}


def _ends(x, axis: int):
    """Mean of the first and of the last slice of ``x`` along ``axis``."""
    import numpy as np
    k = x.shape[axis]
    return np.take(x, 0, axis=axis).mean(), np.take(x, k - 1, axis=axis).mean()
