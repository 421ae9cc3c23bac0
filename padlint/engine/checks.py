"""The core rules' logic: each check reads the facts of one layer axis (or of a whole
trace) and returns the fields its YAML templates need, or None when it does not fire.

Metadata (severity, message, fix, docs, examples) lives in ``rules/*.yaml``; the core
pack is registered under the ``padlint.rules`` entry-point group like any plugin pack.
"""
from __future__ import annotations

from padlint.geometry.axis import (AxisFacts, axis_facts, effective_kernel, even_input_lengths, min_input_length)
from padlint.ir.trace import Layer, Trace
from padlint.engine.rules import (RulePack, axis_check, cell_word, model_check, stats_check, verify_check)

CORE = RulePack("core")


def _n_fix(f: AxisFacts) -> str:
    below, above = even_input_lengths(f.n, f.kernel, f.stride, f.dilation, f.pad_begin,
                                      f.pad_end, f.ceil_mode, f.explicit_end)
    return " or ".join(str(v) for v in (below, above) if v is not None) or "another size"


def _kernel_change(f: AxisFacts) -> str:
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
    fields = {"n_fix": _n_fix(f), "alt": "", "k_odd": f.kernel + 1, "k_change": _kernel_change(f)}
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


# An even kernel at an odd stride (usually 1) puts its cells half a cell off the grid that
# stride keeps: (k_e-1)/2 - p_b is a half-integer, (s-1)/2 is not. At an even stride the
# centred grid s*j + (s-1)/2 of s x s blocks is itself on half cells, so an even kernel
# (2x2/2 pooling, a 4x4/2 conv with padding 1) is the centred choice and is not reported.
# One output cell whose window is centred on the input (a final k x k conv on a k x k map,
# as in HardNet and SOSNet) sits on no grid at all: it is exactly centred, not shifted.
def _centred_single_cell(f) -> bool:
    return (f.out == 1) & (effective_kernel(f.kernel, f.dilation) - 2 * f.pad_begin == f.n)


@axis_check(CORE, "PAD105", vector=lambda f: ~f.transposed & (
    effective_kernel(f.kernel, f.dilation) % 2 == 0) & (f.stride % 2 == 1) & ~_centred_single_cell(f))
def even_kernel_shift(layer: Layer, f: AxisFacts) -> dict | None:
    if f.transposed or f.k_e % 2 or f.stride % 2 == 0 or _centred_single_cell(f):
        return None
    # the odd neighbour that still gives a non-empty output at this input
    fits = f.n >= min_input_length(f.kernel + 1, f.dilation, f.pad_begin, f.pad_end)
    return {"k_odd": f.kernel + 1 if fits or f.kernel == 1 else f.kernel - 1}


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
        elif note.kind == "facts":
            yield note.layer, None, note.source, {
                "reason": note.reason, "how": "; PAD106, PAD107 and PAD108 saw only the calls before it",
                "fix_variant": "facts"}



@model_check(CORE, "PAD106")
def uneven_adaptive_pooling(trace: Trace):
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


def adaptive_bins(n: int, m: int) -> list[tuple[int, int]]:
    """The cells ``[start, end)`` of each of the ``m`` bins of an adaptive pool over ``n``."""
    from padlint.geometry.coverage import adaptive_bins as edges
    return [(int(s), int(e)) for s, e in zip(*edges(n, m))]


def _indices(values: list[int], pairs: bool = False, shown: int = 6) -> str:
    text = [f"{v}/{v + 1}" if pairs else str(v) for v in values[:shown]]
    return ", ".join(text) + (f" and {len(values) - shown} more" if len(values) > shown else "")


def _pool_input_sizes(trace: Trace, index: int, pool, reach: int = 64) -> str:
    """The model input sizes nearest the analysed one (below and above, on the pool's axis
    and every input axis of the same length) at which the pool's input is a multiple of
    its bins; '' when the length program cannot tell."""
    import numpy as np
    from padlint.geometry.axis import AXIS_NAMES
    program, alignment = trace.program, trace.alignment
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


