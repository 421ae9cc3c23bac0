"""The pytest plugin (``padlint_checker`` fixture, ``padlint`` marker, the assertion
repr of ``report.findings == []``) and ``padlint.assert_clean``, run in child pytest
sessions through ``pytester`` (each pays the torch import, so the checks are grouped
into a few sessions)."""
import re
import subprocess
import sys

import pytest

from model_sources import ROLL_LINE, rolled, stem_head

pytest_plugins = ["pytester"]

# At 224: PAD101 (warning) on stem H/W, line 7; PAD105 (info) on head H/W, line 8.
# At 225: only the PAD105s.
MODEL = stem_head()

PAD101 = {
    "H": ("models.py:7:21: PAD101 [warning] stem (Conv2d k=3 s=2 p=1) uses its padding unevenly on H "
          "at input 224: 1 top but 0 bottom (1 end padding row never read). Fix: use input size 223 "
          "or 225 on H instead of 224, where every layer uses its padding evenly and drops nothing, "
          "or kernel 4 with padding 1"),
    "W": ("models.py:7:21: PAD101 [warning] stem (Conv2d k=3 s=2 p=1) uses its padding unevenly on W "
          "at input 224: 1 left but 0 right (1 end padding column never read). Fix: use input size 223 "
          "or 225 on W instead of 224, where every layer uses its padding evenly and drops nothing, "
          "or kernel 4 with padding 1"),
}


def pad105(axis, severity="info", path="models.py"):
    return (f"{path}:8:21: PAD105 [{severity}] head (Conv2d k=2 s=1 p=0) has an even effective "
            f"kernel (2) on {axis}: its output cells sit half a cell off the input grid. Fix: use an "
            "odd kernel (3), or keep it if the half-cell shift is intended")


def exact(lines, prefix=""):
    """Patterns for re_match_lines that match these lines exactly."""
    return [re.escape(prefix + line) + "$" for line in lines]


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=180)


def caret_lines(result):
    """The source lines pytest marks with '>' in the failure tracebacks."""
    return [line for line in result.outlines if line.startswith(">")]


FAILURE_224 = [
    "padlint: 2 findings at or above warning in Net @ 1x3x224x224:",
    "  " + PAD101["H"],
    "  " + PAD101["W"],
    "  (and 2 less severe findings)",
]


def test_assert_clean_in_pytest(pytester):
    pytester.makepyfile(models=MODEL)
    pytester.makepyfile(test_basic="""\
        import pytest
        from torch import nn

        import padlint
        from models import Net


        def test_clean_at_225():
            report = padlint.assert_clean(Net, input_size=225)
            assert [f.rule for f in report.findings] == ["PAD105", "PAD105"]


        def test_uneven_at_224():
            padlint.assert_clean(Net, input_size=224)


        def test_warning_only_model_passes_fail_on_error():
            padlint.assert_clean(Net, input_size=224, fail_on="error")


        def test_select_and_ignore():
            padlint.assert_clean(Net, input_size=224, ignore=["PAD101"])
            with pytest.raises(AssertionError, match="at or above info"):
                padlint.assert_clean(Net, input_size=224, select=["PAD105"], fail_on="info")


        def test_cannot_be_analysed():
            with pytest.raises(padlint.PadlintError, match="input 4x4 is too small"):
                padlint.assert_clean(nn.Conv2d(3, 8, 7), input_size=4)


        @pytest.mark.padlint(input_size=225)
        def test_marker_input_size(padlint_checker):
            assert padlint_checker.input_size == 225
            padlint_checker.assert_clean(Net)
        """)
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(passed=5, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*test_uneven_at_224*",
        "E   *AssertionError: padlint: 2 findings at or above warning in Net @ 1x3x224x224:",
        "E     *PAD101 [[]warning[]] stem (Conv2d k=3 s=2 p=1) uses its padding unevenly on H "
        "at input 224*Fix: *",
    ])
    result.stdout.re_match_lines(
        [re.escape("    def test_uneven_at_224():"),
         re.escape(">       padlint.assert_clean(Net, input_size=224)") + "$",
         re.escape("E       AssertionError: " + FAILURE_224[0]) + "$"]
        + exact(FAILURE_224[1:], "E       ")
        + ["$", re.escape("test_basic.py:14: AssertionError") + "$"],
        consecutive=True)
    # the traceback points at the user's line, not into padlint
    assert caret_lines(result) == [">       padlint.assert_clean(Net, input_size=224)"]
    assert "assertions.py" not in result.stdout.str()
    result.stdout.fnmatch_lines(["FAILED test_basic.py::test_uneven_at_224 - AssertionError: padlint: 2 *"])


