"""The torch-free core stays torch-free: importing every module of padlint.geometry and
padlint.ir, and padlint.config, loads no torch (a fresh interpreter, so that nothing
imported by other tests hides it)."""
from __future__ import annotations

import subprocess
import sys

CODE = """
import pkgutil, importlib, sys
import padlint.geometry, padlint.ir
names = [f"{pkg.__name__}.{m.name}" for pkg in (padlint.geometry, padlint.ir)
         for m in pkgutil.iter_modules(pkg.__path__)]
for name in names + ["padlint.config"]:
    importlib.import_module(name)
print(len(names) + 1, sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_the_core_imports_without_torch():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    count, loaded = done.stdout.split(" ", 1)
    assert int(count) >= 9                   # axis, coverage, lengths, measures; report, shapes, source, trace; config
    assert loaded.strip() == "[]"
