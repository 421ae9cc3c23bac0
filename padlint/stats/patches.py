"""Mean k×k input patches (SCIENCE.md §4), streamed batch by batch from a real forward.

For every convolution call, the mean patch is the padded input window averaged over the
output positions, the channels and the instances. Patch entry ``(i, j)`` is the sum of one
strided slice of the padded input, ``x_pad[..., i*d : i*d + (o-1)*s + 1 : s, …]``. Every
slice sums over the batch and the channels too, and the sum is linear, so each call only
reduces its input to its sum over those (one pass over it, a fraction of what the
convolution costs) and adds that small map to a running total. At the end, the strided
slices of each total are summed at once as ``A @ M @ B^T``, where row ``i`` of ``A`` marks
the real rows that tap ``i`` reads. Padding cells read zero, so nothing is padded and
nothing is unfolded; padding modes other than zeros pad the small map the same way.

Totals live on the model's device until the end; under ``torch.distributed`` they are
all-reduced, so every process gets the statistics of the whole dataset.
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.overrides import TorchFunctionMode

from padlint.errors import PadlintError
from padlint.geometry.axis import resolve_padding
from padlint.trace.ops import FUNCTIONS, bind, window_args
from padlint.verification.observe import mean_arrays


@dataclass
class PatchGeometry:
    """How one convolution call windows its input (per spatial axis)."""

    op: str                               # the module's class: 'Conv2d', 'Conv2dSame' …
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]      # (begin, end) of the conv's own zero padding
    length: tuple[int, ...]               # input length per axis (after any explicit pad)
    out: tuple[int, ...]
    coverage: np.ndarray                  # share of output positions at which each tap reads input


def _pads(padding, kernel, dilation) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):          # 'same' / 'valid', as the recorder resolves them
        return tuple(resolve_padding(padding, k, d) for k, d in zip(kernel, dilation))
    return tuple((int(p), int(p)) for p in padding)


@functools.lru_cache(maxsize=512)
def tap_matrix(n: int, k: int, s: int, d: int, pad: tuple[int, int], device=None,
               dtype=torch.float32) -> torch.Tensor:
    """(k, n) 0/1 matrix: row i marks the input cells tap i reads over all output positions
    (the real cells of the strided slice ``x_pad[i*d : i*d + (o-1)*s + 1 : s]``). Cached:
    the same geometry gives the same (read-only) tensor."""
    o = max((n + pad[0] + pad[1] - d * (k - 1) - 1) // s + 1, 0)
    rows = torch.arange(k).unsqueeze(1) * d + torch.arange(o).unsqueeze(0) * s - pad[0]
    taps = torch.arange(k).unsqueeze(1).expand_as(rows)
    real = (rows >= 0) & (rows < n)
    a = torch.zeros(k, n, dtype=dtype)
    a[taps[real], rows[real]] = 1.0
    return a.to(device) if device is not None else a


# Convolution classes whose forward is torch's own: their input and attributes say how they
# window, so a wrapper around the forward reads them. Any other convolution module (timm's
# Conv2dSame, which pads in its forward; weight-standardised convs …) is watched through a
# TorchFunctionMode entered for the span of its own forward, which sees the real call.
_BASES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _plain(module: nn.Module) -> bool:
    for base in _BASES:
        if isinstance(module, base):
            cls = type(module)
            return cls.forward is base.forward and cls._conv_forward is base._conv_forward
    return False


class _CallWatcher(TorchFunctionMode):
    """Hands the real arguments of the first convolution call inside one module's forward
    to the collector."""

    def __init__(self, collector: PatchCollector, module: nn.Module, name: str):
        super().__init__()
        self.collector, self.module, self.name, self.done = collector, module, name, False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        entry = FUNCTIONS.get(func)
        if entry is not None and entry[1] == "conv" and not self.done:
            self.done = True
            bound = bind("conv", args, kwargs)
            win = window_args("conv", entry[2], bound)
            self.collector.collect(self.name, type(self.module).__name__, bound["input"], win.kernel,
                                   win.stride, win.dilation, win.padding)
        return func(*args, **kwargs)


class PatchCollector:
    """Accumulates the mean input patch of every convolution module call, named as padlint
    names layers: the module's qualified name, ``name#2`` for its second call in a forward.
    ``with collector:`` wraps the convolutions' forwards; nothing else is touched."""

    def __init__(self, model: nn.Module):
        self.convs = [(n, m) for n, m in model.named_modules()
                      if isinstance(m, nn.modules.conv._ConvNd) and not m.transposed
                      and not all(k == 1 for k in m.kernel_size)]
        self.maps: dict[str, torch.Tensor] = {}      # name -> input summed over all but space
        self.counts: Counter = Counter()              # name -> instances × channels summed
        self.specs: dict[str, tuple] = {}             # name -> (op, kernel, stride, dilation, padding)
        self.geometry: dict[str, PatchGeometry] = {}
        self._calls: Counter = Counter()
        self._handles: list = []

    def __enter__(self):
        # Each convolution's forward is wrapped on the instance for the span of the ``with``:
        # a forward hook would send every call of the module down torch's slow hook path,
        # which on a GPU costs more than the statistics themselves.
        for name, m in self.convs:
            previous = m.__dict__.get("forward")
            inner = previous or m.forward
            wrapper = self._plain_forward if _plain(m) else self._watched_forward
            m.forward = functools.partial(wrapper, name, m, inner)
            self._handles.append((m, previous))
        return self

    def __exit__(self, *exc):
        for m, previous in self._handles:
            if previous is None:
                m.__dict__.pop("forward", None)
            else:
                m.forward = previous
        self._handles = []
        return False

    def _call_name(self, name: str) -> str:
        self._calls[name] += 1
        return name if self._calls[name] == 1 else f"{name}#{self._calls[name]}"

    def _plain_forward(self, name: str, module: nn.modules.conv._ConvNd, forward, x, *args, **kwargs):
        if module.padding_mode != "zeros":        # the module pads with F.pad, then convolves
            nd = len(module.kernel_size)
            m = self._reduce(x, nd)
            m = torch.nn.functional.pad(m[None, None], module._reversed_padding_repeated_twice,
                                        mode=module.padding_mode)[0, 0]
            self._add(self._call_name(name), type(module).__name__, m, x, module.kernel_size,
                      module.stride, module.dilation, (0,) * nd)
        else:
            self.collect(self._call_name(name), type(module).__name__, x, module.kernel_size,
                         module.stride, module.dilation, module.padding)
        return forward(x, *args, **kwargs)

    def _watched_forward(self, name: str, module: nn.Module, forward, *args, **kwargs):
        with _CallWatcher(self, module, self._call_name(name)):
            return forward(*args, **kwargs)

    def start_batch(self) -> None:
        self._calls.clear()

    def collect(self, name: str, op: str, x: torch.Tensor, kernel, stride, dilation, padding) -> None:
        nd = len(kernel)
        if x.dim() >= nd + 1:
            self._add(name, op, self._reduce(x, nd), x, kernel, stride, dilation, padding)

    @staticmethod
    def _reduce(x: torch.Tensor, nd: int) -> torch.Tensor:
        """The input summed over everything but its spatial axes (one pass; float32 unless the
        input is float64: the map is added into a float64 total)."""
        acc = torch.float64 if x.dtype == torch.float64 else torch.float32
        return x.detach().sum(dim=tuple(range(x.dim() - nd)), dtype=acc)

    def _add(self, name: str, op: str, m: torch.Tensor, x: torch.Tensor, kernel, stride, dilation,
             padding) -> None:
        """The per-call hot path: one reduction and one addition. The patch is linear in the
        map, so the strided-slice sums wait for :meth:`means`."""
        total = self.maps.get(name)
        if total is None:
            self.maps[name] = m.to(torch.float64)
            self.specs[name] = (op, tuple(kernel), tuple(stride), tuple(dilation),
                                padding if isinstance(padding, str) else tuple(padding))
        else:
            total += m
        self.counts[name] += math.prod(x.shape[:x.dim() - len(kernel)])

    def _patches(self) -> tuple[dict, dict]:
        """Patch sums and sample counts (instances × channels × positions) from the maps;
        fills :attr:`geometry`."""
        sums, counts = {}, {}
        for name, m in self.maps.items():
            op, kernel, stride, dilation, padding = self.specs[name]
            spatial = tuple(m.shape)
            pads = _pads(padding, kernel, dilation)
            out = tuple((n + p[0] + p[1] - d * (k - 1) - 1) // s + 1 for n, k, s, d, p in
                        zip(spatial, kernel, stride, dilation, pads))
            positions = math.prod(out)
            if positions < 1 or min(out) < 1 or not self.counts[name]:
                continue
            args = list(zip(spatial, kernel, stride, dilation, [tuple(p) for p in pads]))
            sums[name] = _contract(m, [tap_matrix(*a, m.device, torch.float64) for a in args])
            counts[name] = self.counts[name] * positions
            ones = _contract(torch.ones(spatial, dtype=torch.float64),
                             [tap_matrix(*a, "cpu", torch.float64) for a in args])
            self.geometry[name] = PatchGeometry(op, kernel, stride, dilation, pads, spatial, out,
                                                (ones / positions).numpy())
        return sums, counts

    def reduce(self) -> None:
        """All-reduce the maps and counts over the processes of ``torch.distributed``."""
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return
        shapes = {n: (tuple(t.shape), self.specs[n]) for n, t in self.maps.items()}
        everyone: list[Any] = [None] * dist.get_world_size()    # filled by all_gather_object
        dist.all_gather_object(everyone, shapes)
        for theirs in everyone:
            shapes = theirs | shapes
        names = sorted(shapes)
        device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
        flat = torch.cat([torch.cat([
            (self.maps[n].to(device) if n in self.maps else
             torch.zeros(shapes[n][0], dtype=torch.float64, device=device)).flatten(),
            torch.tensor([float(self.counts[n])], dtype=torch.float64, device=device)]) for n in names])
        dist.all_reduce(flat)
        at = 0
        for n in names:
            size = math.prod(shapes[n][0])
            self.maps[n] = flat[at:at + size].reshape(shapes[n][0])
            self.specs[n] = shapes[n][1]
            self.counts[n] = int(round(float(flat[at + size])))
            at += size + 1

    def means(self) -> dict[str, np.ndarray]:
        """Layer name -> mean patch (moved off the device in one transfer)."""
        return mean_arrays(*self._patches())


