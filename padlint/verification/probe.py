"""The symmetric-kernel probe (SCIENCE.md §3.1).

Every conv kernel is replaced by the average of its spatial flips, and the model is fed
a constant input. Every op is then mirror-equivariant except where the geometry is
uneven, so each op's output is mirror-symmetric up to float error exactly where no
asymmetric op lies upstream. An *origin* is an op whose spatial inputs are symmetric on
an axis and whose output is not.

The model is not copied: the probe's ``TorchFunctionMode`` swaps the arguments of each
call as it happens (conv weights symmetrised, and on the CPU every floating tensor cast
to float64), so at most one layer's converted weights exist at a time.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.weak import WeakIdKeyDictionary

from padlint.load.sites import caller_source
from padlint.trace.ops import EQUIVARIANT, tensors_in
from padlint.verification.observe import CAUSES, Node, Observer, mean_arrays

# Flip asymmetry above which an output counts as asymmetric, and the share of a map's
# norm below which its spatial variation is float noise (the map counts as flat).
TOLERANCE = {torch.float64: 1e-6, torch.float32: 1e-3}
FLAT = {torch.float64: 1e-9, torch.float32: 1e-4}


def symmetrise(weight: torch.Tensor, nd: int) -> torch.Tensor:
    """The average of a kernel's flips over every subset of its ``nd`` spatial axes
    (flips commute, so averaging with each axis's flip in turn gives it; axes of length 1
    are symmetric already: a 1x1 kernel is returned as it is)."""
    for d in range(weight.dim() - nd, weight.dim()):
        if weight.shape[d] > 1:
            flipped = weight.flip(d)          # one copy per axis, summed in place:
            weight = flipped.add_(weight).mul_(0.5)   # a + b == b + a exactly, so the result is symmetric
    return weight


def symmetric_kernel(entry, args, kwargs, cache=None):
    """A conv call's arguments with its kernel symmetrised (any other call's unchanged);
    ``cache`` (a weak dictionary) keeps each weight's symmetrised copy across calls.
    Symmetrised in the weight's own dtype, before any cast: half the memory."""
    if entry is None or entry[1] not in ("conv", "conv_transpose"):
        return args, kwargs
    nd = entry[2]
    weight = args[1] if len(args) > 1 else kwargs.get("weight")
    if not isinstance(weight, torch.Tensor):
        return args, kwargs
    made = cache.get(weight) if cache is not None else None
    if made is None:
        made = symmetrise(weight.detach(), nd)
        if cache is not None:
            cache[weight] = made
    if len(args) > 1:
        return args[:1] + (made,) + args[2:], kwargs
    return args, dict(kwargs, weight=made)


def cast_floats(func, args, kwargs, dtype: torch.dtype):
    """A call's floating tensor arguments cast to ``dtype`` (the first argument of an
    in-place op stays: it is the tensor written to)."""
    def cast(value):
        if isinstance(value, torch.Tensor):
            return value.to(dtype) if value.is_floating_point() and value.dtype != dtype else value
        if isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
            return type(value)(cast(v) for v in value)
        return value
    name = getattr(func, "__name__", "")
    inplace = name.endswith("_") and not name.startswith("__")
    return (tuple(a if (i == 0 and inplace) else cast(a) for i, a in enumerate(args)),
            {k: cast(v) for k, v in kwargs.items()})


