"""The verify stage's eyes: a ``TorchFunctionMode`` that watches every op of a real
forward and keeps, for each op with a spatial output, only small facts about it.

Which tensors are spatial: the model input, and every floating output of an op that
takes a spatial tensor and keeps its last ``nd`` axes in place (same sizes, and, for a
view, the same strides: ``permute(0, 2, 3, 1)`` does not), or that resizes them in
place (windowed ops, pads, interpolation, slicing). Anything else (tokens of a vision
transformer, channels-last layouts) is not followed, and neither is what comes from it.

Two observers share this: :class:`ProbeObserver` (the symmetric-kernel probe of
SCIENCE.md §3.1) and :class:`MapObserver` (aggregated feature maps on real weights).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakIdKeyDictionary

from .geometry import AXIS_NAMES
from .ops import FUNCTIONS, WINDOWED_MODULES
from .sites import Source, caller_source

# Ops that change the spatial sizes in place: their output is spatial when its rank is
# the input's, whatever its sizes.
_RESIZING = frozenset(
    "interpolate upsample upsample_nearest upsample_bilinear adaptive_avg_pool1d "
    "adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d "
    "adaptive_max_pool3d pixel_shuffle pixel_unshuffle grid_sample __getitem__ narrow "
    "roll fold".split())

# Ops that make no new values: they never introduce an asymmetry worth a finding.
_CAUSES = {
    "roll": "it shifts the map cyclically",
    "__getitem__": "it slices the map unevenly",
    "narrow": "it slices the map unevenly",
    "pad": "it pads one side more than the other",
}


# Elementwise and per-channel ops: mirror-equivariant, so they keep their inputs' symmetry
# (unless they combine the map with a tensor that varies in space).
EQUIVARIANT = frozenset(
    "relu relu_ relu6 leaky_relu leaky_relu_ elu elu_ selu celu gelu silu mish hardswish "
    "hardsigmoid hardtanh hardtanh_ sigmoid sigmoid_ tanh tanh_ softplus dropout dropout1d "
    "dropout2d dropout3d alpha_dropout feature_alpha_dropout batch_norm clone contiguous "
    "add sub mul div add_ sub_ mul_ div_ __add__ __radd__ __iadd__ __sub__ __rsub__ __isub__ "
    "__mul__ __rmul__ __imul__ __truediv__ __rtruediv__ __itruediv__ neg abs clamp clamp_ "
    "exp sqrt rsqrt pow square".split())


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


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


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
        self.spatial = WeakIdKeyDictionary()      # tensor -> its Node (None: the model input)
        self.nodes: list[Node] = []
        self.windowed = 0                         # windowed calls seen so far
        self.untracked_windowed: list[int] = []   # windowed calls whose input was not followed
        self._stack: list[tuple[nn.Module, set]] = []
        self._counts: Counter = Counter()
        self._handles = []

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
        """Mark the model input as spatial."""
        self.spatial[x] = None

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
    def _is_spatial(self, out: torch.Tensor, src: torch.Tensor, fname: str) -> bool:
        nd = self.nd
        if not out.is_floating_point() or out.dim() < nd + 1:
            return False
        if fname in _RESIZING or fname in ("pad",) or self._windowed_name(fname):
            return out.dim() == src.dim() or (fname == "__getitem__" and out.shape[-nd:] == src.shape[-nd:])
        if out.shape[-nd:] != src.shape[-nd:]:
            return False
        if out.dim() < src.dim() and fname != "__getitem__":
            return False       # a reduction that happened to keep the sizes
        try:
            shared = out.untyped_storage().data_ptr() == src.untyped_storage().data_ptr()
        except Exception:  # noqa: BLE001 - tensors without storage (meta, sparse)
            shared = False
        return not shared or out.stride()[-nd:] == src.stride()[-nd:]

    @staticmethod
    def _windowed_name(fname: str) -> bool:
        return fname.startswith(("conv", "max_pool", "avg_pool", "lp_pool"))

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        entry = FUNCTIONS.get(func)
        windowed = entry is not None and entry[1] != "pad"
        args, kwargs = self.prepare(func, entry, args, kwargs)
        out = func(*args, **kwargs)
        inputs = [t for t in _tensors(args) + _tensors(list(kwargs.values())) if t in self.spatial]
        if windowed:
            index = self.windowed
            self.windowed += 1
            if not inputs:
                self.untracked_windowed.append(index)
        if not inputs:
            return out
        fname = entry[0] if entry is not None else getattr(func, "__name__", "")
        outs = [t for t in _tensors(out) if self._is_spatial(t, inputs[0], fname)]
        if not outs:
            return out
        name, op = self._name(func, windowed)
        node = Node(name, op, tuple(outs[0].shape), index if windowed else None)
        self.observe(node, func, entry, args, kwargs, inputs, outs[0])
        for t in outs:          # after observe: an in-place op's output is its input
            self.spatial[t] = node
        self.nodes.append(node)
        return out

    # -- what subclasses do -------------------------------------------------------------
    def prepare(self, func, entry, args, kwargs):
        """The arguments the op really runs with."""
        return args, kwargs

    def observe(self, node: Node, func, entry, args, kwargs, inputs, out) -> None:
        """Keep what is wanted of one spatial op."""


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

    def observe(self, node, func, entry, args, kwargs, inputs, out) -> None:
        lead = tuple(range(out.dim() - self.nd))
        # summed in the op's own dtype (a float64 sum would first copy the whole activation)
        total = (out.detach().sum(dim=lead) if lead else out.detach()).double()
        count = 1
        for d in lead:
            count *= out.shape[d]
        if node.name in self.sums and self.sums[node.name].shape == total.shape:
            self.sums[node.name] += total
        else:
            self.sums[node.name] = total
            self.order.setdefault(node.name, node)
        self.counts[node.name] += count

    def maps(self) -> dict[str, "object"]:
        """node name -> numpy mean map."""
        return {name: (self.sums[name] / self.counts[name]).cpu().numpy() for name in self.sums}