def _contract(m: torch.Tensor, taps: list[torch.Tensor]) -> torch.Tensor:
    """``A @ M @ B^T`` for 2-D (and its 1-D/3-D versions): entry i,j sums the cells taps i,j read."""
    if m.dim() == 2:
        return taps[0] @ m @ taps[1].T
    if m.dim() == 1:
        return taps[0] @ m
    return torch.einsum("abc,xa,yb,zc->xyz", m, *taps)


def model_device(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    for p in model.parameters():
        return p.device, (p.dtype if p.is_floating_point() else torch.float32)
    return torch.device("cpu"), torch.float32


def batch_tensor(item, where: str = "data") -> torch.Tensor:
    """The input tensor of one batch: a tensor, the first item of a (inputs, labels) pair, or
    the image entry of a dict."""
    if isinstance(item, torch.Tensor):
        return item
    if isinstance(item, np.ndarray):
        return torch.from_numpy(item)
    if isinstance(item, (list, tuple)) and item and isinstance(item[0], (torch.Tensor, np.ndarray)):
        return batch_tensor(item[0], where)
    if isinstance(item, dict):
        for key in ("image", "images", "input", "inputs", "pixel_values", "x"):
            if key in item:
                return batch_tensor(item[key], where)
    raise PadlintError(f"{where}: a batch is a {type(item).__name__}; give tensors, (inputs, "
                       "labels) pairs or dicts with an 'image' entry")


def collect_patches(model: nn.Module, batches: Iterable, limit: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    where: str = "data") -> tuple[PatchCollector, int]:
    """Run ``model`` (in eval mode, without gradients; its mode is restored) over
    ``batches`` and accumulate the patch sums; return the collector and the sample count."""
    device, dtype = model_device(model)
    collector = PatchCollector(model)
    seen, size = 0, None
    modes = {m: m.training for m in model.modules()}     # each one's own: frozen BatchNorms stay so
    model.eval()
    try:
        with torch.no_grad(), collector:          # the forwards are wrapped once, for the stream
            for item in batches:
                x = batch_tensor(item, where)
                if size is None:
                    size = tuple(x.shape[2:])
                elif tuple(x.shape[2:]) != size:      # one size: the geometry is per size
                    raise PadlintError(
                        f"{where}: a batch after sample {seen} is {'x'.join(map(str, x.shape[2:]))}, "
                        f"but the first was {'x'.join(map(str, size))}; statistics are per input "
                        "size, so resize or crop all samples to one size in the loader")
                if limit is not None:
                    x = x[:max(limit - seen, 0)]
                if len(x) == 0:
                    break
                x = x.to(device, dtype=dtype if x.is_floating_point() else torch.float32)
                collector.start_batch()
                model(x)
                seen += len(x)
                if progress is not None:
                    progress(seen)
                if limit is not None and seen >= limit:
                    break
    finally:
        for m, training in modes.items():
            m.training = training
    collector.reduce()
    return collector, seen


def mean_patches(model: nn.Module, batches: Iterable, limit: int | None = None) -> dict[str, np.ndarray]:
    """The mean k×k input patch of every call of a convolution module (k > 1; not transposed)
    of ``model`` over ``batches`` (tensors, (inputs, labels) pairs, or a DataLoader), keyed
    by layer name, as float64 numpy arrays. Functional ``F.conv2d`` calls outside a
    convolution module are not measured. ``limit`` stops after that many samples. Under
    ``torch.distributed`` the sums are all-reduced: every process gets the global means."""
    return collect_patches(model, batches, limit)[0].means()
