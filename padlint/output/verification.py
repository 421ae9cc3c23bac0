"""The verify stage's facts in one line of text: the probe's counts and origins, and how many
static findings it confirmed."""
from __future__ import annotations

from typing import TYPE_CHECKING

from padlint.ir.shapes import shape_str

if TYPE_CHECKING:            # the facts' types only: formatting them imports no torch
    from padlint.verification.probe import ProbeRun
    from padlint.verification.stage import Verification


def _hidden_confirmations(v: Verification) -> int:
    """Confirmed findings that the model's own probe run does not show: the layer alone
    turned a symmetric input asymmetric, but its output in the model's run on a constant
    input is symmetric (a dropped last row of a constant is still a constant). Without
    saying so, '0 of 9 outputs asymmetric' and '2 of 2 confirmed' read as a contradiction."""
    index = {name: i for i, name in enumerate(v.layer_names)}
    count = 0
    for (layer, axis), s in v.statuses.items():
        node = v.probe.layer(index[layer]) if layer in index else None
        if (s["status"] == "confirmed" and s.get("probe") == "layer" and node is not None
                and node.asym.get(axis, 0.0) <= v.probe.tolerance):
            count += 1
    return count


def summary(v: Verification) -> str:
    """'probe (float64, cpu): 21 of 21 windowed outputs asymmetric at 224x224, 0 at 225x225 …'"""
    def count(run: ProbeRun) -> str:
        asym = run.asymmetric()
        text = f"{len(asym)} of {run.windowed} windowed outputs asymmetric at {shape_str(run.input_shape[2:])}"
        if not asym:
            worst = max((x for n in run.nodes for x in n.asym.values()), default=0.0)
            text += f" (worst {worst:.1e})"
        return text
    parts = [count(v.probe)]
    if v.clean is not None:
        parts.append(count(v.clean).replace(" windowed outputs asymmetric", ""))
    elif v.statuses:
        parts.append(v.no_clean or "no clean input size nearby to compare with")
    origins = v.probe.origins()
    text = f"symmetric-kernel probe ({v.probe.dtype}, {v.device}): {', '.join(parts)}"
    if origins:
        shown = [f"{v.node_name(n)} ({', '.join(n.origin)})" for n in origins[:4]]
        more = f" and {len(origins) - 4} more" if len(origins) > 4 else ""
        text += f"; origins: {', '.join(shown)}{more}"
    statuses = list(v.statuses.values())
    if statuses:
        confirmed = sum(s["status"] == "confirmed" for s in statuses)
        text += f"; {confirmed} of {len(statuses)} PAD101/PAD102 findings confirmed"
        hidden = _hidden_confirmations(v)
        if hidden:
            text += (f", {hidden} of them only by the layer alone on a symmetric input (in the "
                     "model's own run on a constant input their outputs stay symmetric)")
    if v.probe.untracked:
        text += (f"; {len(v.probe.untracked)} windowed layers not followed (after a layout "
                 "change)")
    return text
