"""Batched response maps: the background run (which op to watch, what a forward costs)
and one map, the stimulus placed at every grid position, a batch of positions a forward."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torch.utils.weak import WeakIdKeyDictionary

from padlint.blindspots.mode import ResponseObserver, zero_padded_modules
from padlint.blindspots.stimulus import BACKGROUND, STIMULUS, Stimulus
from padlint.errors import PadlintError
from padlint.ir.shapes import shape_str
from padlint.trace.ops import tensors_in
from padlint.verification.probe import precise


@dataclass(frozen=True)
class Settings:
    """What every run of one ``padlint blindspots`` shares."""

    device: torch.device
    dtype: torch.dtype
    symmetric: bool
    stimulus: Stimulus
    output: int | None = None          # watch this output value instead of the last map
    batch_size: int = 16
    kernels: WeakIdKeyDictionary = field(default_factory=WeakIdKeyDictionary)   # symmetrised, by weight


@dataclass
class Background:
    """The background-only run at one size: the watched op and its output, the cost."""

    capture: int | None                # call number of the watched op (None: the output)
    name: str
    shape: tuple[int, ...]             # of the watched tensor, batch axis left out
    base: torch.Tensor                 # the watched tensor without the stimulus
    flops: float


def mask(stimulus: Stimulus, nd: int) -> NDArray[np.bool_]:
    """The stimulus's cells, a boolean array of ``size`` on each of ``nd`` axes;
    mirror-symmetric on every axis."""
    k = stimulus.size
    grids = np.meshgrid(*[np.arange(k) - (k - 1) / 2] * nd, indexing="ij")
    if stimulus.shape == "square":
        return np.ones((k,) * nd, dtype=bool)
    if stimulus.shape == "disc":
        return sum(g ** 2 for g in grids) <= ((k - 1) / 2 + 0.25) ** 2   # the corners of 3x3 out
    middle = [np.abs(g) <= 0.5 for g in grids]          # the cross: a bar along each axis
    out = np.zeros((k,) * nd, dtype=bool)
    for axis in range(nd):
        bar = np.ones((k,) * nd, dtype=bool)
        for other in range(nd):
            if other != axis:
                bar &= middle[other]
        out |= bar
    return out


def first_tensor(out) -> torch.Tensor | None:
    found = tensors_in(out if isinstance(out, (tuple, list, dict, torch.Tensor)) else
                       getattr(out, "__dict__", {}))
    return found[0] if found else None


def _forward(model, observer, x, settings: Settings, target: str) -> torch.Tensor:
    observer.start()
    with zero_padded_modules(model, observer.padding_mode is not None), observer:
        observer.watch(x)
        out = model(x)
    if settings.output is not None:
        t = first_tensor(out)
        if t is None:
            raise PadlintError(f"{target}: its forward returns no tensor, so --output has nothing to watch")
        return t.detach().reshape(t.shape[0], -1)
    if observer.kept is None:
        raise PadlintError(f"{target}: its forward took another path with the stimulus than without; "
                           "padlint blindspots needs the same ops each run")
    return observer.kept


def background(model: nn.Module, shape: tuple[int, ...], settings: Settings, target: str,
               padding_mode: str | None = None, count_flops: bool = False) -> Background:
    """Run the background alone: the last op with a spatial output larger than one cell
    on every axis is the watched one (the last spatial op when none is). ``count_flops``
    adds a forward that counts what one costs."""
    nd = len(shape) - 2
    observer = ResponseObserver(model, nd, settings.dtype, settings.symmetric, padding_mode,
                                kernels=settings.kernels)
    x = torch.full((1,) + tuple(shape[1:]), BACKGROUND, dtype=settings.dtype, device=settings.device)
    flops = 0.0
    with precise(settings.dtype), torch.no_grad():
        if count_flops:
            own = next((p.dtype for p in model.parameters() if p.is_floating_point()), x.dtype)
            with FlopCounterMode(display=False) as counter:   # on its own: its hooks make calls too
                model(x.to(own))                              # the model's own dtype: no cast
            flops = float(counter.get_total_flops())
        observer.watch(x)
        with zero_padded_modules(model, padding_mode is not None), observer:
            out = model(x)
    if settings.output is not None:
        t = first_tensor(out)
        if t is None:
            raise PadlintError(f"{target}: its forward returns no tensor, so --output has nothing to watch")
        values = t.detach().reshape(t.shape[0], -1)
        if not 0 <= settings.output < values.shape[1]:
            raise PadlintError(f"--output {settings.output}: {target}'s output has {values.shape[1]} "
                               f"values a sample (shape {shape_str(tuple(t.shape[1:]))}); give an index "
                               f"from 0 to {values.shape[1] - 1}")
        return Background(None, f"output {settings.output}", tuple(t.shape[1:]), values, flops)
    if observer.widest is not None and observer.kept is not None:
        number, node = observer.widest
        return Background(number, node.name, tuple(node.shape[1:]), observer.kept, flops)
    spatial = [(n, node) for n, node in observer.calls if len(node.shape) > nd]
    if not spatial:
        raise PadlintError(f"{target}: no op of its forward keeps the input's spatial axes, so there "
                           "is no map to watch; use --output INDEX to watch one output value")
    number, node = spatial[-1]
    kept = ResponseObserver(model, nd, settings.dtype, settings.symmetric, padding_mode, number,
                            settings.kernels)
    with precise(settings.dtype), torch.no_grad():
        base = _forward(model, kept, x, settings, target)
    return Background(number, node.name, tuple(node.shape[1:]), base, flops)


def response_map(model: nn.Module, shape: tuple[int, ...], positions: dict[str, list[int]],
                 settings: Settings, base: Background, target: str,
                 padding_mode: str | None = None, progress=None) -> np.ndarray:
    """The norm of the watched tensor's change, the stimulus at each grid position
    (axis-major), ``settings.batch_size`` positions a forward. ``progress(n)`` is told
    how many positions each forward ran."""
    nd = len(shape) - 2
    axes = list(positions)
    cells = torch.from_numpy(mask(settings.stimulus, nd))
    k = settings.stimulus.size
    grid = list(itertools.product(*(positions[a] for a in axes)))
    observer = ResponseObserver(model, nd, settings.dtype, settings.symmetric, padding_mode, base.capture,
                                settings.kernels)
    values = []
    patch = torch.where(cells, STIMULUS, BACKGROUND).to(settings.dtype)
    with precise(settings.dtype), torch.no_grad():
        for start in range(0, len(grid), settings.batch_size):
            chunk = grid[start:start + settings.batch_size]
            # sample 0 is the background again: compared within one batch, the same input
            # gives the same output to the bit (a batch of another size may not)
            x = torch.full((len(chunk) + 1,) + tuple(shape[1:]), BACKGROUND, dtype=settings.dtype)
            for b, where in enumerate(chunk, start=1):
                x[(b, slice(None)) + tuple(slice(p, p + k) for p in where)] = patch
            y = _forward(model, observer, x.to(settings.device), settings, target)
            if settings.output is not None:
                change = (y[1:, settings.output] - y[:1, settings.output]).abs()
            else:
                change = (y[1:] - y[:1]).reshape(len(chunk), -1).double().norm(dim=1)
            values.append(change.double())
            if progress is not None:
                progress(len(chunk))
    flat = torch.cat(values).cpu().numpy() if values else np.zeros(0)
    return flat.reshape(tuple(len(positions[a]) for a in axes))
