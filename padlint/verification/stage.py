"""The verify stage: run the real model to confirm or refute each static prediction.

1. The symmetric-kernel probe (:mod:`padlint.verification.probe`) at the analysed size and at the
   nearest clean size. Each PAD101/PAD102 finding is *confirmed* when its layer (or the
   explicit pad feeding it) is an origin on its axis, or, when an earlier origin hides
   it, when the layer alone turns a symmetric input asymmetric. Origins that no static
   rule predicts are the facts PAD201 reads.
2. Real-weights baselines (:mod:`padlint.verification.baselines`): aggregated feature maps of every
   spatial op and the SCIENCE.md §3 measures of each windowed layer's map, which PAD202
   reads.

Nothing here decides a finding: the facts go to the PAD2xx checks and the statuses onto
the static findings.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field, replace

import torch

from padlint.engine.registry import all_rules
from padlint.engine.run import run_rules, run_verify_rules
from padlint.engine.select import select_rules
from padlint.errors import PadlintError, first_line
from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.measures import measure_map, round_sig
from padlint.ir.report import ModelResult
from padlint.ir.shapes import shape_str
from padlint.verification.baselines import baseline_batches, image_batches, run_maps
from padlint.verification.options import VerifyOptions, resolve_device
from padlint.verification.probe import ProbeRun, run_probe

VERIFIED_RULES = ("PAD101", "PAD102")


@dataclass
class Verification:
    """The facts the verify stage found for one model at one input size."""

    device: str
    probe: ProbeRun
    clean: ProbeRun | None
    baselines: list[str]
    layer_names: list[str]                               # windowed index -> static layer name
    predicted: dict                                      # windowed index -> axes a PAD1xx rule flags
    maps: dict = field(default_factory=dict)             # baseline -> node name -> mean map
    measures: dict = field(default_factory=dict)         # baseline -> layer name -> MapMeasures
    unexplained: list = field(default_factory=list)      # (Node, axis): origins no static rule predicts
    statuses: dict = field(default_factory=dict)         # (layer, axis) -> verification dict
    no_clean: str = ""                                   # why there is no clean probe, when known

    def node_name(self, node) -> str:
        return self.layer_names[node.index] if node.index is not None and node.index < len(
            self.layer_names) else node.name

    def to_json(self) -> dict:
        def probe_json(run: ProbeRun | None):
            if run is None:
                return None
            asym = run.asymmetric()
            worst = max((v for n in run.nodes for v in n.asym.values()), default=0.0)
            return {"input_shape": list(run.input_shape), "dtype": run.dtype,
                    "tolerance": run.tolerance, "windowed": run.windowed,
                    "asymmetric": [self.node_name(n) for n in asym], "worst": round_sig(worst),
                    "origins": [{"node": self.node_name(n), "op": n.op, "axes": list(n.origin),
                                 "asymmetry": {a: round_sig(n.asym[a]) for a in n.origin},
                                 "cause": n.cause} for n in run.origins()],
                    "not_followed": [self.layer_names[i] for i in run.untracked if i < len(self.layer_names)]}
        layers: dict[str, dict] = {}
        for baseline, per_layer in self.measures.items():
            for name, m in per_layer.items():
                layers.setdefault(name, {})[baseline] = m.to_json()
        return {"device": self.device, "baselines": list(self.baselines),
                "probe": probe_json(self.probe), "clean_probe": probe_json(self.clean),
                "maps": layers}


def _libc():
    """glibc, for its allocator controls; None elsewhere."""
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def release_memory() -> None:
    """Hand the memory one run freed back to the system before the next run, which has
    other tensor sizes and would otherwise grow the heap around the freed blocks (glibc
    keeps them; ``malloc_trim`` returns them). A no-op where there is no glibc."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def steady_allocator(threshold: int = 1 << 20) -> None:
    """Serve every allocation of ``threshold`` bytes or more with its own mapping, which
    goes back to the system when freed (glibc's ``M_MMAP_THRESHOLD``). glibc otherwise
    raises that threshold as large blocks are freed and serves the next ones from a heap
    that cannot shrink around live blocks, so a sequence of forwards of different
    shapes (the probes after the baselines) can peak at 1.5x one forward, at random.
    Only the CLI's child process, which exits after its target, sets this."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-3, threshold)     # M_MMAP_THRESHOLD


def _predicted(result: ModelResult) -> dict[int, tuple[str, ...]]:
    """Windowed index -> the axes on which some axis rule (selected or not) fires."""
    index = {layer.name: i for i, layer in enumerate(result.layers)}
    out: dict[int, set] = {}
    for f in run_rules(result.trace, [r for r in select_rules() if r.scope == "axis"]):
        if f.layer in index and f.axis:
            out.setdefault(index[f.layer], set()).add(f.axis)
    return {i: tuple(sorted(axes)) for i, axes in out.items()}


def clean_shape(result: ModelResult) -> tuple[int, ...]:
    """The nearest clean input: per flagged axis, the closer of the nearest clean sizes
    below and above (above on a tie); ``n + 1`` where the sweep gave none, a guess that
    :func:`comparison_shape` checks before the probe runs there."""
    shape = list(result.input_shape)
    names = AXIS_NAMES[len(shape) - 2]
    s = result.suggested
    flagged = {f.axis for f in result.findings if f.rule in VERIFIED_RULES}
    for i, axis in enumerate(names):
        n = shape[2 + i]
        if s is not None and axis in s.axes and not s.clean.get(axis, True):
            below, above = s.axes[axis]
            options = [v for v in (above, below) if v is not None]
            if options:
                shape[2 + i] = min(options, key=lambda v: abs(v - n))
                continue
        if s is None and axis in flagged:
            shape[2 + i] = n + 1
    return tuple(shape)


def _guessed_shape(result: ModelResult, step: int) -> tuple[int, ...]:
    """The input with every axis that a PAD101/PAD102 finding flags moved by ``step``."""
    shape = list(result.input_shape)
    names = AXIS_NAMES[len(shape) - 2]
    flagged = {f.axis for f in result.findings if f.rule in VERIFIED_RULES}
    for i, axis in enumerate(names):
        if axis in flagged:
            shape[2 + i] = max(1, shape[2 + i] + step)
    return tuple(shape)


def is_clean(front, trace, shape: tuple[int, ...]) -> bool:
    """Does neither PAD101 nor PAD102 fire anywhere at input ``shape``? One traced
    meta-device run, as the sweep's exact path does; False where the model cannot run."""
    rules = [r for r in select_rules(list(VERIFIED_RULES)) if r.scope == "axis"]
    try:
        t = front.run(shape, allow_cpu=trace.method == "cpu")
    except Exception:  # noqa: BLE001 - a size the model cannot run at is not clean
        return False
    return not run_rules(t, rules)


