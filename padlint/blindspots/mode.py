"""The run of one blind-spot forward: a ``TorchFunctionMode`` (the verify stage's
:class:`~padlint.verification.observe.Observer`) that gives every conv its symmetrised
kernel (``kernels='symmetric'``), swaps every conv's padding for one padding mode (the
weights unchanged), casts to one dtype, and keeps the output of one op call: the
model's last spatial map."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.weak import WeakIdKeyDictionary

from padlint.verification.observe import Node, Observer
from padlint.verification.probe import cast_floats, symmetric_kernel

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING = 4                  # where a functional conv's padding is among its arguments


def explicit_padding(padding, weight: torch.Tensor, dilation, nd: int) -> list[int] | None:
    """A conv's padding as ``F.pad``'s list (last axis first, begin then end), or None
    when it pads nothing. ``'same'`` is split as torch splits it: the extra cell at the end."""
    kernel = weight.shape[-nd:]
    dil = [dilation] * nd if isinstance(dilation, int) else list(dilation)
    if padding == "valid":
        return None
    if padding == "same":
        totals = [d * (k - 1) for d, k in zip(dil, kernel)]
        pairs = [(t // 2, t - t // 2) for t in totals]
    else:
        values = [padding] * nd if isinstance(padding, int) else list(padding)
        pairs = [(p, p) for p in values]
    if not any(b or e for b, e in pairs):
        return None
    return [v for pair in reversed(pairs) for v in pair]


@contextmanager
def zero_padded_modules(model: nn.Module, active: bool) -> Iterator[None]:
    """Conv modules padding in their own non-zero mode pad in the call instead (so that
    the swap sees their padding), and get their mode back afterwards."""
    changed = []
    if active:
        for m in model.modules():
            if isinstance(m, nn.modules.conv._ConvNd) and not m.transposed and m.padding_mode != "zeros":
                changed.append((m, m.padding_mode))
                m.padding_mode = "zeros"
    try:
        yield
    finally:
        for m, mode in changed:
            m.padding_mode = mode


class ResponseObserver(Observer):
    """Runs the model's forward as the map asks, and keeps ``kept``: the output of call
    ``capture`` (counted over every op); with ``capture=None`` (the background run) it
    lists every spatial op's call in ``calls``."""

    def __init__(self, model: nn.Module, nd: int, dtype: torch.dtype, symmetric: bool,
                 padding_mode: str | None, capture: int | None = None,
                 kernels: WeakIdKeyDictionary | None = None):
        super().__init__(model, nd)
        self.dtype, self.symmetric, self.padding_mode = dtype, symmetric, padding_mode
        self.capture = capture
        self.count = 0
        self.calls: list[tuple[int, Node]] = []       # (call number, node) of every spatial op
        self.kept: torch.Tensor | None = None
        self.widest: tuple[int, Node] | None = None   # the background run: the last wide map's call
        self._kernels = kernels if kernels is not None else WeakIdKeyDictionary()

    def start(self) -> None:
        """Ready for the next forward."""
        self.count, self.windowed, self._stack, self.kept = 0, 0, [], None
        self._counts.clear()
        self.nodes, self.untracked_windowed = [], []

    def prepare(self, func, entry, args, kwargs):
        self.count += 1
        if self.symmetric:
            args, kwargs = symmetric_kernel(entry, args, kwargs, self._kernels)
        args, kwargs = cast_floats(func, args, kwargs, self.dtype)
        if self.padding_mode not in (None, "zeros") and entry is not None and entry[1] == "conv":
            args, kwargs = self._padded(entry[2], args, kwargs)
        return args, kwargs

    def _padded(self, nd: int, args, kwargs):
        """The conv's padding done by ``F.pad`` in the swapped mode, the conv then unpadded."""
        x = args[0] if args else kwargs.get("input")
        weight = args[1] if len(args) > 1 else kwargs.get("weight")
        padding = args[PADDING] if len(args) > PADDING else kwargs.get("padding", 0)
        dilation = args[PADDING + 1] if len(args) > PADDING + 1 else kwargs.get("dilation", 1)
        if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
            return args, kwargs
        pads = explicit_padding(padding, weight, dilation, nd)
        if pads is None:
            return args, kwargs
        padded = F.pad(x, pads, mode=str(self.padding_mode))
        if x in self.spatial:                     # the conv's output is followed as before
            self.spatial[padded] = self.spatial[x]
        if args:
            args = (padded,) + tuple(args[1:])
        else:
            kwargs = dict(kwargs, input=padded)
        if len(args) > PADDING:
            args = args[:PADDING] + (0,) + args[PADDING + 1:]
        else:
            kwargs = dict(kwargs, padding=0)
        return args, kwargs

    def observe(self, node: Node, func, entry, args, kwargs, inputs, out, dims) -> None:
        if self.capture is None:
            self.calls.append((self.count, node))
            if len(node.shape) > self.nd and all(n > 1 for n in node.shape[-self.nd:]):
                self.widest = (self.count, node)
                self.kept = out.detach().clone()      # the last such map is the one watched
        elif self.count == self.capture:
            self.kept = out.detach().clone()
