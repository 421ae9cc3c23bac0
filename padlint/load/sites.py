"""Where each layer was constructed: path:line:col in the user's code.

While padlint builds a model, :class:`SiteRecorder` wraps ``nn.Module.__init__``
and keeps, for every module created, the innermost frame in the linted file, else
the innermost frame outside torch and padlint. Layers built elsewhere fall back to
the definition line of the closest enclosing class that is not torch's.
"""
from __future__ import annotations

import ast
import inspect
import itertools
import os
import sys
import textwrap
import weakref
from collections.abc import Callable
from dataclasses import replace
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import padlint
from padlint.ir.source import Source, display_path

if TYPE_CHECKING:          # torch is imported where a model is built, not to read a Source
    from torch import nn


@lru_cache(maxsize=1)
def _skip_dirs() -> tuple[str, ...]:
    import torch  # lazy: imports torch, which this module must not
    return (os.path.dirname(torch.__file__) + os.sep,
            os.path.dirname(os.path.abspath(padlint.__file__)) + os.sep)


def _user_frame(frame, prefer: str | None):
    fallback = None
    while frame is not None:
        name = frame.f_code.co_filename
        if prefer is not None and name == prefer:
            return frame
        if fallback is None and not name.startswith(_skip_dirs()) and not name.startswith("<"):
            fallback = frame
            if prefer is None:
                return frame
        frame = frame.f_back
    return fallback


def frame_source(frame) -> Source:
    """The exact position of the call being executed in ``frame``."""
    code = frame.f_code
    return _position(code, code.co_filename, frame.f_lasti, frame.f_lineno, os.getcwd())


