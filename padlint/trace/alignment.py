"""Where every feature-map cell sits in the input, and the calls that mix cells (SCIENCE.md §2).

Each spatial dimension of each tensor of a forward pass gets a :class:`Grid`: cell ``j``
is centred at input coordinate ``centre(j) = S*j + O`` (input pixel ``i`` is centred at
``i``). The model input has ``S = 1, O = 0``; the rules of the calls are

- windowed op (``k_e = d*(k-1)+1``, ``p_b`` including any explicit pad feeding it):
  ``S' = S*s``, ``O' = O + S*((k_e-1)/2 - p_b)``;
- transposed conv: ``S' = S/s``, ``O' = O + S*(p_b - (k_e-1)/2)/s``;
- explicit pad ``(b, e)`` (a crop when negative) and slices ``[a::t]``: ``O' = O - S*b``,
  ``O' = O + S*a``, ``S' = S*t``;
- interpolation from ``n`` to ``m`` cells, ``r = n/m``: ``S' = S*r``, ``O' = O + S*(r-1)/2``
  (half-pixel centres; with ``align_corners=True`` ``S' = S*(n-1)/(m-1)``, ``O' = O``);
  adaptive pooling the same, exact when ``n mod m == 0``.

A grid that went through an ``align_corners=True`` interpolation remembers that call
(:class:`CornersCall`) and the place its cells would have with ``align_corners=False``
there (the later calls move that place as they move the grid), so that PAD107 can tell
when align_corners is what puts a merge's inputs apart, and ``padlint fix`` can flip it.

Elementwise calls keep the grid; calls the tracker does not know lose it (``None``), and
nothing is concluded about a grid that is lost. A broadcast dimension (length 1) carries
no position. When an elementwise merge (add, mul, …) or a concatenation combines inputs
whose grids differ on an axis, that is a :class:`Merge`: the network mixes features from
different places (PAD107). Adaptive pools are recorded as :class:`AdaptivePool` (PAD106).

The :class:`AlignmentTracker` is told every call by the front end's
:class:`~padlint.trace.record.Recorder`, as the length-program builder is. Nothing here runs a
torch op.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction

import torch

from padlint.geometry import coverage, receptive
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.source import Source
from padlint.trace.grids import (
    AdaptivePool,
    Alignment,
    Combine,
    CornersCall,
    Grid,
    Merge,
    ProfileSteps,
    merged_grid,
)
from padlint.trace.ops import ADAPTIVE, CAT, INTERPOLATE, MERGE, UNARY, op_name, positive_dim, tensors_in
from padlint.trace.program import REARRANGE, expand_index, rearrange

# A site names the call being made: (function name) -> (name, op, source).
Site = Callable[[str], tuple[str, str, Source | None]]


class AlignmentTracker:
    """The recorder's listener that follows every cell's grid (a :class:`Listener`)."""

    what = "alignment tracker"

    def __init__(self, site: Site, profiles: bool = False):
        self.site = site
        self.profiles = profiles          # follow coverage profiles too (PAD108)
        self.facts = Alignment()
        self.steps = ProfileSteps()       # H = W: each coverage step once
        self._grids: dict[int, tuple[torch.Tensor, tuple[Grid | None, ...]]] = {}
        self._calls: Counter = Counter()  # merges and pools per name: the second is 'name#2'
        self._seen = 0                    # windowed layers so far

    def of(self, t: torch.Tensor) -> tuple[Grid | None, ...]:
        entry = self._grids.get(id(t))
        if entry is not None and entry[0] is t:
            return entry[1]
        return (None,) * t.dim()

    def _named(self, op: str) -> tuple[str, str, Source | None]:
        """The site of the merge or pool being made, its name made distinct as repeated
        module calls are: two ``torch.cat`` of one forward, which the module hooks both
        name ``up.cat``, are ``up.cat`` and ``up.cat#2``."""
        name, op, source = self.site(op)
        self._calls[name] += 1
        count = self._calls[name]
        return (name if count == 1 else f"{name}#{count}"), op, source

    def _set(self, t: torch.Tensor, grids) -> None:
        grids = tuple(grids)
        if any(g is not None for g in grids):
            self._grids[id(t)] = (t, grids)
        else:
            self._grids.pop(id(t), None)

    # -- the calls the recorder passes on ------------------------------------------
    def fail(self, why: str) -> None:
        self.facts.failed = why

    def register_input(self, x: torch.Tensor, nd: int) -> None:
        if nd not in AXIS_NAMES:                 # no spatial axis (an MLP): nothing to follow
            return
        lengths = [int(v) for v in x.shape[x.dim() - nd:]]
        self.profiles = self.profiles and 0 < max(lengths, default=0) <= coverage.MAX_LENGTH
        # one profile per length: axes of the same length then share every later step (H = W)
        identity = {n: coverage.identity(n) for n in set(lengths)} if self.profiles else {}
        self._set(x, (None,) * (x.dim() - nd) + tuple(
            Grid(a, Fraction(1), Fraction(0), profile=identity.get(n), receptive=receptive.IDENTITY)
            for a, n in zip(AXIS_NAMES[nd], lengths)))

    def alias(self, out: torch.Tensor, x: torch.Tensor) -> None:
        self._set(out, self.of(x))

    def window(self, layer: int, real: torch.Tensor, x: torch.Tensor, nd: int, transposed: bool,
               explicit, axes, outs) -> None:
        src = self.of(real)
        spatial: list[Grid | None] = []
        for i, f in enumerate(axes):
            g = src[len(src) - nd + i]
            if g is None:
                spatial.append(None)
            elif f.k_e == 1 and f.stride == 1 and f.pad_begin == 0 and not transposed:
                spatial.append(g)                      # a 1x1 conv: the same cells
            else:
                spatial.append(self._window_axis(g, f, transposed))
        self.facts.cells[layer] = tuple(spatial)
        self._seen = layer + 1
        mapped = [g for g in spatial if g is not None and g.profile is not None and g.profile.shape[0] > 1]
        if self.profiles and len(mapped) == len(spatial):
            stride = 1.0
            for g in mapped:
                stride *= float(g.stride)
            deepest = self.facts.deepest
            if deepest is None or stride >= deepest[1]:
                self.facts.deepest = (layer, stride, tuple((g.axis, g.profile) for g in mapped))
        for y in outs:
            if isinstance(y, torch.Tensor) and y.dim() >= nd:
                self._set(y, (None,) * (y.dim() - nd) + tuple(spatial))

    def _window_axis(self, g: Grid, f, transposed: bool) -> Grid:
        half = Fraction(f.dilation * (f.kernel - 1), 2)
        profile = None
        if g.profile is not None:                     # the same map through the same window
            profile = self.steps.run("window", (g.profile,), replace(f, axis=""), transposed)
        field = None
        if g.receptive is not None:
            step = receptive.transposed if transposed else receptive.window
            field = step(g.receptive, f.kernel, f.stride, f.dilation, f.pad_begin)
        if transposed:
            return g.moved(Grid(g.axis, g.stride / f.stride,
                                g.offset + g.stride * (f.pad_begin - half) / f.stride, profile=profile,
                                receptive=field))
        return g.moved(Grid(g.axis, g.stride * f.stride, g.offset + g.stride * (half - f.pad_begin),
                            profile=profile, receptive=field))

    def observe(self, func, args, kwargs, out) -> None:
        name = op_name(func)
        outs = tensors_in(out) if isinstance(out, (tuple, list)) else (
            [out] if isinstance(out, torch.Tensor) else [])
        if not outs or name.startswith("."):
            return
        inputs = tensors_in(args) + tensors_in(kwargs)
        if name not in MERGE and name not in CAT and name != "stack" and (
                len(outs) == 1 and inputs and outs[0] is inputs[0]):
            return                                      # in place: same tensor, same cells
        grids: tuple | None
        try:                                            # arguments it cannot read: cells lost
            if name in MERGE:
                grids = self._merge(name, [t for t in inputs if t.dim()], outs[0])
            elif name in CAT or name == "stack":
                grids = self._cat(name, args, kwargs, outs[0])
            else:
                grids = self._rule(name, args, kwargs, inputs, outs[0])
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            grids = None
        for o in outs:
            if grids is not None and len(grids) == o.dim():
                self._set(o, grids)
            else:
                self._grids.pop(id(o), None)

    # -- merges ---------------------------------------------------------------------
    def _check(self, op: str, columns: list[list[Grid]], lengths: list[int], fields: list) -> None:
        """Record the axes on which the inputs' grids differ. Every call that compares
        grids is named, aligned or not, so that ``cat#2`` is the second such call."""
        if not columns:
            return
        name, _, source = self._named(op)
        axes = []
        for grids, length, field in zip(columns, lengths, fields):
            # the first grid of each place, with its align_corners facts (the cause, PAD107)
            firsts: dict[tuple, Grid] = {}
            for g in grids:
                firsts.setdefault((g.axis, g.stride, g.offset), g)
            distinct = tuple(replace(g, tiled=False, profile=None) for g in firsts.values())
            axes.append((length, distinct, field))
            places = firsts.keys()
            if len(places) < 2 or len({axis for axis, _, _ in places}) > 1:
                continue
            if all(g.tiled for g in grids):             # space-to-depth: phases side by side
                continue
            self.facts.merges.append(Merge(name, op, source, distinct[0].axis, distinct, length))
        self.facts.combines.append(Combine(name, op, source, self._seen, tuple(axes)))

    def _merge(self, name, inputs, out) -> tuple:
        columns: list[list[Grid]] = []
        lengths: list[int] = []
        result: list[Grid | None] = []
        fields: list = []
        for i in range(1, out.dim() + 1):
            grids = [self.of(t)[-i] for t in inputs
                     if t.dim() >= i and t.shape[-i] == out.shape[-i] and t.shape[-i] > 1]
            known = [g for g in grids if g is not None]
            merged = merged_grid(known, self.steps) if known and out.shape[-i] > 1 else None
            if len(known) >= 2:
                columns.append(known)
                lengths.append(int(out.shape[-i]))
                fields.append(merged.receptive if merged is not None else None)
            result.append(merged)
        op = name.strip("_")
        if op[:1] in "ir" and op[1:] in ("add", "sub", "mul", "truediv"):
            op = op[1:]                                 # __iadd__, __radd__: an add
        self._check(op, list(reversed(columns)), list(reversed(lengths)), list(reversed(fields)))
        return tuple(reversed(result))

    def _cat(self, name, args, kwargs, out) -> tuple | None:
        tensors = [t for t in (args[0] if args else kwargs.get("tensors", ())) if isinstance(t, torch.Tensor)]
        if not tensors:
            return None
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        ndim = tensors[0].dim()
        dim = positive_dim(int(dim), ndim + (name == "stack"))
        columns: list[list[Grid]] = []
        lengths: list[int] = []
        result: list[Grid | None] = []
        fields: list = []
        for i in range(ndim):
            known = [g for g in (self.of(t)[i] for t in tensors if t.shape[i] > 1) if g is not None]
            if name != "stack" and i == dim:
                result.append(None)                     # cells side by side: no one grid
                continue
            merged = merged_grid(known, self.steps) if known else None
            if len(known) >= 2:
                columns.append(known)
                lengths.append(int(tensors[0].shape[i]))
                fields.append(merged.receptive if merged is not None else None)
            result.append(merged)
        self._check(name, columns, lengths, fields)
        if name == "stack":
            result.insert(dim, None)
        return tuple(result)

    # -- everything else ------------------------------------------------------------
    def _rule(self, name, args, kwargs, inputs, out) -> tuple | None:
        x = args[0] if args and isinstance(args[0], torch.Tensor) else (inputs[0] if inputs else None)
        if x is None:
            return None
        g = self.of(x)
        if name in ADAPTIVE:        # PAD106 counts every pool, followed cells or not
            return self._adaptive(name, x, g, out)
        if all(v is None for v in g):
            return None
        if name in UNARY or name in ("dropout", "batch_norm", "layer_norm", "group_norm",
                                      "instance_norm"):
            return g if tuple(out.shape) == tuple(x.shape) else None
        if name == "pad":
            return self._pad(args, kwargs, x, g)
        if name == "__getitem__":
            return self._getitem(args[1], x, g)
        if name in INTERPOLATE:
            mode, corners, scale = _interpolation(name, args, kwargs)
            call = CornersCall(*self.site(name)) if corners else None
            return self._resample(x, g, out, mode, call, scale)
        if name in REARRANGE:
            return rearrange(name, args, kwargs, g, None)
        if name == "linear":
            return g[:-1] + (None,)
        if name == "flatten":
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            start, end = positive_dim(start, len(g)), positive_dim(end, len(g))
            return g if start == end else g[:start] + (None,) + g[end + 1:]
        return None

    def _pad(self, args, kwargs, x, g) -> tuple:
        pad = args[1] if len(args) > 1 else kwargs["pad"]
        out = list(g)
        for i in range(len(pad) // 2):
            d = len(g) - 1 - i
            if out[d] is not None:
                b, e = int(pad[2 * i]), int(pad[2 * i + 1])
                out[d] = out[d].moved(replace(out[d], offset=out[d].offset - out[d].stride * b,
                                              profile=self.steps.apply(out[d], "pad", b, e),
                                              receptive=_field(out[d], receptive.window, 1, 1, 1, b)))
        return tuple(out)

    def _getitem(self, index, x, g) -> tuple | None:
        index = expand_index(index, len(g))
        if index is None:
            return None
        out: list[Grid | None] = []
        d = 0
        for i in index:
            if i is None:
                out.append(None)
                continue
            grid, n = g[d], int(x.shape[d])
            d += 1
            if isinstance(i, int):
                continue
            if any(isinstance(v, torch.Tensor) for v in (i.start, i.stop, i.step)):
                return None
            start, stop, step = i.indices(n)
            if step <= 0:
                return None
            if grid is not None and (start or step != 1 or len(range(start, stop, step)) != n):
                grid = grid.moved(Grid(grid.axis, grid.stride * step, grid.offset + grid.stride * start,
                                       tiled=step > 1, profile=self.steps.apply(grid, "take", start, step,
                                                                      len(range(start, stop, step))),
                                       receptive=_field(grid, receptive.window, 1, step, 1, -start)))
            out.append(grid)
        return tuple(out) + g[d:]

    def _resample(self, x, g, out, mode: str, corners: CornersCall | None, scale) -> tuple:
        """Interpolation (and, as mode 'area', adaptive pooling): the source cell of output
        cell j is ``(j + 1/2)*r - 1/2`` (half-pixel), ``floor(j*r)`` ('nearest'),
        ``floor((j + 1/2)*r)`` ('nearest-exact'), or ``j*(n - 1)/(m - 1)`` with align_corners
        (``corners``, the call), where ``r`` is 1/scale_factor when one is given (as PyTorch
        computes it) else n/m. With align_corners the grid also keeps the half-pixel place."""
        nd = x.dim() - 2
        scales = scale if isinstance(scale, (tuple, list)) else [scale] * nd
        result = list(g[:2])
        for i in range(nd):
            grid, n, m = g[2 + i], int(x.shape[2 + i]), int(out.shape[2 + i])
            if grid is None or m <= 1:
                result.append(None)
                continue
            r = (Fraction(1 / float(scales[i])).limit_denominator(1 << 16) if scales[i]
                 else Fraction(n, m))
            shift = _nearest_shift(r, mode == "nearest-exact", m) if mode.startswith("nearest") \
                else (r - 1) / 2
            half = grid.moved(Grid(grid.axis, grid.stride * r, grid.offset + grid.stride * shift))
            if corners is None:
                profile = (self.steps.apply(grid, "adaptive", m) if mode == "area"
                           else self.steps.apply(grid, "resample", m, False, mode, r))
                result.append(replace(half, tiled=False, profile=profile,
                                      receptive=_field(grid, receptive.resample, r, _family(mode))))
                continue
            r = Fraction(n - 1, m - 1)
            result.append(Grid(grid.axis, grid.stride * r, grid.offset,
                               profile=self.steps.apply(grid, "resample", m, True, mode, r),
                               receptive=_field(grid, receptive.resample, r, _family(mode), True),
                               corners=(*grid.corners, corners),
                               half_pixel=(half.without_corners().stride, half.without_corners().offset)))
        return tuple(result)

    def _adaptive(self, name, x, g, out) -> tuple | None:
        nd = int(name.split("pool")[1][0])
        site_name, op, source = self._named(name)
        for i, own in enumerate(AXIS_NAMES[nd]):
            d = x.dim() - nd + i
            # the input axis the cells come from (a 1-d pool over H is on H); the pool's
            # own name where the cells are not followed (after a reshape)
            axis = g[d].axis if g[d] is not None else own
            n, m = int(x.shape[d]), int(out.shape[out.dim() - nd + i])
            self.facts.pools.append(AdaptivePool(site_name, op, source, axis, n, m))
        if all(v is None for v in g):
            return None
        return self._resample(x, g, out, "area", None, None) if x.dim() == nd + 2 else (None,) * out.dim()


def _field(grid: Grid, step, *args):
    """``grid``'s receptive fields through one step of :mod:`padlint.geometry.receptive`."""
    return None if grid.receptive is None else step(grid.receptive, *args)


def _family(mode: str) -> str:
    """The sampling family of an interpolation mode: bilinear and trilinear sample each axis
    linearly, bicubic cubically."""
    if mode in ("nearest", "nearest-exact", "area"):
        return mode
    return "cubic" if mode == "bicubic" else "linear"


def _interpolation(name: str, args, kwargs) -> tuple[str, bool, object]:
    """The mode, align_corners and scale factor of an interpolate call, as PyTorch reads
    them (the scale factor only where it sets the half-pixel source positions: with
    align_corners it sets them for the same call without align_corners)."""
    def arg(i, key, default=None):
        return args[i] if len(args) > i else kwargs.get(key, default)
    if name == "upsample_nearest":
        mode, corners = "nearest", False
    elif name == "upsample_bilinear":
        mode, corners = "bilinear", True
    else:
        mode, corners = str(arg(3, "mode", "nearest")), bool(arg(4, "align_corners"))
    scale = arg(2, "scale_factor")
    if mode == "area" or arg(5, "recompute_scale_factor"):
        scale = None
    return mode, corners, scale


def _nearest_shift(r: Fraction, exact: bool, m: int) -> Fraction:
    """The mean of ``src(j) - r*j`` over one period of nearest-neighbour sampling, where
    ``src(j)`` is ``floor(j*r)`` or, for 'nearest-exact', ``floor((j + 1/2)*r)``: 0 when
    downsampling by a whole factor, -(q-1)/2q when upsampling by a whole factor q."""
    p, q = r.numerator, r.denominator
    cells = range(min(2 * q if exact else q, max(m, 1)))
    sources = [((2 * j + 1) * p) // (2 * q) if exact else (j * p) // q for j in cells]
    return Fraction(sum(sources), len(cells)) - r * Fraction(len(cells) - 1, 2)
