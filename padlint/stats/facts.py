"""Learned-weight and input-patch asymmetries (SCIENCE.md §4): facts for PAD301/PAD302.

- :func:`mean_kernels`: the mean k×k kernel of every convolution module (the weights
  averaged over output and input channels; ``absolute=True`` for the mean of |W|).
- :func:`mean_patches` (from :mod:`padlint.stats.patches`): the mean k×k input patch of every
  convolution call over a dataset.
- :func:`layer_stats` joins both with the static findings of the same layers into
  :class:`LayerStats` facts, which the PAD3xx rules read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from padlint.engine.noqa import Suppressor
from padlint.engine.run import run_fact_rules, run_rules
from padlint.engine.select import select_rules
from padlint.errors import PadlintError, first_line
from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.measures import flip_asymmetry
from padlint.geometry.words import sides
from padlint.ir.report import ModelResult, Report
from padlint.ir.shapes import normalize_sizes, shape_str
from padlint.ir.trace import Layer
from padlint.load.target import one_model
from padlint.sizes.failures import traced
from padlint.stats.checkpoint import load_weights
from padlint.stats.datasets import open_data
from padlint.stats.patches import PatchGeometry, collect_patches, mean_patches  # noqa: F401 - public API
from padlint.trace.build import prepare
from padlint.trace.inputs import full_shape
from padlint.verification.options import resolve_device

__all__ = ["mean_kernels", "mean_patches", "analyze", "LayerStats", "Stats", "kernel_stats",
           "significance", "tilt", "heavier_side"]


def conv_modules(model: nn.Module) -> list[tuple[str, nn.modules.conv._ConvNd]]:
    """The (non-transposed) convolution modules of ``model`` with a weight, in registration order."""
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, nn.modules.conv._ConvNd) and not m.transposed
            and isinstance(getattr(m, "weight", None), torch.Tensor)]


def mean_kernels(model: nn.Module, absolute: bool = False) -> dict[str, np.ndarray]:
    """Every convolution module's weights averaged over output and input channels: a
    k×k (or k, k×k×k) float64 numpy array keyed by the module's qualified name.
    ``absolute=True`` averages |W| instead. Weights are the same in every process of a
    distributed job, so nothing is reduced."""
    out = {}
    with torch.no_grad():
        for name, m in conv_modules(model):
            w = m.weight.detach().to(torch.float64)
            out[name] = (w.abs() if absolute else w).mean(dim=(0, 1)).cpu().numpy()
    return out


@dataclass
class KernelFacts:
    """The mean kernel of one convolution and the noise of that mean."""

    mean: np.ndarray
    mean_abs: np.ndarray
    noise: np.ndarray | None          # standard error of each entry (None: a single kernel)
    channels: int                     # kernels averaged (out × in/groups)


def kernel_stats(model: nn.Module) -> dict[str, KernelFacts]:
    facts = {}
    with torch.no_grad():
        for name, m in conv_modules(model):
            w = m.weight.detach().to(torch.float64).cpu()
            flat = w.reshape(-1, *w.shape[2:])
            count = flat.shape[0]
            noise = (flat.std(dim=0) / count ** 0.5).numpy() if count > 1 else None
            facts[name] = KernelFacts(flat.mean(dim=0).numpy(), flat.abs().mean(dim=0).numpy(),
                                      noise, count)
    return facts


def _halves(x: np.ndarray, axis: int) -> tuple[float, float]:
    """Sums of the first and the last half of ``x`` along ``axis`` (the middle slice left out)."""
    k = x.shape[axis]
    return (float(np.take(x, range(0, k // 2), axis=axis).sum()),
            float(np.take(x, range(k - k // 2, k), axis=axis).sum()))


def heavier_side(x: np.ndarray, axis: int, name: str) -> str | None:
    """Which end of ``axis`` carries more weight ('top', 'left' …), None when balanced."""
    first, last = _halves(x, axis)
    if first == last:
        return None
    return sides(name)[0] if first > last else sides(name)[1]


def tilt(x: np.ndarray, axis: int) -> float:
    """Signed balance along ``axis``: (first half − last half) / ||X − mean(X)||, the middle
    slice left out; > 0 when the top (H) or left (W) end is heavier. Unlike the flip
    asymmetry it keeps the direction, so it can be averaged over models or seeds."""
    first, last = _halves(x, axis)
    spread = float(np.linalg.norm(x - x.mean()))
    return (first - last) / spread if spread > 0 else 0.0


def significance(mean: np.ndarray, noise: np.ndarray | None, axis: int) -> float | None:
    """``||X - flip X||`` in units of what channel noise alone would give it (its expected
    size when the true mean kernel is symmetric): above ~3 the asymmetry is not noise."""
    if noise is None:
        return None
    diff = mean - np.flip(mean, axis=axis)
    var = noise ** 2 + np.flip(noise, axis=axis) ** 2
    k = mean.shape[axis]
    middle = np.arange(k) == k - 1 - np.arange(k)     # the slice mirrored onto itself
    own = np.broadcast_to(np.expand_dims(middle, tuple(i for i in range(mean.ndim) if i != axis)),
                          mean.shape)
    expected = float(np.sqrt(var[~own].sum())) if (~own).any() else 0.0
    if expected == 0.0:
        return float("inf") if np.linalg.norm(diff) > 0 else 0.0
    return float(np.linalg.norm(diff)) / expected


@dataclass
class LayerStats:
    """The §4 facts of one convolution call (or module, when no data was run)."""

    name: str
    op: str
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    axes: tuple[str, ...]
    mean_kernel: np.ndarray | None = None
    mean_abs_kernel: np.ndarray | None = None
    asymmetry: dict = field(default_factory=dict)           # axis -> flip asymmetry of the mean kernel
    heavier: dict = field(default_factory=dict)             # axis -> 'top' | 'bottom' | … | None
    tilt: dict = field(default_factory=dict)                # axis -> signed balance, > 0: top/left
    significance: dict = field(default_factory=dict)        # axis -> float | None
    channels: int = 0
    mean_patch: np.ndarray | None = None
    patch_asymmetry: dict = field(default_factory=dict)
    patch_relative: dict = field(default_factory=dict)      # axis -> ||P - flip P|| / ||P||
    coverage: np.ndarray | None = None                      # share of positions each tap reads input
    uneven: dict = field(default_factory=dict)              # axis -> ['PAD101', …] at this size
    layer: Layer | None = None                              # the trace's Layer, when matched

    @property
    def downsampling(self) -> bool:
        return any(s > 1 for s in self.stride)

    @property
    def source(self):
        return getattr(self.layer, "source", None)

    def describe(self) -> str:
        if self.layer is not None:
            return self.layer.describe()
        show = lambda v: "x".join(map(str, dict.fromkeys(v)))   # noqa: E731
        return f"{self.op} k={show(self.kernel)} s={show(self.stride)}"

    def to_json(self) -> dict:
        """The facts at full float64 precision: JSON is compared by programs (the text
        view rounds for reading)."""
        def arr(a):
            return None if a is None else np.asarray(a, dtype=np.float64).tolist()

        def num(d):
            return {k: (None if v is None else float(v)) for k, v in d.items()}
        return {"mean_kernel": arr(self.mean_kernel), "mean_abs_kernel": arr(self.mean_abs_kernel),
                "mean_patch": arr(self.mean_patch), "asymmetry": num(self.asymmetry),
                "heavier": dict(self.heavier), "tilt": num(self.tilt),
                "significance": num(self.significance),
                "patch_asymmetry": num(self.patch_asymmetry), "kernel_size": list(self.kernel),
                "stride": list(self.stride), "uneven": dict(self.uneven)}


@dataclass
class Stats:
    """The §4 facts of one model: weights and data named, layers in execution order."""

    layers: list[LayerStats]
    weights: str | None = None           # the checkpoint it came from ('ckpt.pt[state_dict]')
    data: str | None = None              # the --data spec
    samples: int = 0
    skipped_1x1: int = 0                 # 1×1 convolutions: no spatial extent to be asymmetric
    missing: list = field(default_factory=list)      # checkpoint keys the model lacked / had extra
    unexpected: list = field(default_factory=list)

    def layer(self, name: str) -> LayerStats | None:
        return next((s for s in self.layers if s.name == name), None)

    def to_json(self) -> dict:
        return {"weights": self.weights, "data": self.data, "samples": self.samples,
                "skipped_1x1": self.skipped_1x1, "missing_keys": self.missing,
                "unexpected_keys": self.unexpected}


def _patch_measures(s: LayerStats, patch: np.ndarray, geometry: PatchGeometry | None) -> None:
    nd = patch.ndim
    s.mean_patch = patch
    s.coverage = geometry.coverage if geometry is not None else None
    scale = float(np.linalg.norm(patch))
    for i, axis in enumerate(s.axes):
        s.patch_asymmetry[axis] = flip_asymmetry(patch, i, nd) if patch.shape[i] > 1 else 0.0
        diff = float(np.linalg.norm(patch - np.flip(patch, axis=i)))
        s.patch_relative[axis] = diff / scale if scale > 0 else 0.0


def layer_stats(model: nn.Module, trace=None, static_findings=(), patches=None,
                geometry=None) -> tuple[list[LayerStats], int]:
    """One :class:`LayerStats` per convolution with a kernel wider than 1, in the order of
    the trace (convolutions it did not see follow), and the count of 1×1 ones passed over.
    ``patches``/``geometry`` come from a :class:`~padlint.stats.patches.PatchCollector`."""
    kernels = kernel_stats(model)
    modules = dict(conv_modules(model))
    layers = {layer.name: layer for layer in (trace.layers if trace is not None else ())}
    order = [n for n in layers if n in kernels or (patches and n in patches)]
    order += [n for n in kernels if n not in layers]
    order += [n for n in (patches or {}) if n not in order]
    uneven: dict = {}
    for f in static_findings:
        if f.rule in ("PAD101", "PAD102") and f.axis:
            uneven.setdefault(f.layer, {}).setdefault(f.axis, []).append(f.rule)
    out, skipped = [], 0
    for name in order:
        base = name.split("#")[0]
        facts = kernels.get(base)
        layer = layers.get(name)
        geo = (geometry or {}).get(name)
        module = modules.get(base)
        kernel = tuple(module.kernel_size) if module is not None else geo.kernel if geo else None
        if kernel is None or all(k == 1 for k in kernel):
            skipped += kernel is not None
            continue
        if module is not None:
            stride, op = tuple(module.stride), type(module).__name__
        else:
            assert geo is not None                    # the kernel came from it
            stride, op = geo.stride, geo.op
        axes = AXIS_NAMES[len(kernel)]
        s = LayerStats(name, op, kernel, stride, axes, uneven=uneven.get(name, {}), layer=layer)
        if facts is not None:
            s.mean_kernel, s.mean_abs_kernel, s.channels = facts.mean, facts.mean_abs, facts.channels
            for i, axis in enumerate(axes):
                wide = facts.mean.shape[i] > 1
                s.asymmetry[axis] = flip_asymmetry(facts.mean, i, len(axes)) if wide else 0.0
                s.heavier[axis] = heavier_side(facts.mean, i, axis) if wide else None
                s.tilt[axis] = tilt(facts.mean, i) if wide else 0.0
                s.significance[axis] = significance(facts.mean, facts.noise, i) if wide else None
        if patches and name in patches:
            _patch_measures(s, patches[name], geo)
        out.append(s)
    return out, skipped


def collect(model: nn.Module, batches, limit=None, progress=None, where: str = "data"):
    """Patch means and geometry of ``model`` over ``batches``, and the samples seen."""
    collector, seen = collect_patches(model, batches, limit, progress, where)
    return collector.means(), collector.geometry, seen


def open_model(model_or_target, input_size=None, weights: str | None = None, data=None,
               strict: bool = True, batch_size: int = 8, train: bool = False,
               what: str = "padlint stats"):
    """The one model ``model_or_target`` names, built, with ``weights`` loaded and ``data``
    opened: ``(prepared, loaded, source, size)``. ``size`` is the input size to analyse: the
    data's own, unless ``input_size`` is given (a contradicting one is an error)."""
    candidate = one_model(model_or_target, what)
    prep = prepare(candidate, train)
    target = candidate.target
    loaded = load_weights(prep.model, weights, target, strict) if weights else None
    if input_size is not None:
        sizes = normalize_sizes(input_size)
        if len(sizes) != 1:
            shown = input_size if isinstance(input_size, str) else ",".join(map(shape_str, sizes))
            raise PadlintError(f"--input-size {shown}: {what} analyses one input size; give one "
                               "(padlint check runs each size of a list)")
        asked = sizes[0]
    else:
        asked = candidate.sizes()[0]
    shape = full_shape(asked, prep.model, target)
    source = (open_data(data, shape, batch_size, target, sized=input_size is not None)
              if data is not None else None)
    size = asked
    if source is not None and shape is not None and source.spatial != tuple(shape[2:]):
        if input_size is not None:
            raise PadlintError(f"{source.label}: its inputs are {shape_str(source.spatial)}, but "
                               f"--input-size is {shape_str(shape[2:])}; drop --input-size (the "
                               "data's size is analysed) or resize the data")
        size = (shape[1],) + source.spatial
    return prep, loaded, source, size