@lru_cache(maxsize=8192)
def _position(code, filename: str, lasti: int, lineno: int, cwd: str) -> Source:
    # a tracer asks for the same few call sites again and again: one walk of the code's
    # positions per site (per working directory, which the path is relative to). The
    # file is part of the key: code objects compare equal across files (the same class
    # in net.py and net2.py) without their co_filename.
    pos = next(itertools.islice(code.co_positions(), lasti // 2, None), None)
    line = pos[0] if pos and pos[0] else lineno
    col = pos[2] + 1 if pos and pos[2] is not None else 1
    end_line = pos[1] if pos and pos[1] else line
    end_col = pos[3] + 1 if pos and pos[3] is not None else None
    return Source(display_path(code.co_filename), line, col, end_line, end_col)


def _with_definition(source: Source, frame) -> Source:
    """``source`` with ``defined_at``: the innermost frame outside torch and padlint, when
    it lies in another file (the library code that built the layer for the user's call)."""
    inner = _user_frame(frame, None)
    if inner is None or os.path.abspath(inner.f_code.co_filename) == os.path.abspath(source.path):
        return source
    return replace(source, defined_at=frame_source(inner))


def caller_source(prefer: str | None = None, depth: int = 1) -> Source | None:
    frame = _user_frame(sys._getframe(depth), prefer)
    return frame_source(frame) if frame is not None else None


class SiteRecorder:
    """Context manager that records the construction site of every module built in it."""

    _active: list[SiteRecorder] = []
    _original_init: Callable[..., None] | None = None
    # Sites recorded while a user's file or module was imported: a model instance built at
    # import time (``padlint check net.py:model``) takes its layers' sites from here.
    imported: weakref.WeakKeyDictionary[nn.Module, Source] = weakref.WeakKeyDictionary()

    def __init__(self, prefer_file: str | None = None, importing: bool = False):
        self.prefer = os.path.abspath(prefer_file) if prefer_file else None
        self.importing = importing
        self.sites: weakref.WeakKeyDictionary[nn.Module, Source] = weakref.WeakKeyDictionary()

    def __enter__(self) -> SiteRecorder:
        from torch import nn  # lazy: imports torch, which this module must not
        if not SiteRecorder._active:
            original = nn.Module.__init__
            SiteRecorder._original_init = original

            def __init__(module, *args, **kwargs):
                original(module, *args, **kwargs)
                for rec in SiteRecorder._active:
                    if module not in rec.sites:
                        frame = _user_frame(sys._getframe(1), rec.prefer)
                        if frame is not None:
                            rec.sites[module] = _with_definition(frame_source(frame), sys._getframe(1))

            # Patching torch's constructor on purpose (__exit__ puts it back): the stubs type
            # __init__ as a method, which mypy does not let one assign.
            nn.Module.__init__ = __init__  # type: ignore[method-assign,assignment]
        SiteRecorder._active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        from torch import nn  # lazy: imports torch, which this module must not
        SiteRecorder._active.remove(self)
        if self.importing:
            SiteRecorder.imported.update(self.sites)
        if not SiteRecorder._active:
            # Torch's constructor back (see __enter__ for why mypy needs the ignore).
            nn.Module.__init__ = SiteRecorder._original_init  # type: ignore[method-assign,assignment]


@cache
def class_source(cls: type) -> Source | None:
    try:
        path = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None
    return Source(display_path(path), line, 1) if path else None


def _user_class(cls: type) -> bool:
    return not (cls.__module__ or "").startswith("torch.")


@cache
def init_calls(cls: type) -> dict[str, tuple[ast.Call, tuple]]:
    """``attr -> (call, where)`` for each ``self.attr = SomeCall(...)`` in the ``__init__`` of
    ``cls`` (or of the user base classes it inherits ``__init__`` from), where the
    attribute is assigned exactly once: how padlint places the layers of a model that
    was built before padlint could watch (an instance passed to ``analyze``)."""
    found: dict[str, list] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or not _user_class(klass):
            continue
        try:
            lines, start = inspect.getsourcelines(init)
            path = inspect.getsourcefile(init)
            tree = ast.parse(textwrap.dedent("".join(lines)))
        except (OSError, TypeError, SyntaxError):
            continue
        indent = len(lines[0]) - len(lines[0].lstrip())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            else:
                continue
            for target in targets:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "self" and isinstance(node.value, ast.Call)):
                    found.setdefault(target.attr, []).append((node.value, (path, start, indent)))
    return {attr: spans[0] for attr, spans in found.items() if len(spans) == 1}


def _node_source(node: ast.expr, path: str, start: int, indent: int) -> Source:
    return Source(display_path(path), start + node.lineno - 1, node.col_offset + indent + 1,
                  start + (node.end_lineno or node.lineno) - 1,
                  (node.end_col_offset or 0) + indent + 1)


def _static_source(model: nn.Module, parts: list[str]) -> Source | None:
    """The literal call that built ``model.<parts>``, read off the source of the closest
    user-class owner's ``__init__``: ``self.stem = nn.Conv2d(...)``, and through literal
    containers, ``self.features = nn.Sequential(nn.Conv2d(...), ...)`` for ``features.0``."""
    for i in range(len(parts) - 1, -1, -1):
        try:
            owner = model.get_submodule(".".join(parts[:i]))
        except AttributeError:
            continue
        if not _user_class(type(owner)):
            continue
        owner_class: type = type(owner)       # as `type`: torch's Module.__hash__ reads as unhashable
        entry = init_calls(owner_class).get(parts[i])
        if entry is None:
            return None
        call, where = entry
        for index in parts[i + 1:]:           # positions in a literal Sequential(...) call
            args = call.args
            if len(args) == 1 and isinstance(args[0], (ast.List, ast.Tuple)):
                args = args[0].elts               # ModuleList([...]), Sequential(*[...]) aside
            if (not index.isdigit() or any(isinstance(a, ast.Starred) for a in args)
                    or int(index) >= len(args)):
                return None
            arg = args[int(index)]
            if not isinstance(arg, ast.Call):
                return None
            call = arg
        return _node_source(call, *where)
    return None


def layer_source(model: nn.Module, qualname: str, sites) -> Source | None:
    """Construction site of a layer: recorded while padlint built the model, else read off
    the owner's ``__init__`` source, else the definition of its closest non-torch owner."""
    try:
        module = model.get_submodule(qualname) if qualname else model
    except AttributeError:
        module = None
    if module is not None and sites is not None and module in sites:
        return sites[module]
    parts = qualname.split(".") if qualname else []
    if parts:
        static = _static_source(model, parts)
        if static is not None:
            return static
    for i in range(len(parts), -1, -1):
        try:
            owner = model.get_submodule(".".join(parts[:i]))
        except AttributeError:
            continue
        cls: type = type(owner)               # as `type`: torch's Module.__hash__ reads as unhashable
        if _user_class(cls):
            src = class_source(cls)
            if src is not None:
                return src
    return None
