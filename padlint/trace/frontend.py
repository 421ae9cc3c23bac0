"""Front end: model -> padlint IR (windowed ops with real shapes, in execution order).

1. ``torch.fx`` traces the model into a graph (windowed and pad modules are leaves).
2. The graph is interpreted on the meta device: real shapes, no data, so a 4096²
   input costs what a 224² one does.
3. If FX cannot trace the model, module hooks name the calls of a plain meta-device
   forward instead, and a note records why (PAD901).
4. If the forward cannot run on meta tensors either (data-dependent code), it runs for
   real on the CPU on a constant input, with the same hooks, and a note says so.

In every path one :class:`~padlint.trace.record.Recorder` (a ``TorchFunctionMode``) sees every
windowed call and explicit pad with its real arguments, so all give the same windowed ops.
"""
from __future__ import annotations

import os
import traceback
import warnings
from collections import Counter
from dataclasses import replace

import torch
import torch.fx
from torch import nn

import padlint
from padlint.errors import first_line
from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.receptive import Cells
from padlint.ir.source import Source, display_path
from padlint.ir.trace import Layer, Trace, TraceNote
from padlint.load.sites import caller_source, layer_source
from padlint.trace.alignment import AlignmentTracker
from padlint.trace.ops import PAD_MODULES, WINDOWED_MODULES, tensors_in
from padlint.trace.program import ProgramBuilder
from padlint.trace.record import SAME_SHAPE_MODULES, GeometryMismatch, InputTooSmall, Listener, Recorder, is_meta


class ForwardFailed(RuntimeError):
    """The forward failed on the meta device and again in a real CPU run."""

    input_shape: tuple[int, ...]      # set by trace.build.run_at: the input that failed

    def __init__(self, meta_error: BaseException, cpu_error: BaseException):
        super().__init__(f"on the meta device ({first_line(meta_error, typed=True)}) and on the CPU "
                         f"({first_line(cpu_error, typed=True)})")
        self.meta_error, self.cpu_error = meta_error, cpu_error


class _Tracer(torch.fx.Tracer):
    """FX tracer that keeps windowed and pad modules (and their subclasses, such as
    timm's ``Conv2dSame``) as leaves, and notes where functional calls are made."""

    def __init__(self, prefer_file: str | None):
        super().__init__()
        self.prefer = prefer_file

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, WINDOWED_MODULES + PAD_MODULES) or super().is_leaf_module(m, qualname)

    def create_proxy(self, kind, target, args, kwargs, *rest, **kw):
        proxy = super().create_proxy(kind, target, args, kwargs, *rest, **kw)
        if kind in ("call_function", "call_method"):     # windowed calls, merges, pools …
            proxy.node.meta["padlint_source"] = caller_source(self.prefer, depth=2)
        return proxy


class _Interpreter(torch.fx.Interpreter):
    def __init__(self, module, graph, recorder: Recorder):
        super().__init__(module, graph=graph)
        self.recorder = recorder
        self.current: torch.fx.Node | None = None

    def call_module(self, target, args, kwargs):
        module = self.submodules[target]
        if type(module) in SAME_SHAPE_MODULES and args and is_meta(args[0]):
            return self.recorder.same_shape(args[0])
        return super().call_module(target, args, kwargs)

    def run_node(self, n):
        # Interpreter.run_node minus its per-node traceback context, which costs more
        # than the meta ops themselves on a large graph.
        self.current = n
        self.recorder.node_name = n.name
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)


class _Runner(nn.Module):
    """Lets ``torch.func.functional_call`` swap in meta parameters around any callable."""

    def __init__(self, model: nn.Module, fn):
        super().__init__()
        self.model = model
        self._fn = fn

    def forward(self, x):
        return self._fn(self.model, x)


