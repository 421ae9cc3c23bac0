"""``padlint.analyze``: load -> trace -> geometry -> rules, for one target or model."""
from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field, replace
from typing import Iterable

from torch import nn

from padlint.trace.adapters import adapt
from padlint.errors import PadlintError
from padlint.geometry.axis import AXIS_NAMES
from padlint.load.target import Candidate, candidates_in_module, import_file, load_target
from padlint.ir.trace import Trace
from padlint.ir.report import ModelResult, Report
from padlint.engine.rule import Rule
from padlint.engine.select import select_rules
from padlint.engine.run import run_rules
from padlint.ir.shapes import (declared_channels, full_shape, gives_channels, model_layout, normalize_sizes, shape_str)
from padlint.trace.frontend import (FrontEnd, ForwardFailed, GeometryMismatch, InputTooSmall, smallest_working_size)

DEFAULT_SIZE = 224


def _candidates(model_or_target) -> tuple[list[Candidate], list[str], list[tuple[str, str]]]:
    if isinstance(model_or_target, (str, os.PathLike)):
        loaded = load_target(os.fspath(model_or_target))
        return loaded.candidates, loaded.skipped, loaded.errors
    if isinstance(model_or_target, nn.Module):
        return [Candidate(type(model_or_target).__name__, lambda: model_or_target)], [], []
    if callable(model_or_target):
        name = getattr(model_or_target, "__name__", type(model_or_target).__name__)
        return [Candidate(name, model_or_target)], [], []
    raise PadlintError(f"cannot analyze a {type(model_or_target).__name__}: pass an nn.Module, "
                       "a model class or factory, a file, a folder or a module:attr spec")


def _too_small(front: FrontEnd, candidate: Candidate, shape, err: InputTooSmall) -> PadlintError:
    smallest, axes = smallest_working_size(front, shape, err)
    if smallest is None:
        hint = "no input size up to 65536 works"
    elif len(axes) == len(shape) - 2:
        hint = f"the smallest input that works is {smallest}"
    else:
        names = AXIS_NAMES[len(shape) - 2]
        hint = f"the smallest {'x'.join(names[a] for a in axes)} that works is {smallest}"
    return PadlintError(f"{candidate.target}: input {shape_str(shape[2:])} is too small: {err}; {hint}")


@dataclass
class Prepared:
    """A built model, the part of it padlint analyses, and its front end."""

    candidate: Candidate
    model: nn.Module
    adapted: object
    front: FrontEnd


def prepare(candidate: Candidate, train: bool = False) -> Prepared:
    """Build and trace one candidate (raises PadlintError)."""
    model = candidate.instantiate()
    adapted = adapt(model)
    front = FrontEnd(adapted.module if adapted else model, candidate.sites, candidate.file, train)
    return Prepared(candidate, model, adapted, front)


def trace_at(prep: Prepared, size: tuple[int, ...], program: bool = False,
             coverage: bool = False) -> Trace:
    """The trace of one input size (a size as given: 224, (224, 320), a full shape …).
    Channels the size states are used as given; without them the first convolution's
    channels are a guess, and when the forward fails with those, the channels the model
    declares, then 1 and 3, are tried. Raises InputTooSmall, GeometryMismatch,
    ForwardFailed or PadlintError; the first three carry the ``input_shape`` they got."""
    model, adapted, front = prep.model, prep.adapted, prep.front
    shape = full_shape(size, model, prep.candidate.target)
    if shape is None:             # no conv or pool anywhere: nothing to analyse
        return Trace((), "none", size)
    if adapted:
        shape, note = adapted.input_shape(shape)
        return adapted.rename(front.run(shape, program=program, coverage=coverage), note)
    try:
        return _run_at(front, shape, program=program, coverage=coverage)
    except ForwardFailed:
        if gives_channels(size, len(shape) - 2):
            raise                 # what the user states wins: no guessing
        for channels in _other_channels(model, shape[1]):
            try:
                return _run_at(front, (shape[0], channels) + shape[2:], program=program,
                               coverage=coverage)
            except ForwardFailed:
                continue
        raise


def _run_at(front: FrontEnd, shape: tuple[int, ...], **kwargs) -> Trace:
    """``front.run(shape)``; a failure carries the shape (``err.input_shape``), so that
    its message and size hints name the input that really failed."""
    try:
        return front.run(shape, **kwargs)
    except (InputTooSmall, GeometryMismatch, ForwardFailed) as err:
        err.input_shape = tuple(shape)
        raise


FALLBACK_CHANNELS = (1, 3)      # grayscale and RGB: what a stem before the first conv takes


