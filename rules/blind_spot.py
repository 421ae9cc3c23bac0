"""A small stimulus at some input positions barely changes the watched map; reads
``padlint blindspots`` facts."""
from __future__ import annotations

from padlint.geometry.words import cell_word, sides
from padlint.ir.shapes import shape_str
from padlint.ir.trace import Trace


def _percent(share: float) -> str:
    value = 100 * share
    return f"{value:.0f} %" if value >= 1 or value == 0 else f"{value:.1g} %"


def _last_cells(f) -> str:
    """'last input row', 'last 2 input columns'."""
    count = int(f.data.get("ignored_input_end", 0) or 1)
    return f"last {'' if count == 1 else f'{count} '}input {cell_word(f.axis, count)}"


def _why(static, axes: list[str]) -> tuple[str, str | None]:
    """The static findings on ``axes`` that explain a blind spot, in words, and the layer
    to report it at (dropped or skipped input first, then uneven padding)."""
    mine = [f for f in static if f.axis in axes]
    direct = [f for f in mine if f.rule in ("PAD102", "PAD103")]
    parts = []
    grouped: dict[tuple[str, str], list] = {}
    for f in direct:
        grouped.setdefault((f.rule, f.layer), []).append(f)
    for (rule, layer), found in list(grouped.items())[:2]:
        if rule == "PAD102":
            cells = [_last_cells(f) for f in found]
            parts.append(f"`{layer}` drops its {' and its '.join(cells)} (PAD102)")
        else:
            cells = [cell_word(f.axis, 2) for f in found]
            parts.append(f"`{layer}` skips input {' and '.join(cells)} between its windows (PAD103)")
    uneven = [f for f in mine if f.rule == "PAD101"]
    if uneven:
        first = uneven[0]
        more = len({f.layer for f in uneven}) - 1
        others = f" and {more} more layer{'s' if more != 1 else ''}" if more else ""
        parts.append(f"`{first.layer}`{others} leave{'s' if not more else ''} their {sides(first.axis)[1]} "
                     f"padding unused upstream (PAD101)")
    layer = (direct or uneven or [None])[0]
    return ("; ".join(parts), layer.layer if layer is not None else None)


def _remedy(facts) -> tuple[str, str]:
    """What the measured padding modes offer, as the fix's last clause (and the same
    joined on with 'or')."""
    fixed = [mode for mode, m in facts.remedies.items()
             if not m.error and m.response.size and not m.blind.any()]
    if fixed:
        modes = " or ".join(f"padding_mode='{m}'" for m in fixed)
        text = f"pad the convolutions with {modes}, which leaves no blind position here with the weights unchanged"
    elif facts.remedies:
        text = "no padding mode measured (--padding-mode) removes the blind spot at this size"
    else:
        text = "compare the padding modes on this model with `padlint blindspots --padding-mode all`"
    return text, "; or " + text


def check(facts, trace: Trace, params: dict):
    m = facts.main
    region = m.region()
    if not region.text:
        return
    low, high = m.share(m.blind)
    share = _percent(high) if abs(high - low) < 0.005 else f"{_percent(low).rstrip(' %')}–{_percent(high)}"
    axes = region.axes or list(m.positions)
    why, at = _why(facts.static, axes)
    layer = at or facts.watched_layer or (trace.layers[-1].name if trace.layers else "")
    found = next((x for x in trace.layers if x.name == layer), None)
    remedy, remedy_or = _remedy(facts)
    fields = {"stimulus": facts.stimulus.spec, "region": region.text, "share": share,
              "watched": f"the output value {facts.output}" if facts.output is not None
              else f"the map of `{facts.watched_layer}`",
              "why": f": {why}" if why else "", "remedy": remedy, "remedy_or": remedy_or,
              "blind_share": round(high, 4), "blind_positions": int(m.blind.sum())}
    direct = [f for f in facts.static if f.rule in ("PAD102", "PAD103") and f.axis in axes]
    clean = facts.clean
    fields["clean_note"] = ""
    if clean is not None and not clean.error:
        blind = int(clean.blind.sum())
        size = shape_str(clean.input_shape[2:])
        if not blind:
            fields |= {"fix_variant": "model", "clean_size": size,
                       "clean_asymmetry": ", ".join(f"{a} {v:.2g}" for a, v in clean.asymmetry.items())}
        else:
            fields["clean_note"] = (f" (the nearest clean size, {size}, does not help: its map has "
                                    f"{blind} blind position{'s' if blind != 1 else ''})")
            if direct:
                fields["remedy"] = direct[0].fix
    elif facts.clean_why:
        fields |= {"fix_variant": "none", "clean_why": facts.clean_why}
    if high == 0:
        fields["changes"] = f"does not change {fields['watched']} at all"
    else:
        fields["changes"] = f"changes {fields['watched']} by only {share} of the median response"
    axis = region.axes[0] if len(region.axes) == 1 else None
    source = found.source if found is not None else None
    yield layer, axis, source, found.describe() if found is not None else "", fields
