"""The facts behind ``padlint report``: one model analysed, verified and measured at its
input size, verified again at a comparison size (the nearest clean one, or the nearest
uneven one when the input is clean), its mean kernels and patches, and a size sweep
around the input. Nothing here renders: :mod:`padlint.page` turns a :class:`Visual` into
HTML.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace

import torch

from padlint.api import lint_trace
from padlint.blindspots.grid import FLOP_BUDGET
from padlint.blindspots.mode import PADDING_MODES
from padlint.blindspots.stage import map_prepared
from padlint.engine.noqa import Suppressor
from padlint.engine.run import run_fact_rules
from padlint.engine.select import select_rules
from padlint.errors import PadlintError
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.report import ModelResult, Report
from padlint.ir.shapes import shape_str
from padlint.ir.trace import TraceNote
from padlint.sizes.failures import failure_message, traced
from padlint.sizes.result import SweepResult
from padlint.sizes.sweep import sweep_prepared
from padlint.stats.datasets import DataSource
from padlint.stats.facts import measure, open_model
from padlint.stats.patches import batch_tensor
from padlint.trace.inputs import full_shape
from padlint.verification.baselines import Images
from padlint.verification.options import resolve_device, verify_options
from padlint.verification.stage import clean_shape, verify_failure, verify_result

SWEEP_HALF_WIDTH = 32        # the size strip covers n-32 … n+32 on every axis by default
SWEEP_BUDGET = 30.0          # seconds an exact-path sweep may take before it is left out
DEFAULT_LIMIT = 64           # samples of --data the report runs
# The report's blind-spot maps (six, the zeros swap often free) on a coarser grid than
# ``padlint blindspots``'s: a third of its FLOPs a map, about 12 x 12 positions of resnet18
# at 224 (about 25 s for all six on 2 cores), and at most 12 positions an axis
BLINDSPOT_BUDGET = FLOP_BUDGET / 3
BLINDSPOT_MOST = 12


@dataclass
class Visual:
    """Everything one report page shows."""

    result: ModelResult                    # at the analysed size, verified
    other: ModelResult | None = None       # at the comparison size, verified
    other_kind: str | None = None          # 'clean' or 'uneven': what the comparison size is
    other_note: str | None = None          # why there is no comparison
    sweep: SweepResult | None = None       # around the analysed size
    sweep_note: str | None = None          # why there is no sweep
    blindspots_note: str | None = None     # why there are no blind-spot maps
    rules: dict = field(default_factory=dict)   # code -> Rule, for the docs
    weights: str | None = None
    data: str | None = None
    samples: int = 0
    seconds: float = 0.0

    @property
    def target(self) -> str:
        return self.result.target

    @property
    def uneven(self) -> bool:
        """Whether a PAD101/PAD102 finding flags the analysed size."""
        return flagged(self.result)


def flagged(result) -> bool:
    return any(f.rule in ("PAD101", "PAD102") for f in result.findings)


def _materialise(source, limit: int) -> tuple[list[torch.Tensor], int]:
    """The first ``limit`` samples of a data source as CPU batches (they run twice: once
    for the feature maps, once for the patches)."""
    batches, seen = [], 0
    for item in source.batches:
        x = batch_tensor(item, source.label).detach().cpu()
        if seen + len(x) > limit:
            x = x[:limit - seen]
        batches.append(x)
        seen += len(x)
        if seen >= limit:
            break
    return batches, seen


def _images(batches: list[torch.Tensor], label: str):
    array = torch.cat(batches).float().numpy()
    return Images(label, array=array)


def nearest_uneven(sweep, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The nearest input (every axis moved by the same step) at which some axis of the
    sweep is uneven; None when the whole swept range is clean."""
    spatial = list(shape[2:])
    names = AXIS_NAMES[len(spatial)]
    results = {r.axis: r for r in sweep.axis_results}
    swept = {a: set(results[a].sizes) for a in results}
    for step in itertools.chain.from_iterable((d, -d) for d in range(1, 1 + 4 * SWEEP_HALF_WIDTH)):
        moved = [n + step for n in spatial]
        if any(names[i] in swept and m not in swept[names[i]] for i, m in enumerate(moved)):
            continue
        if any(names[i] in results and not results[names[i]].is_clean(m)
               and m not in results[names[i]].invalid for i, m in enumerate(moved)):
            return tuple(shape[:2]) + tuple(moved)
    return None


def _sweep(prep, size, shape, sweep_range):
    if shape is None:
        return None, "the model has no spatial input to sweep"
    n = max(shape[2:])
    sizes = sweep_range if sweep_range is not None else range(
        max(1, min(shape[2:]) - SWEEP_HALF_WIDTH), n + SWEEP_HALF_WIDTH + 1)
    try:
        return sweep_prepared(prep, size, sizes, budget=SWEEP_BUDGET), None
    except PadlintError as err:
        return None, str(err)


def _blindspots(prep, loaded, size, device):
    """The blind-spot maps (as built, at the nearest clean size, under every padding mode)
    on a smaller grid than ``padlint blindspots`` draws, or None and why not."""
    kernels = "real" if loaded is not None else "symmetric"
    try:
        facts, _, _ = map_prepared(prep, loaded, size, kernels, torch_device=device,
                                   modes=list(PADDING_MODES), budget=BLINDSPOT_BUDGET,
                                   most=BLINDSPOT_MOST)
    except PadlintError as err:
        return None, str(err)
    return facts, None


