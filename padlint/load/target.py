"""Targets -> models: files, folders and ``module:attr`` specs.

A file contributes every ``nn.Module`` subclass it defines that builds with no
arguments, plus whatever it lists in ``PADLINT_TARGETS``. Every model is built under
a :class:`~padlint.load.sites.SiteRecorder`, so layers know the line that made them.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from padlint.errors import PadlintError
from padlint.ir.shapes import normalize_sizes
from padlint.ir.source import display_path
from padlint.load.discover import building_blocks, may_define_model, no_model_in_folder, python_files
from padlint.load.sites import SiteRecorder

DEFAULT_SIZE = 224        # the input size when neither the user nor PADLINT_TARGETS gives one


@dataclass
class Candidate:
    """One model to lint: how to build it, and what it was called."""

    target: str                                  # 'examples/resnet.py:TinyResNet'
    build: Callable[[], nn.Module]
    file: str | None = None                      # the linted file: construction sites prefer it
    input_sizes: list[tuple[int, ...]] | None = None   # from PADLINT_TARGETS
    sites: Any = field(default=None, repr=False)

    def sizes(self, asked: list[tuple[int, ...]] | None = None) -> list[tuple[int, ...]]:
        """The input sizes to analyse: those asked for, else PADLINT_TARGETS', else 224."""
        return asked or self.input_sizes or [(DEFAULT_SIZE,)]

    def instantiate(self) -> nn.Module:
        """Build the model, recording construction sites, with the CPU RNG seeded (so a model
        built with random weights is the same on every run). Errors name the model."""
        recorder = SiteRecorder(self.file)
        try:
            with recorder, _seeded():
                model = self.build()
        except PadlintError:
            raise
        except (Exception, SystemExit) as err:
            raise PadlintError(f"{self.target}: building the model raised "
                               f"{type(err).__name__}: {_one_line(err)}; fix it, or run with --debug "
                               "for the traceback") from err
        if isinstance(model, torch.jit.ScriptModule):
            raise PadlintError(f"{self.target}: is a TorchScript module, which padlint cannot trace; "
                               "lint the eager nn.Module it was scripted from")
        if not isinstance(model, nn.Module):
            raise PadlintError(f"{self.target}: expected an nn.Module, got {type(model).__name__}; "
                               "point padlint at a model class, instance or a function returning one")
        quantized = next((type(m).__name__ for m in model.modules()
                          if type(m).__module__.startswith("torch.ao.nn.quantized")), None)
        if quantized:
            raise PadlintError(f"{self.target}: is quantized ({quantized}); padlint analyses float "
                               "models: lint the model before quantization")
        self.sites = recorder.sites
        for module in model.modules():               # an instance built when its file was imported
            if module not in self.sites and module in SiteRecorder.imported:
                self.sites[module] = SiteRecorder.imported[module]
        return model


@dataclass
class Loaded:
    candidates: list[Candidate]
    skipped: list[str]                           # one line each, for stderr
    errors: list[tuple[str, str]]                # (target, message) of files that failed


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


