"""``[tool.padlint]`` in pyproject.toml: found by searching upwards, as ruff does.

The closest ``pyproject.toml`` that has a ``[tool.padlint]`` table is the project's
configuration, and its folder is the project root (paths in ``per-file-ignores`` and
``exclude`` are relative to it, and so are SARIF locations). Every key is checked:
an unknown key, a wrong type or an unknown rule code is a :class:`PadlintError`
naming the file and the key. Nothing here imports torch.
"""
from __future__ import annotations

import difflib
import fnmatch
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from padlint.engine.registry import all_rules
from padlint.errors import PadlintError
from padlint.ir.severity import SEVERITIES, WORST_FIRST
from padlint.ir.shapes import HELP, normalize_sizes
from padlint.verification.choices import BASELINES, DEVICES

FAIL_ON = WORST_FIRST + ("never",)
KEYS = ("input-size", "select", "ignore", "extend-select", "per-file-ignores", "fail-on",
        "severity", "targets", "exclude", "verify")
VERIFY_KEYS = ("enabled", "device", "baselines", "images")


@dataclass
class Config:
    """The settings of one project; ``path`` is None when no file configures padlint."""

    root: str
    path: str | None = None
    input_size: list[tuple[int, ...]] | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    fail_on: str = "warning"
    severity: dict[str, str] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    verify: dict[str, Any] = field(default_factory=dict)

    @property
    def rule_select(self) -> list[str] | None:
        """``select`` plus ``extend-select`` (None: every rule)."""
        return None if self.select is None else self.select + self.extend_select

    def relative(self, path: str) -> str:
        """``path`` relative to the project root, with forward slashes ('' outside it)."""
        return relative_to(self.root, path) or ""

    def matches(self, path: str, pattern: str) -> bool:
        """Does a ``per-file-ignores``/``exclude`` pattern match ``path`` (in the project)?"""
        rel = self.relative(path)
        return bool(rel) and _glob_match(rel, pattern)

    def excluded(self, path: str) -> bool:
        return any(self.matches(path, p) for p in self.exclude)


