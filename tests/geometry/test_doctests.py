"""The docstring examples of padlint/geometry/ run, and every public function has one."""
from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

MODULES = ["padlint.geometry.axis", "padlint.geometry.coverage", "padlint.geometry.lengths",
           "padlint.geometry.measures", "padlint.geometry.words"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_every_public_function_has_an_example(name):
    module = importlib.import_module(name)
    bare = [fname for fname, obj in vars(module).items()
            if inspect.isfunction(obj) and obj.__module__ == name and not fname.startswith("_")
            and ">>>" not in (obj.__doc__ or "")]
    assert bare == []