@model_check(CORE, "PAD107")
def misaligned_merge(trace: Trace):
    alignment = trace.alignment
    if alignment is None:
        return
    for merge in alignment.merges:
        first, second = merge.grids[0], merge.grids[1]
        centres = " and ".join(f"{g.centre()}" for g in merge.grids)
        apart = float(abs(second.offset - first.offset))
        if first.stride == second.stride:
            how = f"sit {apart:g} input pixel{'' if apart == 1 else 's'} apart"
        else:
            last = second.offset - first.offset + (second.stride - first.stride) * (merge.length - 1)
            apart = max(apart, float(abs(last)))
            how = (f"have different strides ({' vs '.join(f'{float(g.stride):g}' for g in merge.grids)} "
                   f"input pixels per cell), {float(second.offset - first.offset):+g} input pixels "
                   f"apart at the first cell and {float(last):+.3g} at the last")
        own = merge.name.rsplit(".", 1)[-1].split("#")[0].split("_")[0]
        fields = {"layer": merge.name, "op": merge.op, "axis": merge.axis, "how": how,
                  "centres": centres, "offset": apart, "length": merge.length,
                  "inputs": len(merge.grids), "describe": "" if own == merge.op else merge.op,
                  "cause": ""}
        # an input that went through an align_corners=True interpolation: name the calls,
        # and say whether align_corners=False would line the cells up
        calls, plain = merge.corners, merge.without_corners()
        if calls:
            named = " and ".join(c.describe() for c in calls)
            uses = "uses" if len(calls) == 1 else "use"
            fields["corners"] = named
            if len(plain) == 1:
                fields.update(plain=plain[0].centre(), fix_variant="align_corners", cause=(
                    f", because {named} {uses} align_corners=True (it keeps the first and last "
                    "cell centres, which stretches the cells between them); with "
                    f"align_corners=False all inputs would be centred at {plain[0].centre()}"))
            else:
                fields.update(fix_variant="align_corners_partly", cause=(
                    f"; {named} {uses} align_corners=True, but with align_corners=False the cells "
                    f"would still be centred at {' and '.join(g.centre() for g in plain)}"))
        yield merge.name, merge.axis, merge.source, fields


@model_check(CORE, "PAD108")
def padding_dominated_map(trace: Trace, params: dict):
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


@model_check(CORE, "PAD109")
def preprocessing_forces_uneven(trace: Trace):
    pre = trace.preprocess
    if pre is None:
        return
    for axis, multiples in pre.clean_multiples.items():
        if multiples:
            continue
        fix = pre.fix.get(axis)
        fields = {"layer": pre.name, "op": pre.op, "axis": axis, "divisor": pre.divisor,
                  "limit": pre.limit, "part": pre.part, "rows": cell_word(axis, 2),
                  "describe": f"{pre.op} size_divisible={pre.divisor}"}
        if fix is not None:
            period, offset = fix
            fields.update(period=period, offset=offset, fix_variant="offset",
                          example=", ".join(str(period * k + offset) for k in (1, 2, 3)))
        yield pre.name, axis, pre.source, fields


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
    """Every windowed layer's map is measured, but a zero-padded layer always has some
    border: the rule fires only where the border matters, where it departs strongly
    (magnitude above ``threshold``) and covers more than ``map_share`` of the map's
    cells (a deep, small map the border has taken over, or a border that reaches far
    into a larger one). The strongest such baseline is reported."""
    from padlint.geometry.measures import edges
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
        axis = next(a for a in m.asymmetry if edge in edges(a))
        others = ", ".join(f"{e} {n}" for e, n in m.extent.items())
        yield layer.name, axis, layer.source, layer.describe(), {
            "layer": layer.name, "baseline": baseline, "edge": edge, "reach": reach,
            "rows": cell_word(axis, reach), "magnitude": f"{m.magnitude:.2f}",
            "relative_to": "its median" if m.scale == "median" else "its largest value",
            "extents": others, "axis": axis, "cover": round(100 * m.cover),
            "shape": "x".join(map(str, m.shape)), "map_share": round(100 * map_share),
            "tolerance": f"{100 * float(params.get('tolerance', 0.1)):g}"}


# -- `padlint stats` rules: they read padlint.stats.LayerStats facts ----------------------------

def _uneven_note(s, axis: str) -> str:
    codes = s.uneven.get(axis)
    if codes:
        return f"; the layer's padding is uneven on {axis} at this input size ({', '.join(codes)})"
    return (f"; its padding is even on {axis} at this input size, so the padding arithmetic "
            "does not explain it here")


@stats_check(CORE, "PAD301")
def asymmetric_mean_kernel(stats, trace: Trace, params: dict):
    from padlint.geometry.measures import edges
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
    from padlint.geometry.measures import edges
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