def test_checker_honours_pyproject_and_marker_overrides_it(pytester):
    pytester.makepyfile(models=MODEL)
    pytester.makepyprojecttoml("""\
        [tool.padlint]
        ignore = ["PAD101"]
        fail-on = "info"
        """)
    pytester.makepyfile(test_project="""\
        import pytest

        from models import Net


        def test_project_settings(padlint_checker):
            assert padlint_checker.ignore == ["PAD101"]
            assert padlint_checker.fail_on == "info"
            padlint_checker.assert_clean(Net)


        @pytest.mark.padlint(fail_on="warning")
        def test_marker_fail_on(padlint_checker):
            report = padlint_checker.assert_clean(Net)
            assert [f.rule for f in report.findings] == ["PAD105", "PAD105"]


        @pytest.mark.padlint(ignore=[], fail_on="warning", input_size=225)
        def test_marker_ignore_at_225(padlint_checker):
            padlint_checker.assert_clean(Net)


        @pytest.mark.padlint(ignore=[], fail_on="warning")
        def test_marker_ignore(padlint_checker):
            padlint_checker.assert_clean(Net)
        """)
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.re_match_lines(
        [re.escape("    def test_project_settings(padlint_checker):") + "$", ".*", ".*",
         re.escape(">       padlint_checker.assert_clean(Net)") + "$",
         re.escape("E       AssertionError: padlint: 2 findings at or above info in Net @ 1x3x224x224:")
         + "$"]
        + exact([pad105("H"), pad105("W")], "E         ")
        + ["$", re.escape("test_project.py:9: AssertionError") + "$"],
        consecutive=True)
    result.stdout.re_match_lines(
        [re.escape("    def test_marker_ignore(padlint_checker):") + "$",
         re.escape(">       padlint_checker.assert_clean(Net)") + "$",
         re.escape("E       AssertionError: " + FAILURE_224[0]) + "$"]
        + exact(FAILURE_224[1:], "E       ")
        + ["$", re.escape("test_project.py:25: AssertionError") + "$"],
        consecutive=True)
    assert caret_lines(result) == [">       padlint_checker.assert_clean(Net)"] * 2
    assert "assertions.py" not in result.stdout.str()
    result.stdout.fnmatch_lines(["FAILED test_project.py::test_project_settings - *",
                                 "FAILED test_project.py::test_marker_ignore - *"])


def test_checker_input_size_select_severity_per_file_ignores(pytester):
    pytester.makepyfile(models=MODEL, models_pfi=MODEL)
    pytester.makepyprojecttoml("""\
        [tool.padlint]
        input-size = 225
        select = ["PAD101"]
        extend-select = ["PAD105"]
        severity = { PAD105 = "warning" }
        per-file-ignores = { "models_pfi.py" = ["PAD105"] }
        """)
    pytester.makepyfile(test_settings="""\
        from models import Net
        from models_pfi import Net as NetPfi


        def test_severity(padlint_checker):
            padlint_checker.assert_clean(Net)


        def test_per_file_ignores(padlint_checker):
            report = padlint_checker.assert_clean(NetPfi)
            assert report.findings == []
            assert [(s.finding.rule, s.finding.severity, s.by, s.where) for s in report.suppressed] == [
                ("PAD105", "warning", "per-file-ignores", '"models_pfi.py" in pyproject.toml')] * 2
        """)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.re_match_lines(
        [re.escape("E       AssertionError: padlint: 2 findings at or above warning in Net @ 1x3x225x225:")
         + "$"]
        + exact([pad105("H", "warning"), pad105("W", "warning")], "E         ")
        + ["$", re.escape("test_settings.py:6: AssertionError") + "$"],
        consecutive=True)


def test_plugin_can_be_disabled(pytester):
    pytester.makepyfile(test_off="""\
        def test_uses_fixture(padlint_checker):
            pass
        """)
    result = run(pytester, "-p", "no:padlint")
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["E       fixture 'padlint_checker' not found"])


COMPARE_TESTS = """\
from models import Net


def test_findings_empty(padlint_checker):
    report = padlint_checker.check(Net)
    assert report.findings == []


def test_empty_findings(padlint_checker):
    report = padlint_checker.check(Net, input_size=225)
    assert [] == report.findings
"""

ALL_224 = [PAD101["H"], PAD101["W"], pad105("H"), pad105("W")]


def test_findings_comparison_lists_findings(pytester):
    pytester.makepyfile(models=MODEL, test_compare=COMPARE_TESTS)
    result = run(pytester, "-vv")
    result.assert_outcomes(failed=2)
    result.stdout.re_match_lines(
        [re.escape(">       assert report.findings == []") + "$",
         r"E       (AssertionError: )?" + re.escape("assert padlint findings differ (4 == 0): PAD101, PAD105") + "$",
         re.escape("E         4 only on the left:") + "$"]
        + exact(ALL_224, "E           "),
        consecutive=True)
    result.stdout.re_match_lines(
        [re.escape(">       assert [] == report.findings") + "$",
         r"E       (AssertionError: )?" + re.escape("assert padlint findings differ (0 == 2): PAD105") + "$",
         re.escape("E         2 only on the right:") + "$"]
        + exact([pad105("H"), pad105("W")], "E           "),
        consecutive=True)


