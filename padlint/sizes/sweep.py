"""Input-size sweeps: at which input sizes is every layer of a model clean?

A size is *clean* on an axis when no selected rule (PAD101 and PAD102 by default) fires
on that axis at any layer. Each spatial axis is swept on its own, the others held at the
reference input size.

Two paths give the same answers:

- **fast**: the :class:`~padlint.lengths.LengthProgram` recorded in one traced run is
  evaluated with numpy for every size at once, and the rules' vector forms read the
  resulting per-layer arrays. A program whose recording had to guess (a shape read, a
  call it does not model) is first checked against real runs at two other sizes.
- **exact**: the model is traced on the meta device at each size, and the rules run on
  each trace. Used when the fast path cannot be trusted for this model.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from padlint.errors import PadlintError
from padlint.geometry.axis import AXIS_NAMES, axis_facts, transposed_axis_facts
from padlint.ir.trace import Trace
from padlint.geometry.lengths import Evaluation, LengthProgram, broadcast_break
from padlint.engine.rule import Rule
from padlint.engine.select import select_rules
from padlint.engine.run import run_rules
from padlint.ir.shapes import MAX_RANGE as MAX_SIZES, shape_str
from padlint.trace.frontend import _first_line

DEFAULT_RULES = ("PAD101", "PAD102")
SUGGEST_WINDOWS = (64, 256)  # `padlint check` looks this far either side for a clean size
SUGGEST_WINDOW = SUGGEST_WINDOWS[-1]


@dataclass
class AxisResult:
    """One axis of a sweep: which sizes are clean, which cannot run, and why the rest are not."""

    axis: str
    sizes: list[int]
    clean: list[int]
    invalid: dict[int, str] = field(default_factory=dict)       # size -> why it cannot run
    first_uneven: dict[int, str] = field(default_factory=dict)  # size -> first layer that fires

    def is_clean(self, n: int) -> bool:
        return n in set(self.clean)

    def nearest(self, n: int) -> tuple[int | None, int | None]:
        """The nearest clean sizes strictly below and above ``n`` among the swept sizes."""
        clean = np.asarray(self.clean, dtype=np.int64)
        below, above = clean[clean < n], clean[clean > n]
        return (int(below.max()) if below.size else None, int(above.min()) if above.size else None)

    def to_json(self) -> dict:
        return {"axis": self.axis, "clean": list(self.clean),
                "invalid": {str(k): v for k, v in self.invalid.items()},
                "first_uneven": {str(k): v for k, v in self.first_uneven.items()}}


@dataclass
class SweepResult:
    target: str
    input_shape: tuple[int, ...]              # the reference shape; other axes are held at it
    method: str                               # 'fast' | 'exact'
    rules: list[str]
    axis_results: list[AxisResult]
    why_exact: str | None = None
    notes: list[str] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)   # layer -> 'Conv2d k=3 s=2 p=1'

    def axis(self, name: str) -> AxisResult:
        for result in self.axis_results:
            if result.axis == name:
                return result
        raise KeyError(f"no axis {name!r}; swept {[r.axis for r in self.axis_results]}")

    def asked_lengths(self, asked=None) -> list[tuple[int, ...]]:
        """Spatial sizes asked about: the reference, or the given ones."""
        return list(asked) if asked else [tuple(self.input_shape[2:])]

    def to_json(self, asked=None) -> dict:
        names = AXIS_NAMES[len(self.input_shape) - 2]
        axes = []
        for r in self.axis_results:
            d = r.to_json()
            i = names.index(r.axis)
            d["nearest"] = {str(a[i]): list(r.nearest(a[i])) for a in self.asked_lengths(asked)}
            axes.append(d)
        d = {"target": self.target, "input_shape": list(self.input_shape), "method": self.method,
             "rules": list(self.rules), "axis_results": axes}
        if self.why_exact:
            d["why_exact"] = self.why_exact
        if self.notes:
            d["notes"] = list(self.notes)
        return d


# -- the fast path -------------------------------------------------------------------

def _scalar_facts(w, n: int):
    """One size's :class:`~padlint.geometry.AxisFacts` of a window axis (for rules that
    have no vector form)."""
    if w.transposed:
        return transposed_axis_facts(w.axis, n, w.kernel, w.stride, w.dilation, w.own_begin,
                                     w.own_end, w.output_padding)
    eb, ee = (int(v) for v in w.explicit_pads(n))
    return axis_facts(w.axis, n, w.kernel, w.stride, w.dilation, w.own_begin + eb, w.own_end + ee,
                      w.ceil_mode, eb, ee)


def _scalar_fires(rule: Rule, ev: Evaluation, w, layer, count: int) -> np.ndarray:
    """A rule without a vector form: its check, once per distinct input length."""
    n = np.broadcast_to(np.asarray(ev.values[w.src]), (count,))
    values, inverse = np.unique(n, return_inverse=True)
    hits = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        try:
            hits[i] = rule.check(layer, _scalar_facts(w, int(v))) is not None
        except ValueError:          # an empty output: the size is invalid anyway
            pass
    return hits[inverse]


def _window_fires(trace: Trace, ev: Evaluation, name: str, count: int,
                  rules: list[Rule]) -> tuple[np.ndarray, np.ndarray]:
    """Which window axes on axis ``name`` any of ``rules`` fires on, at each of ``count``
    evaluated sizes: (layer index per window, windows x sizes booleans)."""
    layers, rows = [], []
    for transposed in (False, True):
        windows = [w for w in trace.program.windows if w.axis == name and w.transposed == transposed]
        if not windows:
            continue
        fires = np.zeros((len(windows), count), dtype=bool)
        with np.errstate(all="ignore"):
            facts = SimpleNamespace(**ev.stacked_facts(windows, count))
            for rule in rules:
                if rule.vector is not None:
                    fires |= np.broadcast_to(np.asarray(rule.vector(facts), dtype=bool), fires.shape)
                else:
                    for i, w in enumerate(windows):
                        fires[i] |= _scalar_fires(rule, ev, w, trace.layers[w.layer], count)
        layers += [w.layer for w in windows]
        rows.append(fires)
    return (np.array(layers, dtype=np.int64),
            np.concatenate(rows) if rows else np.zeros((0, count), dtype=bool))


def fast_axis(trace: Trace, axis: int, sizes: np.ndarray, rules: list[Rule],
              reasons: bool = True) -> AxisResult:
    """One axis, every size at once, from the trace's length program (``reasons=False``
    leaves the invalid sizes' reasons empty, for speed)."""
    program: LengthProgram = trace.program
    name = AXIS_NAMES[len(trace.input_shape) - 2][axis]
    rules = [r for r in rules if r.scope == "axis"]
    ev = program.evaluate({axis: sizes})
    valid = ev.valid()
    layer, fires = _window_fires(trace, ev, name, len(sizes), rules)
    first = np.where(fires, layer[:, None], len(trace.layers)).min(axis=0, initial=len(trace.layers))
    first = np.where(valid & (first < len(trace.layers)), first, -1)
    names = [layer.name for layer in trace.layers]
    ops = [layer.op for layer in trace.layers]
    sizes_list = [int(v) for v in sizes]
    return AxisResult(
        name, sizes_list, [sizes_list[i] for i in np.flatnonzero(valid & (first < 0))],
        {sizes_list[i]: ev.reason(i, names, ops) if reasons else "" for i in np.flatnonzero(~valid)},
        {sizes_list[i]: names[first[i]] for i in np.flatnonzero(valid & (first >= 0))})


