"""Mean k×k input patches (SCIENCE.md §4), streamed batch by batch from a real forward.

For every convolution call, the mean patch is the padded input window averaged over the
output positions, the channels and the instances. Patch entry ``(i, j)`` is the sum of one
strided slice of the padded input, ``x_pad[..., i*d : i*d + (o-1)*s + 1 : s, …]``. Since
every slice sums over the batch and the channels too, the input is first reduced to its
sum over those (one pass over it, which costs a fraction of the convolution), and the
strided slices of that small map are summed as ``A @ M @ B^T``, where row ``i`` of ``A``
marks the real rows that tap ``i`` reads. Padding cells read zero, so nothing is padded
and nothing is unfolded; padding modes other than zeros are an ``F.pad`` that runs
before the convolution, whose output this sees.

Sums live on the model's device until the end; under ``torch.distributed`` they are
all-reduced, so every process gets the statistics of the whole dataset.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .errors import PadlintError
from .ops import FUNCTIONS, bind, window_args


@dataclass
class PatchGeometry:
    """How one convolution call windows its input (per spatial axis)."""

    op: str                               # 'Conv2d', or 'F.conv2d' for a functional call
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]      # (begin, end) of the conv's own zero padding
    length: tuple[int, ...]               # input length per axis (after any explicit pad)
    out: tuple[int, ...]
    coverage: np.ndarray                  # share of output positions at which each tap reads input


def _pads(padding, kernel, dilation) -> tuple[tuple[int, int], ...]:
    if padding == "valid":
        return tuple((0, 0) for _ in kernel)
    if padding == "same":                 # PyTorch puts the odd cell at the end
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    return tuple((int(p), int(p)) for p in padding)


def tap_matrix(n: int, k: int, s: int, d: int, pad: tuple[int, int], device=None) -> torch.Tensor:
    """(k, n) 0/1 matrix: row i marks the input cells tap i reads over all output positions
    (the real cells of the strided slice ``x_pad[i*d : i*d + (o-1)*s + 1 : s]``)."""
    o = (n + pad[0] + pad[1] - d * (k - 1) - 1) // s + 1
    rows = torch.arange(k).unsqueeze(1) * d + torch.arange(max(o, 0)).unsqueeze(0) * s - pad[0]
    a = torch.zeros(k, n, dtype=torch.float64)
    for i in range(k):
        real = rows[i][(rows[i] >= 0) & (rows[i] < n)]
        a[i, real] = 1.0
    return a.to(device) if device is not None else a


class PatchCollector(TorchFunctionMode):
    """Accumulates the mean input patch of every convolution call, named as padlint names
    layers: the conv module's qualified name, ``name#2`` for a second call."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.module_names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: Counter = Counter()
        self.geometry: dict[str, PatchGeometry] = {}
        self._taps: dict[tuple, tuple] = {}
        self._stack: list[list] = []
        self._calls: Counter = Counter()
        self._handles = []

    def __enter__(self):
        self._handles = [nn.modules.module.register_module_forward_pre_hook(self._pre),
                         nn.modules.module.register_module_forward_hook(self._post)]
        return super().__enter__()

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        return super().__exit__(*exc)

    def _pre(self, module, args):
        self._stack.append([module, False])

    def _post(self, module, args, out):
        if self._stack:
            self._stack.pop()

    def start_batch(self) -> None:
        self._calls.clear()

    def _name(self, fname: str) -> tuple[str, str]:
        entry = self._stack[-1] if self._stack else None
        owner = self.module_names.get(id(entry[0]), "") if entry else ""
        if entry and isinstance(entry[0], nn.modules.conv._ConvNd) and not entry[1]:
            entry[1] = True
            name, op = owner, type(entry[0]).__name__
        else:
            name, op = (f"{owner}.{fname}" if owner else fname), f"F.{fname}"
        self._calls[name] += 1
        return (name if self._calls[name] == 1 else f"{name}#{self._calls[name]}"), op

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        entry = FUNCTIONS.get(func)
        if entry is not None and entry[1] == "conv":
            self._collect(entry[0], entry[2], args, kwargs)
        return func(*args, **kwargs)

    def _collect(self, fname: str, nd: int, args, kwargs) -> None:
        bound = bind("conv", args, kwargs)
        x, w = bound["input"], bound["weight"]
        win = window_args("conv", nd, bound)
        name, op = self._name(fname)
        if all(k == 1 for k in win.kernel) or x.dim() < nd + 1:
            return
        spatial = tuple(x.shape[-nd:])
        key = (spatial, win.kernel, win.stride, win.dilation, win.padding, str(x.device))
        if key not in self._taps:
            pads = _pads(win.padding, win.kernel, win.dilation)
            taps = [tap_matrix(n, k, s, d, p, x.device) for n, k, s, d, p in
                    zip(spatial, win.kernel, win.stride, win.dilation, pads)]
            out = tuple((n + p[0] + p[1] - d * (k - 1) - 1) // s + 1 for n, k, s, d, p in
                        zip(spatial, win.kernel, win.stride, win.dilation, pads))
            self._taps[key] = (taps, pads, out)
        taps, pads, out = self._taps[key]
        if any(o < 1 for o in out):
            return
        lead = tuple(range(x.dim() - nd))
        acc = torch.float64 if x.dtype == torch.float64 else torch.float32
        m = x.detach().sum(dim=lead, dtype=acc).to(torch.float64)
        patch = _contract(m, taps)
        if name in self.sums and self.sums[name].shape == patch.shape:
            self.sums[name] += patch
        else:
            self.sums[name] = patch
        self.counts[name] += int(np.prod(x.shape[:x.dim() - nd])) * int(np.prod(out))
        if name not in self.geometry:
            ones = _contract(torch.ones(spatial, dtype=torch.float64), [t.cpu() for t in taps])
            self.geometry[name] = PatchGeometry(
                op, win.kernel, win.stride, win.dilation, pads, spatial, out,
                (ones / float(np.prod(out))).numpy())

    def reduce(self) -> None:
        """All-reduce the sums and counts over the processes of ``torch.distributed``."""
        import torch.distributed as dist
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return
        shapes = {n: tuple(t.shape) for n, t in self.sums.items()}
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, (shapes, self.geometry))
        for their_shapes, their_geometry in everyone:
            shapes = their_shapes | shapes
            self.geometry = their_geometry | self.geometry
        names = sorted(shapes)
        device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
        flat = torch.cat([torch.cat([
            (self.sums[n].to(device) if n in self.sums else torch.zeros(shapes[n], dtype=torch.float64,
                                                                        device=device)).flatten(),
            torch.tensor([float(self.counts[n])], dtype=torch.float64, device=device)]) for n in names])
        dist.all_reduce(flat)
        at = 0
        for n in names:
            size = int(np.prod(shapes[n]))
            self.sums[n] = flat[at:at + size].reshape(shapes[n])
            self.counts[n] = int(round(float(flat[at + size])))
            at += size + 1

    def means(self) -> dict[str, np.ndarray]:
        """Layer name -> mean patch (moved off the device in one transfer)."""
        names = [n for n in self.sums if self.counts[n]]
        if not names:
            return {}
        flat = torch.cat([(self.sums[n] / self.counts[n]).flatten().cpu() for n in names]).numpy()
        out, at = {}, 0
        for n in names:
            size = self.sums[n].numel()
            out[n] = flat[at:at + size].reshape(tuple(self.sums[n].shape))
            at += size
        return out


