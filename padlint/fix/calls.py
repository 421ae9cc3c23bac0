"""Reading a layer's literal construction call and rewriting it (rewrites 1-3 of
:mod:`padlint.fix.plan`): a stride-2 transposed conv to kernel 4, a 1x1 stride-s shortcut to
an average pool and a 1x1 conv, an odd stride-2 kernel to k+1."""
from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass

import torch

from padlint.fix.edits import ANY_SIZE, ARGS_NOT_LITERAL, NO_REWRITE, NOT_LITERAL, Site
from padlint.fix.text import Offsets, read_text, rel_path
from padlint.geometry.axis import axis_facts, min_input_length, output_length, transposed_output_length

_CONV = tuple(f"Conv{n}d" for n in (1, 2, 3))


_TRANSPOSED = tuple(f"ConvTranspose{n}d" for n in (1, 2, 3))


_POOLS = tuple(f"{kind}Pool{n}d" for kind in ("Max", "Avg") for n in (1, 2, 3))


OPS = _CONV + _TRANSPOSED + _POOLS


_GEOMETRY = ("kernel_size", "stride", "padding", "dilation", "output_padding", "ceil_mode")


class ParsedFile:
    def __init__(self, path: str):
        self.path = path
        self.text = read_text(path)
        self.tree = ast.parse(self.text)
        self.offsets = Offsets(self.text)
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


def dotted_name(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted_name(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


@dataclass
class Call:
    """A literal call of a torch.nn conv or pool with its arguments bound to names."""

    file: ParsedFile
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


def read_call(file: ParsedFile, node: ast.Call, layer_op: str) -> Call | str:
    """The bound call, or the reason it cannot be rewritten."""
    name = dotted_name(node.func)
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
    prefix: str | None
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
    args: dict[str, tuple[ast.expr, ast.AST]] = {}
    positional = []
    for p, a in zip(params, node.args):
        args[p.name] = (a, a)
        positional.append(p.name)
    for k in node.keywords:
        assert k.arg is not None                  # **kwargs was turned down above
        args[k.arg] = (k.value, k)
    values = {}
    for key in _GEOMETRY:
        if key in args:
            try:
                values[key] = ast.literal_eval(args[key][0])
            except ValueError:
                return f"{ARGS_NOT_LITERAL} ({key}={file.segment(args[key][0])})"
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    return Call(file, node, op, prefix, args, positional, values, defaults)


def _literal(values: tuple):
    return values[0] if len(set(values)) == 1 else tuple(values)


class _Rewriter:
    """Argument-level edits of one call, kept as (start, end, text) in the call's text."""

    def __init__(self, call: Call):
        self.call = call
        self.base, self.stop = call.file.offsets.span(call.node)
        self.edits: list[tuple[int, int, str]] = []
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


def _axes(site: Site) -> list[str]:
    return list(dict.fromkeys(f.axis for f in site.findings if f.axis))


def _transposed(site: Site, call: Call) -> tuple | str:
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


def _shortcut(site: Site, call: Call) -> tuple | str:
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


def _odd_kernel(site: Site, call: Call, policy: str) -> tuple | str:
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


def rewrite(site: Site, call: Call, policy: str) -> tuple | str:
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


def open_file(files: dict, path: str):
    """The parsed file at ``path`` (read once per plan), or why it cannot be read."""
    if path not in files:
        try:
            files[path] = ParsedFile(path)
        except (OSError, SyntaxError, UnicodeDecodeError) as err:
            files[path] = f"{NOT_LITERAL} (cannot read {rel_path(path)}: {err})"
    return files[path]
