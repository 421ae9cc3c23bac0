"""One line for a model that failed to build or trace, with what to do: the smallest size
that works, the channels or the sizes at which its forward runs (meta-device probes,
bounded in count and time), or a clean size to use among those."""
from __future__ import annotations

import time

from torch import nn

from padlint.engine.run import run_rules
from padlint.engine.select import select_rules
from padlint.errors import PadlintError
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.shapes import gives_channels, shape_str
from padlint.ir.trace import Trace
from padlint.load.target import Candidate
from padlint.sizes.suggest import suggest_sizes
from padlint.trace.build import Prepared, other_channels, trace_at
from padlint.trace.frontend import ForwardFailed, FrontEnd, GeometryMismatch, InputTooSmall, smallest_working_size
from padlint.trace.inputs import full_shape, model_layout


def traced(prep: Prepared, size, program: bool = False, coverage: bool = False) -> Trace:
    """:func:`padlint.trace.build.trace_at`, with any failure raised as a one-line PadlintError."""
    try:
        return trace_at(prep, size, program=program, coverage=coverage)
    except Exception as err:  # noqa: BLE001 - one line, as everywhere
        raise PadlintError(failure_message(prep, size, err)) from err


def failed_shape(prep: Prepared, size, err: Exception) -> tuple[int, ...]:
    shape = getattr(err, "input_shape", None) or full_shape(size, prep.model, prep.candidate.target)
    assert shape is not None, "a model that failed at a size has a shape for it"
    return shape


def too_small(front: FrontEnd, candidate: Candidate, shape, err: InputTooSmall) -> PadlintError:
    smallest, axes = smallest_working_size(front, shape, err)
    if smallest is None:
        hint = "no input size up to 65536 works"
    elif len(axes) == len(shape) - 2:
        hint = f"the smallest input that works is {smallest}"
    else:
        names = AXIS_NAMES[len(shape) - 2]
        hint = f"the smallest {'x'.join(names[a] for a in axes)} that works is {smallest}"
    return PadlintError(f"{candidate.target}: input {shape_str(shape[2:])} is too small: {err}; {hint}")


def failure_message(prep: Prepared, size, err: Exception) -> str:
    """One line for a failure of :func:`trace_at`."""
    target = prep.candidate.target
    if isinstance(err, PadlintError):
        return str(err)
    if isinstance(err, InputTooSmall):
        return str(too_small(prep.front, prep.candidate, failed_shape(prep, size, err), err))
    if isinstance(err, GeometryMismatch):
        return f"{target}: padlint bug: {err}; please report it"
    if isinstance(err, ForwardFailed):   # the model's own forward fails, even for real
        shape = failed_shape(prep, size, err)
        shown = shape[1:] if gives_channels(size, len(shape) - 2) else shape[2:]
        hint = None if prep.adapted else (channels_hint(prep, size, shape)
                                          or sizes_hint(prep, size, shape))
        return (f"{target}: its forward fails at input {shape_str(shown)} {err}; "
                f"{hint or 'fix the forward'} (run with --debug for the traceback)")
    return (f"{target}: padlint failed on it ({type(err).__name__}: {err}); "
            "please report this with the output of --debug")


# -- what to say when the forward fails: channels and sizes at which it runs -------------

def runs(front: FrontEnd, shape: tuple[int, ...]) -> bool:
    """Whether the forward runs at ``shape`` on the meta device (shapes only: milliseconds)."""
    try:
        front.run(shape, allow_cpu=False)
    except Exception:  # noqa: BLE001 - any failure means: not at this shape
        return False
    return True


def channels_hint(prep: Prepared, size, shape: tuple[int, ...]) -> str | None:
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
    for channels in [first] + other_channels(prep.model, first):
        if channels != shape[1] and runs(prep.front, (shape[0], channels) + shape[2:]):
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
                self.ran[s] = runs(self.front, self.at(s))
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
    sizes: set[int] = set()
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


def sizes_hint(prep: Prepared, size, shape: tuple[int, ...]) -> str | None:
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
