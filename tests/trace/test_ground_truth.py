"""padlint's per-axis arithmetic against an independent autograd ground truth (SCIENCE.md §5).

Every case is one windowed op (conv, max/avg/LP pool, transposed conv), sometimes
behind an explicit pad. The ground truth never calls padlint; it only uses torch:

* ``out``: the real op's forward on a ones input.
* ``ignored_input``: a single-channel copy of the op with all-ones weights (max
  pools become an average pool, or a ones conv when dilated, of the same geometry),
  a ones float64 input that requires grad, ``sum().backward()``; real input cells
  with zero gradient are the ones no window touches. Counted per axis by projection:
  index ``i`` on axis ``a`` is touched iff any cell with that index has a nonzero
  gradient (when one axis ignores all its cells the gradient is all zero, and each
  axis is then redone alone, the other axes made k=1, s=1). Max pools are also
  probed directly: a plane of 2s in a ones input reaches the output iff a window
  touches that plane.
* ``ignored_input_end`` / ``unused_pad_end``: a "window emulator" (a ones conv on a
  ones leaf that spans the whole padded line, explicit pad included, cut to the
  real ``out`` windows) gives the last padded index any window touches, ``c``.
  Real cells / end-padding cells after ``c`` are the ignored tail / unused end
  padding. A real cell *before* ``c`` that no tap touches (dilation gridding) is
  in ``ignored_input`` but not in the tail, as SCIENCE.md §1 says. The emulator is
  itself checked against the real op's gradient on the real cells.

Then ``padlint.analyze`` runs on the original op (explicit pads as ZeroPad /
ConstantPad / ReflectionPad / ReplicationPad / F.pad in front) and its AxisFacts must
agree; a separate test runs padlint's default rules on every case.
"""
from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, replace
from functools import cache

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import padlint
from padlint.engine.run import run_rules
from padlint.engine.select import select_rules

AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
MAX_N = {1: 64, 2: 64, 3: 12}
PAD_STYLES = ("zero", "constant", "reflect", "replicate", "fpad")
ODD_PADS = ((0, 1), (1, 0), (2, 1))


@dataclass(frozen=True)
class Case:
    kind: str                        # conv | conv_t | max | avg | lp
    nd: int
    k: tuple[int, ...]
    s: tuple[int, ...]
    p: tuple[int, ...] | str         # ints per axis, or 'same' / 'valid' (convs)
    d: tuple[int, ...]
    n: tuple[int, ...]
    ceil: bool = False
    xpad: tuple[tuple[int, int], ...] | None = None   # explicit (begin, end) per axis
    pad_style: str = "zero"
    out_pad: tuple[int, ...] = ()    # conv_t
    count_include_pad: bool = True   # avg (padlint side only; geometry is the same)

    @property
    def id(self) -> str:
        def f(t):
            if isinstance(t, str):
                return t
            return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))
        name = {"conv": "conv", "conv_t": "convT", "max": "maxpool", "avg": "avgpool", "lp": "lppool"}
        parts = [f"{name[self.kind]}{self.nd}d", f"k{f(self.k)}", f"s{f(self.s)}", f"p{f(self.p)}",
                 f"d{f(self.d)}"]
        if self.ceil:
            parts.append("ceil")
        if self.out_pad and any(self.out_pad):
            parts.append(f"op{f(self.out_pad)}")
        if self.xpad:
            parts.append(self.pad_style + "pad" + "_".join(f"{b}.{e}" for b, e in self.xpad))
        parts.append("n" + "x".join(map(str, self.n)))
        return "-".join(parts)


# --------------------------------------------------------------------------- building ops

class FPad(nn.Module):
    def __init__(self, pad):
        super().__init__()
        self.pad = tuple(pad)

    def forward(self, x):
        return F.pad(x, self.pad)


def flat_pad(xpad) -> tuple[int, ...]:
    """Per-axis ``(begin, end)`` in axis order -> F.pad's last-dim-first list."""
    flat = []
    for b, e in reversed(xpad):
        flat += [b, e]
    return tuple(flat)


