"""Assertions for test suites: ``padlint.assert_clean`` and the ``Checker`` that the
pytest plugin's ``padlint_checker`` fixture hands to tests.

>>> import padlint, torch.nn as nn
>>> padlint.assert_clean(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1)), input_size=225)
>>> padlint.assert_clean(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1)), input_size=224)
Traceback (most recent call last):
  ...
AssertionError: padlint: 2 findings at or above warning in Sequential @ 1x3x224x224:
  ...
"""
from __future__ import annotations

import os

from padlint.config import FAIL_ON, Config
from padlint.errors import PadlintError
from padlint.ir.report import Finding, Report
from padlint.output.text import finding_line


def finding_text(finding: Finding, target: str = "") -> str:
    """One finding as the text format prints it (without colour)."""
    return finding_line(finding, target).plain


def failure_message(report: Report, fail_on: str) -> str | None:
    """The assertion message for ``report``, or None when nothing fails at ``fail_on``."""
    failing = [(r, f) for r in report.results for f in Report([r]).failing(fail_on)]
    if not failing:
        return None
    runs = sorted({f"{r.target} @ {'x'.join(map(str, r.input_shape))}" for r, _ in failing})
    n = len(failing)
    lines = [f"padlint: {n} finding{'s' if n != 1 else ''} at or above {fail_on} in {', '.join(runs)}:"]
    lines += [f"  {finding_text(f, r.target)}" for r, f in failing]
    below = len(report.findings) - n
    if below:
        lines.append(f"  (and {below} less severe finding{'s' if below != 1 else ''})")
    return "\n".join(lines)


def _check_fail_on(fail_on: str) -> str:
    if fail_on not in FAIL_ON:
        raise PadlintError(f"fail_on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    return fail_on


def _assert(report: Report, fail_on: str) -> Report:
    """Raise PadlintError for models that could not be analysed, AssertionError for findings."""
    __tracebackhide__ = True
    if report.errors:
        raise PadlintError("; ".join(e["message"] for e in report.errors))
    message = failure_message(report, fail_on)
    if message:
        raise AssertionError(message)
    return report


def assert_clean(model, input_size=224, select=None, ignore=None, fail_on: str = "warning",
                 verify: bool = False) -> Report:
    """Fail with every finding at or above ``fail_on``, one per line as the text format
    prints it (code, layer, axis, message and fix). Works in any test runner, or none.

    ``model`` is what :func:`padlint.analyze` takes: an ``nn.Module``, a model class or
    factory, a file or a ``module:attr`` spec. ``# noqa`` comments on construction
    lines apply. ``verify=True`` adds the verify stage (PAD201/PAD202 can fail too).
    A model that cannot be analysed, at any of the sizes, raises :class:`PadlintError`.
    Returns the report when the model is clean. Info findings fail only with
    ``fail_on="info"``: as data, ``report.failing(fail_on)`` is the same test, and
    ``report.findings == []`` the stricter one (it counts info findings too)."""
    __tracebackhide__ = True
    from padlint.api import analyze  # lazy: imports torch, which this module must not
    _check_fail_on(fail_on)
    return _assert(analyze(model, input_size, select=select, ignore=ignore, verify=verify), fail_on)


class Checker:
    """padlint with a project's ``[tool.padlint]`` settings (what the ``padlint_checker``
    fixture gives): ``input-size``, ``select``/``ignore``/``extend-select``,
    ``severity``, ``per-file-ignores``, ``fail-on`` and ``verify`` (with its device,
    baselines and images). Keyword arguments (from the ``@pytest.mark.padlint(...)``
    marker) override the file; arguments of a call override both."""

    def __init__(self, config: Config | None = None, *, input_size=None, select=None,
                 ignore=None, fail_on: str | None = None, verify: bool | None = None):
        self.config = config or Config(root=".")
        self.input_size = input_size if input_size is not None else self.config.input_size
        self.select = select if select is not None else self.config.rule_select
        self.ignore = ignore if ignore is not None else self.config.ignore
        self.fail_on = _check_fail_on(fail_on or self.config.fail_on)
        if verify is not None and not isinstance(verify, bool):
            raise PadlintError(f"verify must be True or False, got {verify!r}")
        self.verify = verify if verify is not None else bool(self.config.verify.get("enabled"))

    def check(self, model, input_size=None, select=None, ignore=None) -> Report:
        """The report of ``model`` (findings that noqa or per-file-ignores silence are in
        ``result.suppressed``)."""

        from padlint.api import analyze  # lazy: imports torch, which this module must not
        table = self.config.verify
        images = table.get("images")
        return analyze(model, input_size if input_size is not None else self.input_size,
                       select=select if select is not None else self.select,
                       ignore=ignore if ignore is not None else self.ignore,
                       severity=self.config.severity, config=self.config, verify=self.verify,
                       device=table.get("device", "auto"), baselines=table.get("baselines"),
                       images=os.path.join(self.config.root, images) if images else None)

    def assert_clean(self, model, input_size=None, select=None, ignore=None,
                     fail_on: str | None = None) -> Report:
        """As :func:`padlint.assert_clean`, with the project's settings."""
        __tracebackhide__ = True
        fail_on = _check_fail_on(fail_on or self.fail_on)
        return _assert(self.check(model, input_size, select, ignore), fail_on)

    def __repr__(self) -> str:
        return (f"Checker(config={self.config.path!r}, input_size={self.input_size!r}, "
                f"select={self.select!r}, ignore={self.ignore!r}, fail_on={self.fail_on!r}, "
                f"verify={self.verify!r})")