def _user_location(err: BaseException) -> Source | None:
    torch_dir = os.path.dirname(torch.__file__)
    here = os.path.dirname(padlint.__file__)
    for fs in reversed(traceback.extract_tb(err.__traceback__)):
        if not fs.filename.startswith((torch_dir, here, "<")):
            end_col = fs.end_colno + 1 if fs.end_colno is not None else None
            return Source(display_path(fs.filename), fs.lineno or 1, (fs.colno or 0) + 1,
                          fs.end_lineno or fs.lineno, end_col)
    return None


class FrontEnd:
    """Traces one model once and runs it on the meta device at any input shape."""

    def __init__(self, model: nn.Module, sites=None, prefer_file: str | None = None,
                 train: bool = False):
        self.model, self.sites, self.prefer, self.train = model, sites, prefer_file, train
        self.module_names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
        self._meta: dict | None = None
        self._sources: dict[str, Source | None] = {}
        self.graph: torch.fx.Graph | None = None
        self.notes: list[TraceNote] = []
        tracer = _Tracer(prefer_file)
        training = [(m, m.training) for m in model.modules()]
        model.train(train)          # trace the control flow of the mode that is analysed
        try:
            self.graph = tracer.trace(model)
        except Exception as err:  # noqa: BLE001 - any tracing failure means: use the fallback
            where = next(reversed(getattr(tracer, "module_stack", {}) or {}), "")
            self.notes.append(TraceNote(
                "fx-fallback", where or "",
                f"torch.fx could not trace {('module ' + repr(where)) if where else 'the model'}"
                f" ({first_line(err, typed=True)})", _user_location(err)))
        finally:
            for m, flag in training:
                m.training = flag

    # -- naming -------------------------------------------------------------------
    def _source(self, qualname: str) -> Source | None:
        if qualname not in self._sources:
            self._sources[qualname] = layer_source(self.model, qualname, self.sites)
        return self._sources[qualname]

    def _module_label(self, qualname: str, module: nn.Module, fname: str, used: set):
        if isinstance(module, WINDOWED_MODULES) and id(module) not in used:
            used.add(id(module))
            return qualname, type(module).__name__, self._source(qualname), module
        name = f"{qualname}.{fname}" if qualname else fname
        return name, f"F.{fname}", caller_source(self.prefer, depth=4) or self._source(qualname), None

    # -- running ------------------------------------------------------------------
    def _meta_state(self) -> dict:
        if self._meta is None:
            # Every name of a tied tensor is listed, so functional_call need not untie them.
            self._meta = {f"model.{k}": torch.empty_like(v, device="meta") for k, v in
                          list(self.model.named_parameters(remove_duplicate=False))
                          + list(self.model.named_buffers(remove_duplicate=False))}
        return self._meta

    def _input(self, shape) -> torch.Tensor:
        param = next(self.model.parameters(), None)
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        return torch.empty(tuple(shape), dtype=dtype, device="meta")

    def _run_fx(self, shape, program: bool = False, coverage: bool = False) -> tuple[list[Layer], object]:
        holder: dict = {}

        def where() -> str:
            node = holder["interp"].current
            if node.op == "call_module":
                return node.target
            stack = node.meta.get("nn_module_stack")
            owner = next(reversed(stack.values()))[0] if stack else ""
            return f"{owner}.{node.name}" if owner else node.name

        def label(fname):
            node = holder["interp"].current
            if node.op == "call_module":
                return self._module_label(node.target, self.model.get_submodule(node.target),
                                          fname, holder["used"].setdefault(node, set()))
            return node.name, f"F.{fname}", node.meta.get("padlint_source"), None

        def site(fname):
            node = holder["interp"].current
            if node.op == "call_module":
                module = self.model.get_submodule(node.target)
                if not list(module.children()):
                    return node.target, type(module).__name__, self._source(node.target)
            return where(), fname, node.meta.get("padlint_source")

        recorder = Recorder(label, _listeners(where, site, program, coverage))
        x = self._input(shape)
        _register(recorder, x, len(shape) - 2)

        def fn(model, x):
            holder["interp"], holder["used"] = _Interpreter(model, self.graph, recorder), {}
            return holder["interp"].run(x)

        state = self._meta_state()
        with torch.no_grad(), recorder:
            out = torch.func.functional_call(_Runner(self.model, fn), state, (x,), tie_weights=False)
        _outputs(recorder, out)
        return recorder.layers, _recorded(recorder)

    def _run_hooks(self, shape, device: str = "meta", program: bool = False,
                   coverage: bool = False) -> tuple[list[Layer], object]:
        stack: list[tuple[nn.Module, set]] = []

        def where() -> str:
            return self.module_names.get(id(stack[-1][0]), "") if stack else ""

        def label(fname):
            module, used = stack[-1] if stack else (self.model, set())
            return self._module_label(self.module_names.get(id(module), ""), module, fname, used)

        def site(fname):
            module = stack[-1][0] if stack else self.model
            qualname = self.module_names.get(id(module), "")
            if not list(module.children()) and module is not self.model:   # a leaf: its own line
                return qualname, type(module).__name__, self._source(qualname)
            return (f"{qualname}.{fname}" if qualname else fname), fname, caller_source(self.prefer)

        def pre(module, args):
            stack.append((module, set()))

        def post(module, args, out):
            stack.pop()

        recorder = Recorder(label, _listeners(where, site, program, coverage))
        handles = [nn.modules.module.register_module_forward_pre_hook(pre),
                   nn.modules.module.register_module_forward_hook(post)]
        try:
            if device == "meta":
                x = self._input(shape)
            else:           # a real forward on a constant input, for data-dependent code
                param = next(self.model.parameters(), None)
                x = torch.ones(tuple(shape), dtype=self._input(shape).dtype,
                               device=param.device if param is not None else "cpu")
            _register(recorder, x, len(shape) - 2)
            state = self._meta_state() if device == "meta" else {}     # only the meta run reads it
            with torch.no_grad(), recorder:
                if device == "meta":
                    out = torch.func.functional_call(_Runner(self.model, lambda m, x: m(x)),
                                                     state, (x,), tie_weights=False)
                else:
                    out = self.model(x)
            _outputs(recorder, out)
        finally:
            for h in handles:
                h.remove()
        return recorder.layers, _recorded(recorder)

    def _run(self, shape, allow_cpu: bool = True, program: bool = False, coverage: bool = False):
        notes = list(self.notes)
        if self.graph is not None:
            try:
                return (*self._run_fx(shape, program, coverage), "fx", notes)
            except (InputTooSmall, GeometryMismatch):
                raise
            except Exception as err:  # noqa: BLE001 - fall back to hooks, and say so
                notes.append(TraceNote("fx-fallback", "", "the FX graph failed on the meta device "
                                       f"({first_line(err, typed=True)})", _user_location(err)))
        try:
            return (*self._run_hooks(shape, program=program, coverage=coverage), "hooks", notes)
        except (InputTooSmall, GeometryMismatch):
            raise
        except Exception as err:  # noqa: BLE001 - data-dependent code: run it for real
            if not allow_cpu:
                raise
            meta_error = err
        try:
            layers, recorded = self._run_hooks(shape, device="cpu", program=program, coverage=coverage)
        except (InputTooSmall, GeometryMismatch):
            raise
        except Exception as cpu_error:
            raise ForwardFailed(meta_error, cpu_error) from cpu_error
        notes.append(TraceNote("fx-fallback", "", "the model does not run on the meta device "
                               f"({first_line(meta_error, typed=True)})", _user_location(meta_error)))
        return layers, recorded, "cpu", notes

    def run(self, shape, allow_cpu: bool = True, program: bool = False, coverage: bool = False) -> Trace:
        """The windowed layers at input ``shape``; with ``program``, the trace also carries
        the :class:`~padlint.geometry.lengths.LengthProgram` of this run, with ``coverage`` its
        alignment facts also follow coverage profiles (PAD108)."""
        training = [(m, m.training) for m in self.model.modules()]
        self.model.train(self.train)
        try:
            with warnings.catch_warnings():   # torch's own notes on 'same' padding etc.
                warnings.simplefilter("ignore", UserWarning)
                layers, recorded, method, notes = self._run(shape, allow_cpu, program, coverage)
        finally:
            for m, flag in training:
                m.training = flag
        lengths, alignment = recorded
        if alignment is not None:
            layers = [replace(layer, cells=_cells(layer, alignment.cells.get(i, ())))
                      for i, layer in enumerate(layers)]
        counts: Counter = Counter()
        named = []
        for layer in layers:
            counts[layer.name] += 1
            if counts[layer.name] > 1:
                layer = replace(layer, name=f"{layer.name}#{counts[layer.name]}")
            named.append(layer)
        if alignment is not None and alignment.failed:     # PAD901 says PAD106-PAD108 are partial
            notes = [*notes, TraceNote("facts", "", alignment.failed)]
        return Trace(tuple(named), method, tuple(shape), tuple(notes), lengths, alignment)