def build_op(case: Case) -> nn.Module:
    nd = case.nd
    if case.kind == "conv":
        return getattr(nn, f"Conv{nd}d")(1, 1, case.k, stride=case.s, padding=case.p,
                                         dilation=case.d, bias=False)
    if case.kind == "conv_t":
        return getattr(nn, f"ConvTranspose{nd}d")(1, 1, case.k, stride=case.s, padding=case.p,
                                                  output_padding=case.out_pad, dilation=case.d,
                                                  bias=False)
    if case.kind == "max":
        return getattr(nn, f"MaxPool{nd}d")(case.k, case.s, case.p, dilation=case.d,
                                            ceil_mode=case.ceil)
    if case.kind == "avg":
        return getattr(nn, f"AvgPool{nd}d")(case.k, case.s, case.p, ceil_mode=case.ceil,
                                            count_include_pad=case.count_include_pad)
    if case.kind == "lp":
        one = (lambda t: t[0]) if nd == 1 else (lambda t: t)   # lp_pool1d wants ints
        return getattr(nn, f"LPPool{nd}d")(2, one(case.k), one(case.s), ceil_mode=case.ceil)
    raise AssertionError(case.kind)


def build_pad(case: Case) -> nn.Module:
    flat, nd = flat_pad(case.xpad), case.nd
    return {"zero": lambda: getattr(nn, f"ZeroPad{nd}d")(flat),
            "constant": lambda: getattr(nn, f"ConstantPad{nd}d")(flat, 0.0),
            "reflect": lambda: getattr(nn, f"ReflectionPad{nd}d")(flat),
            "replicate": lambda: getattr(nn, f"ReplicationPad{nd}d")(flat),
            "fpad": lambda: FPad(flat)}[case.pad_style]()


def padlint_model(case: Case) -> nn.Module:
    op = build_op(case)
    return nn.Sequential(build_pad(case), op) if case.xpad else nn.Sequential(op)


def ones_conv(case: Case, padding) -> nn.Module:
    conv = getattr(nn, f"Conv{case.nd}d")(1, 1, case.k, stride=case.s, padding=padding,
                                          dilation=case.d, bias=False).double()
    with torch.no_grad():
        conv.weight.fill_(1.0)
    return conv


def real_op(case: Case) -> nn.Module:
    """The original op in float64, with ones weights where it has any."""
    op = build_op(case).double()
    if case.kind in ("conv", "conv_t"):
        with torch.no_grad():
            op.weight.fill_(1.0)
    return op


def zero_pad(case: Case, x):
    """The explicit pad as zeros (its geometry; reflect etc. only change values)."""
    return F.pad(x, flat_pad(case.xpad)) if case.xpad else x


# --------------------------------------------------------------------------- ground truth

@contextlib.contextmanager
def fast_cpu():
    """Thousands of tiny ops: one thread and no oneDNN make them ~10x faster."""
    threads, mkldnn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.backends.mkldnn.enabled = mkldnn


@pytest.fixture(scope="module", autouse=True)
def _fast_cpu():
    with fast_cpu():
        yield


def axis_pads(case: Case, a: int) -> tuple[int, int]:
    """``(p_b, p_e)`` on axis ``a``, explicit pad included (PyTorch's documented rules)."""
    if case.p == "valid":
        b = e = 0
    elif case.p == "same":
        total = case.d[a] * (case.k[a] - 1)
        b, e = total // 2, total - total // 2
    else:
        b = e = case.p[a]
    if case.xpad:
        b, e = b + case.xpad[a][0], e + case.xpad[a][1]
    return b, e


def project(mask: torch.Tensor, a: int) -> torch.Tensor:
    """Bool mask over all spatial dims -> bool vector along spatial axis ``a``."""
    other = tuple(i for i in range(mask.dim()) if i != a)
    return mask.any(dim=other) if other else mask


def trailing_false(v: torch.Tensor) -> int:
    run = 0
    for t in reversed(v.tolist()):
        if t:
            break
        run += 1
    return run


def real_output_shape(case: Case):
    """The real op's output spatial shape on a ones input, or None if torch rejects the case."""
    try:
        op = real_op(case)
        with torch.no_grad():
            y = op(zero_pad(case, torch.ones((1, 1, *case.n), dtype=torch.float64)))
    except (RuntimeError, ValueError):
        return None
    shape = tuple(y.shape[2:])
    return shape if all(v > 0 for v in shape) else None