def _with_axis(shape, axis: int, n: int) -> tuple[int, ...]:
    shape = list(shape)
    shape[2 + axis] = int(n)
    return tuple(shape)


def fast_path_problem(front, trace: Trace) -> str | None:
    """Why the trace's length program cannot be trusted for other sizes, or None.

    The program must reproduce every recorded shape at the reference size. When its
    recording had to guess, it must also predict real runs at two other sizes exactly:
    the same calls, every output shape equal, and failure exactly where it fails."""
    program: LengthProgram | None = trace.program
    if program is None:
        return "no length program was recorded"
    if program.verdict is None:
        program.verdict = ("", _problem(front, trace, program))
    return program.verdict[1]


def _problem(front, trace: Trace, program: LengthProgram) -> str | None:
    if program.unmodelled:
        return program.unmodelled
    checks = [trace.input_shape]
    if program.uncertain:     # two other sizes, each with every axis a different length
        lead, spatial = tuple(trace.input_shape[:2]), trace.input_shape[2:]
        checks += [lead + tuple(v + 1 + 40 * i for i, v in enumerate(spatial)),
                   lead + tuple(2 * v + 1 + 24 * i for i, v in enumerate(spatial))]
    why = f"because it {program.uncertain[0]}" if program.uncertain else ""
    for shape in checks:
        ev = program.evaluate({i: v for i, v in enumerate(shape[2:])})
        predicted_valid = bool(ev.valid()[0])
        if shape == trace.input_shape:
            events = program.events
        else:
            try:
                events = front.run(shape, allow_cpu=trace.method == "cpu", program=True).program.events
            except Exception as err:  # noqa: BLE001 - failing where predicted is fine
                if predicted_valid:
                    return (f"the model fails at input {shape_str(shape[2:])} ({_first_line(err)}), "
                            f"which its lengths alone do not explain ({why or 'checked'})")
                continue
            if not predicted_valid:
                names = [layer.name for layer in trace.layers]
                ops = [layer.op for layer in trace.layers]
                return (f"the model runs at input {shape_str(shape[2:])}, where its length "
                        f"program predicts a failure ({ev.reason(0, names, ops)})")
            if len(events) != len(program.events) or any(
                    a[0] != b[0] for a, b in zip(events, program.events)):
                return f"the model runs other operations at input {shape_str(shape[2:])}"
        values = ev.values                 # plain ints: every input length is one number here
        for (op, where, syms, _), (_, _, _, got) in zip(program.events, events):
            want = tuple(values[s] for s in syms)
            if want != got:
                return (f"{where or op} ({op}) gives {shape_str(got)} at input "
                        f"{shape_str(shape[2:])}, where the length program predicts "
                        f"{shape_str(want)}")
    return None


