"""The nearest clean input sizes for the size checked, and, where none is near, why not."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from padlint.engine.rule import Rule
from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.lengths import Evaluation
from padlint.ir.shapes import shape_str
from padlint.ir.trace import Trace
from padlint.sizes.fast import evaluate_axis, fast_axis, fast_path_problem, window_fires
from padlint.sizes.result import DEFAULT_RULES

SUGGEST_WINDOWS = (64, 256)  # `padlint check` looks this far either side for a clean size


SUGGEST_WINDOW = SUGGEST_WINDOWS[-1]


@dataclass
class Suggestion:
    """The nearest clean input sizes around one checked size (fast path only)."""

    input: tuple[int, ...]                               # spatial sizes checked
    names: tuple[str, ...]
    axes: dict[str, tuple[int | None, int | None]]       # axis -> nearest clean below/above
    clean: dict[str, bool]                               # axis -> the checked size is clean
    square: tuple[int | None, int | None] | None = None  # one size for every axis
    why: dict[str, str] = field(default_factory=dict)    # axis -> why no size near is clean

    def for_axis(self, axis: str) -> str | None:
        """'193 or 225': this axis's nearest clean model input sizes."""
        if axis not in self.axes or self.clean.get(axis, True):
            return None
        return " or ".join(str(v) for v in self.axes[axis] if v is not None) or None

    def input_length(self, axis: str) -> int:
        return self.input[self.names.index(axis)]

    def why_for(self, axis: str) -> str | None:
        """Why no size within SUGGEST_WINDOW is clean on this axis (None when one is, or
        when the checked size is)."""
        return None if self.clean.get(axis, True) else self.why.get(axis)

    def fix_fields(self, axis: str, variant: str, fixes: dict) -> dict:
        """What turns a layer's fix into a model-level one: the nearest clean model input
        sizes ('model', for the 'default' fix), or when there is none, why, so that the
        fix offers a change to the layer instead ('none', '<variant>_none'); {} keeps the
        layer's own fix."""
        near = self.for_axis(axis)
        if near:
            if variant == "default" and "model" in fixes:
                return {"fix_variant": "model", "suggested": near, "input_n": self.input_length(axis)}
            return {}
        why = self.why_for(axis)
        none = "none" if variant == "default" else f"{variant}_none"
        if why and none in fixes:
            return {"fix_variant": none, "why": why, "input_n": self.input_length(axis),
                    "window": SUGGEST_WINDOW}
        return {}

    def reason(self) -> str:
        """Why no size near is clean, one clause per distinct reason ('' when not known)."""
        groups: dict[str, list[str]] = {}
        for axis in self.names:
            why = self.why_for(axis)
            if why:
                groups.setdefault(why, []).append(axis)
        if len(groups) == 1 and len(next(iter(groups.values()))) == len(self.names):
            return next(iter(groups))
        return "; ".join(f"on {_listed(axes)}, {why}" for why, axes in groups.items())

    def is_clean(self) -> bool:
        return all(self.clean.values())

    def sizes(self) -> list:
        """Nearest clean model input sizes below/above: ints for a square input, else
        per-axis lists; the input itself when it is clean; [] when none is near."""
        if self.is_clean():
            return [self.input[0]] if self.square is not None else [list(self.input)]
        if self.square is not None:
            return [v for v in self.square if v is not None]
        out = []
        for side in (0, 1):
            picked = [n if self.clean[a] else self.axes[a][side] for a, n in zip(self.names, self.input)]
            if all(v is not None for v in picked):
                out.append(picked)
        return out

    def text(self) -> str:
        if self.is_clean():
            return f"input {shape_str(self.input)} is clean"
        shown = [str(s) if isinstance(s, int) else shape_str(s) for s in self.sizes()]
        if not shown:
            why = self.reason()
            return (f"no input size within {SUGGEST_WINDOW} of {shape_str(self.input)} is clean"
                    + (f": {why}" if why else ""))
        if len(shown) == 1:
            return f"the nearest clean size is {shown[0]}"
        return f"the nearest clean sizes are {shown[0]} and {shown[1]}"


def suggest_sizes(front, trace: Trace, rules: list[Rule]) -> Suggestion | None:
    """Nearest clean sizes for the checked size, on the fast path; None when the fast path
    cannot be trusted for this model, or no rule that makes a size unclean is selected."""
    chosen = [r for r in rules if r.code in DEFAULT_RULES]
    if not chosen or trace.method == "none" or not trace.layers or \
            os.environ.get("PADLINT_NO_SUGGEST"):
        return None
    spatial = tuple(trace.input_shape[2:])
    names = AXIS_NAMES[len(spatial)]
    if not any(rule.check(layer, f) is not None for layer in trace.layers for f in layer.axes
               for rule in chosen):       # clean as checked: no sweep needed, on any path
        return Suggestion(spatial, names, {a: (None, None) for a in names}, dict.fromkeys(names, True),
                          (None, None) if len(set(spatial)) == 1 else None)
    if fast_path_problem(front, trace) is not None:
        return None
    axes, clean, sets = {}, {}, {}
    for window in SUGGEST_WINDOWS:       # a narrow window first; most models repeat within it
        for i, n in enumerate(spatial):
            sizes = np.arange(max(1, n - window), n + window + 1)
            result = fast_axis(trace, i, sizes, chosen, reasons=False)
            axes[names[i]] = result.nearest(n)
            clean[names[i]] = result.is_clean(n)
            sets[names[i]] = set(result.clean)
        square = None
        if len(set(spatial)) == 1:
            n = spatial[0]
            common = np.asarray(sorted(set.intersection(*sets.values())), dtype=np.int64)
            below, above = common[common < n], common[common > n]
            square = (int(below.max()) if below.size else None,
                      int(above.min()) if above.size else None)
        found = square if square is not None else [v for a in axes.values() for v in a]
        if all(v is not None for v in found) or all(clean.values()):
            break
    reach = SUGGEST_WINDOW                # what Suggestion.text() says was searched
    why = {names[i]: no_clean_why(trace, i, np.arange(max(1, n - reach), n + reach + 1), chosen)
           for i, n in enumerate(spatial) if not clean[names[i]] and axes[names[i]] == (None, None)}
    return Suggestion(spatial, names, axes, clean, square, why)