def comparison_shape(front, result: ModelResult) -> tuple[tuple[int, ...] | None, str]:
    """The clean input the probe compares with, or None and why there is none.

    The fast sweep's nearest clean size is clean by construction. Where the sweep gave
    none (it cannot be trusted for this model), one size up and one down are guesses:
    each is used only when a traced run finds it clean, since a comparison at a size
    that is not clean shows the same asymmetry and confirms nothing."""
    shape = tuple(result.input_shape)
    if result.suggested is not None:
        target = clean_shape(result)
        return (target, "") if target != shape else (None, "no clean input size nearby to compare with")
    guesses = [g for g in dict.fromkeys((clean_shape(result), _guessed_shape(result, -1))) if g != shape]
    for guess in guesses:
        if is_clean(front, result.trace, guess):
            return guess, ""
    tried = " and ".join(shape_str(g[2:]) for g in guesses)
    verb = "is" if len(guesses) == 1 else "are"
    return None, ("no clean input size known to compare with (the size sweep cannot be trusted "
                  f"for this model, and {tried} {verb} not clean either)")


def border_tolerance() -> float:
    """The deviation from a map's interior above which a cell belongs to its border
    artifact: PAD202's ``tolerance`` in its YAML, read whether or not PAD202 is selected,
    so the JSON measures do not depend on the selection."""
    rule = all_rules().get("PAD202")
    return float(rule.params.get("tolerance", 0.1)) if rule is not None else 0.1


def _status(v: Verification, k: int, axis: str, layer) -> dict:
    """The verification of a PAD101/PAD102 finding on ``axis`` of ``layer``, the ``k``-th
    windowed call of the trace."""
    probe, clean = v.probe, v.clean
    base = {"input_shape": list(probe.input_shape[2:]), "dtype": probe.dtype,
            "tolerance": probe.tolerance}
    node = probe.layer(k)
    if k in probe.untracked:
        return base | {"status": "not-checked", "reason": "its input went through a layout "
                       "change that the probe does not follow (tokens, windows)"}
    if node is None or node.shape != tuple(layer.output_shape):
        return base | {"status": "not-checked", "reason": "the real forward did not run this "
                       "layer the way the static trace did"}
    pad = probe.feeding_pad(k)
    out = {"probe": "model", "asymmetry": round_sig(node.asym.get(axis, 0.0))}
    if axis in node.origin or (pad is not None and axis in pad.origin):
        status = "confirmed"
        if pad is not None and axis in pad.origin:
            out["asymmetry"] = round_sig(pad.asym[axis])
    elif (k, axis) in probe.alone:
        value, kind = probe.alone[(k, axis)]
        out = {"probe": "layer", "layer_input": kind, "asymmetry": round_sig(value)}
        status = "confirmed" if value > probe.tolerance else "not-observed"
    else:
        status = "not-observed"
    out = base | {"status": status} | out
    if clean is not None:
        out["clean_shape"] = list(clean.input_shape[2:])
        cnode = clean.layer(k)
        if out["probe"] == "layer" and (k, axis) in clean.alone:
            out["clean_asymmetry"] = round_sig(clean.alone[(k, axis)][0])
        elif cnode is not None:
            out["clean_asymmetry"] = round_sig(cnode.asym.get(axis, 0.0))
    return out