def _cells(layer: Layer, grids) -> tuple[Cells | None, ...]:
    """The layer's output cells per axis, from the alignment tracker's grids."""
    grids = list(grids)
    if len(grids) != len(layer.axes):
        return ()
    return tuple(None if g is None else Cells(f.axis, g.stride, g.offset, g.receptive)
                 for f, g in zip(layer.axes, grids))


def _listeners(where, site, program: bool, coverage: bool) -> list[Listener]:
    """The fact builders of one run: the length program when asked for, and the alignment
    tracker (with coverage profiles when asked for)."""
    return ([ProgramBuilder(where)] if program else []) + [AlignmentTracker(site, profiles=coverage)]


def _register(recorder: Recorder, x: torch.Tensor, nd: int) -> None:
    recorder.tell("register_input", x, nd)


def _outputs(recorder: Recorder, out) -> None:
    """The grids of the model's output tensors, in the alignment facts."""
    for tracker in recorder.listeners:
        if isinstance(tracker, AlignmentTracker):
            tracker.facts.outputs = [tuple(replace(g, profile=None) if g is not None else None
                                           for g in tracker.of(t)) for t in tensors_in(out)]


def _recorded(recorder: Recorder):
    """The length program (None when not asked for; unmodelled when its recording
    failed) and the alignment facts of one run (failed, when they did)."""
    listeners = recorder.listeners + recorder.dropped
    program = next((b.program for b in listeners if isinstance(b, ProgramBuilder)), None)
    alignment = next((a.facts for a in listeners if isinstance(a, AlignmentTracker)), None)
    return program, alignment