FIRES = {"PAD101": "is uneven", "PAD102": "drops input"}   # a rule firing, as a verb phrase


def no_clean_why(trace: Trace, axis: int, sizes: np.ndarray, rules: list[Rule]) -> str:
    """Why none of ``sizes`` is clean on one axis, in one clause: the merges whose branches
    agree only at some sizes (so the model runs only there), then the layers that the
    rules fire on at every size it runs at ('the branches of add agree only at even
    sizes, and down (Conv2d k=3 s=2 p=1) is uneven at all of them')."""
    program, name, rules, ev = evaluate_axis(trace, axis, sizes, rules)
    valid = ev.valid()
    merge_syms = [i for i, sym in enumerate(program.syms) if sym.op in ("eq", "merge")]
    at_merge = ~valid & np.isin(ev.first_bad, merge_syms)
    parts, them = [], "every size it runs at"
    if at_merge.any():
        merges = list(dict.fromkeys(program.syms[i].where or program.syms[i].op
                                    for i in np.unique(ev.first_bad[at_merge])))
        runs = valid | at_merge                   # the sizes that are not simply too small
        parts.append(f"the branches of {_listed(merges)} agree only at "
                     f"{size_set(sizes[runs], valid[runs])}")
        them = "all of them"
    if valid.any():
        parts.append(_blockers(trace, ev, name, valid, rules, them))
    return ", and ".join(parts)


def _blockers(trace: Trace, ev: Evaluation, name: str, valid: np.ndarray, rules: list[Rule],
              them: str) -> str:
    """The first layer the rules fire on at every valid size ('down (Conv2d k=3 s=2 p=1)
    is uneven at all of them'), else the layers that fire first at those sizes."""
    layer = window_fires(trace, ev, name, len(valid), rules)[0]
    each = {r.code: window_fires(trace, ev, name, len(valid), [r])[1][:, valid] for r in rules}
    fires = np.logical_or.reduce(list(each.values()))
    verbs = " or ".join(FIRES.get(code, f"fires {code}") for code in each)
    for index in dict.fromkeys(layer.tolist()):
        rows = layer == index
        if fires[rows].any(axis=0).all():
            alone = [code for code, hits in each.items() if hits[rows].any(axis=0).all()]
            verb = FIRES.get(alone[0], f"fires {alone[0]}") if alone else verbs
            target = trace.layers[index]
            return f"{target.name} ({target.describe(name)}) {verb} at {them}"
    first = np.where(fires, layer[:, None], len(trace.layers)).min(axis=0)
    shown = [trace.layers[i].name for i in sorted(set(first.tolist()))]
    each_size = "at each of them" if them == "all of them" else "at each size it runs at"
    return f"{each_size} one of {_listed(shown, 'or')} {verbs}"


def size_set(sizes: np.ndarray, ok: np.ndarray, most: int = 64) -> str:
    """The sizes marked ``ok`` among ``sizes`` as a noun phrase: 'even sizes', 'multiples
    of 32', 'sizes ≡ 0 or 31 (mod 32)', from the smallest modulus (up to ``most``) whose
    residues separate them from the rest; else the sizes themselves."""
    for m in range(2, most + 1):
        good, bad = np.unique(sizes[ok] % m), np.unique(sizes[~ok] % m)
        if not np.intersect1d(good, bad).size:
            break
    else:
        shown = [str(v) for v in sizes[ok]]
        return (f"the sizes {_listed(shown)}" if len(shown) <= 4 else
                f"{len(shown)} of the {len(sizes)} sizes from {sizes.min()} to {sizes.max()}")
    residues = [int(r) for r in good]
    if m == 2:
        return "even sizes" if residues == [0] else "odd sizes"
    if residues == [0]:
        return f"multiples of {m}"
    if len(residues) <= 4:
        return f"sizes ≡ {_listed([str(r) for r in residues], 'or')} (mod {m})"
    return f"{len(residues)} sizes in every {m}"


def _listed(items: list[str], last: str = "and", shown: int = 4) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, c, d and 2 more'."""
    items = list(items)
    if len(items) > shown:
        return f"{', '.join(items[:shown])} and {len(items) - shown} more"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"
