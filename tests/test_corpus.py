"""Real architectures (tests/corpus_models.py) against an independent ground truth,
layer by layer and axis by axis, at several input sizes.

The ground truth never calls padlint:

* **Which ops, with which geometry and shapes:** an aten-level graph of the same model
  from ``make_fx(tracing_mode="fake")`` (eval mode, ``torch.no_grad()``, the model's
  parameters passed in through ``torch.func.functional_call`` so they become fake
  too), traced at the full input shape padlint reports. Every windowed op in it is
  ``aten.convolution`` or ``aten.{max,avg}_pool{1,2,3}d[_with_indices]`` (LP pools
  decompose into ``avg_pool``); kernel, stride, padding, dilation and ceil mode are the
  op's own arguments (the kernel from the weight's shape) and the input and output
  lengths are the graph's fake-tensor shapes. An explicit pad node
  (``constant_pad_nd`` / ``pad`` / ``reflection_pad*`` / ``replication_pad*``) with
  non-negative amounts on the spatial axes only that produces a non-transposed
  windowed op's input is folded into it, as SCIENCE.md §1 says: ``n`` is the pad's
  input length and its amounts add to ``p_b``/``p_e``. PyTorch's ``padding='same'``
  with an odd total becomes exactly such a pad in aten, so it is covered by the fold.
  (``torch.export`` was tried too: it keeps ``aten.conv2d`` / ``aten.pad`` unless
  decomposed and was 2-5x slower, so make_fx is used.)
* **What each axis touches:** SCIENCE.md §5 by autograd, on a 1-D single-channel
  copy of each axis's geometry: ``conv_axis_truth`` (tests/autograd_truth.py) for
  convs, an average pool of the same geometry (ceil mode included) for max / avg
  pools, a ones ``conv_transpose1d`` for transposed convs, and a "window emulator" (a
  ones conv over a ones line spanning the padded input plus room for a ceil-mode
  overhang, cut to the real number of windows) whose gradient gives the last padded
  index any window touches, hence the ignored input tail and the unused end padding.
  Each 1-D copy must reproduce the aten graph's output length on that axis.

Models on which make_fx fails would use a ground truth from a real CPU forward with
forward hooks on every conv / pool / pad module instead (``FALLBACK_TRUTH`` in
corpus_models.py, listed explicitly; it is empty today: every corpus model traces).
That fallback is itself checked against the aten truth on a few models below.

``pytest`` runs the fast subset (``FAST``); ``pytest -m corpus`` runs the full corpus.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import padlint
from autograd_truth import conv_axis_truth
from corpus_models import CORPUS, FALLBACK_TRUTH, FAST, HOOKS_REASONS

pytest.importorskip("torchvision")
pytest.importorskip("timm")

AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
FIELDS = ("in", "out", "kernel", "stride", "dilation", "pad_begin", "pad_end",
          "unused_pad_end", "ignored_input_end", "ignored_input")
T_FIELDS = ("in", "out", "kernel", "stride", "dilation", "pad_begin", "pad_end", "ignored_input")

MODELS = {mid: (ctor, sizes, method) for mid, ctor, sizes, method in CORPUS}
assert len(MODELS) == len(CORPUS), "duplicate ids in the corpus"
assert set(FALLBACK_TRUTH) <= set(MODELS) and set(HOOKS_REASONS) <= set(MODELS)
assert {mid for mid, (_, _, m) in MODELS.items() if m != "fx"} == set(HOOKS_REASONS)


@pytest.fixture(autouse=True, scope="module")
def _no_downloads():
    """Nothing in this corpus may fetch weights: any download attempt fails the test."""
    import torch.hub

    def refuse(*args, **kwargs):
        raise AssertionError(f"a corpus model tried to download weights: {args[:1]}")

    saved = torch.hub.load_state_dict_from_url, torch.hub.download_url_to_file
    torch.hub.load_state_dict_from_url = torch.hub.download_url_to_file = refuse
    try:
        yield
    finally:
        torch.hub.load_state_dict_from_url, torch.hub.download_url_to_file = saved


@lru_cache(maxsize=1)      # consecutive sizes of one model share it; one model in memory
def build(mid: str) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MODELS[mid][0]().eval()


# --------------------------------------------------------------------------- per-axis truth

@dataclass(frozen=True)
class TruthOp:
    """One windowed op of the ground truth, in execution order."""

    family: str                      # conv | conv_transpose | max_pool | avg_pool
    where: str                       # aten node or module name (for messages)
    input_shape: tuple[int, ...]     # the real input, before a folded pad
    output_shape: tuple[int, ...]
    axes: tuple[dict, ...]


def _window_emulator(n, k, s, d, p_b, p_e, out) -> tuple[torch.Tensor, int]:
    """Gradient of ``out`` ones-kernel windows over a ones padded line (+ room for an
    overhang): nonzero exactly at the padded cells some tap touches. Returns the
    touched mask and ``c``, the last padded index any window touches."""
    k_e = d * (k - 1) + 1
    z = torch.ones(1, 1, n + p_b + p_e + k_e, dtype=torch.float64, requires_grad=True)
    y = F.conv1d(z, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    assert y.shape[-1] >= out
    y[..., :out].sum().backward()
    touched = z.grad[0, 0] != 0
    return touched, int(torch.nonzero(touched).max())


@cache
def axis_truth(family: str, n: int, k: int, s: int, d: int, own: int, eb: int, ee: int,
               ceil: bool, out_pad: int, out_real: int) -> dict:
    """Every padlint axis field of one spatial axis, by autograd on a 1-D copy.

    ``own`` is the op's own (symmetric) padding, ``eb``/``ee`` a folded explicit pad,
    ``out_real`` the output length of the real op (aten graph or real forward)."""
    base = {"in": n, "kernel": k, "stride": s, "dilation": d}
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    ones_k = torch.ones(1, 1, k, dtype=torch.float64)
    if family == "conv_transpose":
        assert eb == ee == 0
        y = F.conv_transpose1d(x, ones_k, stride=s, padding=own, output_padding=out_pad, dilation=d)
        assert y.shape[-1] == out_real, ("1-D copy", y.shape[-1], "real op", out_real)
        y.sum().backward()
        return {**base, "out": out_real, "pad_begin": own, "pad_end": own,
                "ignored_input": int((x.grad[0, 0] == 0).sum())}

    p_b, p_e = own + eb, own + ee
    xp = F.pad(x, (eb, ee))
    if family == "conv":
        y = F.conv1d(xp, ones_k, stride=s, padding=own, dilation=d)
    elif d == 1:        # max pools by an average pool of the same geometry (SCIENCE.md §5)
        y = F.avg_pool1d(xp, k, s, own, ceil_mode=ceil, count_include_pad=True)
    elif not ceil:      # dilated max pool: a dilated ones conv has the same windows
        y = F.conv1d(xp, ones_k, stride=s, padding=own, dilation=d)
    else:
        raise NotImplementedError("dilated ceil-mode max pool: no stand-in")   # not in the corpus
    assert y.shape[-1] == out_real, ("1-D copy", y.shape[-1], "real op", out_real)
    y.sum().backward()
    touched = x.grad[0, 0] != 0

    emulated, c = _window_emulator(n, k, s, d, p_b, p_e, out_real)
    assert torch.equal(emulated[p_b:p_b + n], touched), "window emulator disagrees with autograd"
    idx = torch.arange(n + p_b + p_e)
    real = (idx >= p_b) & (idx < p_b + n)
    end_pad = idx >= p_b + n
    facts = {**base, "out": out_real, "pad_begin": p_b, "pad_end": p_e,
             "ignored_input": int((~touched).sum()),
             "ignored_input_end": int((real & (idx > c)).sum()),
             "unused_pad_end": int((end_pad & (idx > c)).sum())}
    if family == "conv":    # the shared helper must agree (its tail is the trailing zero run)
        ref = conv_axis_truth(n, k, s, d, p_b, p_e)
        assert (ref["out"], ref["ignored_input"], ref["unused_pad_end"]) == \
            (facts["out"], facts["ignored_input"], facts["unused_pad_end"])
        assert ref["ignored_input_end"] >= facts["ignored_input_end"]
    return facts


def truth_axes(family, nd, in_shape, out_shape, k, s, d, own, explicit, ceil, out_pad):
    return tuple(axis_truth(family, int(in_shape[-nd + i]), int(k[i]), int(s[i]), int(d[i]),
                            int(own[i]), int(explicit[i][0]), int(explicit[i][1]), bool(ceil),
                            int(out_pad[i]), int(out_shape[-nd + i])) for i in range(nd))


def _per_axis(value, nd):
    value = list(value) if isinstance(value, (list, tuple)) else [value]
    return value * nd if len(value) == 1 else value


# --------------------------------------------------------------------------- aten truth

ATEN = torch.ops.aten
PAD_OPS = {ATEN.constant_pad_nd.default, ATEN.pad.default,
           *(getattr(ATEN, f"{kind}_pad{nd}d").default
             for kind in ("reflection", "replication") for nd in (1, 2, 3))}
MAX_POOLS = {getattr(ATEN, f"max_pool{nd}d{suffix}").default: nd
             for nd in (1, 2, 3) for suffix in ("", "_with_indices")
             if hasattr(ATEN, f"max_pool{nd}d{suffix}")}
AVG_POOLS = {getattr(ATEN, f"avg_pool{nd}d").default: nd for nd in (1, 2, 3)}
# aten ops with "conv", "pool" or "pad" in their name that are not windowed ops in
# SCIENCE.md §1's sense (adaptive pools are §2's own topic); anything else is an error.
NOT_WINDOWED = re.compile(r"aten::_?adaptive_(avg|max)_pool[123]d$")


def _val(node):
    v = node.meta["val"]
    return v[0] if isinstance(v, (tuple, list)) else v


def _kwargs(node) -> dict:
    """A call's arguments by name, defaults filled in from its schema."""
    schema = node.target._schema
    out = {}
    for i, arg in enumerate(schema.arguments):
        if i < len(node.args):
            out[arg.name] = node.args[i]
        elif arg.name in node.kwargs:
            out[arg.name] = node.kwargs[arg.name]
        elif arg.has_default_value():
            out[arg.name] = arg.default_value
    return out