def relative_to(root: str, path: str) -> str | None:
    """``path`` relative to ``root`` with forward slashes, or None when it is outside."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def _glob_match(rel: str, pattern: str) -> bool:
    """ruff-like: a pattern matches the path, or any of its parent folders, or its name."""
    pattern = pattern.rstrip("/")
    parts = rel.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    if "/" not in pattern:
        candidates += parts
    return any(fnmatch.fnmatchcase(c, pattern) for c in candidates)


def find_pyproject(start: str) -> str | None:
    """The closest pyproject.toml at or above ``start`` that has ``[tool.padlint]``."""
    folder = os.path.abspath(start)
    if os.path.isfile(folder):
        folder = os.path.dirname(folder)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate) and "padlint" in _read(candidate).get("tool", {}):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise PadlintError(f"{path}: is not valid TOML ({err}); fix the file") from None
    except OSError as err:
        raise PadlintError(f"{path}: cannot be read ({err.strerror})") from None


def load_config(start: str | None = None, path: str | None = None) -> Config:
    """The configuration for a run started in ``start`` (default: the working directory),
    or read from ``path`` when given (``--config``)."""
    if path is not None:
        if not os.path.isfile(path):
            raise PadlintError(f"--config {path}: no such file")
        table = _read(path).get("tool", {}).get("padlint")
        if table is None:
            raise PadlintError(f"{path}: has no [tool.padlint] table")
    else:
        path = find_pyproject(start or os.getcwd())
        if path is None:
            return Config(root=os.path.abspath(start or os.getcwd()))
        table = _read(path)["tool"]["padlint"]
    return parse_table(table, path)


def parse_table(table: dict[str, Any], path: str) -> Config:
    """Check every key of a ``[tool.padlint]`` table and build its :class:`Config`."""
    if not isinstance(table, dict):
        raise PadlintError(f"{path}: [tool.padlint] must be a table")
    where = f"{path}: [tool.padlint]"
    config = Config(root=os.path.dirname(os.path.abspath(path)), path=path)
    for key, value in table.items():
        if key not in KEYS:
            hint = _near(key, KEYS)
            raise PadlintError(f"{where} unknown key {key!r}{hint}; the keys are {', '.join(KEYS)}")
        name = key.replace("-", "_")
        if key == "input-size":
            config.input_size = _sizes(value, where)
        elif key in ("select", "ignore", "extend-select"):
            setattr(config, name, _codes(value, f"{where} {key}"))
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise PadlintError(f"{where} per-file-ignores must be a table of "
                                   f'"glob" = ["CODE", ...], got {_kind(value)}')
            config.per_file_ignores = {pattern: _codes(codes, f"{where} per-file-ignores {pattern!r}")
                                       for pattern, codes in value.items()}
        elif key == "fail-on":
            config.fail_on = _choice(value, FAIL_ON, f"{where} fail-on")
        elif key == "severity":
            if not isinstance(value, dict):
                raise PadlintError(f"{where} severity must be a table of CODE = \"warning\", "
                                   f"got {_kind(value)}")
            for code, level in value.items():
                _check_codes([code], f"{where}.severity", exact=True)
                config.severity[code.strip().upper()] = _choice(level, SEVERITIES, f"{where}.severity {code}")
        elif key in ("targets", "exclude"):
            setattr(config, name, _strings(value, f"{where} {key}"))
        elif key == "verify":
            config.verify = _verify(value, f"{where}.verify" if isinstance(value, dict) else
                                    f"{where} verify")
    return config


def _kind(value: object) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _near(key: str, keys: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, keys, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PadlintError(f"{where} must be a list of strings, got {_kind(value)}")
    return list(value)


def _codes(value: object, where: str) -> list[str]:
    codes = [c.strip().upper() for c in _strings(value, where)]
    _check_codes(codes, where)
    return codes


def _check_codes(codes: Iterable[str], where: str, exact: bool = False) -> None:
    known = all_rules()
    for code in codes:
        c = code.strip().upper()
        ok = c in known if exact else (c == "ALL" or any(k.startswith(c) for k in known)) and c
        if not ok:
            raise PadlintError(f"{where}: unknown rule code {code!r}; `padlint rules` lists them")


def _choice(value: object, choices: tuple[str, ...], where: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise PadlintError(f"{where} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _sizes(value: object, where: str) -> list[tuple[int, ...]]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in items):
        raise PadlintError(f"{where} input-size must be a size or a list of sizes "
                           f"(224, \"224x320\", \"3x224x224\"), got {value!r}")
    try:
        return [s for item in items for s in normalize_sizes(item)]
    except PadlintError:
        raise PadlintError(f"{where} input-size {value!r} is not a valid size: {HELP}") from None


def _verify(value: object, where: str) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"enabled": value}
    if not isinstance(value, dict):
        raise PadlintError(f"{where} must be true, false or a table with the keys "
                           f"{', '.join(VERIFY_KEYS)}, got {_kind(value)}")
    verify = {}
    for key, item in value.items():
        if key not in VERIFY_KEYS:
            raise PadlintError(f"{where} unknown key {key!r}{_near(key, VERIFY_KEYS)}; "
                               f"the keys are {', '.join(VERIFY_KEYS)}")
        if key == "enabled" and not isinstance(item, bool):
            raise PadlintError(f"{where} enabled must be true or false, got {item!r}")
        if key == "device":
            _choice(item, DEVICES, f"{where} device")
        if key == "baselines":
            for b in _strings(item, f"{where} baselines"):
                _choice(b, BASELINES, f"{where} baselines")
        if key == "images" and not isinstance(item, str):
            raise PadlintError(f"{where} images must be a path, got {_kind(item)}")
        verify[key] = item
    return verify