def measure(prep, trace, source=None, limit: int | None = None, device=None, progress=None,
            loaded=None) -> Stats:
    """The :class:`Stats` of a model built by :func:`padlint.api.prepare` and traced at the
    size of ``source`` (a :class:`~padlint.stats.datasets.DataSource`, or None for the kernels
    only). ``loaded`` is what :func:`~padlint.stats.checkpoint.load_weights` returned."""
    static = run_rules(trace, [r for r in select_rules(["PAD101", "PAD102"]) if r.scope == "axis"])
    patches = geometry = None
    seen = 0
    target = prep.candidate.target
    if source is not None:
        home = next((p.device for p in prep.model.parameters()), torch.device("cpu"))
        known = [n for n in (limit, source.total) if n]
        total = min(known) if known else None
        advance = (lambda n: progress(n, total)) if progress is not None else None
        try:
            prep.model.to(device or home)
            patches, geometry, seen = collect(prep.model, source.batches, limit, advance, source.label)
        except PadlintError:
            raise
        except Exception as err:  # noqa: BLE001 - the user's data or model failed mid-stream
            raise PadlintError(f"{target}: running it on {source.label} failed ({first_line(err, typed=True)}); "
                               "run with --debug for the traceback") from err
        finally:
            prep.model.to(home)               # a model passed in goes back where it was
    layers, skipped = layer_stats(prep.model, trace, static, patches, geometry)
    return Stats(layers, loaded.label if loaded else None,
                 source.label.removeprefix("--data ") if source else None, seen, skipped,
                 loaded.missing if loaded else [], loaded.unexpected if loaded else [])


def analyze(model_or_target, input_size=None, weights: str | None = None, data=None,
            limit: int | None = None, select=None, ignore=None, severity=None, strict: bool = True,
            batch_size: int = 8, device: str = "cpu", progress=None, config=None, train: bool = False):
    """``padlint stats`` as a function: load ``weights`` (a checkpoint path) into the one
    model ``model_or_target`` names, stream ``data`` (a SPEC string, a tensor, or an
    iterable of batches) through it, and return a :class:`padlint.Report` whose result
    carries ``stats`` (:class:`Stats`) and the PAD3xx findings. ``progress(seen, total)`` is
    called after each batch (``total``: the samples to come, when known). Raises PadlintError."""

    rules = [r for r in select_rules(select, ignore, severity) if r.scope == "stats"]
    torch_device = resolve_device(device, "--device")
    prep, loaded, source, size = open_model(model_or_target, input_size, weights, data, strict,
                                            batch_size, train, "padlint stats")
    trace = traced(prep, size)
    stats = measure(prep, trace, source, limit, torch_device, progress, loaded)
    findings = run_fact_rules("stats", stats, trace, rules)
    result = ModelResult(prep.candidate.target, trace, findings, stats=stats)
    return Suppressor(config).apply(Report([result]))