def aten_graph(model: nn.Module, shape) -> torch.fx.GraphModule:
    from torch.fx.experimental.proxy_tensor import make_fx
    state = {**dict(model.named_parameters(remove_duplicate=False)),
             **dict(model.named_buffers(remove_duplicate=False))}

    def run(params, x):
        return torch.func.functional_call(model, params, (x,), tie_weights=False)

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_fx(run, tracing_mode="fake", _allow_non_fake_inputs=True)(state, torch.zeros(shape))


def aten_truth(model: nn.Module, shape) -> list[TruthOp]:
    gm = aten_graph(model, shape)
    pads: dict = {}          # pad node -> (source node, {tensor dim: (begin, end)})
    ops: list[TruthOp] = []
    for node in gm.graph.nodes:
        if node.op != "call_function" or not isinstance(node.target, torch._ops.OpOverload):
            continue
        name = node.target.name()
        kw = _kwargs(node)
        if node.target in PAD_OPS:
            amounts = [int(v) for v in (kw.get("pad") or kw.get("padding"))]
            if any(v < 0 for v in amounts):
                continue                                   # a crop: nothing to fold
            src = kw["self"] if "self" in kw else kw["input"]
            ndim = len(_val(src).shape)
            dims = {ndim - 1 - i: (amounts[2 * i], amounts[2 * i + 1]) for i in range(len(amounts) // 2)}
            if src in pads:                                # pad of a pad: add them up
                src, earlier = pads[src]
                for dim, (b, e) in earlier.items():
                    b2, e2 = dims.get(dim, (0, 0))
                    dims[dim] = (b + b2, e + e2)
            pads[node] = (src, dims)
            continue
        if node.target == ATEN.convolution.default:
            x, w = kw["input"], _val(kw["weight"])
            nd = w.dim() - 2
            family = "conv_transpose" if kw["transposed"] else "conv"
            k, s = list(w.shape[2:]), _per_axis(kw["stride"], nd)
            d, own = _per_axis(kw["dilation"], nd), _per_axis(kw["padding"], nd)
            ceil, out_pad = False, _per_axis(kw["output_padding"], nd)
        elif node.target in MAX_POOLS or node.target in AVG_POOLS:
            family = "max_pool" if node.target in MAX_POOLS else "avg_pool"
            nd = MAX_POOLS.get(node.target) or AVG_POOLS[node.target]
            x = kw["self"]
            k = _per_axis(kw["kernel_size"], nd)
            s = _per_axis(kw["stride"], nd) if list(kw["stride"] or []) else k
            d = _per_axis(kw.get("dilation", 1), nd)
            own, ceil, out_pad = _per_axis(kw["padding"], nd), kw["ceil_mode"], [0] * nd
        elif re.search(r"conv|pool|pad", name) and not NOT_WINDOWED.match(name):
            raise AssertionError(f"unexpected aten op {name} at node {node.name}: "
                                 "the ground truth does not know it")
        else:
            continue
        real, explicit = x, [(0, 0)] * nd
        x_ndim = len(_val(x).shape)
        if x in pads and family != "conv_transpose":       # padlint folds no pad into a transposed conv
            src, dims = pads[x]
            if all(dim >= x_ndim - nd or amount == (0, 0) for dim, amount in dims.items()):
                real = src
                explicit = [dims.get(x_ndim - nd + i, (0, 0)) for i in range(nd)]
        in_shape, out_shape = tuple(_val(real).shape), tuple(_val(node).shape)
        ops.append(TruthOp(family, node.name, in_shape, out_shape,
                           truth_axes(family, nd, in_shape, out_shape, k, s, d, own, explicit,
                                      ceil, out_pad)))
    return ops


# --------------------------------------------------------------------------- fallback truth

CONV_MODULES = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                nn.ConvTranspose3d)
POOL_MODULES = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
                nn.LPPool1d, nn.LPPool2d, nn.LPPool3d)
