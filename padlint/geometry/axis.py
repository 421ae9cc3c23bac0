"""Convolution arithmetic of SCIENCE.md §1–2, on plain integers.

Nothing here imports torch: every function takes plain numbers (most also accept
numpy integer arrays for ``n``), so sweeping many input sizes stays cheap.

>>> f = axis_facts("H", n=224, k=7, s=2, d=1, pad_begin=3, pad_end=3)
>>> (f.out, f.leftover, f.unused_pad_end, f.used_pad_end, f.uneven)
(112, 1, 1, 2, True)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

#: One length, or many at once: the functions below work element-wise on numpy arrays.
Lengths: TypeAlias = int | np.integer[Any] | NDArray[np.integer[Any]]
#: One flag per length, as :data:`Lengths` (a numpy bool where a numpy length went in).
Flags: TypeAlias = bool | np.bool_ | NDArray[np.bool_]

AXIS_NAMES: dict[int, tuple[str, ...]] = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def effective_kernel(k: Lengths, d: Lengths) -> Lengths:
    """``k_e = d*(k-1) + 1``.

    >>> effective_kernel(3, 2)
    5
    """
    return d * (k - 1) + 1


def resolve_padding(padding: int | str, k: int, d: int) -> tuple[int, int]:
    """``(p_b, p_e)`` for one axis from an int or PyTorch's 'same' / 'valid'.

    >>> resolve_padding("same", 4, 1), resolve_padding(2, 5, 1)
    ((1, 2), (2, 2))
    """
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = d * (k - 1)
        return total // 2, total - total // 2
    return int(padding), int(padding)


def output_length(n: Lengths, k: Lengths, s: Lengths, d: Lengths = 1, pad_begin: Lengths = 0,
                  pad_end: Lengths = 0, ceil_mode: Flags = False, explicit_end: Lengths = 0) -> Lengths:
    """Output length of a windowed op, as PyTorch computes it (``ceil_mode`` may be an
    array of flags, one per row, when many layers are computed at once).

    ``explicit_end`` is the part of ``pad_end`` that comes from an explicit pad
    before the op: PyTorch's ceil-mode rule ("the last window must start inside
    the input or the begin padding") counts it as input.

    >>> output_length(224, 3, 2, pad_begin=1, pad_end=1)
    112
    >>> output_length(7, 2, 2), output_length(7, 2, 2, ceil_mode=True)
    (3, 4)
    >>> output_length(np.array([224, 225]), 3, 2, pad_begin=1, pad_end=1)
    array([112, 113])
    """
    span = n + pad_begin + pad_end - effective_kernel(k, d)
    floor = span // s + 1                  # floor division, for ints and arrays alike
    per_row = isinstance(ceil_mode, np.ndarray)
    if not per_row and not ceil_mode:
        return floor
    o = -(-span // s) + 1
    o = o - ((o - 1) * s >= n + pad_begin + explicit_end)
    return np.where(ceil_mode, o, floor) if per_row else o


def transposed_output_length(n: Lengths, k: Lengths, s: Lengths, d: Lengths = 1, pad_begin: Lengths = 0,
                             pad_end: Lengths = 0, output_padding: Lengths = 0) -> Lengths:
    """Output length of a transposed convolution: ``(n-1)*s - p_b - p_e + k_e + output_padding``.

    >>> transposed_output_length(56, 4, 2, pad_begin=1, pad_end=1)
    112
    """
    return (n - 1) * s - pad_begin - pad_end + effective_kernel(k, d) + output_padding


def min_input_length(k: int, d: int = 1, pad_begin: int = 0, pad_end: int = 0) -> int:
    """Smallest ``n`` that gives a non-empty output.

    >>> min_input_length(7), min_input_length(7, pad_begin=3, pad_end=3)
    (7, 1)
    """
    return max(1, int(effective_kernel(k, d)) - pad_begin - pad_end)


def tap_counts(k: int, s: int, d: int) -> list[int]:
    """How many kernel taps land on each output residue mod ``s`` (transposed conv).

    Unequal counts are the checkerboard of Odena et al.; with ``d = 1`` they are
    unequal exactly when ``k mod s != 0``.

    >>> tap_counts(3, 2, 1), tap_counts(4, 2, 1)
    ([2, 1], [2, 2])
    """
    counts = [0] * s
    for t in range(k):
        counts[(t * d) % s] += 1
    return counts


@dataclass(frozen=True)
class AxisFacts:
    """Everything SCIENCE.md §1 derives for one spatial axis of one windowed op."""

    axis: str
    n: int                      # real input length (before any explicit pad)
    out: int
    kernel: int
    stride: int
    dilation: int
    pad_begin: int              # p_b, explicit pad included
    pad_end: int                # p_e, explicit pad included
    k_e: int
    padded: int                 # L
    last_read: int              # c, last padded index any window touches
    leftover: int               # r; < 0 is a ceil-mode overhang
    unused_pad_end: int
    ignored_input_end: int
    ignored_input: int
    used_pad_end: int
    overhang: int = 0
    ceil_mode: bool = False
    explicit_begin: int = 0
    explicit_end: int = 0
    transposed: bool = False
    output_padding: int = 0
    empty_output_end: int = 0   # transposed: trailing output cells no input reaches
    taps: tuple[int, ...] = field(default=())  # transposed: taps per output residue

    @property
    def uneven(self) -> bool:
        if self.transposed:              # the adjoint conv's facts: its crop, no window
            return self.pad_begin != self.used_pad_end
        return bool(uneven_use(self.n, self.out, self.k_e, self.pad_begin, self.pad_end, self.used_pad_end))

    @property
    def global_window(self) -> bool:
        """One output cell whose window covers the whole input and reads no padding: a
        global pool, neither uneven nor a reason to change the size."""
        return not self.transposed and bool(global_window(self.n, self.out, self.k_e, self.pad_begin, self.pad_end))

    @property
    def ignored_input_interior(self) -> int:
        return self.ignored_input - self.ignored_input_end

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"axis": self.axis, "in": self.n, "out": self.out, "kernel": self.kernel,
             "stride": self.stride, "dilation": self.dilation,
             "pad_begin": self.pad_begin, "pad_end": self.pad_end,
             "unused_pad_end": self.unused_pad_end,
             "ignored_input_end": self.ignored_input_end,
             "ignored_input": self.ignored_input,
             "used_pad_end": self.used_pad_end, "leftover": self.leftover,
             "uneven": self.uneven}
        if self.ceil_mode:
            d.update(ceil_mode=True, overhang=self.overhang)
        if self.explicit_begin or self.explicit_end:
            d["explicit_pad"] = [self.explicit_begin, self.explicit_end]
        if self.transposed:
            d.update(transposed=True, output_padding=self.output_padding,
                     empty_output_end=self.empty_output_end, taps_per_phase=list(self.taps))
        return d


def global_window(n: Lengths, out: Lengths, k_e: Lengths, pad_begin: Lengths, pad_end: Lengths) -> Flags:
    """True where the only output cell's window reads no padding and covers every input
    cell: ``AvgPool2d(1280, ceil_mode=True)`` on a 7x7 map is the map's mean, its
    ceil-mode overhang is no padding. (With padding, a conv's one window would sit off
    centre: that stays uneven.) Plain ints or numpy arrays.

    >>> bool(global_window(7, 1, 1280, 0, 0)), bool(global_window(7, 1, 7, 1, 1))
    (True, False)
    """
    return np.logical_and(np.logical_and(out == 1, k_e >= n),
                          np.logical_and(pad_begin == 0, pad_end == 0))


def uneven_use(n: Lengths, out: Lengths, k_e: Lengths, pad_begin: Lengths, pad_end: Lengths,
               used_pad_end: Lengths) -> Flags:
    """SCIENCE.md §1: padding used unevenly (``p_b != used end padding``), except in a
    global window, whose one cell reads every input cell and no padding.

    >>> bool(uneven_use(224, 112, 3, 1, 1, used_pad_end=0))
    True
    >>> uneven_use(np.array([224, 225]), np.array([112, 113]), 3, 1, 1, np.array([0, 1]))
    array([ True, False])
    """
    return np.logical_and(pad_begin != used_pad_end,
                          np.logical_not(global_window(n, out, k_e, pad_begin, pad_end)))


def _untouched_input(n: int, k: int, s: int, d: int, pad_begin: int, out: int) -> int:
    """Real input cells that no tap ``j*s + t*d`` touches (autograd's zero-gradient cells)."""
    last_start = (out - 1) * s
    hit = np.zeros(max(pad_begin + n, last_start + int(effective_kernel(k, d))), dtype=bool)
    for t in range(k):
        hit[t * d: t * d + last_start + 1: s] = True
    return int(n - hit[pad_begin: pad_begin + n].sum())


def pad_use(n: Lengths, k: Lengths, s: Lengths, d: Lengths = 1, pad_begin: Lengths = 0, pad_end: Lengths = 0,
            ceil_mode: Flags = False, explicit_end: Lengths = 0) -> dict[str, Lengths]:
    """SCIENCE.md §1's derived quantities for one axis: plain ints in, ints out, or
    numpy arrays in (any argument), arrays out. ``out <= 0`` means an empty output.

    >>> u = pad_use(224, 3, 2, pad_begin=1, pad_end=1)
    >>> {key: int(v) for key, v in u.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'k_e': 3, 'padded': 226, 'out': 112, 'last_read': 224, 'leftover': 1, 'unused_pad_end': 1,
     'overhang': 0, 'ignored_input_end': 0, 'used_pad_end': 0}
    >>> pad_use(np.array([224, 225]), 3, 2, pad_begin=1, pad_end=1)["unused_pad_end"]
    array([1, 0])
    """
    k_e = effective_kernel(k, d)
    padded = n + pad_begin + pad_end
    out = output_length(n, k, s, d, pad_begin, pad_end, ceil_mode, explicit_end)
    last_read = (out - 1) * s + k_e - 1
    leftover = padded - 1 - last_read
    unused_pad_end = np.minimum(np.maximum(leftover, 0), pad_end)
    overhang = np.maximum(0, -leftover)
    return {"k_e": k_e, "padded": padded, "out": out, "last_read": last_read,
            "leftover": leftover, "unused_pad_end": unused_pad_end, "overhang": overhang,
            # min(n, …): when every window ends inside the begin padding, r - p_e also
            # counts begin-padding cells (SCIENCE.md's max(0, r - p_e) overcounts there)
            "ignored_input_end": np.minimum(n, np.maximum(0, leftover - pad_end)),
            "used_pad_end": pad_end - unused_pad_end + overhang}


def axis_facts(axis: str, n: int, k: int, s: int, d: int = 1, pad_begin: int = 0,
               pad_end: int = 0, ceil_mode: bool = False, explicit_begin: int = 0,
               explicit_end: int = 0) -> AxisFacts:
    """Facts for one axis of a convolution or pooling op (not transposed).

    >>> f = axis_facts("H", n=224, k=3, s=2, pad_begin=1, pad_end=1)
    >>> f.out, f.unused_pad_end, f.used_pad_end, f.uneven
    (112, 1, 0, True)
    >>> axis_facts("H", n=225, k=3, s=2, pad_begin=1, pad_end=1).uneven
    False
    >>> axis_facts("W", n=7, k=7, s=1).global_window
    True
    """
    u = {key: int(v) for key, v in pad_use(n, k, s, d, pad_begin, pad_end, ceil_mode,
                                            explicit_end).items()}
    if u["out"] <= 0 or n <= 0:            # torch refuses an empty input, padding or not
        raise ValueError(f"empty output: n={n} k_e={u['k_e']} pads=({pad_begin},{pad_end})")
    return AxisFacts(
        axis=axis, n=n, kernel=k, stride=s, dilation=d, pad_begin=pad_begin, pad_end=pad_end,
        ignored_input=_untouched_input(n, k, s, d, pad_begin, u["out"]),
        ceil_mode=ceil_mode, explicit_begin=explicit_begin, explicit_end=explicit_end,
        k_e=u["k_e"], padded=u["padded"], out=u["out"], last_read=u["last_read"], leftover=u["leftover"],
        unused_pad_end=u["unused_pad_end"], overhang=u["overhang"], ignored_input_end=u["ignored_input_end"],
        used_pad_end=u["used_pad_end"])


def transposed_axis_facts(axis: str, n: int, k: int, s: int, d: int = 1, pad_begin: int = 0,
                          pad_end: int = 0, output_padding: int = 0) -> AxisFacts:
    """Facts for one axis of a transposed convolution.

    A transposed conv is the adjoint of the conv with the same ``k, s, p, d`` that
    maps its output length back to ``n``. Its output is cropped evenly exactly when
    that adjoint conv uses its padding evenly, so the padding facts are the adjoint's:
    ``output_padding`` becomes the adjoint's leftover ``r``.

    >>> f = transposed_axis_facts("H", n=56, k=3, s=2, pad_begin=1, pad_end=1)
    >>> f.out, f.used_pad_end, f.uneven, f.taps
    (111, 1, False, (2, 1))
    >>> transposed_axis_facts("H", n=56, k=3, s=2, pad_begin=1, pad_end=1, output_padding=1).uneven
    True
    """
    out = int(transposed_output_length(n, k, s, d, pad_begin, pad_end, output_padding))
    if out <= 0 or n <= 0:
        raise ValueError(f"empty output: n={n}")
    adjoint = axis_facts(axis, out, k, s, d, pad_begin, pad_end)
    # Input cells whose every contribution j*s + t*d - p_b falls outside [0, out).
    hit = np.zeros(n, dtype=bool)
    for t in range(k):
        lo = max(0, -(-(pad_begin - t * d) // s))
        hi = min(n - 1, (out - 1 + pad_begin - t * d) // s)
        if hi >= lo:
            hit[lo: hi + 1] = True
    return AxisFacts(
        axis=axis, n=n, out=out, kernel=k, stride=s, dilation=d,
        pad_begin=pad_begin, pad_end=pad_end, k_e=adjoint.k_e, padded=adjoint.padded,
        last_read=adjoint.last_read, leftover=adjoint.leftover,
        unused_pad_end=adjoint.unused_pad_end, ignored_input_end=0,
        ignored_input=int(n - hit.sum()), used_pad_end=adjoint.used_pad_end,
        transposed=True, output_padding=output_padding,
        empty_output_end=adjoint.ignored_input_end, taps=tuple(tap_counts(k, s, d)))


def even_input_lengths(n: int, k: int, s: int, d: int, pad_begin: int, pad_end: int,
                       ceil_mode: bool = False, explicit_end: int = 0,
                       search: int = 64) -> tuple[int | None, int | None]:
    """Nearest input lengths below and above ``n`` at which this op is even and
    drops nothing at the end (layer-local; the model-level answer needs a sweep).

    >>> even_input_lengths(224, 3, 2, 1, 1, 1)
    (223, 225)
    """
    def ok(m: int) -> bool:
        if m < min_input_length(k, d, pad_begin, pad_end):
            return False
        f = axis_facts("", m, k, s, d, pad_begin, pad_end, ceil_mode, 0, explicit_end)
        return not f.uneven and f.ignored_input_end == 0
    below = next((m for m in range(n - 1, max(0, n - search), -1) if ok(m)), None)
    above = next((m for m in range(n + 1, n + search) if ok(m)), None)
    return below, above
