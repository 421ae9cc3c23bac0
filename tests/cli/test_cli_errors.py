"""`padlint check` on bad input: exit code 2, one `padlint: error:` line on stderr that names
the file or model and says what to do, no traceback unless --debug, and no partial output.
Also the 0/1 exit codes, --fail-on and --select/--ignore, all through the real command."""
import json
import re
import subprocess
import sys
import textwrap

import pytest

from model_sources import CLEAN

ERROR_PREFIX = "padlint: error: "

SYNTAX_ERROR = """\
import torch
from torch import nn
def broken(:
    pass
"""

RAISES_ON_IMPORT = """\
raise RuntimeError("boom")
"""

NO_MODEL = """\
def double(x):
    return 2 * x


def square(x):
    return x * x
"""

NEEDS_ARGS = """\
from torch import nn


class NeedsWidth(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)

    def forward(self, x):
        return self.conv(x)
"""


# A 3x3 stride-2 conv at 224: PAD101 warnings only.
STRIDED = """\
from torch import nn


class Strided(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
"""

# A 1x1 stride-2 conv: at input 57 only PAD103 (info).
ONE_BY_ONE = """\
from torch import nn


class OneByOne(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1, stride=2)

    def forward(self, x):
        return self.conv(x)
"""

# PAD101 (warning) from the conv, PAD102 (error) from the pool at 112.
MIXED = """\
from torch import nn


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(3, 2)

    def forward(self, x):
        return self.pool(self.conv(x))
"""

TINY = """\
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 5))

    def forward(self, x):
        return self.body(x)
"""

