"""``# noqa`` suppression: the directive parser, the Python API and the command line
(``--show-suppressed``, ``--warn-unused-noqa``, ``--format json``).

The test model (``NET``) has, at input 224, PAD101 (warning) on H and W of ``stem``
(line 7) and PAD105 (info) on H and W of ``head`` (line 8); at 225 only the PAD105s.
"""
import json
import subprocess
import sys
import textwrap

import pytest

import padlint
from model_sources import STEM_HEAD
from padlint.engine.noqa import parse_directives

# {stem} and {head} are appended to the construction lines 7 and 8 (the line itself is
# 59 characters, so a comment put two spaces after it starts at column 62).
NET = STEM_HEAD

# The stem call spans lines 7-10; {first}, {middle} and {last} end its lines 7, 8 and 10.
MULTILINE = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d({first}
            3, 8, 3,{middle}
            stride=2, padding=1,
        ){last}
        self.head = nn.Conv2d(8, 8, 2)

    def forward(self, x):
        return self.head(self.stem(x))
"""

MSG_101 = {
    "H": "uses its padding unevenly on H at input 224: 1 top but 0 bottom (1 end padding row never read)",
    "W": "uses its padding unevenly on W at input 224: 1 left but 0 right (1 end padding column never read)",
}
FIX_101 = ("use input size 223 or 225 on {axis} instead of 224, where every layer uses its padding "
           "evenly and drops nothing, or kernel 4 with padding 1")
MSG_105 = ("has an even effective kernel (2) on {axis}: its output cells sit half a cell off the "
           "input grid")
FIX_105 = "use an odd kernel (3), or keep it if the half-cell shift is intended"


def pad105_line(path, line, axis):
    return (f"{path}:{line}:21: PAD105 [info] head (Conv2d k=2 s=1 p=0) "
            f"{MSG_105.format(axis=axis)}. Fix: {FIX_105}")


def pad101_suppressed_line(path, axis, where):
    return (f"{path}:7:21: PAD101 [warning] stem (Conv2d k=3 s=2 p=1) {MSG_101[axis]}. "
            f"[suppressed by noqa at {where}]")


def net(stem="", head=""):
    return NET.format(stem=stem, head=head)


def run_check(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "padlint", "check", "net.py", "--timeout", "0", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def rules(findings):
    return [(f.rule, f.axis) for f in findings]


# -- parse_directives --------------------------------------------------------------------

def test_parse_directive_codes_and_column():
    found = parse_directives("x = 1  # noqa: PAD101\n", "f.py")
    assert list(found) == [1]
    d = found[1]
    assert d.codes == ("PAD101",)
    assert str(d.source) == "f.py:1:8"
    assert (d.source.path, d.source.line, d.source.col) == ("f.py", 1, 8)
    assert d.matches("PAD101") == "PAD101" and d.matches("PAD102") is None


def test_parse_bare_noqa_has_no_codes_and_matches_everything():
    found = parse_directives("x = 1  # noqa\ny = 2  #noqa\nz = 3  # NOQA\n", "f.py")
    assert sorted(found) == [1, 2, 3]
    assert all(d.codes is None for d in found.values())
    assert [str(d.source) for d in found.values()] == ["f.py:1:8", "f.py:2:8", "f.py:3:8"]
    assert found[1].matches("PAD101") == "" and found[2].matches("PAD999") == ""


@pytest.mark.parametrize("comment, codes", [
    ("# noqa: PAD101, PAD105", ("PAD101", "PAD105")),
    ("# noqa:PAD101,PAD105", ("PAD101", "PAD105")),
    ("# noqa: PAD101 PAD105", ("PAD101", "PAD105")),
    ("# NOQA: PAD1 E501", ("PAD1", "E501")),
    ("#noqa:PAD101", ("PAD101",)),
])
def test_parse_several_codes(comment, codes):
    found = parse_directives(f"x = 1  {comment}\n", "f.py")
    assert found[1].codes == codes


def test_parse_prefix_and_case_insensitive_codes_match():
    d = parse_directives("x = 1  # NOQA: pad1\n", "f.py")[1]
    assert d.codes == ("pad1",)
    assert d.matches("PAD101") == "pad1" and d.matches("PAD105") == "pad1"
    assert d.matches("PAD901") is None


def test_parse_column_of_a_directive_after_other_comment_text():
    found = parse_directives("    y = f(x)  # reason: legacy # noqa: PAD103\n", "m.py")
    assert found[1].codes == ("PAD103",)
    assert str(found[1].source) == "m.py:1:32"


def test_parse_ignores_noqa_in_strings_and_docstrings():
    text = textwrap.dedent('''\
        x = "# noqa: PAD101"
        y = 1  # noqa: PAD102
        z = """
        # noqa: PAD103
        """
        w = '#noqa'
        ''')
    found = parse_directives(text, "f.py")
    assert list(found) == [2]
    assert found[2].codes == ("PAD102",)


def test_parse_no_noqa_and_broken_source():
    assert parse_directives("x = 1  # a comment\n", "f.py") == {}
    assert parse_directives("", "f.py") == {}
    # a file that does not tokenize gives no directives rather than an exception
    assert parse_directives('x = """never closed  # noqa\n', "f.py") == {}