@contextmanager
def precise(dtype: torch.dtype):
    """Tensors the forward makes itself follow ``dtype``, and TF32 is off: TF32 (on by
    default for cuDNN convolutions on Ampere and later) rounds to 10 mantissa bits, so
    mirrored sums then differ by ~1e-3, as much as the float32 tolerance."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.set_default_dtype(default)
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32


def asymmetry(t: torch.Tensor, axes, flat: float) -> list[float]:
    """Per spatial axis: ``||X - flip(X)|| / ||X - mean(X)||`` over every channel (the
    mean is per channel, over the spatial axes); 0 for a spatially flat ``X``. ``axes``
    is the number of trailing spatial axes, or their indices in axis order."""
    t = t.detach()
    if isinstance(axes, int):
        axes = range(-axes, 0)
    dims = tuple(d % t.dim() for d in axes)
    nd = len(dims)
    count = 1
    for d in dims:
        count *= t.shape[d]
    zero = t.new_zeros((), dtype=torch.float64)       # squares in float64: no float32 overflow
    parts = [torch.var(t, dim=dims, correction=0).double().sum() * count, t.norm().double() ** 2]
    for d in dims:          # ||X - flip X||^2 is twice the sum over the first half's pairs
        half = t.shape[d] // 2
        if half:
            diff = t.narrow(d, 0, half) - t.narrow(d, t.shape[d] - half, half).flip(d)
            parts.append(diff.norm().double() ** 2 * 2)
        else:
            parts.append(zero)
    spread_sq, norm_sq, *flips = torch.stack(parts).tolist()    # one device sync, not one a figure
    spread = spread_sq ** 0.5
    if spread == 0.0 or spread <= flat * norm_sq ** 0.5:
        return [0.0] * nd
    return [f ** 0.5 / spread for f in flips]


@dataclass
class ProbeRun:
    """What one probe forward saw."""

    input_shape: tuple[int, ...]
    dtype: str
    tolerance: float
    nodes: list[Node]
    windowed: int                                     # windowed calls seen
    untracked: list[int]                              # windowed calls on unfollowed inputs
    alone: dict = field(default_factory=dict)         # (index, axis) -> (asymmetry, input kind)
    maps: dict = field(default_factory=dict)          # node name -> mean map (numpy), when asked

    def layer(self, index: int) -> Node | None:
        return next((n for n in self.nodes if n.index == index), None)

    def feeding_pad(self, index: int) -> Node | None:
        return next((n for n in self.nodes if n.feeds == index), None)

    def asymmetric(self) -> list[Node]:
        """Windowed and pad outputs that are asymmetric on some axis."""
        return [n for n in self.nodes if n.index is not None
                and any(v > self.tolerance for v in n.asym.values())]

    def origins(self) -> list[Node]:
        return [n for n in self.nodes if n.origin]


class ProbeObserver(Observer):
    def __init__(self, model: nn.Module, nd: int, dtype: torch.dtype, verified: dict,
                 prefer_file: str | None = None, kinds: dict | None = None, maps: bool = False):
        super().__init__(model, nd, prefer_file)
        self.maps: dict | None = {} if maps else None   # node name -> channel-mean output
        self.dtype, self.tol, self.flat = dtype, TOLERANCE[dtype], FLAT[dtype]
        self.verified = verified                # windowed index -> axes of PAD101/PAD102 findings
        self.kinds = kinds                      # (index, axis) -> the only layer input to try
        self.alone: dict = {}
        self._pads = WeakIdKeyDictionary()      # pad output -> (node, func, args, kwargs)

    # -- the swapped arguments ------------------------------------------------------------
    def prepare(self, func, entry, args, kwargs):
        args, kwargs = symmetric_kernel(entry, args, kwargs)
        return cast_floats(func, args, kwargs, self.dtype)

    # -- what each op does to the symmetry ------------------------------------------------
    def observe(self, node: Node, func, entry, args, kwargs, inputs, out, dims) -> None:
        node.input_asym = {a: max((self._asym_of(t).get(a, 0.0) for t in inputs), default=0.0)
                           for a in self.axes}
        name = getattr(func, "__name__", "")
        if name in EQUIVARIANT and not self._spatial_operand(args, kwargs, inputs, dims):
            # elementwise or per-channel: it cannot make a symmetric map asymmetric, so
            # it keeps its inputs' figure (measuring every such op would double the cost)
            node.asym = dict(node.input_asym)
        else:
            node.asym = dict(zip(self.axes, asymmetry(out, dims, self.flat)))
        node.origin = tuple(a for a in self.axes
                            if node.asym[a] > self.tol and node.input_asym[a] <= self.tol)
        if self.maps is not None and (node.index is not None or node.origin):
            where = [d + out.dim() for d in dims]
            lead = tuple(d for d in range(out.dim()) if d not in where)
            mean = out.detach().double().mean(dim=lead) if lead else out.detach().double()
            self.maps[node.name] = mean.permute([sorted(where).index(d) for d in where]) \
                if where != sorted(where) else mean
        if node.origin:
            node.source = caller_source(self.prefer, depth=3)
            node.cause = self._cause(func, entry, args, kwargs, inputs, out, dims, node.origin)
        if entry is not None and entry[1] == "pad":
            self._pads[out] = (node, func, args, kwargs)
        elif node.index is not None:
            x = args[0] if args else kwargs.get("input")
            pad = self._pads.get(x) if isinstance(x, torch.Tensor) else None
            if pad is not None:
                pad[0].feeds = node.index
            self._probe_alone(node, func, args, kwargs, pad)

    def _others(self, args, kwargs, inputs, dims) -> list[torch.Tensor]:
        """The op's floating operands that are not followed maps but reach its spatial axes."""
        return [t for t in tensors_in(args) + tensors_in(list(kwargs.values()))
                if t.is_floating_point() and not any(t is i for i in inputs)
                and t.dim() >= max(-d for d in dims)]

    def _spatial_operand(self, args, kwargs, inputs, dims) -> bool:
        """Does the op combine the map with an unfollowed tensor that varies in space
        (a positional embedding), rather than a scalar or per-channel one?"""
        return any(any(t.shape[d] > 1 for d in dims) for t in self._others(args, kwargs, inputs, dims))

    def _asym_of(self, t: torch.Tensor) -> dict:
        node = self.spatial[t][0] if t in self.spatial else None
        return node.asym if node is not None else {}

    def _cause(self, func, entry, args, kwargs, inputs, out, dims, axes) -> str:
        name = entry[0] if entry is not None else getattr(func, "__name__", "")
        if name in CAUSES:
            return CAUSES[name]
        for t in self._others(args, kwargs, inputs, dims):
            if all(t.shape[d] == out.shape[d] for d in dims):
                values = dict(zip(self.axes, asymmetry(t, dims, self.flat)))
                if any(values[a] > self.tol for a in axes):
                    return ("it combines the map with a tensor that is not mirror-symmetric "
                            "(a learned positional embedding or bias map is not mirror-equivariant by design)")
        if entry is not None:
            return "its windows cover the two ends unevenly"
        return "the op is not mirror-equivariant, and padlint does not model it"

    def _probe_alone(self, node: Node, func, args, kwargs, pad) -> None:
        """A flagged layer whose input is already asymmetric (or whose output showed
        nothing) runs again on its own, on a symmetric input of its real input shape:
        a constant first, then its real input made symmetric, then symmetric noise (a max
        pool never picks its -inf padding, so only fine structure shows its windows'
        misalignment)."""
        axes = [a for a in self.verified.get(node.index, ())
                if node.input_asym.get(a, 0.0) > self.tol or node.asym.get(a, 0.0) <= self.tol]
        if not axes:
            return
        real = pad[2][0] if pad is not None else (args[0] if args else kwargs.get("input"))
        kinds: tuple[str, ...] = ("constant", "symmetrised", "symmetric noise")
        if self.kinds is not None:
            kinds = tuple(k for k in kinds if any(self.kinds.get((node.index, a)) == k for a in axes))
        for kind in kinds:
            if kind == "constant":
                x = torch.ones_like(real)
            elif kind == "symmetrised":
                x = symmetrise(real, self.nd)
            else:   # fine structure shows misaligned windows that a smooth map hides (max pools)
                gen = torch.Generator(device=real.device).manual_seed(0)
                x = symmetrise(torch.rand(real.shape, generator=gen, dtype=real.dtype,
                                          device=real.device), self.nd)
            if pad is not None:
                _, pfunc, pargs, pkwargs = pad
                x = pfunc(x, *pargs[1:], **pkwargs)
            y = func(x, *args[1:], **kwargs)
            y = y[0] if isinstance(y, tuple) else y
            values = dict(zip(self.axes, asymmetry(y, self.nd, self.flat)))
            for a in axes:
                if (node.index, a) not in self.alone or (
                        self.alone[(node.index, a)][0] <= self.tol < values[a]):
                    self.alone[(node.index, a)] = (values[a], kind)
            if all(self.alone[(node.index, a)][0] > self.tol for a in axes):
                break


def run_probe(model: nn.Module, shape: tuple[int, ...], device: torch.device, verified: dict,
              prefer_file: str | None = None, kinds: dict | None = None,
              maps: bool = False) -> ProbeRun:
    """The symmetric-kernel probe of ``model`` on a constant input of ``shape``: float64
    on the CPU, float32 on a GPU. Layers in ``verified`` (windowed index -> axes) whose
    own origin is hidden also run alone; ``kinds`` limits that to one layer input each.
    ``maps`` keeps the channel-mean output of every windowed layer and origin."""
    nd = len(shape) - 2
    dtype = torch.float64 if device.type == "cpu" else torch.float32
    observer = ProbeObserver(model, nd, dtype, verified, prefer_file, kinds, maps)
    with precise(dtype):
        x = torch.ones(tuple(shape), dtype=dtype, device=device)
        with torch.no_grad(), observer:
            observer.watch(x)
            model(x)
    kept = mean_arrays(observer.maps, dict.fromkeys(observer.maps, 1)) if observer.maps is not None else {}
    return ProbeRun(tuple(shape), str(dtype).replace("torch.", ""), observer.tol, observer.nodes,
                    observer.windowed, observer.untracked_windowed, observer.alone, kept)
