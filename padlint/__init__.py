"""padlint: a linter for the convolution arithmetic of CNN architectures.

>>> import padlint, torch.nn as nn
>>> report = padlint.analyze(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1)), 224)
>>> [(f.rule, f.layer, f.axis) for f in report.findings]
[('PAD101', '0', 'H'), ('PAD101', '0', 'W')]
"""
__version__ = "0.1.0"

from .api import analyze  # noqa: E402
from .errors import PadlintError  # noqa: E402
from .report import Finding, ModelResult, Report  # noqa: E402
from .sweep import AxisResult, SweepResult, sweep  # noqa: E402

__all__ = ["analyze", "sweep", "AxisResult", "Finding", "ModelResult", "PadlintError", "Report",
           "SweepResult", "__version__"]