def smallest_working_size(front: FrontEnd, shape: tuple[int, ...], err: InputTooSmall,
                          limit: int = 1 << 16) -> tuple[int | None, list[int]]:
    """Smallest size for the failing axis, and for every spatial axis of the same size
    with it (H and W of a square input), at which no layer's output is empty on those
    axes. Output lengths never shrink as the input grows, so doubling then bisecting is
    exact."""
    spatial = list(shape[2:])
    names = AXIS_NAMES[len(spatial)]
    i = names.index(err.axis)
    axes = [a for a, n in enumerate(spatial) if n == spatial[i]]

    def works(m: int) -> bool:
        trial = list(shape)
        for a in axes:
            trial[2 + a] = m
        for _ in range(8):
            try:
                front.run(trial, allow_cpu=False)     # shapes only: no real forward per trial
            except InputTooSmall as other:
                a = names.index(other.axis)
                if a in axes:
                    return False
                trial[2 + a] *= 2                     # another axis is short: give it room
            except Exception:  # noqa: BLE001 - failing for another reason: not working
                return False
            else:
                return True
        return False

    lo, hi = spatial[i], spatial[i] * 2
    while not works(hi):
        lo, hi = hi, hi * 2
        if hi > limit:
            return None, axes
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if works(mid) else (mid, hi)
    return hi, axes