# x.item() on a 1x3x224x224 tensor fails on the meta device and in the real-CPU fallback.
ITEM = """\
from torch import nn


class ItemNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return self.conv(x) * x.item()
"""


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def padlint(cwd, *args):
    return subprocess.run([sys.executable, "-m", "padlint", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def show(proc) -> str:
    return f"\nexit {proc.returncode}\n--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"


def assert_no_traceback(proc):
    assert "Traceback" not in proc.stderr, show(proc)


def assert_single_error(proc, *needles) -> str:
    """Exit 2, exactly one `padlint: error:` line on stderr, nothing on stdout."""
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    assert proc.stdout == "", "partial output on stdout" + show(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, "expected exactly one stderr line" + show(proc)
    line = lines[0]
    assert line.startswith(ERROR_PREFIX), show(proc)
    for needle in needles:
        assert needle in line, f"{needle!r} not in the error line" + show(proc)
    return line


def error_lines(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith(ERROR_PREFIX)]


def finding_codes(stdout: str) -> list[str]:
    return re.findall(r": (PAD\d{3}) \[(?:info|warning|error)\] ", stdout)


# -- 1. syntax error ----------------------------------------------------------------

def test_syntax_error_names_file_and_line(tmp_path):
    write(tmp_path, "bad.py", SYNTAX_ERROR)
    line = assert_single_error(padlint(tmp_path, "check", "bad.py"), "bad.py:3:")
    assert "syntax" in line.lower()


# -- 2. import raises ---------------------------------------------------------------

def test_import_error_names_file_and_exception(tmp_path):
    write(tmp_path, "boom.py", RAISES_ON_IMPORT)
    assert_single_error(padlint(tmp_path, "check", "boom.py"), "boom.py", "RuntimeError", "boom",
                        "--debug")


def test_debug_shows_traceback_and_still_exits_2(tmp_path):
    write(tmp_path, "boom.py", RAISES_ON_IMPORT)
    proc = padlint(tmp_path, "check", "boom.py", "--debug")
    assert proc.returncode == 2, show(proc)
    assert "Traceback" in proc.stderr, show(proc)
    assert 'raise RuntimeError("boom")' in proc.stderr, show(proc)
    assert proc.stdout == "", show(proc)
    assert proc.stderr.splitlines()[-1].startswith(ERROR_PREFIX + "boom.py"), show(proc)
    assert len(error_lines(proc)) == 1, show(proc)


# -- 3. no model --------------------------------------------------------------------

def test_file_without_a_model(tmp_path):
    write(tmp_path, "plain.py", NO_MODEL)
    assert_single_error(padlint(tmp_path, "check", "plain.py"), "plain.py", "no model found",
                        "PADLINT_TARGETS")


def test_file_whose_only_model_needs_arguments(tmp_path):
    write(tmp_path, "needs.py", NEEDS_ARGS)
    proc = padlint(tmp_path, "check", "needs.py")
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    assert proc.stdout == "", show(proc)
    errors = error_lines(proc)
    assert len(errors) == 1, show(proc)
    assert "needs.py" in errors[0] and "no model found" in errors[0], show(proc)
    skips = [line for line in proc.stderr.splitlines()
             if line.startswith("padlint: ") and not line.startswith(ERROR_PREFIX)]
    assert len(skips) == 1, "expected a skip line naming the class" + show(proc)
    assert "NeedsWidth" in skips[0] and "PADLINT_TARGETS" in skips[0], show(proc)


# -- 4. specs that name nothing -----------------------------------------------------

@pytest.mark.parametrize("spec, needles", [
    ("torchvision.models:not_a_model", ["torchvision.models:not_a_model", "'not_a_model'"]),
    ("no_such_module_xyz:Foo", ["no_such_module_xyz:Foo", "'no_such_module_xyz'"]),
    ("missing_file.py", ["missing_file.py", "no such file"]),
    ("notathing", ["notathing", "module:attr"]),
])
def test_spec_that_names_nothing(tmp_path, spec, needles):
    assert_single_error(padlint(tmp_path, "check", spec), *needles)


# -- 5. input too small -------------------------------------------------------------

def test_input_too_small_torchvision_vgg16(tmp_path):
    line = assert_single_error(padlint(tmp_path, "check", "torchvision.models:vgg16", "--input-size", "16"),
                               "torchvision.models:vgg16", "features.30")
    assert re.search(r"smallest .*\b32\b", line), line


def test_input_too_small_user_model(tmp_path):
    write(tmp_path, "tiny.py", TINY)
    line = assert_single_error(padlint(tmp_path, "check", "tiny.py", "--input-size", "3"),
                               "tiny.py", "Tiny", "body.0")
    assert re.search(r"smallest .*\b5\b", line), line


# -- 6. malformed --input-size ------------------------------------------------------

@pytest.mark.parametrize("size", ["22x", "abc", "0", "3x", "-5"])
def test_malformed_input_size(tmp_path, size):
    write(tmp_path, "clean.py", CLEAN)
    assert_single_error(padlint(tmp_path, "check", "clean.py", "--input-size", size),
                        "--input-size", repr(size), "224x320")


# -- 7. forward that cannot run -----------------------------------------------------

def test_forward_that_fails_on_meta_and_in_the_fallback(tmp_path):
    write(tmp_path, "item.py", ITEM)
    line = assert_single_error(padlint(tmp_path, "check", "item.py"), "item.py", "ItemNet", "--debug")
    assert "forward" in line and "RuntimeError" in line, line


# -- several targets: the good ones are still linted --------------------------------

def test_good_and_bad_file_text(tmp_path):
    write(tmp_path, "good.py", STRIDED)
    write(tmp_path, "bad.py", SYNTAX_ERROR)
    proc = padlint(tmp_path, "check", "good.py", "bad.py")
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    assert "PAD101" in finding_codes(proc.stdout), show(proc)
    assert "good.py:Strided @ 1x3x224x224" in proc.stdout, show(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX) and "bad.py:3:" in lines[0], show(proc)


def test_good_and_bad_file_json(tmp_path):
    write(tmp_path, "good.py", STRIDED)
    write(tmp_path, "bad.py", SYNTAX_ERROR)
    proc = padlint(tmp_path, "check", "good.py", "bad.py", "--format", "json")
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    doc = json.loads(proc.stdout)            # the whole of stdout is one JSON document
    assert len(doc["errors"]) == 1, show(proc)
    error = doc["errors"][0]
    assert set(error) >= {"target", "message"}
    assert error["target"] == "bad.py" and "bad.py:3:" in error["message"], error
    assert [r["target"] for r in doc["results"]] == ["good.py:Strided"], show(proc)
    assert {f["rule"] for f in doc["results"][0]["findings"]} == {"PAD101"}


def test_folder_with_good_and_broken_file(tmp_path):
    write(tmp_path, "models/good.py", STRIDED)
    write(tmp_path, "models/broken.py", SYNTAX_ERROR)
    proc = padlint(tmp_path, "check", "models")
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    assert "PAD101" in finding_codes(proc.stdout), show(proc)
    assert "models/good.py:Strided @ 1x3x224x224" in proc.stdout, show(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, show(proc)
    assert lines[0].startswith(ERROR_PREFIX) and "models/broken.py:3:" in lines[0], show(proc)


def test_single_bad_target_json(tmp_path):
    write(tmp_path, "bad.py", SYNTAX_ERROR)
    proc = padlint(tmp_path, "check", "bad.py", "--format", "json")
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    doc = json.loads(proc.stdout)
    assert doc["results"] == []
    assert len(doc["errors"]) == 1
    assert doc["errors"][0]["target"] == "bad.py" and "bad.py:3:" in doc["errors"][0]["message"]


# -- exit codes 0 and 1, --fail-on, --select/--ignore -------------------------------

def test_clean_model_exits_0(tmp_path):
    write(tmp_path, "clean.py", CLEAN)
    proc = padlint(tmp_path, "check", "clean.py")
    assert proc.returncode == 0, show(proc)
    assert proc.stderr == "", show(proc)
    assert finding_codes(proc.stdout) == [] and "No findings in 1 model run." in proc.stdout, show(proc)


@pytest.mark.parametrize("extra, code", [([], 1), (["--fail-on", "error"], 0)])
def test_warning_findings_and_fail_on(tmp_path, extra, code):
    write(tmp_path, "strided.py", STRIDED)
    proc = padlint(tmp_path, "check", "strided.py", *extra)
    assert proc.returncode == code, show(proc)
    assert finding_codes(proc.stdout) == ["PAD101"], show(proc)       # on H, W: one line
    assert " on H, W at input 224" in proc.stdout, show(proc)
    assert proc.stderr == "", show(proc)


@pytest.mark.parametrize("extra, code", [([], 0), (["--fail-on", "info"], 1)])
def test_info_findings_and_fail_on(tmp_path, extra, code):
    write(tmp_path, "onebyone.py", ONE_BY_ONE)
    proc = padlint(tmp_path, "check", "onebyone.py", "--input-size", "57", *extra)
    assert proc.returncode == code, show(proc)
    assert finding_codes(proc.stdout) == ["PAD103"], show(proc)       # on H, W: one line
    assert proc.stderr == "", show(proc)


@pytest.mark.parametrize("extra, codes, code", [
    ([], {"PAD101", "PAD102"}, 1),
    (["--select", "PAD102"], {"PAD102"}, 1),
    (["--ignore", "PAD101"], {"PAD102"}, 1),
    (["--ignore", "PAD1"], set(), 0),
])
def test_select_and_ignore(tmp_path, extra, codes, code):
    write(tmp_path, "mixed.py", MIXED)
    proc = padlint(tmp_path, "check", "mixed.py", *extra)
    assert proc.returncode == code, show(proc)
    assert set(finding_codes(proc.stdout)) == codes, show(proc)
    assert "mixed.py:Mixed @ 1x3x224x224" in proc.stdout, show(proc)
    assert proc.stderr == "", show(proc)


def test_unknown_rule_for_padlint_rule(tmp_path):
    assert_single_error(padlint(tmp_path, "rule", "PAD999"), "PAD999", "padlint rules")


def test_unknown_code_for_select(tmp_path):
    write(tmp_path, "clean.py", CLEAN)
    assert_single_error(padlint(tmp_path, "check", "clean.py", "--select", "XYZ"), "XYZ", "padlint rules")
