"""Learned-kernel and input-patch asymmetries (SCIENCE.md §4): ``padlint.stats.mean_kernels``,
``padlint.stats.mean_patches``, ``padlint.stats.analyze`` and the rest of
:mod:`padlint.stats.facts`, imported on first use so that ``import padlint.stats`` stays cheap."""
import importlib


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    facts = importlib.import_module("padlint.stats.facts")     # lazy: it imports torch
    try:
        return getattr(facts, name)
    except AttributeError:
        raise AttributeError(f"module 'padlint.stats' has no attribute {name!r}") from None


def __dir__():
    return sorted(importlib.import_module("padlint.stats.facts").__all__)