def _other_channels(model: nn.Module, guessed: int) -> list[int]:
    """Channel counts to try when the first convolution's (``guessed``) do not run: the
    model's declared ones (timm's ``pretrained_cfg``), then 1 and 3."""
    tried = [declared_channels(model), *FALLBACK_CHANNELS]
    return [c for i, c in enumerate(tried) if c is not None and c != guessed and c not in tried[:i]]


def _failed_shape(prep: Prepared, size, err: Exception) -> tuple[int, ...]:
    return getattr(err, "input_shape", None) or full_shape(size, prep.model, prep.candidate.target)


def failure_message(prep: Prepared, size, err: Exception) -> str:
    """One line for a failure of :func:`trace_at`."""
    target = prep.candidate.target
    if isinstance(err, PadlintError):
        return str(err)
    if isinstance(err, InputTooSmall):
        return str(_too_small(prep.front, prep.candidate, _failed_shape(prep, size, err), err))
    if isinstance(err, GeometryMismatch):
        return f"{target}: padlint bug: {err}; please report it"
    if isinstance(err, ForwardFailed):   # the model's own forward fails, even for real
        shape = _failed_shape(prep, size, err)
        shown = shape[1:] if gives_channels(size, len(shape) - 2) else shape[2:]
        hint = None if prep.adapted else (_channels_hint(prep, size, shape)
                                          or _sizes_hint(prep, size, shape))
        return (f"{target}: its forward fails at input {shape_str(shown)} {err}; "
                f"{hint or 'fix the forward'} (run with --debug for the traceback)")
    return (f"{target}: padlint failed on it ({type(err).__name__}: {err}); "
            "please report this with the output of --debug")


# -- what to say when the forward fails: channels and sizes at which it runs -------------

def _runs(front: FrontEnd, shape: tuple[int, ...]) -> bool:
    """Whether the forward runs at ``shape`` on the meta device (shapes only: milliseconds)."""
    try:
        front.run(shape, allow_cpu=False)
    except Exception:  # noqa: BLE001 - any failure means: not at this shape
        return False
    return True


def _channels_hint(prep: Prepared, size, shape: tuple[int, ...]) -> str | None:
    """When the channels the user gave are not the first convolution's: the channels it
    runs with (the first convolution's, the declared ones, 1, 3), as a size to give."""
    nd = len(shape) - 2
    try:
        first = model_layout(prep.model)[1]
    except PadlintError:
        return None
    if not gives_channels(size, nd) or first in (None, shape[1]):
        return None
    spatial = shape_str(shape[2:])
    for channels in [first] + _other_channels(prep.model, first):
        if channels != shape[1] and _runs(prep.front, (shape[0], channels) + shape[2:]):
            if channels == first:
                return (f"the model's first convolution takes {first} channels: give {spatial} "
                        f"or {first}x{spatial}")
            return (f"it runs with {channels} channel{'s' * (channels != 1)} (its first "
                    f"convolution takes {first}): give {channels}x{spatial}")
    return None


COMMON_SIZES = (28, 32, 64, 96, 128, 160, 192, 224, 256, 299, 384, 512)
MAX_PROBES = 64              # meta runs one size hint may take
PROBE_SECONDS = 10.0         # and the time they may take (a large model's run is a second)
LARGEST_PROBE = 4096
EXAMPLES_LINTED = 8          # runnable sizes linted to find a clean example


class SizeProbe:
    """Meta-device runs of one model at inputs of one size ``s`` on every spatial axis
    (the batch and channels of ``shape``): whether the forward runs, and the features
    each ``nn.Linear`` gets on its first call. At most MAX_PROBES runs in PROBE_SECONDS."""

    def __init__(self, front: FrontEnd, shape: tuple[int, ...]):
        self.front, self.shape = front, tuple(shape)
        self.deadline = time.monotonic() + PROBE_SECONDS
        self.ran: dict[int, bool] = {}
        self.features: dict[int, dict[int, int]] = {}     # s -> id(Linear) -> features

    def at(self, s: int) -> tuple[int, ...]:
        return self.shape[:2] + (s,) * (len(self.shape) - 2)

    def runs(self, s: int) -> bool | None:
        """Whether it runs at ``s``; None when the probes are spent."""
        if s not in self.ran:
            if len(self.ran) >= MAX_PROBES or time.monotonic() > self.deadline:
                return None
            seen: dict[int, int] = {}

            def hook(module, args):
                if isinstance(module, nn.Linear) and args and hasattr(args[0], "shape"):
                    seen.setdefault(id(module), args[0].shape[-1])
            handle = nn.modules.module.register_module_forward_pre_hook(hook)
            try:
                self.ran[s] = _runs(self.front, self.at(s))
            finally:
                handle.remove()
            self.features[s] = seen
        return self.ran[s]

    def features_of(self, s: int, key: int) -> int | None:
        """The features Linear ``key`` gets at ``s`` (0 when the forward stops before it:
        too small); None when the probes are spent."""
        if self.runs(s) is None:
            return None
        return self.features[s].get(key, 0)


