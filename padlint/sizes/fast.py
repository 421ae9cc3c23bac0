"""The sweep's fast path: the length program recorded in one traced run, evaluated with
numpy for every size at once, read by the rules' vector forms; and when it can be trusted."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from padlint.engine.rule import Rule
from padlint.errors import first_line
from padlint.geometry.axis import AXIS_NAMES, axis_facts, transposed_axis_facts
from padlint.geometry.lengths import Evaluation, LengthProgram
from padlint.ir.shapes import shape_str
from padlint.ir.trace import Trace
from padlint.sizes.result import AxisResult


def _scalar_facts(w, n: int):
    """One size's :class:`~padlint.geometry.axis.AxisFacts` of a window axis (for rules that
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


def window_fires(trace: Trace, ev: Evaluation, name: str, count: int,
                  rules: list[Rule]) -> tuple[np.ndarray, np.ndarray]:
    """Which window axes on axis ``name`` any of ``rules`` fires on, at each of ``count``
    evaluated sizes: (layer index per window, windows x sizes booleans)."""
    assert trace.program is not None, "the fast path needs the trace's length program"
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


def evaluate_axis(trace: Trace, axis: int, sizes: np.ndarray,
                  rules: list[Rule]) -> tuple[LengthProgram, str, list[Rule], Evaluation]:
    """The trace's length program evaluated at ``sizes`` on one axis: the program, the
    axis's name, the axis rules among ``rules``, and the evaluation."""
    program = trace.program
    assert program is not None, "the fast path needs the trace's length program"
    name = AXIS_NAMES[len(trace.input_shape) - 2][axis]
    return program, name, [r for r in rules if r.scope == "axis"], program.evaluate({axis: sizes})


def fast_axis(trace: Trace, axis: int, sizes: np.ndarray, rules: list[Rule],
              reasons: bool = True) -> AxisResult:
    """One axis, every size at once, from the trace's length program (``reasons=False``
    leaves the invalid sizes' reasons empty, for speed)."""
    program, name, rules, ev = evaluate_axis(trace, axis, sizes, rules)
    valid = ev.valid()
    layer, fires = window_fires(trace, ev, name, len(sizes), rules)
    first = np.where(fires, layer[:, None], len(trace.layers)).min(axis=0, initial=len(trace.layers))
    first = np.where(valid & (first < len(trace.layers)), first, -1)
    names = [layer.name for layer in trace.layers]
    ops = [layer.op for layer in trace.layers]
    sizes_list = [int(v) for v in sizes]
    return AxisResult(
        name, sizes_list, [sizes_list[i] for i in np.flatnonzero(valid & (first < 0))],
        {sizes_list[i]: ev.reason(int(i), names, ops) if reasons else "" for i in np.flatnonzero(~valid)},
        {sizes_list[i]: names[first[i]] for i in np.flatnonzero(valid & (first >= 0))})


def with_axis(shape, axis: int, n: int) -> tuple[int, ...]:
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
                    return (f"the model fails at input {shape_str(shape[2:])} ({first_line(err, typed=True)}), "
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