def _unexplained(run: ProbeRun, predicted: dict) -> list:
    found = []
    for node in run.origins():
        owner = node.index if node.index is not None else node.feeds
        expected = predicted.get(owner, ()) if owner is not None else ()
        found += [(node, axis) for axis in node.origin if axis not in expected]
    return found


def verify_result(prep, result: ModelResult, options: VerifyOptions, rules) -> ModelResult:
    """``result`` with each PAD101/PAD102 finding's ``verification`` filled in, the
    verification facts attached, and the PAD2xx findings the selected rules make of them."""
    if options.steady_memory:
        steady_allocator()
    module = prep.front.model
    device = resolve_device(options.device)
    shape = tuple(result.input_shape)
    nd = len(shape) - 2
    predicted = _predicted(result)
    target, no_clean = (comparison_shape(prep.front, result) if any(
        f.rule in VERIFIED_RULES and f.axis for f in result.findings) else (None, ""))
    prefer = prep.candidate.file
    param = next(module.parameters(), None)
    home = param.device if param is not None else torch.device("cpu")
    if device.type == home.type:
        device = home                 # a model already on cuda:1 stays there
    modes = [(m, m.training) for m in module.modules()]
    module.train(prep.front.train)
    try:
        if home != device:
            module.to(device)
        index = {layer.name: i for i, layer in enumerate(result.layers)}
        verified: dict[int, tuple] = {}
        for f in result.findings:
            if f.rule in VERIFIED_RULES and f.axis and f.layer in index:
                verified[index[f.layer]] = verified.get(index[f.layer], ()) + (f.axis,)
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        runs = [(b, baseline_batches(b, shape, options.batch_size)) for b in options.baselines]
        if options.images is not None:
            runs.append(("images", image_batches(options.images, shape, options.batch_size,
                                                 prep.candidate.target)))
        # Full batches first: smaller runs then reuse the memory they freed, so the peak
        # stays that of one plain forward of the batch.
        runs.sort(key=lambda run: run[0] not in ("random", "simplified", "images"))
        seen = []
        for name, batches in runs:
            seen.append((name, *run_maps(module, batches, device, dtype, nd, prefer)))
            release_memory()
        probe = run_probe(module, shape, device, verified, prefer, maps=options.probe_maps)
        release_memory()
        kinds = {key: kind for key, (_, kind) in probe.alone.items()}
        clean = run_probe(module, target, device, verified, prefer, kinds,
                          options.probe_maps) if target is not None else None
    finally:
        if home != device:
            module.to(home)
        for m, flag in modes:
            m.training = flag
    v = Verification(str(device), probe, clean, [], [layer.name for layer in result.layers], predicted,
                     no_clean=no_clean)
    tolerance = border_tolerance()
    for name in list(options.baselines) + ["images"]:
        for seen_name, maps, order in seen:
            if seen_name != name:
                continue
            v.baselines.append(name)
            v.maps[name] = {v.node_name(order[key]): m for key, m in maps.items()}
            v.measures[name] = {v.node_name(node): measure_map(maps[key], tolerance)
                                for key, node in order.items() if node.index is not None}
    v.unexplained = _unexplained(probe, predicted)
    index = {name: i for i, name in enumerate(v.layer_names)}
    findings = []
    for f in result.findings:
        if f.rule in VERIFIED_RULES and f.axis and f.layer in index:
            status = _status(v, index[f.layer], f.axis, result.layers[index[f.layer]])
            v.statuses[(f.layer, f.axis)] = status
            f = replace(f, verification=status)
        findings.append(f)
    findings += run_verify_rules(v, result.trace, rules)
    return replace(result, findings=findings, verification=v)


def verify_failure(target: str, err: Exception) -> str:
    """One line for a failure of the verify stage."""
    if isinstance(err, PadlintError):
        return str(err)
    return (f"{target}: verification failed ({first_line(err, typed=True)}); "
            "run with --debug for the traceback")
