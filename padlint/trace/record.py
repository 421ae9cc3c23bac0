"""The recorder both front ends share: a ``TorchFunctionMode`` that sees every windowed
call and explicit pad with its real arguments, and turns each windowed call into a
:class:`~padlint.ir.trace.Layer` with the facts of :mod:`padlint.geometry`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from padlint.geometry import axis as geometry
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.source import Source
from padlint.ir.trace import Layer
from padlint.trace.ops import BROADCAST, FUNCTIONS, SAME_SHAPE, bind, window_args


class InputTooSmall(Exception):
    input_shape: tuple[int, ...]      # set by trace.build.run_at: the input that failed

    def __init__(self, layer: str, op: str, axis: str, n: int, needed: int):
        super().__init__(layer, op, axis, n, needed)
        self.layer, self.op, self.axis, self.n, self.needed = layer, op, axis, n, needed

    def __str__(self) -> str:   # FX appends its node dump to args; keep the message clean
        return f"{self.layer} ({self.op}) would get {self.n} on {self.axis} and needs at least {self.needed}"


class GeometryMismatch(RuntimeError):
    """padlint's arithmetic disagrees with torch: a bug in padlint, never the user's."""

    input_shape: tuple[int, ...]      # set by trace.build.run_at: the input that failed


# Ops whose output shape is their input's (or the broadcast of two inputs). On the
# meta device torch runs many of them through slow Python decompositions, so the
# recorder answers them directly; every other op runs for real on meta tensors.


# Modules whose output has their input's shape; the FX interpreter skips calling them.
SAME_SHAPE_MODULES = frozenset((
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU,
    nn.SELU, nn.GELU, nn.SiLU, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid,
    nn.Tanh, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.Identity))


def is_meta(t) -> bool:
    return isinstance(t, torch.Tensor) and t.device.type == "meta"


def _fast_shape(func, args, kwargs):
    name = getattr(func, "__name__", "")
    if name in _SHAPERS and args:
        try:
            return _SHAPERS[name](*args, **kwargs)
        except TypeError:       # a signature not answered here: torch's own meta kernel
            return None
    if name in SAME_SHAPE and args and is_meta(args[0]):
        a = args[0]
        if name.endswith("_") or kwargs.get("inplace"):
            return a
        return torch.empty(a.shape, dtype=a.dtype, device="meta")
    if name in BROADCAST and len(args) >= 2 and is_meta(args[0]):
        a, b = args[0], args[1]
        if isinstance(b, torch.Tensor):
            if not is_meta(b) and b.dim() > 0:
                return None
            shape, dtype = _broadcast(a.shape, b.shape), torch.result_type(a, b)
            if shape is None:
                return None
        elif isinstance(b, (int, float, bool)):
            shape, dtype = a.shape, torch.result_type(a, b)
        else:
            return None
        if name.endswith("_") or name.startswith("__i"):
            return a if a.shape == shape else None
        return torch.empty(shape, dtype=dtype, device="meta")
    return None


class _Pad:
    __slots__ = ("out", "source", "dims", "mode")

    def __init__(self, out, source, dims, mode):
        self.out, self.source, self.dims, self.mode = out, source, dims, mode


# A labeller names a windowed call: (function name) -> (layer name, op, source, module).
Labeller = Callable[[str], tuple[str, str, Source | None, nn.Module | None]]


class Listener(Protocol):
    """A fact builder the recorder tells every call it sees: the length program
    (:class:`padlint.trace.program.ProgramBuilder`) and the alignment tracker
    (:class:`padlint.trace.alignment.AlignmentTracker`). A listener that raises is dropped
    for the rest of the run: ``fail(why)`` writes why into its own facts, which are then
    partial, and the other facts go on."""

    what: str          # 'length recorder': how a failure names it

    def register_input(self, x: torch.Tensor, nd: int) -> None: ...
    def observe(self, func, args, kwargs, out) -> None: ...
    def window(self, layer: int, real: torch.Tensor, x: torch.Tensor, nd: int, transposed: bool,
               explicit, axes, outs) -> None: ...
    def alias(self, out: torch.Tensor, x: torch.Tensor) -> None: ...
    def fail(self, why: str) -> None: ...


class Recorder(TorchFunctionMode):
    """Records every windowed call with its real arguments and shapes, and tells its
    listeners every call."""

    def __init__(self, labeller: Labeller, listeners: list[Listener]):
        super().__init__()
        self.labeller = labeller
        self.listeners = list(listeners)
        self.dropped: list[Listener] = []     # those that failed: their facts say why
        self.layers: list[Layer] = []
        self._pads: dict[int, _Pad] = {}

    def tell(self, method: str, *args) -> None:
        """Pass a call on to every listener; one that fails only costs its own facts."""
        for listener in list(self.listeners):
            internal, self._internal = self._internal, True    # its own shape reads are not the model's
            try:
                getattr(listener, method)(*args)
            except Exception as err:  # noqa: BLE001 - the analysis itself must go on
                listener.fail(f"padlint's {listener.what} failed on "
                              f"{getattr(args[0], '__name__', method)}: {type(err).__name__}: {err}")
                self.listeners.remove(listener)
                self.dropped.append(listener)
            finally:
                self._internal = internal

    def same_shape(self, x):
        """A meta tensor shaped like ``x`` (for a module whose output is its input's shape)."""
        internal, self._internal = self._internal, True
        try:
            out = torch.empty(x.shape, dtype=x.dtype, device="meta")
        finally:
            self._internal = internal
        self.tell("alias", out, x)
        return out

    _internal = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self._internal:
            return func(*args, **kwargs)
        entry = FUNCTIONS.get(func)
        if entry is None:
            fast = _fast_shape(func, args, kwargs)
            out = fast if fast is not None else func(*args, **kwargs)
            self.tell("observe", func, args, kwargs, out)
            return out
        name, family, nd = entry
        bound = bind(family, args, kwargs)
        if family == "pad":
            out = func(*args, **kwargs)
            self._record_pad(bound, out)
            self.tell("observe", func, args, kwargs, out)
            return out
        return self._windowed(func, name, family, nd, bound, args, kwargs)

    def _record_pad(self, bound, out) -> None:
        pad = [int(p) for p in bound["pad"]]
        if any(p < 0 for p in pad):
            return
        x = bound["input"]
        dims = {i + 1: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}
        mode = bound.get("mode") or "constant"
        earlier = self._pads.get(id(x))
        if earlier is not None and earlier.out is x:       # pad of a pad: add them up
            for dim, (b, e) in earlier.dims.items():
                b2, e2 = dims.get(dim, (0, 0))
                dims[dim] = (b + b2, e + e2)
            x, mode = earlier.source, earlier.mode if earlier.mode == mode else f"{earlier.mode}+{mode}"
        self._pads[id(out)] = _Pad(out, x, dims, mode)

    def _windowed(self, func, fname, family, nd, bound, args, kwargs):
        wa = window_args(family, nd, bound)
        x = bound["input"]
        layer, op, source, module = self.labeller(fname)
        explicit = [(0, 0)] * nd
        real, pad_mode = x, None
        pad = self._pads.get(id(x))
        if pad is not None and pad.out is x and not wa.transposed:
            real, pad_mode = pad.source, pad.mode
            explicit = [pad.dims.get(nd - i, (0, 0)) for i in range(nd)]
            if real.shape[:-nd] != x.shape[:-nd]:       # it padded more than the spatial dims
                real, pad_mode, explicit = x, None, [(0, 0)] * nd
        axes = []
        for i, axis in enumerate(AXIS_NAMES[nd]):
            n = int(real.shape[x.dim() - nd + i])
            k, s, d = int(wa.kernel[i]), int(wa.stride[i]), int(wa.dilation[i])
            if isinstance(wa.padding, str):
                own = geometry.resolve_padding(wa.padding, k, d)
            else:
                own = (int(wa.padding[i]),) * 2
            eb, ee = explicit[i]
            try:
                if wa.transposed:
                    facts = geometry.transposed_axis_facts(axis, n, k, s, d, own[0], own[1],
                                                           int(wa.output_padding[i]))
                else:
                    facts = geometry.axis_facts(axis, n, k, s, d, own[0] + eb, own[1] + ee,
                                                wa.ceil_mode, eb, ee)
            except ValueError:
                needed = geometry.min_input_length(k, d, own[0] + eb, own[1] + ee)
                raise InputTooSmall(layer, op, axis, n, needed) from None
            axes.append(facts)
        out = _window_out(wa, bound, axes)
        if out is None:
            out = func(*args, **kwargs)
        y = out[0] if isinstance(out, tuple) else out
        got = tuple(int(v) for v in y.shape[-nd:])
        if got != tuple(f.out for f in axes):
            raise GeometryMismatch(f"{layer} ({op}): torch gives output {got}, padlint's "
                                   f"arithmetic {tuple(f.out for f in axes)} for input {tuple(x.shape)}")
        self.tell("window", len(self.layers), real, x, nd, wa.transposed, explicit, axes,
                  list(out) if isinstance(out, tuple) else [out])
        mode = getattr(module, "padding_mode", None) if module is not None else None
        if mode in (None, "zeros"):
            mode = pad_mode if pad_mode not in (None, "constant") else None
        self.layers.append(Layer(name=layer, op=op, family=family, axes=tuple(axes),
                                 input_shape=tuple(real.shape), output_shape=tuple(y.shape),
                                 source=source, padding_mode=mode,
                                 node=getattr(self, "node_name", None),
                                 params=sum(int(t.numel()) for t in (bound.get("weight"), bound.get("bias"))
                                            if isinstance(t, torch.Tensor))))
        return out


# Ops whose meta kernels are Python decompositions that import torch._dynamo on first use
# (half a second in a new process, paid by every `padlint check`): their output shapes,
# answered directly where the call is a plain one (None: let torch run it).


def _broadcast(a, b) -> tuple[int, ...] | None:
    """The broadcast of two shapes (``torch.broadcast_shapes`` imports the symbolic-shapes
    machinery on first use), or None where they do not broadcast."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        m = int(a[-i]) if i <= len(a) else 1
        n = int(b[-i]) if i <= len(b) else 1
        if m != n and 1 not in (m, n):
            return None
        out.append(n if m == 1 else m)
    return tuple(reversed(out))


def _meta_like(x, shape):
    return torch.empty(tuple(shape), dtype=x.dtype, device="meta")


def _cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors or not all(is_meta(t) and t.dim() == tensors[0].dim() > 0 for t in tensors):
        return None
    x, d = tensors[0], int(dim) % tensors[0].dim()
    if any(t.dtype != x.dtype or t.shape[:d] + t.shape[d + 1:] != x.shape[:d] + x.shape[d + 1:]
           for t in tensors):
        return None
    shape = list(x.shape)
    shape[d] = sum(int(t.shape[d]) for t in tensors)
    return _meta_like(x, shape)


def _reduce(x, dim=None, keepdim=False):
    if not is_meta(x) or not x.is_floating_point() or dim is None or isinstance(keepdim, torch.Tensor):
        return None
    dims = [int(dim)] if isinstance(dim, int) else [int(d) for d in dim]
    if not dims or x.dim() == 0:
        return None
    dims = [d % x.dim() for d in dims]
    if len(set(dims)) != len(dims):
        return None
    shape = [1 if i in dims else n for i, n in enumerate(x.shape) if keepdim or i not in dims]
    return _meta_like(x, shape)


def _adaptive_avg(nd):
    def shaper(x, output_size):
        if not is_meta(x) or x.dim() not in (nd + 1, nd + 2) or 0 in x.shape[-nd:]:
            return None
        sizes = [output_size] * nd if isinstance(output_size, int) else list(output_size)
        if len(sizes) != nd:
            return None
        sizes = [int(x.shape[-nd + i]) if v is None else int(v) for i, v in enumerate(sizes)]
        return _meta_like(x, list(x.shape[:-nd]) + sizes) if min(sizes) > 0 else None
    return shaper


def _linear(x, weight, bias=None):
    if not (is_meta(x) and is_meta(weight)) or weight.dim() != 2 or x.dim() == 0 \
            or x.shape[-1] != weight.shape[1] or x.dtype != weight.dtype:
        return None
    if bias is not None and not (is_meta(bias) and tuple(bias.shape) in ((), (1,), (weight.shape[0],))):
        return None
    return _meta_like(x, list(x.shape[:-1]) + [weight.shape[0]])


_SHAPERS = {"linear": _linear, "cat": _cat, "concat": _cat, "concatenate": _cat, "mean": _reduce, "sum": _reduce,
            "amax": _reduce, "amin": _reduce,
            **{f"adaptive_avg_pool{nd}d": _adaptive_avg(nd) for nd in (1, 2, 3)}}


def _window_out(wa, bound: dict, axes) -> torch.Tensor | None:
    """The output of a plain convolution or pooling call on meta tensors, shaped from
    padlint's arithmetic (torch's meta kernels check their arguments with ``torch._check``,
    whose first use imports the symbolic-shapes machinery: a quarter of a second in a new
    process). Only calls that torch would accept are answered: the channels and dtypes
    agree and a pool's padding is at most half its kernel; any other runs torch's kernel,
    and its error is the user's."""
    x, nd = bound["input"], wa.nd
    if not is_meta(x) or x.dim() != nd + 2 or isinstance(wa.padding, str):
        return None
    outs = [f.out for f in axes]
    if wa.family == "conv":
        weight, bias, groups = bound.get("weight"), bound.get("bias"), bound.get("groups", 1)
        if not isinstance(weight, torch.Tensor):
            return None
        if not (is_meta(weight) and weight.dim() == nd + 2 and weight.dtype == x.dtype
                and isinstance(groups, int) and groups > 0 and weight.shape[0] % groups == 0
                and x.shape[1] == weight.shape[1] * groups):
            return None
        if bias is not None and not (is_meta(bias) and tuple(bias.shape) == (weight.shape[0],)
                                     and bias.dtype == x.dtype):
            return None
        return torch.empty((x.shape[0], weight.shape[0], *outs), dtype=x.dtype, device="meta")
    if wa.family in ("max_pool", "avg_pool") and not bound.get("return_indices") \
            and x.is_floating_point() and all(p <= k // 2 for p, k in zip(wa.padding, wa.kernel)):
        return torch.empty((*x.shape[:2], *outs), dtype=x.dtype, device="meta")
    return None
