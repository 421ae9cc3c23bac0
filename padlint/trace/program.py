"""Records a :class:`~padlint.geometry.lengths.LengthProgram` while the front end runs a model.

The :class:`~padlint.trace.record.Recorder` hands every torch call it sees to a
:class:`ProgramBuilder`, which gives each dimension of each output tensor a symbol: the
input length of an axis, a constant, or a step of the arithmetic applied to the
symbols of the call's inputs. Calls it knows (windowed ops, pads, elementwise and merge
ops, concatenation, interpolation, adaptive pools, reductions, flatten, permutes,
slicing …) get their exact length rule. Any other call gets its output lengths matched
by value to its inputs' and marks the program *uncertain*; so does reading a tensor's
shape (pads computed from it, TF-"SAME" style, are modelled by their formula). An
uncertain program is only trusted after it predicts runs at other sizes exactly
(:func:`padlint.sizes.fast.fast_path_problem`).
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from padlint.geometry.lengths import LengthProgram, Sym, WindowAxis, tf_same_pads
from padlint.trace.ops import (
    ADAPTIVE,
    INTERPOLATE,
    MERGE,
    REDUCE,
    SHAPE_READS,
    UNARY,
    op_name,
    positive_dim,
    tensors_in,
)

REARRANGE = frozenset(("permute", "transpose", "swapaxes", "unsqueeze"))


def rearrange(name: str, args, kwargs, dims: tuple, new) -> tuple:
    """``dims`` (one item per dimension of ``args[0]``) reordered as ``name`` (one of
    REARRANGE) reorders the tensor's dimensions; ``new`` fills an inserted dimension."""
    if name == "permute":
        order = args[1:] if len(args) > 2 or isinstance(args[1], int) else args[1]
        order = kwargs.get("dims", order)
        return tuple(dims[positive_dim(int(i), len(dims))] for i in order)
    if name == "unsqueeze":
        d = args[1] if len(args) > 1 else kwargs["dim"]
        d = d + len(dims) + 1 if d < 0 else d
        return dims[:d] + (new,) + dims[d:]
    a, b = (positive_dim(int(v), len(dims)) for v in args[1:3])
    out = list(dims)
    out[a], out[b] = out[b], out[a]
    return tuple(out)


def expand_index(index, ndim: int) -> tuple | None:
    """``x[index]`` as a tuple of ints, slices and Nones, the Ellipsis spelled out; None
    when it holds anything else (tensors, lists)."""
    index = index if isinstance(index, tuple) else (index,)
    if any(not (isinstance(i, (slice, int)) or i is None or i is Ellipsis) for i in index):
        return None
    if Ellipsis in index:
        at = index.index(Ellipsis)
        used = sum(1 for i in index if i is not None and i is not Ellipsis)
        index = index[:at] + (slice(None),) * (ndim - used) + index[at + 1:]
    return index


class _Unknown(Exception):
    """This call does not fit the rule of its name: match its lengths by value."""