# -- the exact path ------------------------------------------------------------------

def exact_axis(front, trace: Trace, axis: int, sizes, rules: list[Rule],
               prefix: str = "") -> AxisResult:
    """One axis, one traced meta-device run per size. ``prefix`` names the analysed part
    of the model (``backbone.`` of a detection model), as the reference trace does."""
    from padlint.trace.frontend import InputTooSmall
    name = AXIS_NAMES[len(trace.input_shape) - 2][axis]
    axis_rules = [r for r in rules if r.scope == "axis"]
    clean, invalid, first = [], {}, {}
    merges = trace.program is not None and bool(trace.program.merges)
    for n in sizes:
        n = int(n)
        try:
            t = front.run(_with_axis(trace.input_shape, axis, n), allow_cpu=trace.method == "cpu",
                          program=merges)
        except InputTooSmall as err:
            invalid[n] = str(err)
            continue
        except Exception as err:  # noqa: BLE001 - the model cannot run at this size
            invalid[n] = _first_line(err)
            continue
        broadcast = merges and t.program is not None and broadcast_break(trace.program, t.program)
        if broadcast:       # it runs only by broadcasting a length-1 map: not this model
            invalid[n] = broadcast
            continue
        hit = next((f.layer for f in run_rules(t, axis_rules) if f.axis == name), None)
        if hit is None:
            clean.append(n)
        else:
            first[n] = prefix + hit
    return AxisResult(name, [int(v) for v in sizes], clean, invalid, first)


# -- putting it together -------------------------------------------------------------

def check_sizes(sizes) -> np.ndarray:
    array = np.asarray(list(sizes) if not isinstance(sizes, np.ndarray) else sizes)
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        raise PadlintError("sizes must be a non-empty sequence of integers, e.g. range(32, 1025)")
    if (array < 1).any():
        raise PadlintError(f"sizes must be positive; got {int(array.min())}")
    if array.size > MAX_SIZES:
        raise PadlintError(f"{array.size} sizes is too many for one sweep (at most {MAX_SIZES}); "
                           "narrow the range or add a step")
    return np.unique(array.astype(np.int64))


def sweep_trace(front, trace: Trace, sizes, axes=None, rules=None, method: str = "auto",
                budget: float | None = None, target: str = "", prefix: str = "") -> SweepResult:
    """Sweep an already traced model. ``budget`` (seconds) refuses an exact-path sweep
    estimated to take longer."""
    sizes = check_sizes(sizes)
    rules = list(rules) if rules is not None else select_rules(DEFAULT_RULES)
    nd = len(trace.input_shape) - 2
    names = AXIS_NAMES[nd]
    indices = _axis_indices(axes, names, target)
    why = None if method == "exact" else fast_path_problem(front, trace)
    if method == "fast" and why:
        raise PadlintError(f"{target}: the fast path cannot be used: {why}")
    if method == "exact":
        why = "asked for"
    if why is None:
        results = [fast_axis(trace, i, sizes, rules) for i in indices]
        used = "fast"
    else:
        if budget is not None:
            start = time.perf_counter()
            front.run(trace.input_shape, allow_cpu=trace.method == "cpu")
            estimate = (time.perf_counter() - start) * len(sizes) * len(indices)
            if estimate > budget:
                raise PadlintError(
                    f"{target}: sweeping {len(sizes)} sizes x {len(indices)} "
                    f"{'axis' if len(indices) == 1 else 'axes'} needs the exact path ({why}), "
                    f"which would take about {_duration(estimate)}; pass --yes to run it, or "
                    "narrow --range or add a step (A:B:S)")
        results = [exact_axis(front, trace, i, sizes, rules, prefix) for i in indices]
        used = "exact"
    layers = {layer.name: layer.describe() for layer in trace.layers}
    return SweepResult(target, tuple(trace.input_shape), used, [r.code for r in rules], results,
                       why, [n.reason for n in trace.notes if n.kind == "partial"], layers)