def _contract(m: torch.Tensor, taps: list[torch.Tensor]) -> torch.Tensor:
    """``A @ M @ B^T`` for 2-D (and its 1-D/3-D versions): entry i,j sums the cells taps i,j read."""
    letters = "abc"[:m.dim()]
    spec = ",".join(f"{t}{t.upper()}" for t in letters)
    return torch.einsum(f"{letters.upper()},{spec}->{letters}", m, *taps)


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
    seen, was_training = 0, model.training
    model.eval()
    try:
        with torch.no_grad():
            for item in batches:
                x = batch_tensor(item, where)
                if limit is not None:
                    x = x[:max(limit - seen, 0)]
                if len(x) == 0:
                    break
                x = x.to(device, dtype=dtype if x.is_floating_point() else torch.float32)
                collector.start_batch()
                with collector:
                    model(x)
                seen += len(x)
                if progress is not None:
                    progress(seen)
                if limit is not None and seen >= limit:
                    break
    finally:
        model.train(was_training)
    collector.reduce()
    return collector, seen


def mean_patches(model: nn.Module, batches: Iterable, limit: int | None = None) -> dict[str, np.ndarray]:
    """The mean k×k input patch of every convolution call (k > 1) of ``model`` over
    ``batches`` (tensors, (inputs, labels) pairs, or a DataLoader), keyed by layer name,
    as float64 numpy arrays. ``limit`` stops after that many samples. Under
    ``torch.distributed`` the sums are all-reduced: every process gets the global means."""
    return collect_patches(model, batches, limit)[0].means()
