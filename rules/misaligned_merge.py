"""An add, mul or concatenation of maps whose cells sit at different input positions."""
from __future__ import annotations

from padlint.ir.trace import Trace


def check(trace: Trace, params: dict):
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
        fields.update(_corners(merge))
        yield merge.name, merge.axis, merge.source, fields


def _corners(merge) -> dict:
    """For an input that went through an align_corners=True interpolation: name the calls,
    and say whether align_corners=False would line the cells up."""
    calls, plain = merge.corners, merge.without_corners()
    if not calls:
        return {}
    named = " and ".join(c.describe() for c in calls)
    uses = "uses" if len(calls) == 1 else "use"
    if len(plain) == 1:
        return {"corners": named, "plain": plain[0].centre(), "fix_variant": "align_corners", "cause": (
            f", because {named} {uses} align_corners=True (it keeps the first and last "
            "cell centres, which stretches the cells between them); with "
            f"align_corners=False all inputs would be centred at {plain[0].centre()}")}
    return {"corners": named, "fix_variant": "align_corners_partly", "cause": (
        f"; {named} {uses} align_corners=True, but with align_corners=False the cells "
        f"would still be centred at {' and '.join(g.centre() for g in plain)}")}
