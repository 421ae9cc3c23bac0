"""Every set of edits is verified before it is shown: the edited files are imported in place
of the originals, the model is built, run and analysed again."""
from __future__ import annotations

import importlib.machinery
import os
import sys
import sysconfig
from collections.abc import Callable
from contextlib import contextmanager

import torch

import padlint
from padlint.engine.noqa import Suppressor
from padlint.engine.run import run_rules
from padlint.engine.select import select_rules
from padlint.errors import PadlintError, first_line
from padlint.fix.edits import WATCHED, FixPlan, NotFixed
from padlint.ir.report import ModelResult, Report
from padlint.sizes.failures import traced
from padlint.stats.facts import open_model


def users_modules(texts: dict) -> Callable[[str, str | None], bool]:
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
    users = users_modules(texts)

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
    # Patching the stdlib's source loader on purpose (and putting it back): mypy does not
    # let one assign to a method.
    loader.get_code = get_code  # type: ignore[method-assign]
    try:
        yield
    finally:
        loader.get_code = original  # type: ignore[method-assign]
        for name in set(sys.modules) - before:
            if fresh(name, sys.modules[name]):
                del sys.modules[name]
        sys.modules.update(saved)


def _check(plan_: FixPlan, edits, target, size, rules, config, expected_shape, before) -> str | None:
    """None when ``edits`` keep the output shape and remove their findings, else why not."""
    try:
        with _edited_sources(plan_.texts(edits)):
            codes = {r.code for r in rules}
            prep, _, findings, _ = analysis(target, size, rules + [r for r in watched_rules()
                                                                    if r.code not in codes], config)
            shape = run_on_cpu(prep.model, expected_shape[0])
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


def verify_plan(result: FixPlan, prep, trace, findings, rules, target, size, config) -> None:
    shape = tuple(trace.input_shape)
    try:
        expected = (shape, run_on_cpu(prep.model, shape))
    except Exception as err:  # noqa: BLE001
        for e in result.edits:
            result.not_fixed.append(NotFixed(e.site, f"cannot verify: the model does not run on "
                                             f"the CPU at {_show(shape)} ({type(err).__name__})"))
        result.edits = []
        return
    before = {(f.rule, f.layer, f.axis) for f in list(findings) + run_rules(trace, watched_rules())}
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


def watched_rules():
    return select_rules(list(WATCHED))


def analysis(target, size, rules, config=None, train=False):
    """``(prep, trace, findings, size)`` of the one model ``target`` names."""
    prep, _, _, size = open_model(target, size, train=train, what="padlint fix")
    trace = traced(prep, size)
    result = ModelResult(prep.candidate.target, trace, run_rules(trace, rules))
    Suppressor(config).apply(Report([result]))
    return prep, trace, result.findings, size


def output_shapes(out):
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, dict):
        return {k: output_shapes(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return tuple(output_shapes(v) for v in out)
    return type(out).__name__


def run_on_cpu(model, shape):
    model = model.to("cpu").eval()
    with torch.no_grad():
        return output_shapes(model(torch.zeros(shape)))