@contextmanager
def _seeded():
    """The CPU RNG seeded at 0 while a user's file is imported or a model is built, so random
    initial weights are the same on every run; the caller's RNG state is put back."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        yield


def import_file(path: str):
    """Import a Python file as a fresh module; its folder is importable meanwhile."""
    path = os.path.abspath(path)
    shown = display_path(path)
    digest = hashlib.sha1(path.encode()).hexdigest()[:8]
    name = f"padlint_user_{digest}_{os.path.splitext(os.path.basename(path))[0]}"
    package, root = _package_of(path)
    if package:                        # a file inside a package: its relative imports work
        name = f"{package}.{name}"     # (__spec__.parent names the package, as __package__ must)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PadlintError(f"{shown}: cannot import this file; is it a Python (.py) file?")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    roots = [os.path.dirname(path)] + ([root] if package else [])
    for folder in roots:
        sys.path.insert(0, folder)
    try:
        with SiteRecorder(path, importing=True), _seeded():
            spec.loader.exec_module(module)
    except SystemExit as err:
        sys.modules.pop(name, None)
        raise PadlintError(f"{shown}: calls sys.exit({err.code!r}) when imported; put script code "
                           "under `if __name__ == \"__main__\":`") from None
    except SyntaxError as err:
        sys.modules.pop(name, None)
        raise PadlintError(f"{shown}:{err.lineno or 1}: syntax error: {err.msg}; "
                           "fix the file and run padlint again") from err
    except Exception as err:
        sys.modules.pop(name, None)
        raise PadlintError(f"{shown}: importing it raised {type(err).__name__}: {_one_line(err)}; "
                           f"fix the error (python {shown} shows it) or run with --debug") from err
    finally:
        for folder in roots:
            sys.path.remove(folder)
    return module


def _package_of(path: str) -> tuple[str, str]:
    """The dotted package a .py file sits in (folders with ``__init__.py`` above it) and
    the folder that holds the top package; ``("", "")`` outside any package."""
    folder = os.path.dirname(os.path.abspath(path))
    parts: list[str] = []
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, part = os.path.split(folder)
        if not part.isidentifier():
            return "", ""
        parts.insert(0, part)
    return ".".join(parts), folder


def _required_params(cls: type) -> list[str]:
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


# Factory arguments that would load weights from a hub, and the value that does not.
# padlint needs no weights, and must never download any.
NO_WEIGHTS = {"weights": None, "weights_backbone": None, "pretrained": False,
              "pretrained_backbone": False}


def without_weights(factory: Callable) -> Callable:
    """``factory`` called with ``weights=None`` (etc.) where it takes such an argument."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return factory
    kwargs = {k: v for k, v in NO_WEIGHTS.items() if k in params}
    return (lambda: factory(**kwargs)) if kwargs else factory


def _from_callable(obj, target: str, file: str | None, sizes=None) -> Candidate:
    if isinstance(obj, nn.Module):
        return Candidate(target, lambda: obj, file, sizes)
    if callable(obj):
        return Candidate(target, without_weights(obj), file, sizes)
    raise PadlintError(f"{target}: is a {type(obj).__name__}, not an nn.Module class, instance "
                       "or a function that returns one")


def candidates_in_module(module, file: str) -> tuple[list[Candidate], list[str]]:
    shown = display_path(file)
    found, declared, needs = [], set(), {}
    targets = getattr(module, "PADLINT_TARGETS", None)
    if targets is not None:
        if not isinstance(targets, (list, tuple)):
            raise PadlintError(f"{shown}: PADLINT_TARGETS must be a list of callables or "
                               "(callable, input_size) pairs")
        for i, entry in enumerate(targets):
            sizes = None
            if isinstance(entry, tuple) and len(entry) == 2 and not isinstance(entry[0], int):
                entry, size = entry
                try:
                    sizes = normalize_sizes(size)
                except PadlintError as err:
                    raise PadlintError(f"{shown}: PADLINT_TARGETS[{i}]: {err}") from None
            declared.add(id(entry))
            label = getattr(entry, "__name__", None)
            if not label or label == "<lambda>":
                # A factory such as ``lambda: TinyVGG(width=8)`` declares the classes it names.
                named = [vars(module).get(n) for n in getattr(getattr(entry, "__code__", None),
                                                               "co_names", ())]
                named = [c for c in named if inspect.isclass(c) and issubclass(c, nn.Module)]
                declared.update(id(c) for c in named)
                label = named[0].__name__ if len(named) == 1 else f"PADLINT_TARGETS[{i}]"
            found.append(_from_callable(entry, f"{shown}:{label}", file, sizes))
    for name, obj in vars(module).items():
        if not (inspect.isclass(obj) and issubclass(obj, nn.Module)
                and obj.__module__ == module.__name__) or id(obj) in declared:
            continue
        if inspect.isabstract(obj) or name.startswith("_"):
            continue
        required = _required_params(obj)
        if required:
            needs[name] = required
            continue
        found.append(Candidate(f"{shown}:{name}", obj, file))
    return found, _skipped_lines(shown, file, needs, bool(found or targets))


