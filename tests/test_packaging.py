"""The wheel holds every subpackage: pyproject.toml lists them by hand, so a new one must be added there."""

from __future__ import annotations

import tomllib

from paths import ROOT


def test_every_padlint_subpackage_is_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "padlint").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    missing = sorted(on_disk - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert {"padlint._rules", "padlint._plugins"} <= listed
