"""Length programs: how every spatial length of a model follows from its input size.

The front end records a :class:`LengthProgram` while it runs a model once (see
:mod:`padlint.program`). Each tensor dimension becomes a symbol; a symbol is the input
length of one axis, a constant, or one step of SCIENCE.md's arithmetic applied to other
symbols (a windowed op's output length, an explicit or TF-"SAME" pad, an interpolation
scale, a concatenation, a broadcast merge …). Evaluating the program with numpy arrays
for the input lengths gives every length of the model at every size in one pass.

Nothing here imports torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .geometry import output_length, pad_use, transposed_output_length


def tf_same_total(n, k: int, s: int, d: int = 1):
    """Total padding TensorFlow's "SAME" adds: ``max((ceil(n/s) - 1)*s + k_e - n, 0)``."""
    return np.maximum((-np.floor_divide(-n, s) - 1) * s + d * (k - 1) + 1 - n, 0)


def tf_same_pads(n, k: int, s: int, d: int, variant: str):
    """``(begin, end)``: variant 'end' puts the odd cell at the end (TensorFlow, timm)."""
    total = tf_same_total(n, k, s, d)
    small = np.floor_divide(total, 2)
    return (small, total - small) if variant == "end" else (total - small, small)


@dataclass(frozen=True)
class Sym:
    """One length. ``op`` is var | const | win | pad | same_pad | scale | sum | prod |
    merge | eq | slice; ``args`` are symbol indices; ``ref`` is its value as recorded."""

    op: str
    args: tuple[int, ...] = ()
    params: tuple = ()
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
    explicit: tuple = ("static", 0, 0)   # or ("same", variant): TF-SAME, from the input length
    transposed: bool = False
    output_padding: int = 0

    def explicit_pads(self, n):
        if self.explicit[0] == "same":
            return tf_same_pads(n, self.kernel, self.stride, self.dilation, self.explicit[1])
        return self.explicit[1], self.explicit[2]


@dataclass
class LengthProgram:
    syms: list[Sym] = field(default_factory=list)
    windows: list[WindowAxis] = field(default_factory=list)
    inputs: tuple[int, ...] = ()          # the var symbol of each spatial input axis
    events: list[tuple[str, str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    # (op, where, output symbols, output shape as recorded): what validation compares
    uncertain: list[str] = field(default_factory=list)   # why it must be validated
    unmodelled: str | None = None         # why the fast path cannot be used at all
    verdict: object = None                # cached result of padlint.sweep.fast_path_problem

    def evaluate(self, inputs: dict[int, object]) -> "Evaluation":
        """Every symbol's value; ``inputs`` maps a spatial axis index to its lengths (an int
        or an array). Symbols that do not depend on an array stay plain numbers."""
        values: list = [None] * len(self.syms)
        size = max((np.size(v) for v in inputs.values()), default=1)
        first_bad = np.full(size, -1, dtype=np.int64)
        windows = {w.out: w for w in self.windows}

        def fail(index: int, bad) -> None:
            if np.ndim(bad) == 0:
                if bad:
                    first_bad[first_bad < 0] = index
                return
            if bad.any():
                first_bad[bad & (first_bad < 0)] = index

        for i, sym in enumerate(self.syms):
            a = [values[j] for j in sym.args]
            op = sym.op
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
                fail(i, (np.asarray(v) <= 0) | (np.asarray(n) <= 0))   # torch refuses empty input
            elif op == "pad":
                v = a[0] + sym.params[0] + sym.params[1]
                fail(i, np.asarray(v) <= 0)
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
                fail(i, (np.asarray(x) != y) & (np.asarray(x) != 1) & (np.asarray(y) != 1))
                v = np.where(np.asarray(x) == 1, y, x)
            elif op == "eq":               # concatenation: must be equal
                x, y = a
                fail(i, np.asarray(x) != y)
                v = x
            elif op == "min":
                v = np.minimum(a[0], a[1])
            elif op == "slice":
                v = slice_length(a[0], *sym.params)
            else:
                raise ValueError(f"unknown length op {op!r}")
            if np.ndim(v) == 0:
                v = int(v)
            values[i] = v
        return Evaluation(self, values, first_bad)


def slice_length(n, start, stop, step):
    """``len(range(n)[start:stop:step])`` for a positive step, vectorised over ``n``."""
    def norm(value, default):
        if value is None:
            return default
        return np.maximum(value + n, 0) if value < 0 else np.minimum(value, n)
    lo, hi = norm(start, 0), norm(stop, n)
    return np.maximum(0, -np.floor_divide(-(hi - lo), step))


@dataclass
class Evaluation:
    program: LengthProgram
    values: list
    first_bad: np.ndarray           # per size: the first symbol that fails, or -1

    def valid(self) -> np.ndarray:
        return self.first_bad < 0

    def value(self, sym: int, at: int):
        v = self.values[sym]
        return int(v[at]) if np.ndim(v) else int(v)

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

    def window_facts(self, w: WindowAxis) -> dict:
        """SCIENCE.md §1's quantities for one window axis at every size (arrays)."""
        n = self.values[w.src]
        if w.transposed:
            out = self.values[w.out]
            adj = pad_use(out, w.kernel, w.stride, w.dilation, w.own_begin, w.own_end)
            return {"n": n, "out": out, "pad_begin": w.own_begin, "pad_end": w.own_end,
                    "used_pad_end": adj["used_pad_end"], "leftover": adj["leftover"],
                    "uneven": np.asarray(w.own_begin) != adj["used_pad_end"],
                    "ignored_input_end": np.zeros_like(np.asarray(n)), "transposed": True,
                    "kernel": w.kernel, "stride": w.stride, "dilation": w.dilation}
        eb, ee = w.explicit_pads(n)
        pb, pe = w.own_begin + eb, w.own_end + ee
        u = pad_use(n, w.kernel, w.stride, w.dilation, pb, pe, w.ceil_mode, ee)
        u.update(n=n, pad_begin=pb, pad_end=pe, explicit_begin=eb, explicit_end=ee,
                 uneven=np.asarray(pb) != u["used_pad_end"], transposed=False,
                 kernel=w.kernel, stride=w.stride, dilation=w.dilation, ceil_mode=w.ceil_mode)
        return u
