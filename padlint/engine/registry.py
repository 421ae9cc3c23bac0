"""Rule packs: found through the ``padlint.rules`` entry points, loaded pair by pair.

A pack is a package; each of its rules is a YAML file and a Python module side by side
in the package's folder, ``PAD105-even-kernel-shift.yaml`` beside ``even_kernel_shift.py``.
Modules whose name starts with ``_`` are the pack's shared helpers and are skipped. The
core rules are the pack ``padlint._rules`` (the repository's ``rules/``), registered in
``pyproject.toml`` like any plugin pack; there is no other way in.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.resources
import importlib.util
import re
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import yaml

from padlint.engine.rule import SCOPES, Rule
from padlint.errors import PadlintError
from padlint.ir.severity import SEVERITIES
from padlint.ir.source import display_path

GROUP = "padlint.rules"
CORE = "padlint._rules"
_CODE = re.compile(r"^[A-Z]+[0-9]+$")


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def pack_modules() -> list[ModuleType]:
    """The packages named by the ``padlint.rules`` entry points, the core first. The
    same value listed twice (an editable and a wheel install) counts once."""
    points: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=GROUP):
        points.setdefault(ep.value.strip(), ep)
    if CORE not in points:
        raise PadlintError(_no_core(points))
    packs = []
    for value in [CORE] + sorted(v for v in points if v != CORE):
        ep = points[value]
        try:
            pack = ep.load()
        except Exception as err:
            raise PadlintError(f"rule pack {ep.name!r} ({value}) failed to load: "
                               f"{_first_line(err)}") from err
        if not isinstance(pack, ModuleType) or not hasattr(pack, "__path__"):
            raise PadlintError(f"rule pack {ep.name!r} ({value}) is not a package: the entry "
                               "point must name the package whose folder holds the rule files")
        packs.append(pack)
    return packs


def _no_core(points: dict) -> str:
    """Why the core pack is missing: no entry point, or one from old metadata (such as a
    padlint.egg-info that an older install left in the working directory, which shadows
    the installed one)."""
    other = next((ep for ep in points.values() if ep.name == "core"), None)
    if other is None:
        return (f"the core rule pack is not registered (no {GROUP!r} entry point "
                f"'core = \"{CORE}\"'): reinstall padlint, e.g. `pip install -e .` in its source tree")
    where = getattr(other.dist, "_path", None) or "an installed distribution"   # no public name
    return (f"the core rule pack is not registered: {where} lists the {GROUP!r} entry point "
            f"core = {other.value!r}, not {CORE!r}: that metadata is out of date; delete it "
            "if it is a leftover egg-info, else reinstall padlint (`pip install -e .`)")


def load_pack(package: ModuleType) -> list[Rule]:
    """The rules of one pack: each ``<CODE>-<name>.yaml`` with the module ``<name>.py``
    (dashes as underscores) beside it, in file-name order."""
    return _load(package, importlib.resources.files(package))


def _load(package: ModuleType, folder) -> list[Rule]:
    files = {entry.name: entry for entry in folder.iterdir() if entry.is_file()}
    modules = {name[:-3] for name in files if name.endswith(".py") and not name.startswith("_")}
    rules, claimed = [], set()
    for name in sorted(n for n in files if n.endswith(".yaml")):
        where = _where(files[name])
        data = _read_yaml(files[name], where)
        module = _module_name(data, name, where)
        if module not in modules:
            raise PadlintError(f"{where}: no check: expected {_beside(where, module + '.py')} next "
                               "to it, defining check()")
        claimed.add(module)
        check = _import(package, module, _beside(where, module + ".py"))
        rules.append(_rule(data, str(files[name]), check))
    for module in sorted(modules - claimed):
        where = _where(files[module + ".py"])
        raise PadlintError(f"{where}: no rule file: expected "
                           f"{_beside(where, '<CODE>-' + module.replace('_', '-') + '.yaml')} next "
                           "to it, with the rule's code, name, severity, scope and message")
    collect([rules])                                     # a code written in two files
    return rules


def load_folder(folder: str | Path) -> list[Rule]:
    """The rules of a pack in a plain folder, as if a package: for tests and for trying a
    pack before it is installed."""
    folder = Path(folder).resolve()
    name = "padlint._pack_" + hashlib.sha1(str(folder).encode()).hexdigest()[:12]
    package = sys.modules.get(name)
    if package is None:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
    return _load(package, folder)


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every installed pack's rules by code, in code order; a code defined twice is an error."""
    return collect([load_pack(pack) for pack in pack_modules()])


def collect(packs: list[list[Rule]]) -> dict[str, Rule]:
    """The rules of several packs by code, in code order."""
    rules: dict[str, Rule] = {}
    for pack in packs:
        for rule in pack:
            if rule.code in rules:
                raise PadlintError(f"{display_path(rule.path)}: rule {rule.code} is defined twice: "
                                   f"also in {display_path(rules[rule.code].path)}")
            rules[rule.code] = rule
    return dict(sorted(rules.items()))


def _where(entry) -> str:
    return display_path(str(entry))


def _beside(where: str, name: str) -> str:
    folder = where.rpartition("/")[0]
    return f"{folder}/{name}" if folder else name


def _read_yaml(entry, where: str) -> dict:
    try:
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise PadlintError(f"{where}: not valid YAML: {_first_line(err)}") from None
    if not isinstance(data, dict):
        raise PadlintError(f"{where}: a rule file must be a mapping with code, name, severity, "
                           "scope, summary, ...")
    return data


def _module_name(data: dict, file_name: str, where: str) -> str:
    code, name = data.get("code"), data.get("name")
    if not isinstance(code, str) or not _CODE.match(code) or not isinstance(name, str) or not name:
        raise PadlintError(f"{where}: needs a code (like PAD105) and a name (like even-kernel-shift)")
    if file_name != f"{code}-{name}.yaml":
        raise PadlintError(f"{where}: the file name does not match its code and name: expected "
                           f"{code}-{name}.yaml")
    return name.replace("-", "_")


def _import(package: ModuleType, module: str, where: str) -> ModuleType:
    try:
        return importlib.import_module(f"{package.__name__}.{module}")
    except Exception as err:
        raise PadlintError(f"{where}: failed to import: {_first_line(err)}") from err


def _rule(data: dict, path: str, module: ModuleType) -> Rule:
    where = display_path(path)
    scope, severity = data.get("scope"), data.get("severity")
    if scope not in SCOPES:
        raise PadlintError(f"{where}: unknown scope {scope!r}: expected one of {', '.join(SCOPES)}")
    if severity not in SEVERITIES:
        raise PadlintError(f"{where}: unknown severity {severity!r}: expected one of "
                           f"{', '.join(SEVERITIES)}")
    check = getattr(module, "check", None)
    if not callable(check):
        raise PadlintError(f"{_display_module(module)}: no check function: define "
                           f"check() for the {scope} rule {data['code']} of {where}")
    vector = getattr(module, "vector", None) if scope == "axis" else None
    fix = data.get("fix", "")
    return Rule(data["code"], data["name"], data.get("title", ""), severity, data["summary"],
                fix if isinstance(fix, dict) else {"default": fix}, data.get("docs", {}),
                data.get("examples", {}), scope, check, path, vector,
                dict(data.get("params", {})), tuple(data.get("reads", ())))


def _display_module(module: ModuleType) -> str:
    return display_path(module.__file__) if module.__file__ else module.__name__