def _smallest_where(pred, start: int) -> int | None:
    """The smallest s >= 1 where ``pred`` (false, then true as s grows) holds; None when
    none up to LARGEST_PROBE does or the probes run out (pred gives None)."""
    lo, hi = 0, max(1, start)
    while True:
        ok = pred(hi)
        if ok is None:
            return None
        if ok:
            break
        lo, hi = hi, hi * 2
        if hi > LARGEST_PROBE:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok = pred(mid)
        if ok is None:
            return None
        lo, hi = (lo, mid) if ok else (mid, hi)
    return hi


def linear_sizes(probe: SizeProbe, s0: int) -> range:
    """The sizes at which the first ``nn.Linear`` that gets the wrong number of features at
    ``s0`` (after a flatten) gets its ``in_features``. Its features never shrink as the
    input grows, so bisection finds where they reach in_features and where they pass it."""
    probe.runs(s0)
    linears = {id(m): m for m in probe.front.model.modules() if isinstance(m, nn.Linear)}
    key = next((k for k, n in probe.features.get(s0, {}).items()
                if k in linears and n != linears[k].in_features), None)
    if key is None:
        return range(0)
    want = linears[key].in_features

    def reaches(s):
        n = probe.features_of(s, key)
        return None if n is None else n >= want

    def passes(s):
        n = probe.features_of(s, key)
        return None if n is None else n > want

    lo = _smallest_where(reaches, s0)
    hi = _smallest_where(passes, s0) if lo is not None else None
    if lo is None or hi is None or probe.features_of(lo, key) != want:
        return range(0)
    return range(lo, hi)


def runnable_sizes(probe: SizeProbe, s0: int) -> list[int]:
    """Sizes the model runs at: the common sizes, and those that give the first
    mismatched ``nn.Linear`` its in_features (the whole range when both its ends run:
    the layers after the Linear see the same shapes; else each size of it that runs)."""
    derived = linear_sizes(probe, s0)
    sizes = set()
    if derived and probe.runs(derived[0]) and probe.runs(derived[-1]):
        sizes.update(derived)
    else:
        sizes.update(s for s in derived if probe.runs(s))
    sizes.update(s for s in COMMON_SIZES if probe.runs(s))
    return sorted(sizes)


def size_ranges(sizes: list[int], limit: int = 6) -> str:
    """``[32, 44, 45, 46, 47, 64]`` -> ``'32, 44–47, 64'`` (at most ``limit`` parts)."""
    parts, start = [], None
    for i, s in enumerate(sizes):
        start = s if start is None else start
        if i + 1 == len(sizes) or sizes[i + 1] != s + 1:
            parts.append(str(s) if s == start else f"{start}–{s}")
            start = None
    return ", ".join(parts[:limit]) + (", …" if len(parts) > limit else "")


def clean_example(probe: SizeProbe, sizes: list[int], s0: int) -> int:
    """The runnable size nearest ``s0`` that padlint finds clean (nothing at or above warning
    under the default rules): of the EXAMPLES_LINTED nearest, the first that is clean, or
    the nearer of its nearest clean sizes (the fast sweep's) that runs; else the nearest."""
    from padlint.sizes.sweep import suggest_sizes
    nearest = sorted(sizes, key=lambda s: (abs(s - s0), s))
    rules = select_rules()
    for s in nearest[:EXAMPLES_LINTED]:
        try:
            trace = probe.front.run(probe.at(s), allow_cpu=False, program=True)
        except Exception:  # noqa: BLE001 - it ran a moment ago; then it is no example
            continue
        if not any(f.at_least("warning") for f in run_rules(trace, rules)):
            return s
        suggested = suggest_sizes(probe.front, trace, rules)
        near = [v for v in (suggested.square or ()) if v in sizes] if suggested else []
        if near:
            return min(near, key=lambda v: (abs(v - s0), v))
    return nearest[0]


