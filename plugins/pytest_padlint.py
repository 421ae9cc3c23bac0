"""The pytest plugin, registered as ``padlint`` through the ``pytest11`` entry point
(``-p no:padlint`` turns it off). It gives tests:

- the ``padlint_checker`` fixture: a :class:`padlint.Checker` with the project's
  ``[tool.padlint]`` settings (from the pyproject.toml at or above pytest's rootdir);
- the ``padlint`` marker, whose keyword arguments (``input_size``, ``select``,
  ``ignore``, ``fail_on``, ``verify``) override those settings for one test;
- a readable failure for ``assert report.findings == []``.

Importing this module imports neither torch nor padlint's analysis: pytest loads it
in every session of every project where padlint is installed.
"""
from __future__ import annotations

import pytest

MARKER = ("padlint(input_size=None, select=None, ignore=None, fail_on=None, verify=None): "
          "settings of the padlint_checker fixture for this test, overriding [tool.padlint]")
_MARKER_KEYS = {"input_size", "select", "ignore", "fail_on", "verify"}


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", MARKER)


@pytest.fixture
def padlint_checker(request):
    """A :class:`padlint.Checker`: ``padlint_checker.assert_clean(model)`` fails with the
    findings; ``padlint_checker.check(model)`` returns the report."""
    from padlint.assertions import Checker
    from padlint.config import load_config
    from padlint.errors import PadlintError

    kwargs = {}
    marker = request.node.get_closest_marker("padlint")
    if marker is not None:
        if marker.args:
            pytest.fail("@pytest.mark.padlint takes keyword arguments only: "
                        + ", ".join(sorted(_MARKER_KEYS)), pytrace=False)
        unknown = set(marker.kwargs) - _MARKER_KEYS
        if unknown:
            pytest.fail(f"@pytest.mark.padlint: unknown argument(s) {', '.join(sorted(unknown))}; "
                        f"use {', '.join(sorted(_MARKER_KEYS))}", pytrace=False)
        kwargs = dict(marker.kwargs)
    try:
        return Checker(load_config(str(request.config.rootpath)), **kwargs)
    except PadlintError as err:          # a bad [tool.padlint] or marker: one line, no traceback
        problem = str(err)
    pytest.fail(f"padlint: {problem}", pytrace=False)


def _findings(value) -> bool:
    if not isinstance(value, (list, tuple)):
        return False
    from padlint.ir.report import Finding
    return bool(value) and all(isinstance(v, Finding) for v in value)


def _short(finding) -> str:
    where = f"{finding.source}: " if finding.source else ""
    return f"{where}{finding.rule} [{finding.severity}] {finding.layer or '<model>'} on {finding.axis}"


def pytest_assertrepr_compare(config, op, left, right):
    """``assert report.findings == []``: list the findings. pytest cuts explanations at
    8 lines unless run with -vv, so a short form (location, code, layer, axis) comes
    first; with -vv each finding is the full line of the text format."""
    if op != "==" or not (_findings(left) or _findings(right)):
        return None
    if not isinstance(left, (list, tuple)) or not isinstance(right, (list, tuple)):
        return None
    from padlint.assertions import finding_text
    full = config.get_verbosity() >= 2
    show = finding_text if full else _short
    only_left = [f for f in left if f not in right]
    only_right = [f for f in right if f not in left]
    codes = sorted({f.rule for f in only_left + only_right})
    lines = [f"padlint findings differ ({len(left)} == {len(right)}): {', '.join(codes)}"
             + ("" if full else " (-vv shows messages and fixes)")]
    for side, items in (("left", only_left), ("right", only_right)):
        if items:
            lines.append(f"{len(items)} only on the {side}:")
            lines += [f"  {show(f)}" for f in items]
    return lines
