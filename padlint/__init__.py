"""padlint: a linter for the convolution arithmetic of CNN architectures.

>>> import padlint, torch.nn as nn
>>> report = padlint.analyze(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1)), 224)
>>> [(f.rule, f.layer, f.axis) for f in report.findings]
[('PAD101', '0', 'H'), ('PAD101', '0', 'W')]

The names below are imported on first use, so that ``padlint`` itself (its command
line, its configuration, the pre-commit hook on files with no model) starts without
importing torch.
"""
import sys
import types

__version__ = "0.1.0"

_EXPORTS = {
    "analyze": ".api", "assert_clean": ".assertions", "Checker": ".assertions",
    "PadlintError": ".errors", "Finding": ".report", "ModelResult": ".report", "Report": ".report",
    "html_report": ".page", "AxisResult": ".sweep", "SweepResult": ".sweep", "sweep": ".sweep", "verify": ".verification",
}
__all__ = sorted(_EXPORTS) + ["__version__", "stats"]


class _Package(types.ModuleType):
    """``padlint.sweep`` is the function, though ``padlint/sweep.py`` shares its name:
    importing that submodule binds it on the package, and this keeps the function."""

    def __setattr__(self, name, value):
        if name == "sweep" and isinstance(value, types.ModuleType):
            value = value.sweep
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


_SUBMODULES = ("stats",)      # padlint.stats.mean_kernels … without importing it first


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    if name in _EXPORTS:
        import importlib
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'padlint' has no attribute {name!r}")


def __dir__():
    return __all__