def _sizes_hint(prep: Prepared, size, shape: tuple[int, ...]) -> str | None:
    """'it runs at 44–47, e.g. 44: use --input-size 44 or declare it in PADLINT_TARGETS',
    or None when no size tried runs."""
    s0 = max(shape[2:])
    probe = SizeProbe(prep.front, shape)
    sizes = runnable_sizes(probe, s0)
    if not sizes:
        return None
    example = clean_example(probe, sizes, s0)
    nd = len(shape) - 2
    given = size[:len(size) - nd] if gives_channels(size, nd) else ()
    asked = shape_str(given + ((example,) * nd if len(size) > 1 else (example,)))
    return (f"it runs at {size_ranges(sizes)}, e.g. {example}: use --input-size {asked} "
            "or declare it in PADLINT_TARGETS")


def lint_candidate(candidate: Candidate, sizes: list[tuple[int, ...]] | None, rules: list[Rule],
                   train: bool = False, verify=None) -> tuple[list[ModelResult], list[dict]]:
    """Every input size of one model. Failures become error entries, never exceptions.
    ``verify`` (a :class:`padlint.verification.VerifyOptions`) adds the verify stage."""
    results, errors = [], []
    try:
        prep = prepare(candidate, train)
    except PadlintError as err:
        return [], [{"target": candidate.target, "message": str(err), "exception": err}]
    for size in sizes or candidate.input_sizes or [(DEFAULT_SIZE,)]:
        try:
            trace = trace_at(prep, size, program=True,
                             coverage=any(r.code == "PAD108" for r in rules))
        except Exception as err:  # noqa: BLE001 - a padlint bug must not hide the other models
            entry = {"target": candidate.target, "message": failure_message(prep, size, err)}
            if not isinstance(err, (PadlintError, InputTooSmall, GeometryMismatch)):
                entry["exception"] = err
            errors.append(entry)
            continue
        result = lint_trace(prep, trace, rules)
        if verify is not None and trace.layers:
            try:
                result = _verified(prep, result, verify, rules)
            except Exception as err:  # noqa: BLE001 - one model's failure must not hide the others
                entry = {"target": candidate.target, "message": verify_failure(candidate.target, err)}
                if not isinstance(err, PadlintError):
                    entry["exception"] = err
                errors.append(entry)
                continue
        results.append(result)
    return results, errors


def lint_trace(prep: Prepared, trace: Trace, rules: list[Rule]) -> ModelResult:
    """The static findings of one traced size, with the nearest clean sizes."""
    from padlint.sizes.sweep import suggest_sizes
    suggested = suggest_sizes(prep.front, trace, rules)
    if prep.adapted is not None and any(r.code == "PAD109" for r in rules):
        from padlint.trace.adapters import preprocess_facts
        trace = replace(trace, preprocess=preprocess_facts(prep, trace))
    return ModelResult(prep.candidate.target, trace, run_rules(trace, rules, suggested), suggested)


def verify_failure(target: str, err: Exception) -> str:
    """One line for a failure of the verify stage."""
    if isinstance(err, PadlintError):
        return str(err)
    return (f"{target}: verification failed ({type(err).__name__}: {_first(err)}); "
            "run with --debug for the traceback")


