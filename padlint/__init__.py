"""padlint: a linter for the convolution arithmetic of CNN architectures.

>>> import padlint, torch.nn as nn
>>> report = padlint.analyze(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1)), 224)
>>> [(f.rule, f.layer, f.axis) for f in report.findings]
[('PAD101', '0', 'H'), ('PAD101', '0', 'W')]

The names below are imported on first use, so that ``padlint`` itself (its command
line, its configuration, the pre-commit hook on files with no model) starts without
importing torch.
"""
__version__ = "0.1.0"

_EXPORTS = {
    "analyze": "padlint.api", "assert_clean": "padlint.assertions", "Checker": "padlint.assertions",
    "PadlintError": "padlint.errors", "Finding": "padlint.ir.report",
    "ModelResult": "padlint.ir.report", "Report": "padlint.ir.report",
    "html_report": "padlint.page.layout", "AxisResult": "padlint.sizes.sweep",
    "SweepResult": "padlint.sizes.sweep", "sweep": "padlint.sizes.sweep",
    "verify": "padlint.api",
}
__all__ = sorted(_EXPORTS) + ["__version__", "stats"]


def __getattr__(name: str):
    import importlib  # lazy exports: ``import padlint`` stays torch-free
    if name == "stats":     # padlint.stats.mean_kernels … without importing it first
        return importlib.import_module("padlint.stats")
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'padlint' has no attribute {name!r}")


def __dir__():
    return __all__