def _trace(prep, size, direct: bool):
    """The trace at ``size``; ``direct``: a detection model's backbone at exactly that
    size, not at what the model's own transform would make of such an image."""
    if not (direct and prep.adapted):
        return traced(prep, size, program=True, coverage=True)
    shape = tuple(size)
    note = TraceNote("partial", prep.adapted.prefix, f"{prep.adapted.prefix} run at "
                     f"{'x'.join(map(str, shape[2:]))} directly, for comparison")
    try:
        return prep.adapted.rename(prep.front.run(shape, program=True, coverage=True), note)
    except Exception as err:  # noqa: BLE001 - one line, as everywhere
        raise PadlintError(failure_message(prep, size, err)) from err


def _verified(prep, size, rules, options, direct: bool = False):
    trace = _trace(prep, size, direct)
    result = lint_trace(prep, trace, rules)
    if not trace.layers:
        raise PadlintError(f"{prep.candidate.target}: has no convolution or pooling to show")
    try:
        return verify_result(prep, result, options, rules)
    except PadlintError:
        raise
    except Exception as err:  # noqa: BLE001
        raise PadlintError(verify_failure(prep.candidate.target, err)) from err


def gather(model_or_target, input_size=None, weights: str | None = None, data=None,
           limit: int | None = None, device: str = "auto", baselines=None, batch_size: int = 8,
           sweep_range=None, select=None, ignore=None, severity=None, config=None,
           strict: bool = True, train: bool = False, compare: bool = True, step=None,
           blind_spots: bool = True) -> Visual:
    """Analyse, verify and measure the one model ``model_or_target`` names (see
    :func:`padlint.stats.analyze` for ``weights``, ``data`` and ``limit``; ``limit``
    defaults to 64 samples here). ``step(text)`` is told what runs next;
    ``blind_spots=False`` leaves the blind-spot maps out. Raises PadlintError with one line."""
    step = step or (lambda text: None)

    start = time.perf_counter()
    rules = select_rules(select, ignore, severity)
    torch_device = resolve_device(device, "--device")
    options = replace(verify_options(device, baselines, None, batch_size, "--device"), probe_maps=True)
    if limit is not None and limit < 1:
        raise PadlintError(f"--limit {limit}: give a positive number of samples")
    prep, loaded, source, size = open_model(model_or_target, input_size, weights, data, strict,
                                            batch_size, train, "padlint report")
    target = prep.candidate.target
    batches: list[torch.Tensor] = []
    samples = 0
    if source is not None:
        batches, samples = _materialise(source, limit or DEFAULT_LIMIT)
        options = replace(options, images=_images(batches, source.label))
    step(f"verifying {prep.candidate.target}")
    result = _verified(prep, size, rules, options)
    shape = tuple(result.input_shape)
    stats = None
    if loaded is not None or source is not None:
        fed = DataSource(source.label, iter(batches), batches[0], samples) if source else None
        step("mean kernels and patches")
        stats = measure(prep, result.trace, fed, None, torch_device, None, loaded)
        extra = run_fact_rules("stats", stats, result.trace, [r for r in rules if r.scope == "stats"])
        result = replace(result, findings=result.findings + extra, stats=stats)
    blindspots, blindspots_note = None, None
    if blind_spots:
        step("mapping blind spots")
        blindspots, blindspots_note = _blindspots(prep, loaded, size, torch_device)
    if blindspots is not None:
        extra = run_fact_rules("blindspots", blindspots, result.trace,
                               [r for r in rules if r.scope == "blindspots"])
        result = replace(result, findings=result.findings + extra, blindspots=blindspots)
    result = Suppressor(config).apply(Report([result])).results[0]
    step("sweeping input sizes")
    sweep, sweep_note = _sweep(prep, size, full_shape(size, prep.model, target), sweep_range)
    visual = Visual(result, sweep=sweep, sweep_note=sweep_note, weights=loaded.label if loaded else None,
                    data=source.label.removeprefix("--data ") if source else None, samples=samples,
                    rules={r.code: r for r in select_rules()}, blindspots_note=blindspots_note)
    if compare:
        other: tuple[int, ...] | None
        if flagged(result):
            other, kind = clean_shape(result), "clean"
            if tuple(other) == shape:
                other = None
                visual.other_note = "no clean input size was found near the analysed one"
        else:
            other, kind = (nearest_uneven(sweep, shape) if sweep is not None else None), "uneven"
            if other is None:
                visual.other_note = ("no input size in the swept range is uneven" if sweep is not None
                                     else "no size sweep to find an uneven size in")
        if other is not None:
            plain = replace(options, images=None)
            # a detection model's backbone runs at the other size itself: its transform would
            # resize such an image to the same backbone input again
            step(f"verifying at {shape_str(other[2:])} for comparison")
            compared = _verified(prep, tuple(shape[:2]) + tuple(other[2:]), rules, plain, direct=True)
            visual.other = Suppressor(config).apply(Report([compared])).results[0]
            visual.other_kind = kind
            if prep.adapted:
                visual.other_note = (f"{prep.adapted.prefix} run at {shape_str(other[2:])} directly: "
                                     f"the model's own transform gives it {shape_str(shape[2:])}")
    visual.seconds = time.perf_counter() - start
    return visual

