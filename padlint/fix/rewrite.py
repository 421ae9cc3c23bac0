"""``padlint fix``: rewrite the construction calls of the layers padlint can fix.

The fixes are text edits of the literal call that built each flagged layer (found with
:mod:`ast` at the finding's :class:`~padlint.sites.Source`); everything else in the file
is kept byte for byte. Four rewrites are known:

1. **Transposed conv, stride 2** (PAD104 checkerboard, PAD101 through
   ``output_padding``): ``kernel_size=4, stride=2, padding=1``, ``output_padding``
   dropped. Its output length is ``(n-1)*2 - 2 + 4 = 2n`` at every ``n``, as with
   k=3, s=2, p=1, output_padding=1; every output phase gets 2 taps, and the adjoint
   conv uses its padding evenly.
2. **1x1 stride-s shortcut** (PAD102/PAD103, the ``shortcut`` fix variant):
   ``Sequential(AvgPool{n}d(s, stride=s, ceil_mode=True, count_include_pad=False),
   Conv{n}d(in, out, 1, ...))`` (ResNet-D). Output length ``ceil(n/s)``, the same as
   the 1x1 stride-s conv; every input cell is read. The module's ``state_dict`` keys
   change: the conv's weight moves to ``<name>.1.weight``.
3. **Odd kernel at stride 2 on an even input** (PAD101): kernel ``k+1`` with the same
   stride and padding, when that keeps the output length and is even at the analysed
   size.

Why rewrite 3 changes the kernel and not the padding: with symmetric padding
``p_b = p_e = p`` the padded length ``n + 2p`` has the parity of ``n``, and a stride-2
window grid uses both ends of it exactly when ``n + 2p - k_e`` is a multiple of 2. For
odd ``k_e`` that needs ``n`` odd. So at an even input length **no symmetric padding**
makes an odd stride-2 kernel even; an even kernel ``k+1`` (``n + 2p - (k+1)`` even) can.
That only holds for the input lengths of the analysed parity, which is why
``--size-policy any`` (rewrites that are even at every input size) skips rewrite 3:
there, pick an input size with ``padlint sizes`` instead.

4. **align_corners=True interpolation before a merge** (PAD107, when the alignment
   tracker finds that ``align_corners=False`` there lines the merged cells up):
   ``align_corners=True`` -> ``False`` in the literal ``F.interpolate(...)`` or
   ``nn.Upsample(...)`` call. The output length does not change; the cells move onto
   the half-pixel grid ``S*r*j + O + S*(r-1)/2`` of the other branch. The edit is made
   at the interpolation, not at the merge the finding names; a PAD107 finding with
   another cause, or whose call cannot be read, is listed as not fixed.

Every set of edits is verified before it is shown: the edited files are imported in
place of the originals, the model is built and run on the CPU at the analysed size
(the output shape must not change) and analysed again (the fixed findings must be gone,
and no new finding of the fixable rules or of PAD107 may appear: an average-pool
shortcut is centred on 2j+0.5, a 3x3 stride-2 main path beside it on 2j, so rewrite 2
passes only where that path becomes kernel 4 too). An edit that fails is dropped and
listed as not fixed.
"""
from __future__ import annotations

import padlint

import ast
import difflib
import importlib.machinery
import inspect
import io
import os
import re
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from padlint.errors import PadlintError
from padlint.errors import first_line
from padlint.geometry.axis import transposed_output_length
from padlint.geometry.axis import output_length
from padlint.geometry.axis import axis_facts, min_input_length
from padlint.sizes.failures import traced
import torch

FIXABLE = ("PAD101", "PAD102", "PAD103", "PAD104", "PAD107")
# Rules a rewrite must not make fire anew: an average-pool shortcut beside a 3x3 stride-2
# main path is half a cell off it (PAD107), unless that path is rewritten to kernel 4 too.
WATCHED = ("PAD107",)
POLICIES = ("input", "any")

NOT_LITERAL = "not a literal call"
ARGS_NOT_LITERAL = "arguments not literal"
NO_REWRITE = "no rewrite known"
OUTSIDE = "outside the working directory"
ANY_SIZE = ("no rewrite is even at every input size; pick an input size with "
            "`padlint sizes`")

_CONV = tuple(f"Conv{n}d" for n in (1, 2, 3))
_TRANSPOSED = tuple(f"ConvTranspose{n}d" for n in (1, 2, 3))
_POOLS = tuple(f"{kind}Pool{n}d" for kind in ("Max", "Avg") for n in (1, 2, 3))
OPS = _CONV + _TRANSPOSED + _POOLS
_GEOMETRY = ("kernel_size", "stride", "padding", "dilation", "output_padding", "ceil_mode")