# -- the Python API ----------------------------------------------------------------------

def test_api_baseline_without_noqa(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(net())
    report = padlint.analyze("net.py", 224)
    assert rules(report.findings) == [("PAD101", "H"), ("PAD101", "W"), ("PAD105", "H"), ("PAD105", "W")]
    assert [str(f.source) for f in report.findings] == ["net.py:7:21"] * 2 + ["net.py:8:21"] * 2
    assert report.suppressed == []
    assert rules(padlint.analyze("net.py", 225).findings) == [("PAD105", "H"), ("PAD105", "W")]


@pytest.mark.parametrize("stem, head, kept, suppressed", [
    ("  # noqa: PAD101", "", ["PAD105", "PAD105"], ["PAD101", "PAD101"]),
    ("  # NOQA: PAD101", "", ["PAD105", "PAD105"], ["PAD101", "PAD101"]),
    ("  # noqa: pad101", "", ["PAD105", "PAD105"], ["PAD101", "PAD101"]),
    ("  # noqa: PAD1", "", ["PAD105", "PAD105"], ["PAD101", "PAD101"]),
    ("", "  # noqa: PAD1", ["PAD101", "PAD101"], ["PAD105", "PAD105"]),
    ("  # noqa", "", ["PAD105", "PAD105"], ["PAD101", "PAD101"]),
    ("  #noqa", "  # noqa", [], ["PAD101", "PAD101", "PAD105", "PAD105"]),
    ("  # noqa:PAD101,PAD105", "  # noqa: PAD101, PAD105", [], ["PAD101", "PAD101", "PAD105", "PAD105"]),
    ("  # noqa: E501, PAD101", "", ["PAD105", "PAD105"], ["PAD101", "PAD101"]),
    # codes that do not cover the finding suppress nothing
    ("  # noqa: PAD102", "", ["PAD101", "PAD101", "PAD105", "PAD105"], []),
    ("  # noqa: PAD105", "", ["PAD101", "PAD101", "PAD105", "PAD105"], []),
    ("  # noqa: E501", "  # noqa: PAD2", ["PAD101", "PAD101", "PAD105", "PAD105"], []),
    # '# noqa' in a string literal on the construction line is not a comment
    ('; note = "# noqa: PAD101"', '; note = "# noqa"', ["PAD101", "PAD101", "PAD105", "PAD105"], []),
])
def test_api_noqa_variants(tmp_path, monkeypatch, stem, head, kept, suppressed):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(net(stem, head))
    report = padlint.analyze("net.py", 224)
    assert [f.rule for f in report.findings] == kept
    assert [s.finding.rule for s in report.suppressed] == suppressed
    assert all(s.by == "noqa" for s in report.suppressed)
    assert report.results[0].suppressed == report.suppressed


def test_api_suppressed_records_finding_and_comment_position(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(net("  # noqa: PAD101"))
    report = padlint.analyze("net.py", 224)
    assert [(s.finding.rule, s.finding.layer, s.finding.axis, s.by, s.where) for s in report.suppressed] == [
        ("PAD101", "stem", "H", "noqa", "net.py:7:62"),
        ("PAD101", "stem", "W", "noqa", "net.py:7:62"),
    ]
    assert str(report.suppressed[0].finding.source) == "net.py:7:21"
    assert report.suppressed[0].finding.message == MSG_101["H"]


@pytest.mark.parametrize("first, middle, last, where", [
    ("", "", "  # noqa: PAD101", "net.py:10:12"),      # on the closing-paren line
    ("", "  # noqa: PAD101", "", "net.py:8:23"),
    ("  # noqa: PAD101", "", "", "net.py:7:33"),
])
def test_api_noqa_on_any_line_of_a_multiline_call(tmp_path, monkeypatch, first, middle, last, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(MULTILINE.format(first=first, middle=middle, last=last))
    report = padlint.analyze("net.py", 224)
    assert rules(report.findings) == [("PAD105", "H"), ("PAD105", "W")]
    assert [str(f.source) for f in report.findings] == ["net.py:11:21"] * 2
    assert [(s.finding.rule, s.finding.axis, str(s.finding.source), s.where) for s in report.suppressed] == [
        ("PAD101", "H", "net.py:7:21", where), ("PAD101", "W", "net.py:7:21", where)]
    assert report.suppressed[0].finding.source.end_line == 10


def test_api_noqa_on_the_line_after_the_call_does_not_apply(tmp_path, monkeypatch):
    # line 8 (the head) carries the directive: the stem's findings stay
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(net("", "  # noqa: PAD101"))
    report = padlint.analyze("net.py", 224)
    assert [f.rule for f in report.findings] == ["PAD101", "PAD101", "PAD105", "PAD105"]
    assert report.suppressed == []


def test_api_model_class_and_spec_honour_noqa(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "noqa_net_cls.py").write_text(net("  # noqa: PAD101"))
    import noqa_net_cls
    for target in (noqa_net_cls.Net, "noqa_net_cls.py:Net"):
        report = padlint.analyze(target, 224)
        assert rules(report.findings) == [("PAD105", "H"), ("PAD105", "W")], target
        assert [s.where for s in report.suppressed] == ["noqa_net_cls.py:7:62"] * 2, target


def test_assert_clean_honours_noqa(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(net("  # noqa: PAD101"))
    report = padlint.assert_clean("net.py", input_size=224)
    assert len(report.suppressed) == 2
    (tmp_path / "net2.py").write_text(net())
    with pytest.raises(AssertionError, match=r"^padlint: 2 findings at or above warning in net2\.py:Net"):
        padlint.assert_clean("net2.py", input_size=224)


def test_api_model_instance_honours_noqa(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "noqa_net_inst.py").write_text(net("  # noqa: PAD101"))
    import noqa_net_inst
    report = padlint.analyze(noqa_net_inst.Net(), 224)
    assert rules(report.findings) == [("PAD105", "H"), ("PAD105", "W")]
    assert [s.where for s in report.suppressed] == ["noqa_net_inst.py:7:62"] * 2


# -- the command line --------------------------------------------------------------------

def test_cli_noqa_suppresses_and_summarises(tmp_path):
    (tmp_path / "net.py").write_text(net("  # noqa: PAD101"))
    proc = run_check(tmp_path)
    assert proc.stdout.splitlines() == [
        pad105_line("net.py", 8, "H, W"),           # one line for both axes
        "net.py:Net @ 1x3x224x224: 2 windowed layers, 2 findings (2 info), 2 suppressed; "
        "the nearest clean sizes are 223 and 225",
        "Found 2 findings (2 info) in 1 model run. 2 suppressed (--show-suppressed lists them).",
    ]
    assert proc.stderr == ""
    assert proc.returncode == 0          # the warnings are suppressed, PAD105 is info


def test_cli_show_suppressed_multiline_call(tmp_path):
    (tmp_path / "net.py").write_text(MULTILINE.format(first="", middle="", last="  # noqa: PAD101"))
    proc = run_check(tmp_path, "--show-suppressed")
    assert proc.stdout.splitlines() == [
        pad105_line("net.py", 11, "H, W"),           # one line for both axes
        pad101_suppressed_line("net.py", "H", "net.py:10:12"),
        pad101_suppressed_line("net.py", "W", "net.py:10:12"),
        "net.py:Net @ 1x3x224x224: 2 windowed layers, 2 findings (2 info), 2 suppressed; "
        "the nearest clean sizes are 223 and 225",
        "Found 2 findings (2 info) in 1 model run. 2 suppressed.",
    ]
    assert proc.returncode == 0


def test_cli_json_lists_suppressed(tmp_path):
    (tmp_path / "net.py").write_text(net("  # noqa: PAD101", "  # noqa: PAD102"))
    proc = run_check(tmp_path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["unused_noqa"] == []                     # only with --warn-unused-noqa
    (result,) = doc["results"]
    assert [(f["rule"], f["axis"]) for f in result["findings"]] == [("PAD105", "H"), ("PAD105", "W")]
    assert [(s["rule"], s["layer"], s["axis"], s["suppressed_by"], s["suppressed_at"])
            for s in result["suppressed"]] == [("PAD101", "stem", "H", "noqa", "net.py:7:62"),
                                               ("PAD101", "stem", "W", "noqa", "net.py:7:62")]
    first = result["suppressed"][0]
    assert first["message"] == MSG_101["H"] and first["severity"] == "warning"
    assert first["source"] == {"path": "net.py", "line": 7, "col": 21, "end_line": 7, "end_col": 60}


# Line 6 names a code with nothing to suppress, line 7 uses PAD101 but not PAD104, line 8
# names another tool's code, line 10 is a bare noqa: only lines 6 and 7 are unused.
UNUSED = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()  # noqa: PAD102
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)  # noqa: PAD101, PAD104
        self.head = nn.Conv2d(8, 8, 2)  # noqa: E501

    def forward(self, x):  # noqa
        return self.head(self.stem(x))
"""


def test_cli_warn_unused_noqa_lines_and_exit_code(tmp_path):
    (tmp_path / "net.py").write_text(UNUSED)
    proc = run_check(tmp_path, "--warn-unused-noqa")
    assert proc.stdout.splitlines() == [
        pad105_line("net.py", 8, "H, W"),           # one line for both axes
        "net.py:Net @ 1x3x224x224: 2 windowed layers, 2 findings (2 info), 2 suppressed; "
        "the nearest clean sizes are 223 and 225",
        "net.py:6:29: unused noqa directive: PAD102 suppressed nothing",
        "net.py:7:62: unused noqa directive: PAD104 suppressed nothing",
        "Found 2 findings (2 info) in 1 model run. 2 suppressed (--show-suppressed lists them); "
        "2 unused noqa directives.",
    ]
    assert proc.returncode == 1          # unused directives are warnings; --fail-on warning


def test_cli_warn_unused_noqa_not_selected_and_fail_on_error(tmp_path):
    (tmp_path / "net.py").write_text(UNUSED)
    proc = run_check(tmp_path, "--warn-unused-noqa", "--ignore", "PAD104", "--fail-on", "error")
    lines = proc.stdout.splitlines()
    assert [line for line in lines if "unused noqa directive:" in line] == [
        "net.py:6:29: unused noqa directive: PAD102 suppressed nothing",
        "net.py:7:62: unused noqa directive: PAD104 suppressed nothing (PAD104 not selected)",
    ]
    assert lines[-1] == ("Found 2 findings (2 info) in 1 model run. 2 suppressed "
                         "(--show-suppressed lists them); 2 unused noqa directives.")
    assert proc.returncode == 0          # warnings are below --fail-on error


@pytest.mark.parametrize("comment, codes", [
    ("# noqa: PAD105 pad on purpose", ("PAD105",)),         # words after the codes are not codes
    ("# noqa: PAD101, PAD105 -- legacy weights", ("PAD101", "PAD105")),
])
def test_parse_words_after_codes_are_not_codes(comment, codes):
    (directive,) = parse_directives(f"x = 1  {comment}\n", "f.py").values()
    assert directive.codes == codes
    assert directive.matches("PAD101") == ("PAD101" if "PAD101" in codes else None)


@pytest.mark.parametrize("comment", ["# noqa: because", "# noqa:", "# noqa: pad"])
def test_parse_colon_without_a_code_is_not_a_blanket_noqa(comment):
    assert parse_directives(f"x = 1  {comment}\n", "f.py") == {}


INSTANCE_MODEL = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1),  # noqa: PAD101
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )
        self.pools = nn.ModuleList([nn.Identity(), nn.Conv2d(8, 8, 2)])

    def forward(self, x):
        return self.pools[1](self.features(x))
"""


def test_instance_layers_in_literal_containers_are_placed_by_source(tmp_path, monkeypatch):
    """An instance was built before padlint watched: its layers are placed by reading the
    owner's __init__, through literal Sequential(...) and ModuleList([...]) calls."""
    (tmp_path / "inst.py").write_text(INSTANCE_MODEL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    mod = importlib.import_module("inst")
    report = padlint.analyze(mod.Net(), 224)
    assert [(f.rule, f.layer, f.axis, str(f.source), f.source.end_line, f.source.end_col)
            for f in report.findings] == [
        ("PAD102", "features.2", "H", "inst.py:10:13", 10, 31),
        ("PAD102", "features.2", "W", "inst.py:10:13", 10, 31),
        ("PAD105", "pools.1", "H", "inst.py:12:52", 12, 70),
        ("PAD105", "pools.1", "W", "inst.py:12:52", 12, 70)]
    assert [(s.finding.layer, s.where) for s in report.results[0].suppressed] == [
        ("features.0", "inst.py:8:55"), ("features.0", "inst.py:8:55")]


LOOP_BUILT = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for _ in range(2):
            layers += [nn.Conv2d(3, 3, 3, stride=2, padding=1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


model = Net()
"""


@pytest.mark.parametrize("target", ["loop_built.py:model", "loop_built:model"])
def test_instance_built_at_import_keeps_its_construction_sites(tmp_path, monkeypatch, target):
    """An instance made when its file is imported (``file.py:model``, ``module:model``):
    its layers are placed where they were built, a loop in __init__ that no source
    reading can follow, not at the class line."""
    (tmp_path / "loop_built.py").write_text(LOOP_BUILT)
    monkeypatch.chdir(tmp_path)
    report = padlint.analyze(target, 64)
    assert [(f.rule, f.layer, f.axis, str(f.source), f.source.end_col) for f in report.findings] == [
        ("PAD101", f"body.{i}", axis, "loop_built.py:9:24", 63) for i in (0, 1) for axis in "HW"]
