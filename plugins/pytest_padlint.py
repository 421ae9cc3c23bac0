"""The pytest plugin, registered as ``padlint`` through the ``pytest11`` entry point
(``-p no:padlint`` turns it off). It gives tests:

- the ``padlint_checker`` fixture: a :class:`padlint.Checker` with the project's
  ``[tool.padlint]`` settings (from the pyproject.toml at or above pytest's rootdir);
- the ``padlint`` marker, whose keyword arguments (``input_size``, ``select``,
  ``ignore``, ``fail_on``) override those settings for one test;
- a readable failure for ``assert report.findings == []``.

Importing this module imports neither torch nor padlint's analysis: pytest loads it
in every session of every project where padlint is installed.
"""
from __future__ import annotations

import pytest

MARKER = ("padlint(input_size=None, select=None, ignore=None, fail_on=None): settings of the "
          "padlint_checker fixture for this test, overriding [tool.padlint]")
_MARKER_KEYS = {"input_size", "select", "ignore", "fail_on"}


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
            raise pytest.UsageError("@pytest.mark.padlint takes keyword arguments only: "
                                    + ", ".join(sorted(_MARKER_KEYS)))
        unknown = set(marker.kwargs) - _MARKER_KEYS
        if unknown:
            raise pytest.UsageError(f"@pytest.mark.padlint: unknown argument(s) "
                                    f"{', '.join(sorted(unknown))}; use {', '.join(sorted(_MARKER_KEYS))}")
        kwargs = dict(marker.kwargs)
    try:
        return Checker(load_config(str(request.config.rootpath)), **kwargs)
    except PadlintError as err:
        raise pytest.UsageError(f"padlint: {err}") from None


def _findings(value) -> bool:
    if not isinstance(value, (list, tuple)):
        return False
    from padlint.report import Finding
    return bool(value) and all(isinstance(v, Finding) for v in value)


def pytest_assertrepr_compare(config, op, left, right):
    """``assert report.findings == []``: list the findings as the text format does."""
    if op != "==" or not (_findings(left) or _findings(right)):
        return None
    if not isinstance(left, (list, tuple)) or not isinstance(right, (list, tuple)):
        return None
    from padlint.assertions import finding_text
    only_left = [f for f in left if f not in right]
    only_right = [f for f in right if f not in left]
    lines = [f"padlint findings differ: {len(left)} == {len(right)} is false"]
    if only_left:
        lines.append(f"{len(only_left)} finding(s) only on the left:")
        lines += [f"  {finding_text(f)}" for f in only_left]
    if only_right:
        lines.append(f"{len(only_right)} finding(s) only on the right:")
        lines += [f"  {finding_text(f)}" for f in only_right]
    return lines