@dataclass
class Site:
    """The findings of one construction call, and every layer that call built."""

    source: object                     # padlint.sites.Source
    findings: list = field(default_factory=list)
    layers: list = field(default_factory=list)

    @property
    def label(self) -> str:
        names = ", ".join(dict.fromkeys(f.layer for f in self.findings))
        rules = ", ".join(sorted({f.rule for f in self.findings}))
        axes = ", ".join(dict.fromkeys(f.axis for f in self.findings if f.axis))
        return f"{self.source} {names} {rules}" + (f" ({axes})" if axes else "")


@dataclass
class Edit:
    """One rewritten call: ``text[start:end]`` becomes ``new``."""

    site: Site
    path: str                          # absolute
    start: int
    end: int
    old: str
    new: str
    what: str                          # 'kernel_size=4, stride=2, padding=1'
    note: str = ""
    prefixes: tuple = ()               # layer names whose fixable findings must be gone


@dataclass
class NotFixed:
    site: Site
    reason: str

    def line(self) -> str:
        return f"not fixed: {self.site.label}: {self.reason}"


@dataclass
class FixPlan:
    target: str
    size: tuple
    edits: list = field(default_factory=list)
    not_fixed: list = field(default_factory=list)
    originals: dict = field(default_factory=dict)     # path -> text

    def texts(self, edits=None) -> dict:
        return _edited(self.originals, self.edits if edits is None else edits)

    def diff(self) -> str:
        out = []
        for path, new in self.texts().items():
            out.append(unified_diff(path, self.originals[path], new))
        return "".join(out)

    def files(self) -> list[str]:
        return list(dict.fromkeys(e.path for e in self.edits))


# -- text ----------------------------------------------------------------------------

