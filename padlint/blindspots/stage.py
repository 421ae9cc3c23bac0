"""``padlint blindspots`` as a function: :func:`analyze` builds the model, runs the map at
the asked size, at the nearest clean size and under each asked padding mode, and
returns a :class:`padlint.Report` whose result carries the :class:`Blindspots` facts
and the PAD203 findings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from padlint.blindspots.facts import Blindspots, ResponseMap
from padlint.blindspots.grid import FLOP_BUDGET, default_batch, default_count, positions
from padlint.blindspots.mode import PADDING_MODES
from padlint.blindspots.run import Settings, background, response_map
from padlint.blindspots.stimulus import BACKGROUND, DEFAULT, STIMULUS, Stimulus, parse_stimulus
from padlint.engine.noqa import Suppressor
from padlint.engine.registry import all_rules
from padlint.engine.run import run_fact_rules, run_rules
from padlint.engine.select import select_rules
from padlint.errors import PadlintError, first_line
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.report import ModelResult, Report
from padlint.ir.shapes import shape_str
from padlint.ir.trace import Trace
from padlint.sizes.failures import traced
from padlint.sizes.suggest import Suggestion, suggest_sizes
from padlint.stats.facts import open_model
from padlint.verification.options import resolve_device

EXPLAINING = ("PAD101", "PAD102", "PAD103")     # the static findings a blind spot can come from
DTYPES = ("float32", "float64")


def padding_modes(spec: str | None) -> list[str]:
    if spec is None:
        return []
    modes = list(PADDING_MODES) if spec == "all" else [m.strip() for m in spec.split(",") if m.strip()]
    bad = [m for m in modes if m not in PADDING_MODES]
    if bad:
        raise PadlintError(f"--padding-mode {bad[0]!r}: use {', '.join(PADDING_MODES)} or all")
    return modes


def threshold() -> float:
    """PAD203's threshold (its YAML): blind below this share of the map's median."""
    rule = all_rules().get("PAD203")
    return float(rule.params.get("threshold", 0.25)) if rule is not None else 0.25


def nearest_clean(suggested: Suggestion | None, size: tuple[int, ...]) -> tuple[tuple[int, ...] | None, str]:
    """The nearest clean spatial size (or None and why not)."""
    if suggested is None:
        return None, "padlint cannot work out this model's clean sizes on its fast path"
    if suggested.is_clean():
        return None, f"{shape_str(size)} is clean"
    options = [tuple([s] * len(size)) if isinstance(s, int) else tuple(s) for s in suggested.sizes()]
    if not options:
        return None, suggested.text()
    return min(options, key=lambda o: (sum(abs(a - b) for a, b in zip(o, size)), [-v for v in o])), ""


def analyze(model_or_target, input_size=None, weights: str | None = None, kernels: str | None = None,
            stimulus: str | Stimulus = DEFAULT, step: int | None = None, output: int | None = None,
            device: str = "auto", padding_mode: str | None = None, dtype: str = "float32",
            batch_size: int | None = None, select=None, ignore=None, severity=None, strict: bool = True,
            train: bool = False, config=None, clean: bool = True,
            progress: Callable[[int, int], None] | None = None) -> Report:
    """The blind-spot map of one model (see ``padlint blindspots --help``). ``kernels`` is
    'symmetric' (the default without ``weights``: the arithmetic alone) or 'real' (the
    default with them); ``progress(done, total)`` counts positions. Raises PadlintError."""
    rules = [r for r in select_rules(select, ignore, severity) if r.scope == "blindspots"]
    check_options(kernels, dtype, step, output)
    stim = parse_stimulus(stimulus) if isinstance(stimulus, str) else stimulus
    modes = padding_modes(padding_mode)
    torch_device = resolve_device(device, "--device")
    prep, loaded, _, size = open_model(model_or_target, input_size, weights, None, strict,
                                       train=train, what="padlint blindspots")
    facts, trace, suggested = map_prepared(
        prep, loaded, size, kernels or ("real" if weights else "symmetric"), stim, step, output,
        torch_device, modes, dtype, batch_size, clean, progress)
    findings = run_fact_rules("blindspots", facts, trace, rules)
    result = ModelResult(prep.candidate.target, trace, findings, suggested, blindspots=facts)
    return Suppressor(config).apply(Report([result]))


def check_options(kernels: str | None, dtype: str, step: int | None, output: int | None) -> None:
    if kernels not in (None, "symmetric", "real"):
        raise PadlintError(f"--kernels {kernels!r}: use symmetric or real")
    if dtype not in DTYPES:
        raise PadlintError(f"--dtype {dtype!r}: use float32 or float64")
    if step is not None and step < 1:
        raise PadlintError(f"--step {step}: give a positive number of pixels")
    if output is not None and output < 0:
        raise PadlintError(f"--output {output}: give an index from 0")


def map_prepared(prep, loaded, size, kernels: str = "symmetric", stim: Stimulus | None = None,
                 step: int | None = None, output: int | None = None,
                 torch_device: torch.device | None = None, modes: list[str] | None = None,
                 dtype: str = "float32", batch_size: int | None = None, clean: bool = True,
                 progress: Callable[[int, int], None] | None = None,
                 budget: float = FLOP_BUDGET, most: int | None = None,
                 ) -> tuple[Blindspots, Trace, Suggestion | None]:
    """The maps of an opened model (:func:`padlint.stats.facts.open_model`) at ``size``:
    as built, at the nearest clean size and under each of ``modes``; the default grid
    spends ``budget`` FLOPs a map, with at most ``most`` positions an axis. Returns the facts, the trace at ``size`` and its
    suggested sizes. Raises PadlintError."""
    modes = modes or []
    stim = stim or parse_stimulus(DEFAULT)
    torch_device = torch_device or torch.device("cpu")
    trace = traced(prep, size, program=True)
    target = prep.candidate.target
    static_rules = [r for r in select_rules(list(EXPLAINING)) if r.scope == "axis"]
    suggested = suggest_sizes(prep.front, trace, static_rules)
    static = run_rules(trace, static_rules, suggested)
    shape = trace.input_shape
    nd = len(shape) - 2
    axes = AXIS_NAMES[nd]
    if any(n < stim.size for n in shape[2:]):
        raise PadlintError(f"--stimulus {stim.spec}: it is larger than the input {shape_str(shape[2:])}")
    settings = Settings(torch_device, getattr(torch, dtype), kernels == "symmetric", stim, output,
                        batch_size or (16 if torch_device.type == "cpu" else 64))
    model = prep.model
    home = next((p.device for p in model.parameters()), torch.device("cpu"))
    limit = threshold()
    # with every conv padding zeros already, the zeros swap is the model as built
    own_zeros = not any(isinstance(m, nn.modules.conv._ConvNd) and m.padding_mode != "zeros"
                        for m in model.modules())
    modes_before = [(m, m.training) for m in model.modules()]
    try:
        model.to(torch_device)
        model.eval()            # batch statistics would couple the positions of one batch
        base = background(model, shape, settings, target, None, count_flops=True)
        count = default_count(base.flops, nd, budget) if step is None else None
        if count is not None and most is not None:
            count = min(count, most)
        if batch_size is None:
            settings = replace(settings, batch_size=default_batch(base.flops, settings.batch_size))

        def grid(of: tuple[int, ...]) -> dict[str, list[int]]:
            return {a: positions(n, count=count, step=step, extent=stim.size) for a, n in zip(axes, of[2:])}

        clean_size, clean_why = nearest_clean(suggested, tuple(shape[2:])) if clean else (None, "not asked")
        clean_shape = tuple(shape[:2]) + clean_size if clean_size else None
        runs = ([(shape, None)] + ([(clean_shape, None)] if clean_shape else [])
                + [(shape, m) for m in modes if not (m == "zeros" and own_zeros)])
        total = sum(_count(grid(s)) for s, _ in runs)
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], total)

        def one(label: str, at: tuple[int, ...], mode: str | None, known=None) -> ResponseMap:
            where = grid(at)
            try:
                b = known or background(model, at, settings, target, mode)
                response = response_map(model, at, where, settings, b, target, mode, advance)
            except RuntimeError as err:
                if mode is None:
                    raise
                advance(_count(where))
                return ResponseMap(label, at, where, np.zeros(0), limit, mode,
                                   f"{mode} padding cannot run on this model: {first_line(err)}")
            return ResponseMap(label, at, where, response, limit, mode)

        main = one("as built", shape, None, base)
        clean_map = (one(f"clean size {shape_str(clean_size)}", clean_shape, None)
                     if clean_shape and clean_size else None)
        remedies = {m: (replace(main, label=f"{m} padding", padding_mode=m) if m == "zeros" and own_zeros
                        else one(f"{m} padding", shape, m)) for m in modes}
    except PadlintError:
        raise
    except Exception as err:  # noqa: BLE001 - the user's model failed on a real input
        raise PadlintError(f"{target}: running it at {shape_str(shape[2:])} failed "
                           f"({first_line(err, typed=True)}); run with --debug for the traceback") from err
    finally:
        model.to(home)
        for m, flag in modes_before:
            m.training = flag
    facts = Blindspots(main, kernels, stim, BACKGROUND, STIMULUS,
                       f"{base.name} ({'x'.join(map(str, base.shape))})", base.name if output is None else "",
                       base.shape, dtype, loaded.label if loaded else None, clean_map, clean_why,
                       remedies, [f for f in static if f.rule in EXPLAINING], output)
    return facts, trace, suggested


def _count(where: dict[str, list[int]]) -> int:
    total = 1
    for p in where.values():
        total *= len(p)
    return total