PAD_MODULES = (nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d, nn.ConstantPad1d, nn.ConstantPad2d,
               nn.ConstantPad3d, nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d,
               nn.ReplicationPad1d, nn.ReplicationPad2d, nn.ReplicationPad3d)


def _timm_same(module) -> bool:
    """timm's TF-"SAME" modules (Conv2dSame, MaxPool2dSame, AvgPool2dSame) pad inside forward."""
    return type(module).__module__.startswith("timm.") and type(module).__name__.endswith("2dSame")


def hooks_truth(model: nn.Module, shape) -> list[TruthOp]:
    """Ground truth from a real CPU forward with hooks on conv / pool / pad modules:
    the modules' own attributes and the real tensors' shapes. Functional calls
    (``F.max_pool2d`` in a forward) are not seen: only for models without them."""
    from timm.layers.padding import get_same_padding
    ops, calls, pads = [], [], {}

    def pre(module, args):
        calls.append((module, args[0]))

    def post(module, args, out):
        m, x = calls.pop()
        if isinstance(m, PAD_MODULES):
            flat = list(m.padding)
            dims = {x.dim() - 1 - i: (flat[2 * i], flat[2 * i + 1]) for i in range(len(flat) // 2)}
            if min(flat) >= 0:
                pads[id(out)] = (out, x, dims)
            return
        nd = x.dim() - 2
        y = out[0] if isinstance(out, tuple) else out
        real, explicit = x, [(0, 0)] * nd
        transposed = isinstance(m, nn.modules.conv._ConvTransposeNd)
        if isinstance(m, nn.modules.conv._ConvNd):
            family = "conv_transpose" if transposed else "conv"
            k, s, d = m.kernel_size, m.stride, m.dilation
            ceil, out_pad = False, m.output_padding if transposed else [0] * nd
            if m.padding == "valid":
                own = [0] * nd
            elif m.padding == "same":          # PyTorch: total d(k-1), the odd cell at the end
                own, explicit = [], []
                for i in range(nd):
                    total = d[i] * (k[i] - 1)
                    own.append(total // 2)
                    explicit.append((0, total % 2))
            else:
                own = m.padding
        else:
            family = {"Max": "max_pool", "Avg": "avg_pool", "LPP": "avg_pool"}[type(m).__name__[:3]]
            k = _per_axis(m.kernel_size, nd)
            s = _per_axis(m.stride, nd) if m.stride is not None else k
            d = _per_axis(getattr(m, "dilation", 1), nd)
            own, ceil, out_pad = _per_axis(getattr(m, "padding", 0), nd), m.ceil_mode, [0] * nd
        if _timm_same(m):                      # timm pads TF-"SAME" by its own rule, then runs the op
            explicit = []
            for i in range(nd):
                total = get_same_padding(x.shape[2 + i], k[i], s[i], d[i])
                explicit.append((total // 2, total - total // 2))
        elif id(x) in pads and pads[id(x)][0] is x and not transposed:
            _, src, dims = pads[id(x)]
            if all(dim >= 2 or amount == (0, 0) for dim, amount in dims.items()):
                real = src
                explicit = [dims.get(2 + i, (0, 0)) for i in range(nd)]
        in_shape, out_shape = tuple(real.shape), tuple(y.shape)
        ops.append(TruthOp(family, module_names[id(m)], in_shape, out_shape,
                           truth_axes(family, nd, in_shape, out_shape, k, s, d, own, explicit,
                                      ceil, out_pad)))

    module_names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
    handles = []
    for m in model.modules():
        if isinstance(m, CONV_MODULES + POOL_MODULES + PAD_MODULES):
            handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model(torch.ones(shape))
    finally:
        for h in handles:
            h.remove()
    return ops


def ground_truth(mid: str, model: nn.Module, shape) -> list[TruthOp]:
    if mid in FALLBACK_TRUTH:
        return hooks_truth(model, shape)
    try:
        return aten_truth(model, shape)
    except AssertionError:
        raise
    except Exception as err:   # noqa: BLE001 - say how to keep the list explicit
        raise AssertionError(f"{mid}: make_fx(tracing_mode='fake') fails ({type(err).__name__}: "
                             f"{err}); add it to FALLBACK_TRUTH in corpus_models.py") from err


# --------------------------------------------------------------------------- comparison

PADLINT_FAMILY = {"lp_pool": "avg_pool"}       # LP pools are an avg_pool in aten


def compare(label: str, layers, layer_docs, truth: list[TruthOp]) -> list[str]:
    """Every disagreement between padlint's layers and the ground truth, as messages."""
    if len(layers) != len(truth):
        ours = [f"{layer.family}{list(layer.input_shape)}" for layer in layers]
        theirs = [f"{op.family}{list(op.input_shape)}" for op in truth]
        first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                     min(len(ours), len(theirs)))
        return [f"{label}: padlint lists {len(layers)} windowed ops, the ground truth {len(truth)}; "
                f"first difference at #{first}: padlint {ours[first:first + 3]} "
                f"truth {theirs[first:first + 3]}"]
    bad = []
    for i, (layer, doc, op) in enumerate(zip(layers, layer_docs, truth)):
        where = f"{label}: layer #{i} {layer.name!r} ({layer.op}; truth {op.where})"
        family = PADLINT_FAMILY.get(layer.family, layer.family)
        if family != op.family:
            bad.append(f"{where}: family: padlint={layer.family} truth={op.family}")
            continue
        for what, ours, theirs in (("input_shape", tuple(layer.input_shape), op.input_shape),
                                   ("output_shape", tuple(layer.output_shape), op.output_shape)):
            if ours != theirs:
                bad.append(f"{where}: {what}: padlint={ours} truth={theirs}")
        nd = len(op.axes)
        names = [a["axis"] for a in doc["axes"]]
        if names != list(AXES[nd]):
            bad.append(f"{where}: axes: padlint={names} truth={list(AXES[nd])}")
            continue
        fields = T_FIELDS if op.family == "conv_transpose" else FIELDS
        for axis_doc, gt in zip(doc["axes"], op.axes):
            for field in fields:
                if axis_doc.get(field) != gt[field]:
                    bad.append(f"{where}: axis {axis_doc['axis']}: {field}: "
                               f"padlint={axis_doc.get(field)} truth={gt[field]}")
    return bad


def size_id(size) -> str:
    return str(size)


def check_case(mid: str, size) -> None:
    _, _, expected_method = MODELS[mid]
    model = build(mid)
    label = f"{mid} @ {size_id(size)}"
    report = padlint.analyze(model, size)
    assert not report.errors, f"{label}: padlint errors: {[e['message'] for e in report.errors]}"
    (result,) = report.results
    method = result.trace.method
    assert method == expected_method, f"{label}: trace method {method!r}, expected {expected_method!r}"
    notes = [f.message for f in result.findings if f.rule == "PAD901"]
    if expected_method == "fx":
        assert not notes, f"{label}: unexpected PAD901: {notes}"
    else:
        assert any(re.search(HOOKS_REASONS[mid], m) for m in notes), \
            f"{label}: no PAD901 finding names why ({HOOKS_REASONS[mid]!r}); got {notes}"
    shape = result.input_shape
    truth = ground_truth(mid, model, shape)
    bad = compare(label, result.layers, result.to_json()["layers"], truth)
    assert not bad, f"{label}: padlint disagrees with the ground truth in {len(bad)} places:\n" + \
        "\n".join(bad[:60]) + ("\n…" if len(bad) > 60 else "")


ALL_CASES = [(mid, size) for mid, _, sizes, _ in CORPUS for size in sizes]
assert all(case in ALL_CASES for case in FAST), "FAST lists a case the corpus does not have"


def _ids(cases):
    return [f"{mid}-{size_id(size)}" + ("-fallback_truth" if mid in FALLBACK_TRUTH else "")
            for mid, size in cases]


@pytest.mark.parametrize("mid, size", FAST, ids=_ids(FAST))
def test_fast_subset(mid, size):
    check_case(mid, size)


@pytest.mark.corpus
@pytest.mark.parametrize("mid, size", ALL_CASES, ids=_ids(ALL_CASES))
def test_corpus(mid, size):
    check_case(mid, size)


# Models whose windowed ops are all modules (no functional F.max_pool2d in a forward),
# so the fallback truth sees them all: it must agree with the aten truth.
FALLBACK_CHECKS = [("tv.resnet18", 225), ("tv.googlenet", 224), ("timm.tf_efficientnet_b0", 225),
                   ("timm.tf_mixnet_s", "193x257"), ("tvvideo.r2plus1d_18", "15x113x111")]


@pytest.mark.corpus
@pytest.mark.parametrize("mid, size", FALLBACK_CHECKS, ids=_ids(FALLBACK_CHECKS))
def test_fallback_truth_agrees_with_aten_truth(mid, size):
    model = build(mid)
    shape = padlint.analyze(model, size).results[0].input_shape
    aten, hooks = aten_truth(model, shape), hooks_truth(model, shape)
    assert len(aten) == len(hooks)
    for a, h in zip(aten, hooks):
        assert (a.family, a.input_shape, a.output_shape, a.axes) == \
            (h.family, h.input_shape, h.output_shape, h.axes), (a.where, h.where)
