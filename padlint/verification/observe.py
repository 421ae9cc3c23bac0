"""The verify stage's eyes: a ``TorchFunctionMode`` that watches every op of a real
forward and keeps, for each op with a spatial output, only small facts about it.

Which tensors are spatial, and where their spatial axes are: the model input (its last
``nd`` axes); every floating output of a view of a spatial tensor whose spatial axes can
be found in it by size and stride (``permute(0, 2, 3, 1)`` moves them, a channel
shuffle's ``view`` keeps them); every other output that keeps the spatial axes' sizes
where they were (a ``LayerNorm`` or ``Linear`` on a channels-last map); and the output
of an op that resizes them (windowed ops, pads, interpolation, slicing). Anything else
(the tokens of a vision transformer, windows of a Swin block) is not followed, and
neither is what comes from it.

Two observers share this: :class:`ProbeObserver` (the symmetric-kernel probe of
SCIENCE.md §3.1) and :class:`MapObserver` (aggregated feature maps on real weights).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.hooks import RemovableHandle
from torch.utils.weak import WeakIdKeyDictionary

from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.source import Source
from padlint.trace.ops import FUNCTIONS, LAYOUT, RESIZING, WINDOWED_MODULES, tensors_in

# What an origin at these ops means, in a PAD201 finding.
CAUSES = {
    "roll": "it shifts the map cyclically",
    "__getitem__": "it slices the map unevenly",
    "narrow": "it slices the map unevenly",
    "pad": "it pads one side more than the other",
}


def op_label(func) -> str:
    """'torch.roll', 'F.pad', 'Tensor.__getitem__' …: how findings name an op."""
    name = getattr(func, "__name__", str(func))
    if func in FUNCTIONS:
        return f"F.{FUNCTIONS[func][0]}"
    owner = getattr(func, "__objclass__", None)
    if (isinstance(owner, type) and issubclass(torch.Tensor, owner)) or \
            getattr(func, "__qualname__", "").startswith(("Tensor.", "TensorBase.", "_TensorBase.")):
        return f"Tensor.{name}"
    module = getattr(func, "__module__", "") or ""
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    return f"torch.{name}"


@dataclass
class Node:
    """One op call with a spatial output."""

    name: str                          # 'layer1.0.conv1', 'shift.roll', 'roll#2'
    op: str                            # 'Conv2d', 'torch.roll'
    shape: tuple[int, ...]
    index: int | None = None           # position among the windowed calls (= the trace's layer)
    feeds: int | None = None           # a pad: the windowed call it feeds, if any
    source: Source | None = None
    asym: dict = field(default_factory=dict)        # axis -> flip asymmetry of the output
    input_asym: dict = field(default_factory=dict)  # axis -> worst asymmetry of its spatial inputs
    origin: tuple[str, ...] = ()       # axes on which it turns symmetric inputs asymmetric
    cause: str = ""                    # why, when padlint can tell


class Observer(TorchFunctionMode):
    """Follows spatial tensors through a forward, names each op by the module that runs
    it, and hands each op with a spatial output to :meth:`observe`."""

    def __init__(self, model: nn.Module, nd: int, prefer_file: str | None = None):
        super().__init__()
        self.nd, self.prefer = nd, prefer_file
        self.axes = AXIS_NAMES[nd]
        self.module_names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
        self.spatial = WeakIdKeyDictionary()      # tensor -> (its Node or None for the input, axes)
        self.nodes: list[Node] = []
        self.windowed = 0                         # windowed calls seen so far
        self.untracked_windowed: list[int] = []   # windowed calls whose input was not followed
        self._stack: list[tuple[nn.Module, set]] = []
        self._counts: Counter = Counter()
        self._handles: list[RemovableHandle] = []

    # -- set-up ---------------------------------------------------------------------
    def __enter__(self):
        self._handles = [nn.modules.module.register_module_forward_pre_hook(self._pre),
                         nn.modules.module.register_module_forward_hook(self._post)]
        return super().__enter__()

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        return super().__exit__(*exc)

    def _pre(self, module, args):
        self._stack.append((module, set()))

    def _post(self, module, args, out):
        if self._stack:
            self._stack.pop()

    def watch(self, x: torch.Tensor) -> None:
        """Mark the model input as spatial (its spatial axes last)."""
        self.spatial[x] = (None, tuple(range(-self.nd, 0)))

    # -- naming -----------------------------------------------------------------------
    def _name(self, func, windowed: bool) -> tuple[str, str]:
        module, used = self._stack[-1] if self._stack else (None, set())
        owner = self.module_names.get(id(module), "") if module is not None else ""
        if windowed and isinstance(module, WINDOWED_MODULES) and "w" not in used:
            used.add("w")
            name, op = owner, type(module).__name__
        else:
            fname = getattr(func, "__name__", "op").strip("_") or "op"
            name, op = (f"{owner}.{fname}" if owner else fname), op_label(func)
        self._counts[name] += 1
        return (name if self._counts[name] == 1 else f"{name}#{self._counts[name]}"), op

    # -- following spatial tensors ------------------------------------------------------
    def _layout(self, out: torch.Tensor, src: torch.Tensor, dims: tuple, fname: str) -> tuple | None:
        """Where ``out``'s spatial axes are (negative indices, in axis order), made by an
        op from the spatial tensor ``src`` whose axes are at ``dims``; None: not spatial."""
        nd = self.nd
        standard = tuple(range(-nd, 0))
        if not out.is_floating_point() or out.dim() < nd + 1:
            return None
        if fname in RESIZING or fname == "pad" or self._windowed_name(fname):
            if dims != standard:
                return None
            same_rank = out.dim() == src.dim()
            return standard if same_rank or (fname == "__getitem__" and out.shape[-nd:] == src.shape[-nd:]) else None
        try:
            shared = out.untyped_storage().data_ptr() == src.untyped_storage().data_ptr()
        except Exception:  # noqa: BLE001 - tensors without storage (meta, sparse)
            shared = False
        if shared:     # a view (permute, transpose, view, chunk …): find each axis by its stride
            found: list[int] = []
            for d in dims:
                key = (src.shape[d], src.stride(d))
                hits = [j - out.dim() for j in range(out.dim()) if (out.shape[j], out.stride(j)) == key]
                if len(hits) != 1 or key[0] == 1:
                    break                     # an axis not found once: not a plain view
                found.append(hits[0])
            else:
                if len(set(found)) == nd:
                    return tuple(found)
        if out.dim() < src.dim() and fname not in LAYOUT:
            return None        # a reduction that happened to keep the sizes
        if out.dim() < max(-d for d in dims) or any(out.shape[d] not in (src.shape[d], 1) for d in dims):
            return None
        return dims            # a new tensor: the spatial axes stay where they were (or pooled to 1)

    @staticmethod
    def _windowed_name(fname: str) -> bool:
        return fname.startswith(("conv", "max_pool", "avg_pool", "lp_pool"))

    def layout(self, t: torch.Tensor) -> tuple:
        return self.spatial[t][1]

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        entry = FUNCTIONS.get(func)
        windowed = entry is not None and entry[1] != "pad"
        args, kwargs = self.prepare(func, entry, args, kwargs)
        out = func(*args, **kwargs)
        inputs = [t for t in tensors_in(args) + tensors_in(list(kwargs.values())) if t in self.spatial]
        if windowed:
            index = self.windowed
            self.windowed += 1
            if not inputs or self.layout(inputs[0]) != tuple(range(-self.nd, 0)):
                self.untracked_windowed.append(index)
        if not inputs:
            return out
        fname = entry[0] if entry is not None else getattr(func, "__name__", "")
        outs = []
        for t in tensors_in(out):
            dims = next((d for d in (self._layout(t, i, self.layout(i), fname) for i in inputs)
                         if d is not None), None)
            if dims is not None:
                outs.append((t, dims))
        if not outs:
            return out
        name, op = self._name(func, windowed)
        node = Node(name, op, tuple(outs[0][0].shape), index if windowed else None)
        self.observe(node, func, entry, args, kwargs, inputs, *outs[0])
        for t, dims in outs:    # after observe: an in-place op's output is its input
            self.spatial[t] = (node, dims)
        self.nodes.append(node)
        return out

    # -- what subclasses do -------------------------------------------------------------
    def prepare(self, func, entry, args, kwargs):
        """The arguments the op really runs with."""
        return args, kwargs

    def observe(self, node: Node, func, entry, args, kwargs, inputs, out, dims) -> None:
        """Keep what is wanted of one spatial op (``dims``: where ``out``'s spatial axes are)."""


class MapObserver(Observer):
    """Accumulates the aggregated feature map (mean over batch and channels) of every
    spatial op, batch after batch; no activation outlives its op."""

    def __init__(self, model: nn.Module, nd: int, prefer_file: str | None = None):
        super().__init__(model, nd, prefer_file)
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: Counter = Counter()
        self.order: dict[str, Node] = {}

    def start_batch(self) -> None:
        self.windowed, self._counts, self._stack = 0, Counter(), []
        self.untracked_windowed, self.nodes = [], []

    def observe(self, node, func, entry, args, kwargs, inputs, out, dims) -> None:
        where = [d + out.dim() for d in dims]
        lead = tuple(d for d in range(out.dim()) if d not in where)
        # summed in the op's own dtype (a float64 sum would first copy the whole activation)
        total = (out.detach().sum(dim=lead) if lead else out.detach()).double()
        if where != sorted(where):      # a transposed layout: back to axis order
            total = total.permute([sorted(where).index(d) for d in where])
        count = 1
        for d in lead:
            count *= out.shape[d]
        if node.name in self.sums and self.sums[node.name].shape == total.shape:
            self.sums[node.name] += total
        else:
            self.sums[node.name] = total
            self.order.setdefault(node.name, node)
        self.counts[node.name] += count

    def maps(self) -> dict[str, object]:
        """node name -> numpy mean map (moved off the device in one transfer)."""
        return mean_arrays(self.sums, self.counts)


def mean_arrays(sums: dict, counts) -> dict:
    """name -> ``sums[name] / counts[name]`` as a numpy array, all moved off the device in one
    transfer (names with a zero count are left out)."""
    names = [n for n in sums if counts[n]]
    if not names:
        return {}
    flat = torch.cat([(sums[n] / counts[n]).flatten() for n in names]).cpu().numpy()
    out, start = {}, 0
    for n in names:
        size = sums[n].numel()
        out[n] = flat[start:start + size].reshape(tuple(sums[n].shape))
        start += size
    return out
