"""Input-size sweeps: at which input sizes is every layer of a model clean?

A size is *clean* on an axis when no selected rule (PAD101 and PAD102 by default) fires
on that axis at any layer. Each spatial axis is swept on its own, the others held at the
reference input size.

Two paths give the same answers:

- **fast**: the :class:`~padlint.geometry.lengths.LengthProgram` recorded in one traced run is
  evaluated with numpy for every size at once, and the rules' vector forms read the
  resulting per-layer arrays. A program whose recording had to guess (a shape read, a
  call it does not model) is first checked against real runs at two other sizes.
- **exact**: the model is traced on the meta device at each size, and the rules run on
  each trace. Used when the fast path cannot be trusted for this model.
"""
from __future__ import annotations

import time

import numpy as np

from padlint.engine.select import select_rules
from padlint.errors import PadlintError
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.report import Outcome
from padlint.ir.shapes import MAX_RANGE as MAX_SIZES
from padlint.ir.shapes import normalize_sizes
from padlint.ir.trace import Trace
from padlint.load.target import one_model
from padlint.sizes.exact import exact_axis
from padlint.sizes.failures import traced
from padlint.sizes.fast import fast_axis, fast_path_problem
from padlint.sizes.result import DEFAULT_RULES, SweepResult
from padlint.trace.build import prepare
from padlint.trace.inputs import full_shape


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
    chosen = select_rules(rules) if rules is not None else select_rules(DEFAULT_RULES)
    candidate = one_model(model_or_target)
    prep = prepare(candidate, train)
    size = candidate.sizes(normalize_sizes(input_size) if input_size is not None else None)[0]
    return sweep_prepared(prep, size, sizes, axis, chosen, method)


def sweep_prepared(prep, size, sizes, axis=None, rules=None, method: str = "auto",
                   budget: float | None = None) -> SweepResult:
    """Sweep a model built by :func:`padlint.trace.build.prepare`, around reference ``size``."""
    trace = traced(prep, size, program=True)
    if trace.method == "none":
        raise PadlintError(f"{prep.candidate.target}: has no convolution or pooling to sweep")
    prefix = f"{prep.adapted.prefix}." if prep.adapted else ""
    return sweep_trace(prep.front, trace, sizes, axis, rules, method, budget,
                       prep.candidate.target, prefix)


def _spatial(shape: tuple[int, ...] | None) -> tuple[int, ...]:
    assert shape is not None, "a model that was prepared has a full input shape"
    return tuple(shape[2:])


def sweep_target(target: str, asked, sizes, axis, rules, method: str = "auto",
                 budget: float | None = None, train: bool = False):
    """The CLI's unit of work (run in a child process): an Outcome whose results are the
    SweepResult and the spatial sizes asked about."""
    try:
        candidate = one_model(target)
        prep = prepare(candidate, train)
        wanted = candidate.sizes(asked)
        if sizes is None:
            shape = full_shape(wanted[0], prep.model, target)
            n = shape[2] if shape and len(shape) > 2 else wanted[0][-1]
            sizes = range(max(1, n // 2), 2 * n + 1)
        result = sweep_prepared(prep, wanted[0], sizes, axis, select_rules(rules), method, budget)
        lengths = [result.input_shape[2:]] if prep.adapted else [
            _spatial(full_shape(a, prep.model, target)) for a in wanted]
        return Outcome(results=[result, lengths])
    except PadlintError as err:
        return Outcome(errors=[{"target": target, "message": str(err)}])