def _skipped_lines(shown: str, file: str, needs: dict[str, list[str]], has_models: bool) -> list[str]:
    """One stderr note per class skipped for its arguments, except the building blocks
    that the file's models use (analysed inside them): those share one short line."""
    blocks: set[str] = set()
    if has_models and needs:
        try:
            with open(file, encoding="utf-8") as fh:
                blocks = building_blocks(fh.read(), list(needs))
        except OSError:
            pass
    lines = [f"{shown}:{name}: skipped, its __init__ needs {', '.join(required)}; "
             f"to lint it, add PADLINT_TARGETS = [(lambda: {name}(...), 224)] to the file"
             for name, required in needs.items() if name not in blocks]
    if blocks:
        names = [n for n in needs if n in blocks]
        lines.append(f"{shown}: {', '.join(names)} " + (
            "needs arguments; it is analysed inside the models that use it" if len(names) == 1
            else "need arguments; they are analysed inside the models that use them"))
    return lines


def _getattr_path(obj, attr: str, target: str):
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PadlintError(f"{target}: {part!r} not found; check the name after ':'") from None
    return obj


def load_target(target: str) -> Loaded:
    """Resolve one target string. A target that names nothing raises PadlintError."""
    if os.path.isdir(target):
        found, skipped, errors = [], [], []
        for path in filter(may_define_model, python_files(target)):
            try:
                c, s = candidates_in_module(import_file(path), path)
            except PadlintError as err:
                errors.append((display_path(path), str(err)))
                continue
            found += c
            skipped += s
        if not found and not errors:
            raise PadlintError(no_model_in_folder(target))
        return Loaded(found, skipped, errors)
    if os.path.isfile(target):
        found, skipped = candidates_in_module(import_file(target), target)
        if not found:
            why = " (every nn.Module class in it needs arguments)" if skipped else ""
            none = PadlintError(f"{display_path(target)}: no model found{why}; define an nn.Module "
                                "subclass that builds with no arguments, or list models in PADLINT_TARGETS")
            none.skipped = skipped
            raise none
        return Loaded(found, skipped, [])
    if ":" in target:
        left, attr = target.rsplit(":", 1)
        file: str | None
        if left.endswith(".py"):
            if not os.path.isfile(left):
                raise PadlintError(f"{target}: file {left} does not exist")
            module, file = import_file(left), os.path.abspath(left)
        else:
            here = os.getcwd()
            added = here not in sys.path and "" not in sys.path   # as `python -m` does
            if added:
                sys.path.insert(0, here)
            try:
                with SiteRecorder(importing=True), _seeded():
                    module = importlib.import_module(left)
            except ModuleNotFoundError as err:
                raise PadlintError(f"{target}: cannot import module {left!r} ({err}); "
                                   "check the spelling, or install it") from None
            except Exception as err:
                raise PadlintError(f"{target}: importing {left!r} raised {type(err).__name__}: "
                                   f"{_one_line(err)}") from err
            finally:
                if added:
                    sys.path.remove(here)
            file = getattr(module, "__file__", None)
        obj = _getattr_path(module, attr, target)
        return Loaded([_from_callable(obj, target, file)], [], [])
    if target.endswith(".py"):
        raise PadlintError(f"{target}: no such file")
    raise PadlintError(f"{target}: not a file, a folder or a module:attr spec "
                       "(e.g. torchvision.models:resnet50)")


def candidates_of(model_or_target) -> tuple[list[Candidate], list[str], list[tuple[str, str]]]:
    """The candidates a model, class, factory or target names: ``(candidates, skipped, errors)``."""
    if isinstance(model_or_target, (str, os.PathLike)):
        loaded = load_target(os.fspath(model_or_target))
        return loaded.candidates, loaded.skipped, loaded.errors
    if isinstance(model_or_target, nn.Module):
        return [Candidate(type(model_or_target).__name__, lambda: model_or_target)], [], []
    if callable(model_or_target):
        name = getattr(model_or_target, "__name__", type(model_or_target).__name__)
        return [Candidate(name, model_or_target)], [], []
    raise PadlintError(f"cannot analyze a {type(model_or_target).__name__}: pass an nn.Module, "
                       "a model class or factory, a file, a folder or a module:attr spec")


def one_model(model_or_target, what: str = "a sweep") -> Candidate:
    """The one model ``model_or_target`` names (PadlintError for none or several)."""
    candidates, _, errors = candidates_of(model_or_target)
    if errors:
        raise PadlintError(errors[0][1])
    if len(candidates) != 1:
        names = ", ".join(c.target for c in candidates)
        raise PadlintError(f"{model_or_target}: defines {len(candidates)} models ({names}); "
                           f"{what} takes one: name it as path.py:Name")
    return candidates[0]
