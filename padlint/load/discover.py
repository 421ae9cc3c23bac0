"""Which files to lint, decided without importing torch.

A folder contributes its ``.py`` files. A file can only give padlint a model if it
defines a class with a base class (an ``nn.Module`` subclass, perhaps through a base
of the user's) or declares ``PADLINT_TARGETS``: :func:`may_define_model` reads that off
the file's syntax tree, so that the pre-commit hook passes over a changed script or
utility module in milliseconds instead of importing torch and the file.
"""
from __future__ import annotations

import ast
import os

SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}
# Bases that never make an nn.Module: a class with only these is not a model.
_NOT_MODULE_BASES = {"object", "Exception", "BaseException", "Enum", "IntEnum", "StrEnum", "Flag",
                     "IntFlag", "NamedTuple", "TypedDict", "Protocol", "ABC", "Dataset",
                     "IterableDataset", "Sampler", "TestCase", "dict", "list", "tuple", "str",
                     "int", "float", "set"}


def python_files(folder: str) -> list[str]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".py")]
    return files


def no_model_in_folder(folder: str) -> str:
    return (f"{folder}: no model found in its .py files; define an nn.Module subclass that "
            "builds with no arguments, or list models in PADLINT_TARGETS")


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Subscript):          # Generic[T]
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""                                    # a call or anything else: cannot tell


def _never_module(name: str) -> bool:
    return name in _NOT_MODULE_BASES or name.endswith(("Error", "Exception", "Warning", "Enum"))


def _top_level(body):
    """Statements at module level, including those inside if/try/with blocks."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            yield from _top_level(node.body)
            yield from _top_level(getattr(node, "orelse", []))
            yield from _top_level(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def may_define_model(path: str) -> bool:
    """False when the file surely gives padlint no model; True when it may (or when the
    file cannot be read or parsed: importing it reports the problem)."""
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return True
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef):
            names = [_base_name(b) for b in node.bases]
            if any(not _never_module(n) for n in names) or node.keywords:
                return True
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "PADLINT_TARGETS" for t in targets):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                a.name == "PADLINT_TARGETS" or a.asname == "PADLINT_TARGETS" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return True                              # star import: may bring PADLINT_TARGETS
    return _assigns_globals(tree)


def _assigns_globals(tree: ast.Module) -> bool:
    """``globals()[...] = ``, ``setattr(sys.modules[...])``, ``exec``: cannot tell, so yes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("globals", "exec", "type"):
            if node.func.id != "type" or len(node.args) == 3:
                return True
    return False


def building_blocks(source: str, names: list[str]) -> set[str]:
    """Those of the classes ``names`` whose name the file uses outside their own class
    body (``self.layer1 = BasicBlock(...)``, ``_make_layer(Bottleneck, …)``): building
    blocks of another model, analysed inside it. Torch-free: it reads the syntax tree."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    wanted, used = set(names), set()

    def visit(node, inside: str | None) -> None:
        if isinstance(node, ast.ClassDef) and node.name in wanted:
            inside = node.name
        elif isinstance(node, ast.Name) and node.id in wanted and node.id != inside:
            used.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, None)
    return used