def maxpool_probe(case: Case, a: int) -> torch.Tensor:
    """Touched mask along axis ``a`` for the real max pool: a plane of 2s in a ones input
    reaches the output iff some window covers it (padding is -inf, explicit pad 0)."""
    n_a = case.n[a]
    view = [1] * case.nd
    view[a] = n_a
    plane = torch.arange(n_a).view(1, 1, *view)
    batch = torch.arange(n_a).view(n_a, 1, *([1] * case.nd))
    x = (1.0 + (plane == batch).double()).expand(n_a, 1, *case.n).contiguous()
    with torch.no_grad():
        y = real_op(case)(zero_pad(case, x))
    return (y == 2.0).flatten(1).any(1)


def axis_only(case: Case, a: int) -> Case:
    """The same op with only axis ``a`` kept: every other axis becomes k=1, s=1, no padding."""
    def keep(values, other):
        return tuple(v if i == a else other for i, v in enumerate(values))
    return replace(case, k=keep(case.k, 1), s=keep(case.s, 1), d=keep(case.d, 1), n=keep(case.n, 1),
                   p=case.p if isinstance(case.p, str) else keep(case.p, 0),
                   xpad=keep(case.xpad, (0, 0)) if case.xpad else None,
                   out_pad=keep(case.out_pad, 0) if case.out_pad else ())


@cache
def ground_truth(case: Case, only: int | None = None) -> list[dict | None]:
    """Per-axis facts by autograd; with ``only``, just that axis (the others are left None)."""
    nd = case.nd
    out = real_output_shape(case)
    assert out is not None, f"{case.id}: torch rejects this case"
    x = torch.ones((1, 1, *case.n), dtype=torch.float64, requires_grad=True)
    xp = zero_pad(case, x)

    if case.kind == "conv_t":
        y = real_op(case)(xp)
        y.sum().backward()
        touched = x.grad[0, 0] != 0
        if only is None and nd > 1 and not bool(touched.any()):     # see `degenerate` below
            return [{"out": out[a], "ignored_input": ground_truth(axis_only(case, a), a)[a]["ignored_input"]}
                    for a in range(nd)]
        return [{"out": out[a], "ignored_input": case.n[a] - int(project(touched, a).sum())}
                if only in (None, a) else None for a in range(nd)]

    # The op with ones weights (SCIENCE.md §5), max pools by a same-geometry stand-in.
    dilated = any(v > 1 for v in case.d)
    if case.kind == "conv":
        stand_in = real_op(case)
    elif case.kind == "max" and dilated:
        stand_in = None if case.ceil else ones_conv(case, case.p)   # conv has no ceil_mode
    else:   # avg, lp (no padding), undilated max
        stand_in = getattr(nn, f"AvgPool{nd}d")(case.k, case.s, 0 if case.kind == "lp" else case.p,
                                                ceil_mode=case.ceil, count_include_pad=True)
    if stand_in is not None:
        try:
            y = stand_in(xp)
        except RuntimeError:
            # avg_pool3d refuses inputs smaller than the kernel that max_pool3d takes
            # (padding included); the max-pool probe below still checks the real op.
            if case.kind != "max":
                raise
            stand_in = None
    if stand_in is not None:
        assert tuple(y.shape[2:]) == out, f"{case.id}: stand-in gives {tuple(y.shape[2:])}, op {out}"
        y.sum().backward()

    # Window emulator over the whole padded line (+ room for a ceil-mode overhang),
    # cut to the real op's `out` windows: its gradient marks every padded cell a tap touches.
    pads = [axis_pads(case, a) for a in range(nd)]
    k_e = [case.d[a] * (case.k[a] - 1) + 1 for a in range(nd)]
    padded = [case.n[a] + pads[a][0] + pads[a][1] for a in range(nd)]
    z = torch.ones((1, 1, *(padded[a] + k_e[a] for a in range(nd))), dtype=torch.float64,
                   requires_grad=True)
    yz = getattr(F, f"conv{nd}d")(z, torch.ones((1, 1, *case.k), dtype=torch.float64),
                                  stride=case.s, dilation=case.d)
    assert all(yz.shape[2 + a] >= out[a] for a in range(nd))
    yz[(Ellipsis, *(slice(0, o) for o in out))].sum().backward()
    gz = z.grad[0, 0]
    real_cells = gz[tuple(slice(pads[a][0], pads[a][0] + case.n[a]) for a in range(nd))]

    if stand_in is None:
        gx_touched = real_cells != 0
    else:
        gx_touched = x.grad[0, 0] != 0
        # Self-checks of the ground truth: the emulator is the op's window geometry.
        assert torch.equal(gx_touched, real_cells != 0), f"{case.id}: emulator disagrees with autograd"
        if case.kind == "conv":
            assert torch.equal(x.grad[0, 0], real_cells), f"{case.id}: emulator tap counts differ"

    # If every real cell along one axis is ignored, the whole gradient is zero and
    # projecting it says nothing about the other axes: then ask autograd one axis at a time.
    degenerate = only is None and nd > 1 and not bool(gx_touched.any())
    facts = []
    for a in range(nd):
        if only not in (None, a):
            facts.append(None)
            continue
        p_b, p_e = pads[a]
        if degenerate:
            touched = None
            ignored = ground_truth(axis_only(case, a), a)[a]["ignored_input"]
        else:
            touched = project(gx_touched, a)
            ignored = case.n[a] - int(touched.sum())
            if case.kind == "max":
                probe = maxpool_probe(case, a)
                assert torch.equal(probe, touched), f"{case.id}: max-pool probe disagrees on axis {a}"
        zt = project(gz != 0, a)                  # over the whole padded extent of the other axes
        emulated = zt[p_b: p_b + case.n[a]]
        assert case.n[a] - int(emulated.sum()) == ignored, f"{case.id}: emulator disagrees on axis {a}"
        c = int(torch.nonzero(zt).max())          # last padded index any window touches
        assert c == (out[a] - 1) * case.s[a] + k_e[a] - 1
        idx = torch.arange(padded[a])
        real_idx = (idx >= p_b) & (idx < p_b + case.n[a])
        end_pad_idx = idx >= p_b + case.n[a]
        facts.append({
            "out": out[a],
            "ignored_input": ignored,
            "ignored_input_end": int((real_idx & (idx > c)).sum()),
            "unused_pad_end": int((end_pad_idx & (idx > c)).sum()),
            "pad_begin": p_b,
            "pad_end": p_e,
            "trailing_zero_run": trailing_false(emulated),
            "overhang": max(0, c - (padded[a] - 1)),
        })
    return facts