def read_text(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def rel_path(path: str) -> str:
    return os.path.relpath(path).replace(os.sep, "/")


def unified_diff(path: str, old: str, new: str) -> str:
    """``--- a/PATH`` / ``+++ b/PATH``, PATH relative to the working directory, so that
    ``patch -p1`` and ``git apply`` take it."""
    rel = rel_path(path)
    lines = difflib.unified_diff(_lines(old), _lines(new), f"a/{rel}", f"b/{rel}")
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines as Python, patch and git see them: ended by \\n, \\r\\n or \\r only (str.splitlines
    also splits at a form feed and other separators, which made a broken diff)."""
    return io.StringIO(text, newline="").readlines()


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer(r"\r\n|\r|\n", text):
        starts.append(m.end())
    return starts


class _Offsets:
    """ast (line, UTF-8 byte column) -> character offset in the text."""

    def __init__(self, text: str):
        self.text = text
        self.starts = _line_starts(text)

    def __call__(self, line: int, col: int) -> int:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return start + len(self.text[start:end].encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node) -> tuple[int, int]:
        return self(node.lineno, node.col_offset), self(node.end_lineno, node.end_col_offset)


def _edited(originals: dict, edits: list) -> dict:
    texts = {}
    for path in dict.fromkeys(e.path for e in edits):
        text = originals[path]
        for e in sorted((e for e in edits if e.path == path), key=lambda e: e.start, reverse=True):
            text = text[:e.start] + e.new + text[e.end:]
        texts[path] = text
    return texts


# -- reading the call -----------------------------------------------------------------

class _File:
    def __init__(self, path: str):
        self.path = path
        self.text = read_text(path)
        self.tree = ast.parse(self.text)
        self.offsets = _Offsets(self.text)
        self.nn_names, self.bare = _imports(self.tree)

    def call_at(self, source):
        found = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call)
                 and n.lineno == source.line and n.col_offset + 1 == source.col]
        if source.end_line is not None and source.end_col is not None:
            exact = [n for n in found if n.end_lineno == source.end_line
                     and n.end_col_offset + 1 == source.end_col]
            found = exact or found
        return found[0] if len(found) == 1 else None

    def segment(self, node) -> str:
        start, end = self.offsets.span(node)
        return self.text[start:end]


def _imports(tree) -> tuple[set[str], dict[str, str]]:
    """Names bound to ``torch.nn`` (``nn``, ``torch.nn``) and bare names imported from it."""
    nn_names, bare = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "torch.nn" and a.asname:
                    nn_names.add(a.asname)
                elif a.name in ("torch", "torch.nn") and not a.asname:
                    nn_names.add("torch.nn")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if node.module == "torch" and a.name == "nn":
                    nn_names.add(a.asname or "nn")
                elif node.module.startswith("torch.nn"):
                    bare[a.asname or a.name] = a.name
    return nn_names, bare


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


@dataclass
class _Call:
    """A literal call of a torch.nn conv or pool with its arguments bound to names."""

    file: _File
    node: ast.Call
    op: str
    prefix: str | None                 # 'nn.' / 'torch.nn.' / None when torch.nn has no name
    args: dict                         # name -> (value node, the node that spans the argument)
    positional: list                   # names passed positionally, in order
    values: dict                       # name -> literal value, for the geometry arguments
    defaults: dict

    @property
    def nd(self) -> int:
        return int(self.op[-2])

    def per_axis(self, name: str, default=None) -> tuple:
        value = self.values.get(name, self.defaults.get(name, default))
        if value is None:
            value = default
        if isinstance(value, (list, tuple)):
            return tuple(value)
        return (value,) * self.nd


def _read_call(file: _File, node: ast.Call, layer_op: str) -> _Call | str:
    """The bound call, or the reason it cannot be rewritten."""
    name = _dotted(node.func)
    if name is None:
        return f"{NOT_LITERAL} of a torch.nn conv or pool"
    head, _, op = name.rpartition(".")
    if head:
        if head not in file.nn_names:
            return f"{NOT_LITERAL} of a torch.nn conv or pool ({name}(...))"
    else:
        op = file.bare.get(name, "")
        if not op:
            return f"{NOT_LITERAL} of a torch.nn conv or pool ({name}(...))"
    if op not in OPS or op != layer_op:
        return f"{NOT_LITERAL} of a torch.nn conv or pool ({name}(...) builds {layer_op})"
    if head:
        prefix = head + "."
    else:
        prefix = next((n + "." for n in sorted(file.nn_names, key=len)), None)
    params = [p for p in inspect.signature(getattr(torch.nn, op).__init__).parameters.values()
              if p.name != "self"]
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return f"{ARGS_NOT_LITERAL} (*args or **kwargs)"
    if len(node.args) > len(params):
        return f"{ARGS_NOT_LITERAL} (too many positional arguments)"
    args, positional = {}, []
    for p, a in zip(params, node.args):
        args[p.name] = (a, a)
        positional.append(p.name)
    for k in node.keywords:
        args[k.arg] = (k.value, k)
    values = {}
    for key in _GEOMETRY:
        if key in args:
            try:
                values[key] = ast.literal_eval(args[key][0])
            except ValueError:
                return f"{ARGS_NOT_LITERAL} ({key}={file.segment(args[key][0])})"
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    return _Call(file, node, op, prefix, args, positional, values, defaults)


def _literal(values: tuple):
    return values[0] if len(set(values)) == 1 else tuple(values)


class _Rewriter:
    """Argument-level edits of one call, kept as (start, end, text) in the call's text."""

    def __init__(self, call: _Call):
        self.call = call
        self.base, self.stop = call.file.offsets.span(call.node)
        self.edits = []
        spans = [call.file.offsets.span(span) for _, span in call.args.values()]
        self.order = sorted(spans)

    def _span(self, name):
        return self.call.file.offsets.span(self.call.args[name][1])

    def set(self, name: str, value) -> None:
        text = repr(value)
        if name in self.call.args:
            start, end = self.call.file.offsets.span(self.call.args[name][0])
            self.edits.append((start, end, text))
        else:
            end = self.order[-1][1]
            self.edits.append((end, end, f", {name}={text}"))

    def drop(self, name: str) -> None:
        if name not in self.call.args:
            return
        if name in self.call.positional and name != self.call.positional[-1]:
            self.edits.append((*self.call.file.offsets.span(self.call.args[name][0]),
                               repr(self.call.defaults[name])))
            return
        span = self._span(name)
        i = self.order.index(span)
        if i > 0:
            self.edits.append((self.order[i - 1][1], span[1], ""))
        elif i + 1 < len(self.order):
            self.edits.append((span[0], self.order[i + 1][0], ""))
        else:
            self.edits.append((span[0], span[1], ""))

    def text(self) -> str:
        text = self.call.file.text
        out = text[self.base:self.stop]
        for start, end, new in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            out = out[:start - self.base] + new + out[end - self.base:]
        return out


# -- the rewrites --------------------------------------------------------------------

def _axes(site: Site) -> list[str]:
    return list(dict.fromkeys(f.axis for f in site.findings if f.axis))


def _transposed(site: Site, call: _Call) -> tuple | str:
    axes = _axes(site)
    names = [a.axis for a in site.layers[0].axes]
    k, s = list(call.per_axis("kernel_size")), call.per_axis("stride", 1)
    p, op = list(call.per_axis("padding", 0)), list(call.per_axis("output_padding", 0))
    d = call.per_axis("dilation", 1)
    for axis in axes:
        i = names.index(axis)
        if s[i] != 2 or d[i] != 1:
            return f"{NO_REWRITE} (stride {s[i]}, dilation {d[i]} on {axis}; the rewrite needs stride 2)"
        k[i], p[i], op[i] = 4, 1, 0
    for layer in site.layers:
        for i, f in enumerate(layer.axes):
            new = transposed_output_length(f.n, k[i], s[i], d[i], p[i], p[i], op[i])
            if new != f.out:
                return (f"{NO_REWRITE} (kernel 4 with padding 1 gives {layer.name} output "
                        f"{new} instead of {f.out} on {f.axis})")
    rw = _Rewriter(call)
    rw.set("kernel_size", _literal(tuple(k)))
    rw.set("padding", _literal(tuple(p)))
    if any(op):
        rw.set("output_padding", _literal(tuple(op)))
    else:
        rw.drop("output_padding")
    return rw.text(), "kernel_size=4, stride=2, padding=1" + (
        "" if "output_padding" not in call.args else ", output_padding dropped"), ""


def _shortcut(site: Site, call: _Call) -> tuple | str:
    k, s = call.per_axis("kernel_size"), call.per_axis("stride", 1)
    p = call.per_axis("padding", 0)
    if set(k) != {1} or len(set(s)) != 1 or s[0] < 2 or set(p) != {0}:
        return f"{NO_REWRITE} (the ResNet-D rewrite needs a 1x1 conv with one stride and no padding)"
    stride = s[0]
    for layer in site.layers:
        for f in layer.axes:
            if output_length(f.n, stride, stride, 1, 0, 0, True) != f.out:
                return f"{NO_REWRITE} (the average pool would change {layer.name}'s output on {f.axis})"
    if call.prefix is None:
        return f"{NO_REWRITE} (torch.nn is not imported under a name in {rel_path(call.file.path)})"
    rw = _Rewriter(call)
    rw.drop("stride")
    if "padding" in call.args:
        rw.drop("padding")
    pool = (f"{call.prefix}AvgPool{call.nd}d({stride}, stride={stride}, ceil_mode=True, "
            "count_include_pad=False)")
    names = ", ".join(f"{layer.name}.weight -> {layer.name}.1.weight" for layer in site.layers)
    return (f"{call.prefix}Sequential({pool}, {rw.text()})",
            f"AvgPool{call.nd}d({stride}, stride={stride}, ceil_mode=True, count_include_pad=False) "
            f"+ 1x1 {call.op}",
            f"this changes the state_dict keys ({names})")


def _odd_kernel(site: Site, call: _Call, policy: str) -> tuple | str:
    if policy == "any":
        return ANY_SIZE
    axes = _axes(site)
    names = [a.axis for a in site.layers[0].axes]
    k = list(call.per_axis("kernel_size"))
    pool = "Pool" in call.op
    stride = call.per_axis("stride", None)
    for axis in axes:
        k[names.index(axis)] += 1
    for layer in site.layers:
        for i, f in enumerate(layer.axes):
            if k[i] == f.kernel:
                continue
            if f.n < min_input_length(k[i], f.dilation, f.pad_begin, f.pad_end):
                return f"{NO_REWRITE} (kernel {k[i]} does not fit {layer.name}'s input on {f.axis})"
            new = axis_facts(f.axis, f.n, k[i], f.stride, f.dilation, f.pad_begin, f.pad_end,
                             f.ceil_mode, f.explicit_begin, f.explicit_end)
            if new.out != f.out:
                return (f"{NO_REWRITE} (no symmetric padding is even at input {f.n} on {f.axis}, "
                        f"and kernel {k[i]} gives {layer.name} output {new.out} instead of {f.out})")
            if new.uneven or new.ignored_input_end:
                return (f"{NO_REWRITE} (no symmetric padding is even at input {f.n} on {f.axis}, "
                        f"and kernel {k[i]} is uneven there too)")
    rw = _Rewriter(call)
    old_k = call.per_axis("kernel_size")
    rw.set("kernel_size", _literal(tuple(k)) if not isinstance(call.values["kernel_size"], (list, tuple))
           else tuple(k))
    if pool and stride[0] is None:           # a pool's stride defaults to its kernel size
        rw.set("stride", _literal(old_k))
    shown = "x".join(str(v) for v in dict.fromkeys(k))
    note = "" if pool else (f"the weight shape changes ({'x'.join(map(str, old_k))} -> "
                            f"{'x'.join(map(str, k))}): old checkpoints no longer load")
    return rw.text(), f"kernel_size={shown}", note


def _rewrite(site: Site, call: _Call, policy: str) -> tuple | str:
    rules = {f.rule for f in site.findings}
    family = site.layers[0].family
    if family == "conv_transpose":
        if rules & {"PAD101", "PAD104"}:
            return _transposed(site, call)
        return NO_REWRITE
    shortcut = [f for f in site.findings if f.rule in ("PAD102", "PAD103")
                and f.data.get("k_e", f.data.get("k")) == 1 and f.data.get("s", 1) > 1]
    if shortcut and family == "conv":
        if rules - {"PAD102", "PAD103"}:
            return f"{NO_REWRITE} (for {', '.join(sorted(rules - {'PAD102', 'PAD103'}))} with a 1x1 kernel)"
        return _shortcut(site, call)
    if "PAD101" in rules and rules <= {"PAD101", "PAD102"}:
        if call.values.get("padding") in ("same", "valid") or isinstance(call.values.get("padding"), str):
            return f"{NO_REWRITE} (padding={call.values['padding']!r})"
        return _odd_kernel(site, call, policy)
    return f"{NO_REWRITE} (for {', '.join(sorted(rules))} at this layer)"


# -- planning ------------------------------------------------------------------------

def _sites(findings, layers) -> list[Site]:
    sites: dict = {}
    unplaced = []
    for f in findings:
        if f.source is None:
            unplaced.append(f)
            continue
        key = (os.path.abspath(f.source.path), f.source.line, f.source.col)
        sites.setdefault(key, Site(f.source)).findings.append(f)
    for layer in layers:
        if layer.source is None:
            continue
        key = (os.path.abspath(layer.source.path), layer.source.line, layer.source.col)
        if key in sites:
            sites[key].layers.append(layer)
    return list(sites.values()), unplaced


def _under_cwd(path: str) -> bool:
    cwd = os.path.realpath(os.getcwd())
    return os.path.realpath(path).startswith(cwd + os.sep)


def _rules(select, ignore, severity):
    from padlint.engine.select import select_rules
    chosen = select_rules(select if select is not None else list(FIXABLE), ignore, severity)
    rules = [r for r in chosen if r.code in FIXABLE]
    if not rules:
        shown = ",".join(select or [])
        raise PadlintError(f"--select {shown}: selects no rule padlint fix can fix "
                           f"({', '.join(FIXABLE)})")
    return rules


def _watched():
    from padlint.engine.select import select_rules
    return select_rules(list(WATCHED))


def _analysis(target, size, rules, config=None, train=False):
    """``(prep, trace, findings, size)`` of the one model ``target`` names."""
    from padlint.engine.noqa import Suppressor
    from padlint.ir.report import ModelResult, Report
    from padlint.engine.run import run_rules
    from padlint.stats.facts import open_model
    prep, _, _, size = open_model(target, size, train=train, what="padlint fix")
    trace = traced(prep, size)
    result = ModelResult(prep.candidate.target, trace, run_rules(trace, rules))
    Suppressor(config).apply(Report([result]))
    return prep, trace, result.findings, size


def _shapes(out):
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, dict):
        return {k: _shapes(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return tuple(_shapes(v) for v in out)
    return type(out).__name__


def _run_cpu(model, shape):
    model = model.to("cpu").eval()
    with torch.no_grad():
        return _shapes(model(torch.zeros(shape)))


def plan(target, input_size=None, size_policy: str = "input", select=None, ignore=None,
         severity=None, config=None, verify: bool = True) -> FixPlan:
    """The edits ``padlint fix`` makes for the one model ``target`` names, verified."""
    if size_policy not in POLICIES:
        raise PadlintError(f"--size-policy {size_policy}: use input or any")
    chosen = {r.code for r in _rules(select, ignore, severity)}
    rules = _rules(None, ignore, severity)       # verification watches every fixable rule
    prep, trace, every, size = _analysis(target, input_size, rules, config)
    findings = [f for f in every if f.rule in chosen]
    target_name = prep.candidate.target
    result = FixPlan(target_name, size)
    if not findings:
        return result
    merges = [f for f in findings if f.rule == "PAD107"]       # rewritten at the interpolation
    sites, unplaced = _sites([f for f in findings if f.rule != "PAD107"], trace.layers)
    for f in unplaced:
        result.not_fixed.append(NotFixed(Site(f"{f.layer}", [f], []),
                                         f"{NOT_LITERAL} (no construction site known)"))
    files: dict = {}
    for site in sites:
        path = os.path.abspath(site.source.path)
        if not _under_cwd(path):
            result.not_fixed.append(NotFixed(site, OUTSIDE))
            continue
        file = _open(files, path)
        if isinstance(file, str):
            result.not_fixed.append(NotFixed(site, file))
            continue
        node = file.call_at(site.source)
        if node is None or not site.layers:
            result.not_fixed.append(NotFixed(site, NOT_LITERAL))
            continue
        call = _read_call(file, node, site.layers[0].op)
        if isinstance(call, str):
            result.not_fixed.append(NotFixed(site, call))
            continue
        if len({layer.op for layer in site.layers}) != 1:
            result.not_fixed.append(NotFixed(site, f"{NO_REWRITE} (the call builds different ops)"))
            continue
        rewritten = _rewrite(site, call, size_policy)
        if isinstance(rewritten, str):
            result.not_fixed.append(NotFixed(site, rewritten))
            continue
        new, what, note = rewritten
        start, end = file.offsets.span(node)
        result.originals.setdefault(path, file.text)
        result.edits.append(Edit(site, path, start, end, file.text[start:end], new, what, note,
                                 tuple(layer.name for layer in site.layers)))
    _plan_corners(result, merges, trace, files)
    if result.edits and verify:
        _verify(result, prep, trace, every, rules, target, size, config)
    return result


def _open(files: dict, path: str):
    """The parsed file at ``path`` (read once per plan), or why it cannot be read."""
    if path not in files:
        try:
            files[path] = _File(path)
        except (OSError, SyntaxError, UnicodeDecodeError) as err:
            files[path] = f"{NOT_LITERAL} (cannot read {rel_path(path)}: {err})"
    return files[path]


# -- rewrite 4: align_corners=True -> False (PAD107) -----------------------------------

# where align_corners is passed positionally: F.interpolate(input, size, scale_factor,
# mode, align_corners, ...), nn.Upsample(size, scale_factor, mode, align_corners, ...)
_ALIGN_CORNERS_AT = {"interpolate": 4, "upsample": 4, "Upsample": 3}


def _corner_causes(findings, trace) -> tuple[dict, list]:
    """The PAD107 findings that ``align_corners=False`` would remove, by the interpolation
    call to rewrite ({source: (CornersCall, [finding, ...])}: a helper that interpolates
    for two merges is one call, edited once), and the others with the reason."""
    merges = {(m.name, m.axis): m for m in (trace.alignment.merges if trace.alignment else ())}
    calls, others = {}, []
    for f in findings:
        merge = merges.get((f.layer, f.axis))
        if merge is None or not merge.corners:
            others.append((f, f"{NO_REWRITE} (no align_corners=True interpolation puts these "
                              "cells apart)"))
        elif len(merge.without_corners()) > 1:
            names = " and ".join(c.name for c in merge.corners)
            others.append((f, f"{NO_REWRITE} (align_corners=False in {names} would not line the "
                              "cells up)"))
        else:
            for call in merge.corners:
                calls.setdefault(call.source or call.name, (call, []))[1].append(f)
    return calls, others


def _plan_corners(result: FixPlan, findings, trace, files: dict) -> None:
    """Rewrite 4: an edit per interpolation whose align_corners=True puts a merge's cells
    apart; every PAD107 finding it cannot fix is listed as not fixed."""
    calls, others = _corner_causes(findings, trace)
    merge_sites: dict = {}
    for f, reason in others:                    # one line per merge call and reason
        key = (f.layer, reason)
        if key not in merge_sites:
            merge_sites[key] = Site(f.source if f.source is not None else f.layer)
            result.not_fixed.append(NotFixed(merge_sites[key], reason))
        merge_sites[key].findings.append(f)
    for call, found in calls.values():
        site = Site(call.source if call.source is not None else call.name, found)
        path = os.path.abspath(call.source.path) if call.source is not None else None
        if path is None:
            result.not_fixed.append(NotFixed(site, f"{NOT_LITERAL} (no call site known for {call.name})"))
            continue
        if not _under_cwd(path):
            result.not_fixed.append(NotFixed(site, OUTSIDE))
            continue
        file = _open(files, path)
        node = file.call_at(call.source) if not isinstance(file, str) else None
        rewritten = file if isinstance(file, str) else (
            _align_corners_false(file, node) if node is not None else NOT_LITERAL)
        if isinstance(rewritten, str):
            result.not_fixed.append(NotFixed(site, rewritten))
            continue
        start, end = file.offsets.span(node)
        result.originals.setdefault(path, file.text)
        result.edits.append(Edit(site, path, start, end, file.text[start:end], *rewritten,
                                 tuple(dict.fromkeys(f.layer for f in found))))


def _resampler(file: _File, node: ast.Call) -> str | None:
    """'interpolate', 'upsample' or 'Upsample' when ``node`` calls torch.nn.functional's
    interpolate/upsample or torch.nn.Upsample under a name the file imports, else None."""
    name = _dotted(node.func)
    if name is None:
        return None
    head, _, op = name.rpartition(".")
    if not head:
        op = file.bare.get(name, "")
        return op if op in _ALIGN_CORNERS_AT else None
    functional = ({f"{n}.functional" for n in file.nn_names} | _functional_aliases(file.tree)
                  | {a for a, v in file.bare.items() if v == "functional"})
    if op in ("interpolate", "upsample") and head in functional:
        return op
    return op if op == "Upsample" and head in file.nn_names else None


def _functional_aliases(tree) -> set[str]:
    """Names bound by ``import torch.nn.functional as F``."""
    return {a.asname for node in ast.walk(tree) if isinstance(node, ast.Import)
            for a in node.names if a.name == "torch.nn.functional" and a.asname}


def _align_corners_false(file: _File, node: ast.Call) -> tuple | str:
    """``(new call text, what, note)`` with align_corners=False, or why the call cannot be
    rewritten."""
    kind = _resampler(file, node)
    if kind is None:
        return f"{NOT_LITERAL} of F.interpolate or nn.Upsample ({file.segment(node.func)}(...))"
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return f"{ARGS_NOT_LITERAL} (*args or **kwargs)"
    value = next((k.value for k in node.keywords if k.arg == "align_corners"), None)
    if value is None and len(node.args) > _ALIGN_CORNERS_AT[kind]:
        value = node.args[_ALIGN_CORNERS_AT[kind]]
    if value is None:
        return f"{NO_REWRITE} (the call passes no align_corners)"
    try:
        literal = ast.literal_eval(value)
    except ValueError:
        return f"{ARGS_NOT_LITERAL} (align_corners={file.segment(value)})"
    if literal is not True:
        return f"{NO_REWRITE} (align_corners={file.segment(value)})"
    start, end = file.offsets.span(node)
    at, stop = file.offsets.span(value)
    return file.text[start:at] + "False" + file.text[stop:end], "align_corners=False", ""


# -- verification --------------------------------------------------------------------

def _users_modules(texts: dict) -> Callable[[str, str | None], bool]:
    """Whether a module (name, file) is the user's own, to import afresh with the edits:
    an edited file, a model file padlint imported, or a file under the working directory
    that is not padlint's, an installed package's or the Python installation's (a venv or
    conda environment may live under the working directory too)."""
    cwd = os.path.realpath(os.getcwd()) + os.sep
    paths = sysconfig.get_paths()
    # the library folders, not sys.prefix: a project may live under /usr/local/src
    system = tuple({os.path.realpath(p) + os.sep for p in (
        os.path.dirname(os.path.realpath(padlint.__file__)),
        *(paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib"))) if p})

    def users(name: str, file: str | None) -> bool:
        if not file:
            return False
        real = os.path.realpath(file)
        return (os.path.abspath(file) in texts or name.rpartition(".")[2].startswith("padlint_user_")
                or (real.startswith(cwd) and not real.startswith(system)
                    and "site-packages" not in real))
    return users


@contextmanager
def _edited_sources(texts: dict):
    """Imports read ``texts`` (path -> source) in place of those files, and the modules of
    the working directory are imported afresh; everything is put back afterwards."""
    loader = importlib.machinery.SourceFileLoader
    original = loader.get_code
    users = _users_modules(texts)

    def get_code(self, fullname):
        path = os.path.abspath(self.get_filename(fullname))
        if path in texts:
            return compile(texts[path], path, "exec", dont_inherit=True)
        return original(self, fullname)

    def fresh(name, module) -> bool:
        return users(name, getattr(module, "__file__", None))

    saved = {name: m for name, m in list(sys.modules.items()) if fresh(name, m)}
    for name in saved:
        del sys.modules[name]
    before = set(sys.modules)
    loader.get_code = get_code
    try:
        yield
    finally:
        loader.get_code = original
        for name in set(sys.modules) - before:
            if fresh(name, sys.modules[name]):
                del sys.modules[name]
        sys.modules.update(saved)


def _check(plan_: FixPlan, edits, target, size, rules, config, expected_shape, before) -> str | None:
    """None when ``edits`` keep the output shape and remove their findings, else why not."""
    try:
        with _edited_sources(plan_.texts(edits)):
            codes = {r.code for r in rules}
            prep, _, findings, _ = _analysis(target, size, rules + [r for r in _watched()
                                                                    if r.code not in codes], config)
            shape = _run_cpu(prep.model, expected_shape[0])
    except PadlintError as err:
        return f"the edited model fails ({err})"
    except Exception as err:  # noqa: BLE001 - the user's model, edited
        return f"the edited model fails ({first_line(err, typed=True)})"
    if shape != expected_shape[1]:
        return f"the output shape changes ({_show(expected_shape[1])} -> {_show(shape)})"
    prefixes = [p for e in edits for p in e.prefixes]

    def fixed(name):
        return any(name == p or name.startswith(p + ".") for p in prefixes)
    left = [f for f in findings if fixed(f.layer)]
    if left:
        f = left[0]
        return f"{f.rule} still fires on {f.layer}{' ' + f.axis if f.axis else ''} after the rewrite"
    new = {(f.rule, f.layer, f.axis) for f in findings} - before
    if new:
        rule, layer, axis = sorted(new, key=str)[0]
        return f"the rewrite makes {rule} fire on {layer}{' ' + axis if axis else ''}"
    return None


def _show(shape) -> str:
    return "x".join(map(str, shape)) if isinstance(shape, tuple) and all(
        isinstance(v, int) for v in shape) else str(shape)


def _verify(result: FixPlan, prep, trace, findings, rules, target, size, config) -> None:
    shape = tuple(trace.input_shape)
    try:
        expected = (shape, _run_cpu(prep.model, shape))
    except Exception as err:  # noqa: BLE001
        for e in result.edits:
            result.not_fixed.append(NotFixed(e.site, f"cannot verify: the model does not run on "
                                             f"the CPU at {_show(shape)} ({type(err).__name__})"))
        result.edits = []
        return
    from padlint.engine.run import run_rules
    before = {(f.rule, f.layer, f.axis) for f in list(findings) + run_rules(trace, _watched())}
    why = _check(result, result.edits, target, size, rules, config, expected, before)
    if why is None:
        return
    kept = []
    for e in result.edits:
        why = _check(result, [e], target, size, rules, config, expected, before)
        if why is None:
            kept.append(e)
        else:
            result.not_fixed.append(NotFixed(e.site, f"verification failed: {why}"))
    if len(kept) > 1 and _check(result, kept, target, size, rules, config, expected, before):
        for e in kept:
            result.not_fixed.append(NotFixed(e.site, "verification failed: the edits work one at "
                                             "a time but not together"))
        kept = []
    result.edits = kept


# -- writing -------------------------------------------------------------------------

def apply(result: FixPlan) -> list[str]:
    """Write the edited files (a temp file each, then os.replace); one line per file."""
    lines = []
    for path, text in result.texts().items():
        folder = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(prefix=".padlint-fix-", suffix=".py", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            try:
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            except OSError:
                pass
            os.replace(tmp, path)
        except BaseException as err:          # Ctrl-C too: no temp file is left behind
            if os.path.exists(tmp):
                os.unlink(tmp)
            if isinstance(err, OSError):
                raise PadlintError(f"{rel_path(path)}: cannot write it ({err.strerror or err})") from None
            raise
        count = sum(1 for e in result.edits if e.path == path)
        lines.append(f"fixed {rel_path(path)}: {count} call{'s' if count != 1 else ''} rewritten")
    return lines


def edit_line(e: Edit) -> str:
    return f"fix: {e.site.label}: {e.what}" + (f"; note: {e.note}" if e.note else "")