def _axis_indices(axes, names, target: str = "") -> list[int]:
    if axes is None:
        return list(range(len(names)))
    wanted = [axes] if isinstance(axes, str) else list(axes)
    out = []
    for a in wanted:
        if str(a).upper() not in names:
            raise PadlintError(f"{target + ': ' if target else ''}no axis {a!r}: this model's "
                               f"spatial axes are {', '.join(names)}")
        out.append(names.index(str(a).upper()))
    return out


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def sweep(model_or_target, sizes=range(32, 1025), axis=None, input_size=None,
          rules=DEFAULT_RULES, train: bool = False, method: str = "auto") -> SweepResult:
    """Which input sizes are clean for one model (an nn.Module, class, factory, or a target
    that names exactly one model).

    ``sizes`` are swept on each spatial axis (``axis='H'`` picks one); the other axes
    are held at ``input_size`` (default: what the target declares, else 224). ``rules``
    are the codes (or prefixes) whose findings make a size unclean. ``method`` is
    'auto', 'fast' or 'exact'."""
    from padlint.api import DEFAULT_SIZE, prepare
    from padlint.ir.shapes import normalize_sizes
    chosen = select_rules(rules) if rules is not None else select_rules(DEFAULT_RULES)
    candidate = _one_model(model_or_target)
    prep = prepare(candidate, train)
    size = normalize_sizes(input_size)[0] if input_size is not None else (
        (candidate.input_sizes or [(DEFAULT_SIZE,)])[0])
    return sweep_prepared(prep, size, sizes, axis, chosen, method)


def _one_model(model_or_target, what: str = "a sweep"):
    """The one model a sweep target names (PadlintError for none or several)."""
    from padlint.api import _candidates
    candidates, _, errors = _candidates(model_or_target)
    if errors:
        raise PadlintError(errors[0][1])
    if len(candidates) != 1:
        names = ", ".join(c.target for c in candidates)
        raise PadlintError(f"{model_or_target}: defines {len(candidates)} models ({names}); "
                           f"{what} takes one: name it as path.py:Name")
    return candidates[0]


def sweep_prepared(prep, size, sizes, axis=None, rules=None, method: str = "auto",
                   budget: float | None = None) -> SweepResult:
    """Sweep a model built by :func:`padlint.api.prepare`, around reference ``size``."""
    from padlint.api import failure_message, trace_at
    try:
        trace = trace_at(prep, size, program=True)
    except Exception as err:  # noqa: BLE001 - one line, as everywhere
        raise PadlintError(failure_message(prep, size, err)) from err
    if trace.method == "none":
        raise PadlintError(f"{prep.candidate.target}: has no convolution or pooling to sweep")
    prefix = f"{prep.adapted.prefix}." if prep.adapted else ""
    return sweep_trace(prep.front, trace, sizes, axis, rules, method, budget,
                       prep.candidate.target, prefix)


def sweep_target(target: str, asked, sizes, axis, rules, method: str = "auto",
                 budget: float | None = None, train: bool = False):
    """The CLI's unit of work (run in a child process): an Outcome whose results are the
    SweepResult and the spatial sizes asked about."""
    from padlint.api import DEFAULT_SIZE, Outcome, prepare
    from padlint.ir.shapes import full_shape
    try:
        candidate = _one_model(target)
        prep = prepare(candidate, train)
        wanted = asked or candidate.input_sizes or [(DEFAULT_SIZE,)]
        if sizes is None:
            n = full_shape(wanted[0], prep.model, target)
            n = n[2] if n and len(n) > 2 else wanted[0][-1]
            sizes = range(max(1, n // 2), 2 * n + 1)
        result = sweep_prepared(prep, wanted[0], sizes, axis, select_rules(rules), method, budget)
        lengths = [result.input_shape[2:]] if prep.adapted else [
            tuple(full_shape(a, prep.model, target)[2:]) for a in wanted]
        return Outcome(results=[result, lengths])
    except PadlintError as err:
        return Outcome(errors=[{"target": target, "message": str(err)}])


# -- suggestions for `padlint check` ---------------------------------------------------

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


# -- why no size is clean --------------------------------------------------------------

FIRES = {"PAD101": "is uneven", "PAD102": "drops input"}   # a rule firing, as a verb phrase


def no_clean_why(trace: Trace, axis: int, sizes: np.ndarray, rules: list[Rule]) -> str:
    """Why none of ``sizes`` is clean on one axis, in one clause: the merges whose branches
    agree only at some sizes (so the model runs only there), then the layers that the
    rules fire on at every size it runs at ('the branches of add agree only at even
    sizes, and down (Conv2d k=3 s=2 p=1) is uneven at all of them')."""
    program: LengthProgram = trace.program
    name = AXIS_NAMES[len(trace.input_shape) - 2][axis]
    rules = [r for r in rules if r.scope == "axis"]
    ev = program.evaluate({axis: sizes})
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
    layer = _window_fires(trace, ev, name, len(valid), rules)[0]
    each = {r.code: _window_fires(trace, ev, name, len(valid), [r])[1][:, valid] for r in rules}
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