# --------------------------------------------------------------------------- cases

def _pads_for(rng, case_kind, k, d):
    if case_kind in ("max", "avg"):
        return rng.randint(0, k // 2)
    if case_kind == "lp":
        return 0
    return rng.randint(0, d * (k - 1))


def random_case(rng: random.Random, kind: str, nd: int) -> Case:
    small = nd == 3
    kmax, dmax = (4, 2) if small else (7, 3)
    square = rng.random() < 0.5

    def per_axis(fn):
        if square:
            v = fn()
            return (v,) * nd
        return tuple(fn() for _ in range(nd))

    k = per_axis(lambda: rng.randint(1, kmax))
    if kind in ("avg", "lp", "max") and rng.random() < 0.3:
        s = k                                          # PyTorch's default pool stride
    else:
        s = per_axis(lambda: rng.randint(1, 5))
    d = (1,) * nd
    if kind in ("conv", "max", "conv_t") and rng.random() < 0.4:
        d = per_axis(lambda: rng.randint(1, 2 if kind == "conv_t" else dmax))
    ceil = kind in ("max", "avg", "lp") and rng.random() < 0.5

    p: tuple | str
    r = rng.random()
    if kind == "conv" and r < 0.1:
        p = "valid"
    elif kind == "conv" and r < 0.25:
        p, s = "same", (1,) * nd
    else:
        p = tuple(_pads_for(rng, kind, k[a], d[a]) for a in range(nd))

    out_pad = ()
    if kind == "conv_t":
        out_pad = tuple(rng.randint(0, s[a] - 1) for a in range(nd))

    xpad = None
    if (kind == "conv" and rng.random() < 0.3) or (kind in ("max", "avg") and rng.random() < 0.12):
        choices = ODD_PADS + ((0, 0), (1, 2), (3, 0), (0, 2))
        xpad = tuple(rng.choice(choices) for _ in range(nd))
        if all(v == (0, 0) for v in xpad):
            xpad = tuple(rng.choice(ODD_PADS) for _ in range(nd))

    # Sizes from the smallest that gives an output up to MAX_N, often near the smallest.
    sizes = []
    for a in range(nd):
        k_e = d[a] * (k[a] - 1) + 1
        if kind == "conv_t":
            lo = 1
        else:
            tmp = Case(kind, nd, k, s, p, d, (1,) * nd, xpad=xpad)
            p_b, p_e = axis_pads(tmp, a)
            lo = max(1, k_e - p_b - p_e)
        hi = max(lo, MAX_N[nd])
        r = rng.random()
        if r < 0.2:
            sizes.append(lo)
        elif r < 0.45:
            sizes.append(min(hi, lo + rng.randint(1, 4)))
        else:
            sizes.append(rng.randint(lo, hi))
    n = tuple(sizes)

    style = rng.choice(PAD_STYLES)
    if xpad and style == "reflect" and any(max(b, e) >= n[a] for a, (b, e) in enumerate(xpad)):
        style = "zero"                                  # reflect needs pad < size
    return Case(kind, nd, k, s, p, d, n, ceil=ceil, xpad=xpad, pad_style=style, out_pad=out_pad,
                count_include_pad=rng.random() < 0.7)


def c1(kind, k, s, p, n, d=1, **kw) -> Case:
    """A 1-D (or, with tuple n, n-D) hand-written case with the same k/s/p/d on every axis."""
    n = n if isinstance(n, tuple) else (n,)
    nd = len(n)

    def rep(v):
        return v if isinstance(v, (tuple, str)) else (v,) * nd

    if kind == "conv_t":
        kw["out_pad"] = rep(kw.get("out_pad", 0))
    if "xpad" in kw and kw["xpad"] and isinstance(kw["xpad"][0], int):
        kw["xpad"] = (kw["xpad"],) * nd
    return Case(kind, nd, rep(k), rep(s), rep(p), rep(d), n, **kw)


GRIDDING = c1("conv", 3, 2, 2, 224, d=2)

CORNERS = [
    # s > k: every other (or third) cell skipped
    c1("conv", 1, 2, 0, 10), c1("conv", 1, 2, 0, 11), c1("conv", 1, 2, 0, (37, 41)),
    c1("conv", 2, 3, 0, 17), c1("conv", 2, 3, 1, (16, 20)), c1("conv", 1, 5, 0, 13),
    c1("max", 1, 2, 0, 9), c1("max", 2, 3, 0, (17, 19)), c1("avg", 2, 3, 0, 16, ceil=True),
    c1("avg", 1, 3, 0, (10, 11, 12)), c1("max", 2, 3, 1, (11, 9, 8), ceil=True),
    # dilation gridding
    GRIDDING, c1("conv", 3, 2, 2, 225, d=2), c1("conv", 3, 2, 2, (30, 31), d=2),
    c1("conv", 3, 3, 0, 40, d=2), c1("max", 3, 2, 1, 24, d=2), c1("max", 3, 2, 1, (23, 25), d=2,
                                                                     ceil=True),
    # padding more than half the kernel
    c1("conv", 3, 1, 2, 9), c1("conv", 3, 2, 2, 10), c1("conv", 5, 3, 4, (12, 13)),
    c1("conv", 2, 2, 1, 9), c1("conv", 2, 1, 1, (5, 6)), c1("conv", 3, 3, 2, (7, 8, 9)),
    c1("conv", 1, 2, 0, 7, xpad=(3, 0)), c1("conv", 1, 3, 0, 2, xpad=(2, 0)),
    # every window ends inside the begin padding: the ignored tail is all n real cells
    c1("conv", 1, 5, 2, 1), c1("conv", 1, 3, 0, 1, xpad=(2, 0)), c1("conv", 1, 4, 0, (1, 3), xpad=(3, 0)),
    # uneven and dilated, where one more kernel tap no longer fits (PAD101 computes that variant)
    c1("conv", 2, 2, 1, 2, d=2), c1("max", 3, 5, 1, 4, d=2),
    # ceil-mode overhang, and the "last window must start inside" rule
    c1("max", 3, 2, 0, 8, ceil=True), c1("max", 2, 2, 0, (7, 9), ceil=True),
    c1("avg", 3, 2, 1, 8, ceil=True), c1("avg", 2, 2, 1, 5, ceil=True),
    c1("max", 2, 2, 1, 5, ceil=True), c1("max", 3, 3, 1, (10, 11), ceil=True),
    c1("lp", 3, 2, 0, (8, 9), ceil=True), c1("lp", 2, 2, 0, 7, ceil=True),
    c1("max", 2, 3, 0, 7, d=2, ceil=True),
    # explicit asymmetric pads folded into the op
    *[c1("conv", 3, 2, p, (37, 41), xpad=xp, pad_style=st)
      for xp in ODD_PADS for p, st in ((0, "zero"), (1, "fpad"))],
    c1("conv", 3, 2, 0, (224, 224), xpad=((0, 1), (0, 1)), pad_style="constant"),   # TF SAME
    c1("conv", 3, 2, 0, (225, 225), xpad=((1, 1), (1, 1)), pad_style="zero"),
    c1("conv", 3, 1, 0, (20,), xpad=(2, 1), pad_style="reflect"),
    c1("conv", 3, 2, 0, (12, 13, 11), xpad=((0, 1), (1, 0), (2, 1)), pad_style="replicate"),
    c1("max", 3, 2, 0, 8, ceil=True, xpad=(0, 1)), c1("max", 3, 2, 0, 9, ceil=True, xpad=(1, 0)),
    c1("avg", 3, 2, 1, (8, 9), ceil=True, xpad=(2, 1), pad_style="fpad"),
    c1("avg", 2, 2, 0, 9, ceil=True, xpad=(0, 1), pad_style="constant"),
    # SCIENCE.md §1 worked examples
    c1("conv", 7, 2, 3, (224, 224)), c1("conv", 7, 2, 3, (225, 225)),
    c1("max", 3, 2, 1, (112, 112)), c1("conv", 3, 2, 1, (56, 56)),
    c1("conv", 1, 2, 0, (56, 56)), c1("max", 2, 2, 0, (224,)), c1("max", 2, 2, 0, (225,)),
    # 'same' / 'valid'
    c1("conv", 4, 1, "same", (9, 10)), c1("conv", 3, 1, "same", 9, d=2),
    c1("conv", 2, 1, "same", (5, 6, 7)), c1("conv", 5, 1, "valid", 5), c1("conv", 5, 3, "valid", 17),
    # transposed convs
    c1("conv_t", 3, 2, 1, 7, out_pad=1), c1("conv_t", 4, 2, 1, (8, 9)), c1("conv_t", 1, 2, 0, 5),
    c1("conv_t", 1, 2, 1, 5), c1("conv_t", 1, 3, 1, (4, 5), out_pad=2), c1("conv_t", 2, 3, 1, 6),
    c1("conv_t", 3, 1, 2, 6), c1("conv_t", 3, 2, 2, 6, d=2, out_pad=1), c1("conv_t", 5, 3, 4, 4),
    c1("conv_t", 2, 2, 1, 2), c1("conv_t", 3, 2, 2, (1, 4), d=2, out_pad=1),
]

PLAN = [  # (kind, nd, how many random cases)
    ("conv", 1, 120), ("conv", 2, 160), ("conv", 3, 60),
    ("max", 1, 70), ("max", 2, 90), ("max", 3, 40),
    ("avg", 1, 60), ("avg", 2, 70), ("avg", 3, 30),
    ("lp", 1, 25), ("lp", 2, 50), ("lp", 3, 15),
    ("conv_t", 1, 50), ("conv_t", 2, 70),
]


def generate_cases() -> tuple[list[Case], int]:
    rng = random.Random(20240607)
    generated = list(CORNERS)
    for kind, nd, count in PLAN:
        generated += [random_case(rng, kind, nd) for _ in range(count)]
    seen, cases = set(), []
    with fast_cpu():
        valid = {case: real_output_shape(case) is not None for case in generated}
    for case in generated:
        if case in seen:
            continue
        seen.add(case)
        if valid[case]:      # else torch rejects it, or the output is empty
            cases.append(case)
    return cases, len(generated)


CASES, GENERATED = generate_cases()
MIN_CHECKED = 500


# --------------------------------------------------------------------------- tests

FIELDS = ("out", "ignored_input", "ignored_input_end", "unused_pad_end", "pad_begin", "pad_end")
T_FIELDS = ("out", "ignored_input")


@cache
def padlint_trace(case: Case):
    """``padlint.analyze`` on the original op; its rules are tested apart (see below)."""
    report = padlint.analyze(padlint_model(case), input_size=(1, 1, *case.n), ignore=["PAD"])
    assert not report.errors, f"{case.id}: padlint errors {report.errors}"
    (result,) = report.results
    return result.trace


def padlint_facts(case: Case):
    layers = padlint_trace(case).layers
    assert len(layers) == 1, f"{case.id}: padlint found {len(layers)} windowed layers: " \
                             f"{[layer.op for layer in layers]}"
    axes = layers[0].axes
    assert [f.axis for f in axes] == list(AXES[case.nd]), f"{case.id}: axes {[f.axis for f in axes]}"
    return axes


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_padlint_matches_autograd(case: Case):
    truth = ground_truth(case)
    axes = padlint_facts(case)
    fields = T_FIELDS if case.kind == "conv_t" else FIELDS
    bad = []
    for facts, gt in zip(axes, truth):
        assert facts.n == case.n[AXES[case.nd].index(facts.axis)]
        for field in fields:
            if getattr(facts, field) != gt[field]:
                bad.append(f"  {facts.axis}.{field}: padlint={getattr(facts, field)} autograd={gt[field]}")
    assert not bad, f"{case.id}: padlint disagrees with autograd\n" + "\n".join(bad)


def test_default_rules_run_on_every_case():
    """``padlint.analyze`` with its default rules must not crash on any valid op."""
    rules = select_rules()
    crashes = []
    for case in CASES:
        try:
            run_rules(padlint_trace(case), rules)
        except Exception as err:  # noqa: BLE001
            crashes.append(f"  {case.id}: {type(err).__name__}: {err}")
    assert not crashes, f"padlint's rules crash on {len(crashes)} cases:\n" + "\n".join(crashes)


def test_gridding_tail_is_not_the_trailing_zero_run():
    """SCIENCE.md §1: k=3, d=2, s=2, p=2 at n=224 leaves the last real row untouched,
    but it lies before the last window's reach: in ignored_input, not in the tail."""
    (gt,) = ground_truth(GRIDDING)
    assert gt["trailing_zero_run"] == 1
    assert (gt["out"], gt["ignored_input"], gt["ignored_input_end"], gt["unused_pad_end"]) == (112, 112, 0, 1)
    (facts,) = padlint_facts(GRIDDING)
    assert (facts.ignored_input, facts.ignored_input_end, facts.unused_pad_end) == (112, 0, 1)


def test_case_count_and_coverage():
    assert len(CASES) >= MIN_CHECKED, f"only {len(CASES)} of {GENERATED} generated cases are valid"
    assert all(c in CASES for c in CORNERS), \
        f"torch rejects hand-written corners: {[c.id for c in CORNERS if c not in CASES]}"
    kinds = {(c.kind, c.nd) for c in CASES}
    for kind, nd, _ in PLAN:
        assert (kind, nd) in kinds
    windowed = [c for c in CASES if c.kind != "conv_t"]
    assert {k for c in windowed for k in c.k} >= set(range(1, 8))
    assert {s for c in CASES for s in c.s} >= set(range(1, 6))
    assert {d for c in CASES if c.kind in ("conv", "max") for d in c.d} >= {1, 2, 3}
    assert any(c.ceil for c in CASES) and any(not c.ceil for c in CASES if c.kind != "conv")
    assert any(c.p == "same" for c in CASES) and any(c.p == "valid" for c in CASES)
    assert any(s > k for c in windowed for k, s in zip(c.k, c.s))
    assert any(isinstance(c.p, tuple) and any(2 * p > k for p, k in zip(c.p, c.k))
               for c in CASES if c.kind == "conv")
    assert {c.pad_style for c in CASES if c.xpad} >= set(PAD_STYLES)
    assert any(len(set(c.n)) > 1 for c in CASES)
    assert any(any(c.out_pad) for c in CASES if c.kind == "conv_t")
    # ceil-mode overhang: the last window reaches past the padded input
    assert sum(gt["overhang"] > 0 for c in CASES if c.ceil for gt in ground_truth(c)) >= 10