def _first(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else ""


def _verified(prep: Prepared, result: ModelResult, options, rules) -> ModelResult:
    from padlint.verification.stage import verify_result
    return verify_result(prep, result, options, rules)


@dataclass
class Outcome:
    """What linting one target (or one file of a folder) produced: picklable, so that a
    child process can hand it back."""

    results: list[ModelResult] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    models: int = 0

    def portable(self) -> "Outcome":
        """Exceptions replaced by their formatted tracebacks (exceptions may not pickle)."""
        errors = []
        for err in self.errors:
            err = dict(err)
            exc = err.pop("exception", None)
            if exc is not None:
                err["traceback"] = "".join(traceback.format_exception(exc))
            errors.append(err)
        return Outcome(self.results, errors, self.skipped, self.models)


def lint_target(target: str, sizes, select=None, ignore=None, train: bool = False,
                folder_file: bool = False, severity: dict | None = None, verify=None) -> Outcome:
    """Load one target (a single file when ``folder_file``) and lint every model in it."""
    rules = select_rules(select, ignore, severity)
    try:
        if folder_file:
            candidates, skipped = candidates_in_module(import_file(target), target)
            load_errors = []
        else:
            loaded = load_target(target)
            candidates, skipped, load_errors = loaded.candidates, loaded.skipped, loaded.errors
    except PadlintError as err:
        return Outcome(errors=[{"target": target, "message": str(err), "exception": err}],
                       skipped=getattr(err, "skipped", []))
    outcome = Outcome(errors=[{"target": t, "message": m} for t, m in load_errors],
                      skipped=skipped, models=len(candidates))
    for candidate in candidates:
        results, errors = lint_candidate(candidate, sizes, rules, train, verify)
        outcome.results += results
        outcome.errors += errors
    return outcome


def analyze(model_or_target, input_size=None, select: Iterable[str] | None = None,
            ignore: Iterable[str] | None = None, train: bool = False,
            severity: dict[str, str] | None = None, config=None, verify=False,
            device: str = "auto", baselines=None, images=None, batch_size: int = 8) -> Report:
    """Lint a model (instance, class or factory) or a target (file, folder, ``module:attr``).

    ``input_size`` is 224 by default (or what ``PADLINT_TARGETS`` declares); it takes
    an int, ``'224x320'``, a shape tuple, or a list of these. ``select``/``ignore`` take
    rule codes or prefixes, as in ruff; ``severity`` overrides rule severities
    (``{"PAD103": "warning"}``). A ``# noqa`` comment on a layer's construction line
    moves its findings to ``result.suppressed``; ``config`` (a
    :class:`padlint.config.Config`) adds its ``per-file-ignores``. Bad targets raise
    :class:`PadlintError`, and so does a call that analyses nothing (its one model, or
    every model and size, failed: ``err.report`` holds the errors), so ``findings == []``
    never passes on a model that was not analysed. Partial failures (some models or sizes
    analysed) are listed in ``report.errors``. ``report.findings`` counts info findings;
    ``report.failing()`` lists those at or above warning, as :func:`padlint.assert_clean`
    fails on by default.

    ``verify=True`` adds the verify stage: the symmetric-kernel probe and real-weights
    ``baselines`` (default constant and random; zeros on request) on ``device`` (auto: CUDA when there
    is one), plus ``images`` (a path to a .pt/.npy tensor or an image folder, or an
    (N, C, H, W) array or tensor). PAD101/PAD102 findings then carry ``verification``,
    PAD201/PAD202 can fire, and each result carries ``verification`` facts.
    """
    from padlint.engine.noqa import Suppressor
    rules = select_rules(select, ignore, severity)
    options = verify_options(device, baselines, images, batch_size) if verify else None
    sizes = normalize_sizes(input_size) if input_size is not None else None
    candidates, skipped, load_errors = _candidates(model_or_target)
    report = Report(errors=[{"target": t, "message": m} for t, m in load_errors])
    report.skipped = skipped
    for candidate in candidates:
        results, errors = lint_candidate(candidate, sizes, rules, train, options)
        report.results += results
        report.errors += errors
    report = Suppressor(config).apply(report)
    if report.errors and not report.results:
        raise nothing_analysed(report)
    return report


def nothing_analysed(report: Report) -> PadlintError:
    """The error for a report with errors and no result: an empty ``findings`` would read
    as clean. It carries the report (``err.report``) and the first failure's exception."""
    err = PadlintError("; ".join(e["message"] for e in report.errors))
    err.report = report
    err.__cause__ = next((e["exception"] for e in report.errors if e.get("exception")), None)
    return err


def verify_options(device: str = "auto", baselines=None, images=None, batch_size: int = 8,
                   where: str = "device"):
    """Checked :class:`padlint.verification.VerifyOptions` (raises PadlintError); ``where``
    names the setting the device came from in an error."""
    import numpy as np
    import torch
    from padlint.verification.baselines import Images, _checked, load_images
    from padlint.verification.stage import BASELINES, DEFAULT_BASELINES, VerifyOptions, resolve_device
    resolve_device(device, where)
    if isinstance(baselines, str):
        baselines = [b.strip() for b in baselines.split(",") if b.strip()]
    baselines = tuple(baselines) if baselines is not None else DEFAULT_BASELINES
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise PadlintError(f"unknown baseline {unknown[0]!r}: use {', '.join(BASELINES)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise PadlintError(f"invalid batch size {batch_size!r}: give a positive integer")
    if isinstance(images, (str, os.PathLike)):
        images = load_images(os.fspath(images))
    elif isinstance(images, torch.Tensor):
        images = Images("images", array=_checked(images.detach().cpu().float().numpy(), "images"))
    elif isinstance(images, np.ndarray):
        images = Images("images", array=_checked(images, "images"))
    elif images is not None and not isinstance(images, Images):
        raise PadlintError(f"images: a {type(images).__name__} is not a path, array or tensor")
    return VerifyOptions(device, baselines, images, batch_size)
