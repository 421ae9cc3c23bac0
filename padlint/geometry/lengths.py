"""Length programs: how every spatial length of a model follows from its input size.

The front end records a :class:`LengthProgram` while it runs a model once (see
:mod:`padlint.trace.program`). Each tensor dimension becomes a symbol; a symbol is the input
length of one axis, a constant, or one step of SCIENCE.md's arithmetic applied to other
symbols (a windowed op's output length, an explicit or TF-"SAME" pad, an interpolation
scale, a concatenation, a broadcast merge …). Evaluating the program with numpy arrays
for the input lengths gives every length of the model at every size in one pass.

A conv ``k=3 s=2 p=1`` on a length-``n`` input, evaluated at three sizes at once:

>>> program = LengthProgram(syms=[Sym("var", params=(0,), ref=224), Sym("win", args=(0,), ref=112)],
...                         windows=[WindowAxis(layer=0, axis="H", src=0, out=1, kernel=3, stride=2,
...                                             dilation=1, own_begin=1, own_end=1)], inputs=(0,))
>>> ev = program.evaluate({0: np.array([1, 224, 225])})
>>> ev.values[1], ev.valid()
(array([  1, 112, 113]), array([ True,  True,  True]))
>>> ev.window_facts(program.windows[0])["unused_pad_end"]
array([[0, 1, 0]])

Nothing here imports torch.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
from numpy.typing import DTypeLike, NDArray

from padlint.geometry.axis import (
    Flags,
    Lengths,
    output_length,
    pad_use,
    tap_counts,
    transposed_output_length,
    uneven_use,
)

#: An integer column: one row per window axis, shape ``(rows, 1)`` or ``(rows, sizes)``.
Column = NDArray[np.int64]


def tf_same_total(n: Lengths, k: int, s: int, d: int = 1) -> Lengths:
    """Total padding TensorFlow's "SAME" adds: ``max((ceil(n/s) - 1)*s + k_e - n, 0)``.

    >>> int(tf_same_total(224, 3, 2)), int(tf_same_total(225, 3, 2))
    (1, 2)
    """
    return np.maximum((-np.floor_divide(-n, s) - 1) * s + d * (k - 1) + 1 - n, 0)


def tf_same_pads(n: Lengths, k: int, s: int, d: int, variant: str) -> tuple[Lengths, Lengths]:
    """``(begin, end)``: variant 'end' puts the odd cell at the end (TensorFlow, timm).

    >>> [int(p) for p in tf_same_pads(224, 3, 2, 1, "end")], [int(p) for p in tf_same_pads(224, 3, 2, 1, "begin")]
    ([0, 1], [1, 0])
    >>> tf_same_pads(np.array([224, 225]), 3, 2, 1, "end")
    (array([0, 1]), array([1, 1]))
    """
    total = tf_same_total(n, k, s, d)
    small = np.floor_divide(total, 2)
    return (small, total - small) if variant == "end" else (total - small, small)


@dataclass(frozen=True)
class Sym:
    """One length. ``op`` is var | const | win | pad | same_pad | scale | sum | prod |
    merge | eq | slice; ``args`` are symbol indices; ``ref`` is its value as recorded."""

    op: str
    args: tuple[int, ...] = ()
    params: tuple[Any, ...] = ()        # per op: (axis,) (value,) (begin, end) (k, s, d) (factor,) …
    ref: int = 0
    where: str = ""


@dataclass(frozen=True)
class WindowAxis:
    """One axis of one windowed call: which symbol feeds it and its geometry."""

    layer: int                  # index into the trace's layers
    axis: str
    src: int                    # symbol of the real input length (before any explicit pad)
    out: int                    # symbol of the output length
    kernel: int
    stride: int
    dilation: int
    own_begin: int              # the op's own padding
    own_end: int
    ceil_mode: bool = False
    explicit: tuple[Any, ...] = ("static", 0, 0)   # or ("same", variant): TF-SAME, from the input length
    transposed: bool = False
    output_padding: int = 0

    def explicit_pads(self, n: Lengths) -> tuple[Lengths, Lengths]:
        """The explicit pad before the op, ``(begin, end)``, at input length ``n``."""
        if self.explicit[0] == "same":
            return tf_same_pads(n, self.kernel, self.stride, self.dilation, self.explicit[1])
        return self.explicit[1], self.explicit[2]


class Columns(TypedDict):
    """What :meth:`LengthProgram.columns` caches: one row per window axis."""

    kernel: Column
    stride: Column
    dilation: Column
    own_b: Column
    own_e: Column
    ceil: NDArray[np.bool_]
    taps: NDArray[np.bool_]             # the transposed conv's taps per phase are unequal
    static_b: Column
    static_e: Column
    same: list[int]                     # rows whose explicit pad is TF-SAME


@dataclass
class LengthProgram:
    """The symbols of one traced run, in the order they were recorded, and the windowed
    calls that read them."""

    syms: list[Sym] = field(default_factory=list)
    windows: list[WindowAxis] = field(default_factory=list)
    inputs: tuple[int, ...] = ()          # the var symbol of each spatial input axis
    events: list[tuple[str, str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    # (op, where, output symbols, output shape as recorded): what validation compares
    pools: list[int] = field(default_factory=list)        # the input symbol of each adaptive
    # pool axis, in the order of padlint.trace.grids.Alignment.pools
    merges: list[tuple[str, tuple[tuple[int, ...], ...], tuple[int, ...]]] = field(default_factory=list)
    # (where, input shapes, output shape) of each broadcasting merge, as recorded
    uncertain: list[str] = field(default_factory=list)   # why it must be validated
    unmodelled: str | None = None         # why the fast path cannot be used at all
    verdict: tuple[str, str | None] | None = None   # cached result of padlint.sizes.sweep.fast_path_problem
    _columns: dict[tuple[int, ...], Columns] = field(default_factory=dict, repr=False)   # cache of columns()

    def columns(self, windows: list[WindowAxis]) -> Columns:
        """Per-window constants of :meth:`Evaluation.stacked_facts`, as (rows, 1) columns
        (cached: a sweep asks for the same windows again and again)."""
        key = tuple(id(w) for w in windows)
        cache = self._columns
        if key not in cache:
            def col(values: Iterable[int], dtype: DTypeLike = np.int64) -> NDArray[Any]:
                column: NDArray[Any] = np.array(list(values), dtype=dtype)[:, None]
                return column
            static = [w.explicit if w.explicit[0] == "static" else ("same", 0, 0) for w in windows]
            cache[key] = {
                "kernel": col(w.kernel for w in windows), "stride": col(w.stride for w in windows),
                "dilation": col(w.dilation for w in windows),
                "own_b": col(w.own_begin for w in windows), "own_e": col(w.own_end for w in windows),
                "ceil": col((w.ceil_mode for w in windows), bool),
                "taps": col((len(set(tap_counts(w.kernel, w.stride, w.dilation))) > 1
                             for w in windows), bool),
                "static_b": col(p[1] for p in static), "static_e": col(p[2] for p in static),
                "same": [i for i, w in enumerate(windows) if w.explicit[0] == "same"]}
        return cache[key]

    def evaluate(self, inputs: dict[int, Lengths]) -> Evaluation:
        """Every symbol's value; ``inputs`` maps a spatial axis index to its lengths (an int
        or an array). Symbols that do not depend on an array stay plain numbers."""
        values: list[Any] = [None] * len(self.syms)   # filled in symbol order: args come first
        size = max((np.size(v) for v in inputs.values()), default=1)
        first_bad = np.full(size, -1, dtype=np.int64)
        windows = {w.out: w for w in self.windows}

        def fail(index: int, bad: Flags) -> None:
            if not isinstance(bad, np.ndarray):
                if bad:
                    first_bad[first_bad < 0] = index
                return
            if bad.any():
                first_bad[bad & (first_bad < 0)] = index

        for i, sym in enumerate(self.syms):
            a: list[Lengths] = [values[j] for j in sym.args]
            op = sym.op
            v: Lengths
            if op == "var":
                v = inputs.get(sym.params[0], sym.ref)
                v = np.asarray(v, dtype=np.int64) if np.ndim(v) else int(v)
            elif op == "const":
                v = sym.params[0]
            elif op == "win":
                w = windows[i]
                n = a[0]
                if w.transposed:
                    v = transposed_output_length(n, w.kernel, w.stride, w.dilation, w.own_begin,
                                                 w.own_end, w.output_padding)
                else:
                    eb, ee = w.explicit_pads(n)
                    v = output_length(n, w.kernel, w.stride, w.dilation, w.own_begin + eb,
                                      w.own_end + ee, w.ceil_mode, ee)
                fail(i, (v <= 0) | (n <= 0))           # torch refuses an empty input too
            elif op == "pad":
                v = a[0] + sym.params[0] + sym.params[1]
                fail(i, v <= 0)
            elif op == "same_pad":
                v = a[0] + tf_same_total(a[0], *sym.params)
            elif op == "scale":
                v = np.floor(np.asarray(a[0], dtype=np.float64) * sym.params[0]).astype(np.int64)
                fail(i, v <= 0)
            elif op == "sum":
                v = sum(a[1:], a[0])
            elif op == "prod":
                v = a[0]
                for other in a[1:]:
                    v = v * other
            elif op == "merge":            # broadcasting: equal, or one of them is 1
                x, y = a
                fail(i, (x != y) & (x != 1) & (y != 1))
                v = np.where(x == 1, y, x) if isinstance(x, np.ndarray) or isinstance(
                    y, np.ndarray) else (y if x == 1 else x)
            elif op == "eq":               # concatenation, or a merge of lengths equal as
                x, y = a                   # traced: must be equal
                fail(i, x != y)
                v = x
            elif op == "min":
                v = np.minimum(a[0], a[1])
            elif op == "slice":
                v = slice_length(a[0], *sym.params)
            else:
                raise ValueError(f"unknown length op {op!r}")
            if not isinstance(v, np.ndarray) or v.ndim == 0:
                v = int(v)
            values[i] = v
        return Evaluation(self, values, first_bad)


def broadcast_break(reference: LengthProgram, run: LengthProgram) -> str | None:
    """Why a run at another size is not a run of the traced model, or None: its first
    merge that broadcasts a length-1 map where the traced run merged a longer one (what
    an 'eq' symbol of the length program rejects). The two runs' merges are compared in
    call order, up to where they part.

    >>> traced = LengthProgram(merges=[("net.add", ((1, 8, 2, 2), (1, 8, 2, 2)), (1, 8, 2, 2))])
    >>> bigger = LengthProgram(merges=[("net.add", ((1, 8, 4, 4), (1, 8, 1, 1)), (1, 8, 4, 4))])
    >>> broadcast_break(traced, bigger)
    'net.add: merged branches disagree (4 vs 1)'
    """
    for (where, ref_in, _ref_out), (other, run_in, run_out) in zip(reference.merges, run.merges):
        if where != other or len(ref_in) != len(run_in):
            return None
        for i in range(1, len(run_out) + 1):
            lengths = [shape[-i] for shape in run_in if len(shape) >= i]
            traced = [shape[-i] for shape in ref_in if len(shape) >= i]
            if len(lengths) != len(traced):
                return None
            if any(n == 1 and run_out[-i] != 1 and t != 1 for n, t in zip(lengths, traced)):
                return f"{where}: merged branches disagree ({' vs '.join(map(str, lengths))})"
    return None


def slice_length(n: Lengths, start: int | None, stop: int | None, step: int) -> Lengths:
    """``len(range(n)[start:stop:step])`` for a positive step, vectorised over ``n``.

    >>> int(slice_length(10, 1, None, 2)), int(slice_length(10, -3, None, 1))
    (5, 3)
    >>> slice_length(np.array([4, 5]), 0, -1, 2)
    array([2, 2])
    """
    def norm(value: int | None, default: Lengths) -> Lengths:
        if value is None:
            return default
        return np.maximum(value + n, 0) if value < 0 else np.minimum(value, n)
    lo, hi = norm(start, 0), norm(stop, n)
    return np.maximum(0, -np.floor_divide(-(hi - lo), step))


@dataclass
class Evaluation:
    """Every symbol of a :class:`LengthProgram` at every evaluated size."""

    program: LengthProgram
    values: list[Lengths]           # per symbol: an int, or one value per size
    first_bad: NDArray[np.int64]    # per size: the first symbol that fails, or -1

    def valid(self) -> NDArray[np.bool_]:
        """Per size: whether the model runs there."""
        return self.first_bad < 0

    def value(self, sym: int, at: int) -> int:
        """Symbol ``sym`` at size number ``at``."""
        v = self.values[sym]
        return int(v[at]) if isinstance(v, np.ndarray) and v.ndim else int(v)

    def reason(self, at: int, layer_names: list[str], layer_ops: list[str]) -> str:
        """Why size number ``at`` cannot run, worded like the front end's errors."""
        index = int(self.first_bad[at])
        sym = self.program.syms[index]
        if sym.op == "win":
            w = next(w for w in self.program.windows if w.out == index)
            n = self.value(w.src, at)
            eb, ee = w.explicit_pads(n)
            needed = max(1, w.dilation * (w.kernel - 1) + 1 - w.own_begin - w.own_end - int(eb) - int(ee))
            return (f"{layer_names[w.layer]} ({layer_ops[w.layer]}) would get {n} on {w.axis} "
                    f"and needs at least {needed}")
        args = [self.value(j, at) for j in sym.args]
        if sym.op in ("merge", "eq"):
            return f"{sym.where}: merged branches disagree ({args[0]} vs {args[1]})"
        return f"{sym.where}: an empty output ({sym.op} of {args[0]})"

    def window_facts(self, w: WindowAxis) -> dict[str, Any]:
        """SCIENCE.md §1's quantities for one window axis at every size (arrays)."""
        return self.stacked_facts([w])

    def stacked_facts(self, windows: list[WindowAxis], count: int | None = None) -> dict[str, Any]:
        """The same for many window axes at once, all transposed or none: every array has
        one row per window and one column per size (``count`` columns; default: as the
        evaluated inputs), so one numpy pass serves every layer."""
        count = count or self.first_bad.shape[0]

        def rows(values: Iterable[Lengths]) -> Column:
            return np.stack([np.broadcast_to(np.asarray(v, dtype=np.int64), (count,)) for v in values])

        c = self.program.columns(windows)
        k, s, d, own_b, own_e = c["kernel"], c["stride"], c["dilation"], c["own_b"], c["own_e"]
        n = rows(self.values[w.src] for w in windows)
        common = {"n": n, "kernel": k, "stride": s, "dilation": d, "taps_unequal": c["taps"]}
        taps = c["taps"]
        if windows[0].transposed:
            out = rows(self.values[w.out] for w in windows)
            adj = pad_use(out, k, s, d, own_b, own_e)
            return common | {"out": out, "pad_begin": own_b, "pad_end": own_e,
                             "used_pad_end": adj["used_pad_end"], "leftover": adj["leftover"],
                             "uneven": own_b != adj["used_pad_end"],
                             "ignored_input_end": np.zeros_like(n),
                             "transposed": np.ones_like(taps)}
        eb, ee = c["static_b"], c["static_e"]
        if c["same"]:                    # TF-SAME pads follow each size's input length
            eb, ee = np.repeat(eb, count, axis=1), np.repeat(ee, count, axis=1)
            for i in c["same"]:
                eb[i], ee[i] = windows[i].explicit_pads(n[i])
        pb, pe = own_b + eb, own_e + ee
        u = pad_use(n, k, s, d, pb, pe, c["ceil"], ee)
        return common | u | {"pad_begin": pb, "pad_end": pe, "explicit_begin": eb,
                             "explicit_end": ee,
                             "uneven": uneven_use(n, u["out"], u["k_e"], pb, pe, u["used_pad_end"]),
                             "transposed": np.zeros_like(taps)}