class ProgramBuilder:
    """The recorder's listener that writes the length program (a :class:`Listener`)."""

    what = "length recorder"

    def __init__(self, where: Callable[[], str]):
        self.program = LengthProgram()
        self.where = where
        self._dims: dict[int, tuple[torch.Tensor, tuple[int, ...]]] = {}
        self._varying: list[bool] = []
        self._consts: dict[int, int] = {}
        self._queried: dict[int, torch.Tensor] = {}
        self._padded_to: dict[int, torch.Tensor] = {}     # outputs of a pad to another's size

    # -- symbols ------------------------------------------------------------------
    def _sym(self, op: str, args=(), params=(), ref=0) -> int:
        self.program.syms.append(Sym(op, tuple(args), tuple(params), int(ref), self._where()))
        self._varying.append(op == "var" or any(self._varying[a] for a in args))
        return len(self.program.syms) - 1

    def _where(self) -> str:
        try:
            return self.where()
        except Exception:  # noqa: BLE001 - a name is a nicety
            return ""

    def const(self, value: int) -> int:
        value = int(value)
        if value not in self._consts:
            self._consts[value] = self._sym("const", params=(value,), ref=value)
        return self._consts[value]

    def varies(self, sym: int) -> bool:
        return self._varying[sym]

    def of(self, t: torch.Tensor) -> tuple[int, ...]:
        entry = self._dims.get(id(t))
        if entry is not None and entry[0] is t:
            return entry[1]
        return tuple(self.const(v) for v in t.shape)

    def _set(self, t: torch.Tensor, syms) -> None:
        self._dims[id(t)] = (t, tuple(syms))

    def fail(self, why: str) -> None:
        self.program.unmodelled = why

    def register_input(self, x: torch.Tensor, nd: int) -> None:
        lead = [self.const(v) for v in x.shape[:-nd]]
        spatial = [self._sym("var", params=(i,), ref=v) for i, v in enumerate(x.shape[-nd:])]
        self.program.inputs = tuple(spatial)
        self._set(x, lead + spatial)

    def alias(self, out: torch.Tensor, x: torch.Tensor) -> None:
        """``out`` has ``x``'s shape (a module the interpreter answers without running)."""
        self._set(out, self.of(x))
        self._event("same-shape module", out, self.of(x))

    def _event(self, op: str, out: torch.Tensor, syms) -> None:
        self.program.events.append((op, self._where(), tuple(syms), tuple(int(v) for v in out.shape)))

    def _uncertain(self, why: str) -> None:
        if why not in self.program.uncertain:
            self.program.uncertain.append(why)

    # -- calls --------------------------------------------------------------------
    def observe(self, func, args, kwargs, out) -> None:
        name = op_name(func)
        if name in SHAPE_READS or name == ".shape":
            x = args[0] if args and isinstance(args[0], torch.Tensor) else None
            if x is not None and any(self.varies(s) for s in self.of(x)):
                self._queried[id(x)] = x
                self._uncertain(f"reads a tensor's shape ({self._where() or name})")
            return
        outs = tensors_in(out) if isinstance(out, (tuple, list)) else (
            [out] if isinstance(out, torch.Tensor) else [])
        if not outs:
            return
        inputs = tensors_in(args) + tensors_in(kwargs)
        if len(outs) == 1 and inputs and outs[0] is inputs[0]:
            if name in MERGE and len(inputs) > 1:          # x += y: y must still fit x
                self._merge_in_place(inputs, outs[0])
            return                                          # in place: same tensor, same lengths
        try:
            syms = self._rule(name, args, kwargs, inputs, outs[0])
            results = [syms] * len(outs)
            if any(len(s) != o.dim() for s, o in zip(results, outs)):
                raise _Unknown
        except _Unknown:
            results = [self._by_value(name, inputs, o) for o in outs]
        for o, syms in zip(outs, results):
            self._set(o, syms)
            self._event(name, o, syms)

    def _by_value(self, name: str, inputs, out: torch.Tensor) -> tuple[int, ...]:
        dims = [self.of(t) for t in inputs]
        if not any(self.varies(s) for d in dims for s in d):
            return tuple(self.const(v) for v in out.shape)
        self._uncertain(f"{name} ({self._where()})" if self._where() else name)
        first = dims[0] if dims else ()
        syms = []
        for i, v in enumerate(out.shape):
            # the same position counted from the end (a view that splits channels keeps
            # H, W last), then from the start, then any input length of that value
            ahead = [first[i - out.dim()]] if out.dim() - i <= len(first) else []
            ahead += [first[i]] if i < len(first) else []
            found = next((s for s in ahead if self.program.syms[s].ref == v), None)
            if found is None:
                found = next((s for d in dims for s in d
                              if self.varies(s) and self.program.syms[s].ref == v), None)
            syms.append(found if found is not None else self.const(v))
        return tuple(syms)

    def _rule(self, name, args, kwargs, inputs, out) -> tuple[int, ...]:
        x = args[0] if args and isinstance(args[0], torch.Tensor) else (inputs[0] if inputs else None)
        if x is None:
            raise _Unknown
        xs = self.of(x)
        if name in ADAPTIVE:            # PAD106 evaluates the pool's input lengths
            self.program.pools.extend(xs[-int(name.split("pool")[1][0]):])
        if name in INTERPOLATE:         # its size may come from another tensor's shape
            return self._interpolate(args, kwargs, x, xs, out)
        if not any(self.varies(s) for s in xs) and not any(
                self.varies(s) for t in inputs for s in self.of(t)):
            return tuple(self.const(v) for v in out.shape)
        if name in UNARY:
            if tuple(out.shape) != tuple(x.shape):
                raise _Unknown
            return xs
        if name in MERGE:
            return self._merge(inputs, out)
        if name in ("cat", "concat", "concatenate", "stack"):
            return self._cat(name, args, kwargs, out)
        if name == "pad":
            return self._pad(args, kwargs, x, xs, out)
        if name in ADAPTIVE:
            size = args[1] if len(args) > 1 else kwargs.get("output_size")
            nd = int(name.split("pool")[1][0])
            size = [size] * nd if isinstance(size, int) else list(size)
            return xs[:-nd] + tuple(xs[-nd + i] if v is None else self.const(v) for i, v in enumerate(size))
        if name in REDUCE:
            return self._reduce(name, args, kwargs, xs)
        if name == "flatten":
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            start, end = positive_dim(start, len(xs)), positive_dim(end, len(xs))
            if len(xs) == 0 or start == end:
                return xs
            return xs[:start] + (self._product(xs[start:end + 1]),) + xs[end + 1:]
        if name in REARRANGE:
            return rearrange(name, args, kwargs, xs, self.const(1))
        if name == "__getitem__":
            return self._getitem(args[1], xs)
        if name == "linear":
            last = xs[-1]
            weight = args[1] if len(args) > 1 else kwargs["weight"]
            if self.varies(last):
                self._sym("eq", (last, self.const(weight.shape[-1])), ref=weight.shape[-1])
            return xs[:-1] + (self.const(out.shape[-1]),)
        if name == "pixel_shuffle":
            r = int(args[1] if len(args) > 1 else kwargs["upscale_factor"])
            return xs[:-3] + (self.const(out.shape[-3]),) + tuple(
                self._sym("prod", (s, self.const(r)), ref=v) for s, v in zip(xs[-2:], out.shape[-2:]))
        raise _Unknown

    def _product(self, syms) -> int:
        if not any(self.varies(s) for s in syms):
            value = 1
            for s in syms:
                value *= self.program.syms[s].ref
            return self.const(value)
        ref = 1
        for s in syms:
            ref *= self.program.syms[s].ref
        return self._sym("prod", syms, ref=ref)

    def _merge(self, inputs, out) -> tuple[int, ...]:
        """A broadcasting merge (add, mul, where …). Inputs of equal length (other than 1)
        at the traced size must stay equal at every size ('eq'): a length-1 map broadcast
        against a longer one is not a run of this model. Inputs that already broadcast at
        the traced size keep broadcasting ('merge')."""
        self.program.merges.append((self._where(), tuple(tuple(int(v) for v in t.shape) for t in inputs),
                                    tuple(int(v) for v in out.shape)))
        dims = [self.of(t) for t in inputs]
        syms = []
        for i in range(1, out.dim() + 1):
            column = [d[-i] for d in dims if len(d) >= i]
            result = None
            for s in column:
                if result is None or s == result or self._is_one(s):
                    result = s if result is None else result
                elif self._is_one(result):
                    result = s
                else:
                    ref = self.program.syms[s].ref
                    same = ref == self.program.syms[result].ref and ref != 1
                    result = self._sym("eq" if same else "merge", (result, s), ref=out.shape[-i])
            syms.append(result if result is not None else self.const(out.shape[-i]))
        return tuple(reversed(syms))

    def _merge_in_place(self, inputs, out) -> None:
        """``x += y``: ``x`` keeps its lengths, which ``y`` must match as in :meth:`_merge`."""
        if not any(self.varies(s) for t in inputs for s in self.of(t)):
            return
        syms = self._merge(inputs, out)
        if len(syms) == out.dim():
            self._set(out, syms)

    def _is_one(self, sym: int) -> bool:
        return self.program.syms[sym].op == "const" and self.program.syms[sym].ref == 1

    def _cat(self, name, args, kwargs, out) -> tuple[int, ...]:
        tensors = args[0] if args else kwargs["tensors"]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        dims = [self.of(t) for t in tensors if isinstance(t, torch.Tensor)]
        if name == "stack":
            dim = positive_dim(dim, len(dims[0]) + 1)
            base = self._agree(dims, out)
            return base[:dim] + (self.const(len(dims)),) + base[dim:]
        dim = positive_dim(dim, len(dims[0]))
        rest = list(self._agree([d[:dim] + d[dim + 1:] for d in dims], out, skip=dim))
        along = [d[dim] for d in dims]
        total = self._sym("sum", along, ref=out.shape[dim]) if any(self.varies(s) for s in along) \
            else self.const(out.shape[dim])
        return tuple(rest[:dim] + [total] + rest[dim:])

    def _agree(self, dims, out, skip=None) -> tuple[int, ...]:
        shape = [v for i, v in enumerate(out.shape) if i != skip]
        syms = []
        for i, column in enumerate(zip(*dims)):
            result = column[0]
            for s in column[1:]:
                if s != result:
                    result = self._sym("eq", (result, s), ref=shape[i])
            syms.append(result)
        return tuple(syms)

    def _pad(self, args, kwargs, x, xs, out) -> tuple[int, ...]:
        pad = args[1] if len(args) > 1 else kwargs["pad"]
        queried = id(x) in self._queried       # the amounts may follow a formula (TF-SAME)
        syms = list(xs)
        for i in range(len(pad) // 2):
            d = len(xs) - 1 - i
            b, e = int(pad[2 * i]), int(pad[2 * i + 1])
            match = self._pad_to(x, d, b, e) if queried and self.varies(xs[d]) else None
            if match is not None:
                syms[d] = match
                self._padded_to[id(out)] = out
            elif b or e or (queried and self.varies(xs[d])):
                ref = self.program.syms[xs[d]].ref + b + e
                syms[d] = self._sym("pad", (xs[d],), (b, e), ref=ref) if self.varies(xs[d]) \
                    else self.const(ref)
        return tuple(syms)

    def _interpolate(self, args, kwargs, x, xs, out) -> tuple[int, ...]:
        nd = x.dim() - 2
        size = args[1] if len(args) > 1 else kwargs.get("size")
        scale = args[2] if len(args) > 2 else kwargs.get("scale_factor")
        if kwargs.get("recompute_scale_factor") is False and scale is None:
            raise _Unknown
        if size is not None:
            size = [size] * nd if isinstance(size, int) else [int(v) for v in size]
            # A size read from another tensor's shape (U-Net, FPN): follow that tensor.
            for other in reversed(list(self._queried.values())):
                syms = self.of(other)[-nd:]
                if other.dim() >= nd and [self.program.syms[s].ref for s in syms] == size:
                    return xs[:2] + tuple(syms)
            return xs[:2] + tuple(self.const(v) for v in size)
        scale = [scale] * nd if isinstance(scale, (int, float)) else list(scale)
        return xs[:2] + tuple(
            self._sym("scale", (s,), (float(f),), ref=v) if self.varies(s) else self.const(v)
            for s, f, v in zip(xs[2:], scale, out.shape[2:]))

    def _reduce(self, name, args, kwargs, xs) -> tuple[int, ...]:
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        if isinstance(dim, torch.Tensor) or (name in ("std", "var") and "dim" not in kwargs
                                              and len(args) > 1 and isinstance(dim, bool)):
            raise _Unknown                     # torch.max(a, b), std(x, unbiased)
        keep = args[2] if len(args) > 2 and isinstance(args[2], bool) else kwargs.get("keepdim", False)
        if dim is None:
            if name in ("max", "min") and len(args) == 1 or name not in ("max", "min"):
                return ()
            raise _Unknown
        dims = {positive_dim(int(d), len(xs)) for d in ([dim] if isinstance(dim, int) else dim)}
        if keep:
            return tuple(self.const(1) if i in dims else s for i, s in enumerate(xs))
        return tuple(s for i, s in enumerate(xs) if i not in dims)

    def _getitem(self, index, xs) -> tuple[int, ...]:
        index = expand_index(index, len(xs))
        if index is None:
            raise _Unknown
        syms, d = [], 0
        for i in index:
            if i is None:
                syms.append(self.const(1))
                continue
            s = xs[d]
            d += 1
            if isinstance(i, int):
                continue
            if i.step is not None and i.step <= 0:
                raise _Unknown
            if not any(isinstance(v, torch.Tensor) for v in (i.start, i.stop, i.step)):
                crop = self._crop_to(s, i, d - 1)
                if crop is not None:
                    s = crop
                elif self.varies(s):
                    ref = len(range(self.program.syms[s].ref)[i])
                    s = self._sym("slice", (s,), (i.start, i.stop, i.step or 1), ref=ref)
                elif i != slice(None):
                    s = self.const(len(range(self.program.syms[s].ref)[i]))
                syms.append(s)
            else:
                raise _Unknown
        return tuple(syms) + xs[d:]

    def _pad_to(self, x: torch.Tensor, dim: int, b: int, e: int) -> int | None:
        """A pad to another tensor's size, both sizes read from their shapes (a U-Net
        decoder padding its upsampled map to the skip's: ``diff // 2, diff - diff // 2``):
        the padded length is that tensor's, whatever the input size."""
        n = self.program.syms[self.of(x)[dim]].ref
        if (b, e) != ((b + e) // 2, b + e - (b + e) // 2):
            return None
        for other in reversed(list(self._queried.values())):
            syms = self.of(other)
            if other is x or other.dim() != x.dim():
                continue
            s = syms[dim]
            if self.varies(s) and s != self.of(x)[dim] and self.program.syms[s].ref == n + b + e:
                return s
        return None

    def _crop_to(self, sym: int, index: slice, dim: int) -> int | None:
        """``x[..., :h]`` with ``h`` read from another tensor's shape (a U-Net crop to its
        skip): the length is ``min(len(x), h)``, following that tensor."""
        if index.start not in (None, 0) or index.step not in (None, 1) or not isinstance(index.stop, int) \
                or index.stop <= 0:
            return None
        for other in reversed(list(self._queried.values())):
            syms = self.of(other)
            candidates = ([syms[dim]] if dim < len(syms) else []) + list(syms)
            match = next((s for s in candidates if self.varies(s)
                          and self.program.syms[s].ref == index.stop), None)
            if match is not None:
                ref = min(self.program.syms[sym].ref, index.stop)
                return match if match == sym else self._sym("min", (sym, match), ref=ref)
        return None

    # -- windowed calls -----------------------------------------------------------
    def _pad_by_formula(self, sym: int, f) -> None:
        """The padded length feeding a TF-SAME window follows the formula, not constants."""
        old = self.program.syms[sym]
        if old.op == "pad":
            self.program.syms[sym] = Sym("same_pad", old.args, (f.kernel, f.stride, f.dilation),
                                         old.ref, old.where)

    def window(self, layer: int, real: torch.Tensor, x: torch.Tensor, nd: int, transposed: bool,
               explicit, axes, outs) -> None:
        src = self.of(real)
        if self._padded_to.get(id(x)) is x:        # its pads per size are not modelled
            self.fail(f"a window reads a pad to another tensor's size ({self._where()})")
        syms = []
        for i, f in enumerate(axes):
            eb, ee = explicit[i]
            kind: tuple = ("static", eb, ee)
            if real is not x and id(real) in self._queried:     # a pad after a shape read
                for variant in ("end", "begin"):
                    if tuple(int(v) for v in tf_same_pads(f.n, f.kernel, f.stride, f.dilation,
                                                          variant)) == (eb, ee):
                        kind = ("same", variant)
                        self._uncertain(f"a pad computed from the input shape ({self._where()})")
                        self._pad_by_formula(self.of(x)[x.dim() - nd + i], f)
                        break
            own_b, own_e = (f.pad_begin, f.pad_end) if transposed else (f.pad_begin - eb, f.pad_end - ee)
            s_in = src[len(src) - nd + i]
            out_sym = self._sym("win", (s_in,), ref=f.out)
            self.program.windows.append(WindowAxis(
                layer, f.axis, s_in, out_sym, f.kernel, f.stride, f.dilation, own_b, own_e,
                f.ceil_mode, kind, transposed, f.output_padding))
            syms.append(out_sym)
        for y in outs:
            lead = [src[j] if j < real.dim() - nd and y.shape[j] == real.shape[j]
                    else self.const(y.shape[j]) for j in range(y.dim() - nd)]
            self._set(y, lead + syms)
            self._event("window", y, lead + syms)