def test_findings_comparison_lists_every_finding_without_vv(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)            # on CI pytest never truncates
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    pytester.makepyfile(models=MODEL, test_compare=COMPARE_TESTS.split("\n\n\ndef test_empty")[0])
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines(
        [r"E       (AssertionError: )?" + re.escape(
            "assert padlint findings differ (4 == 0): PAD101, PAD105 (-vv shows messages and fixes)")
         + "$", re.escape("E         4 only on the left:") + "$"]
        + exact(["models.py:7:21: PAD101 [warning] stem on H", "models.py:7:21: PAD101 [warning] stem on W",
                 "models.py:8:21: PAD105 [info] head on H", "models.py:8:21: PAD105 [info] head on W"],
                "E           "),
        consecutive=True)
    assert "truncated" not in result.stdout.str()


def test_assert_clean_outside_pytest(pytester):
    pytester.makepyfile(models=MODEL)
    code = ("import padlint\nfrom models import Net\n"
            "padlint.assert_clean(Net, input_size=225)\nprint('225 clean')\n"
            "padlint.assert_clean(Net, input_size=224)\nprint('not reached')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=pytester.path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == "225 clean\n"
    lines = proc.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-4:] == ["AssertionError: " + FAILURE_224[0]] + FAILURE_224[1:]


def test_bad_configuration_and_marker_fail_the_setup_in_one_line(pytester):
    pytester.makefile(".toml", pyproject='[tool.padlint]\nselkt = ["PAD1"]\n')
    pytester.makepyfile(test_bad="""
        import pytest


        def test_fixture(padlint_checker):
            pass


        def test_plain():
            pass
        """)
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "padlint: */pyproject.toml: [[]tool.padlint[]] unknown key 'selkt' (did you mean 'select'?)*"])
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()
    pytester.path.joinpath("pyproject.toml").unlink()
    pytester.makepyfile(test_bad="""
        import pytest


        @pytest.mark.padlint(size=3)
        def test_marker(padlint_checker):
            pass
        """)
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "@pytest.mark.padlint: unknown argument(s) size; use fail_on, ignore, input_size, select, verify"])


def test_verify_from_the_config_the_marker_and_assert_clean(pytester):
    """`verify` in [tool.padlint] makes padlint_checker run the verify stage: the roll
    (no static finding) fails as PAD201; the marker turns it off for one test, and
    assert_clean(verify=True) works without the fixture."""
    pytester.makepyfile(models=rolled())
    pytester.makefile(".toml", pyproject='[tool.padlint]\ninput-size = 32\nfail-on = "warning"\n\n'
                                         '[tool.padlint.verify]\nenabled = true\ndevice = "cpu"\n'
                                         'baselines = ["constant"]\n')
    pytester.makepyfile(test_verify="""
        import padlint
        import pytest
        from models import Rolled


        def test_fixture_verifies(padlint_checker):
            assert padlint_checker.verify is True
            padlint_checker.assert_clean(Rolled())


        @pytest.mark.padlint(verify=False)
        def test_marker_turns_it_off(padlint_checker):
            padlint_checker.assert_clean(Rolled())


        def test_assert_clean_static_only():
            padlint.assert_clean(Rolled(), input_size=32)


        def test_assert_clean_verified():
            padlint.assert_clean(Rolled(), input_size=32, verify=True)


        @pytest.mark.padlint(verify="yes")
        def test_bad_marker_value(padlint_checker):
            pass
        """)
    result = run(pytester)
    result.assert_outcomes(passed=2, failed=2, errors=1)
    result.stdout.re_match_lines([
        r"E\s+AssertionError: padlint: 1 finding at or above warning in Rolled @ 1x3x32x32:",
        rf"E\s+models\.py:{ROLL_LINE}:\d+: PAD201 \[warning\] roll \(torch\.roll\) turns a mirror-symmetric input "
        r"into an asymmetric output on W under the symmetric-kernel probe",
    ])
    # Two failing tests, one traceback line each (pytest >= 9.1 repeats the message in its
    # short summary, so only the `E` lines of the tracebacks are counted).
    failures = [line for line in result.stdout.lines
                if re.match(r"E\s+models\.py:\d+:\d+: PAD201 \[warning\] roll \(torch\.roll\)", line)]
    assert len(failures) == 2
    result.stdout.fnmatch_lines(["*padlint: verify must be True or False, got 'yes'*"])
