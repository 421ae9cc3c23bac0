"""`[tool.padlint]` in pyproject.toml: the upward search, every key, the CLI flags that
override the file, and the bad-configuration matrix (exit 2, one `padlint: error:` line
that names the file and the key, nothing on stdout, no traceback).

Speed: a subprocess that analyses a model pays the torch import (several seconds on a slow
machine), so most analysing cases call ``padlint.cli.main`` in this process (the same
code path as the command, with ``--timeout 0``), and a few run the real command end to
end. Configuration errors stop before torch is imported, so their subprocesses are cheap.
"""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from model_sources import stem_head
from padlint.config import Config, find_pyproject, load_config, parse_table
from padlint.errors import PadlintError

ERROR_PREFIX = "padlint: error: "

# At 224: PAD101 (warning) on stem H and W (line 7), PAD105 (info) on head H and W (line 8).
# At 225: stem is clean, PAD105 stays.
MODEL = stem_head()

ALL_FOUR = [("PAD101", "warning", "stem", "H"), ("PAD101", "warning", "stem", "W"),
            ("PAD105", "info", "head", "H"), ("PAD105", "info", "head", "W")]
INFO_ONLY = [("PAD105", "info", "head", "H"), ("PAD105", "info", "head", "W")]
WARN_ONLY = [("PAD101", "warning", "stem", "H"), ("PAD101", "warning", "stem", "W")]


def write(root, rel, text):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(textwrap.dedent(text) if rel.endswith(".toml") else text)
    return path


def project(root, toml, files=("model.py",)):
    """A pyproject.toml holding ``toml`` (None: no file) and MODEL at each of ``files``."""
    if toml is not None:
        write(root, "pyproject.toml", toml)
    for rel in files:
        write(root, rel, MODEL)
    return os.path.join(str(root), "pyproject.toml")


def run_cli(cwd, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "padlint", *args], cwd=str(cwd),
                          capture_output=True, text=True, timeout=timeout)


def findings(out, index=0):
    result = json.loads(out)["results"][index]
    return [(f["rule"], f["severity"], f["layer"], f["axis"]) for f in result["findings"]]


def lines_of(result, key="findings"):
    return sorted({(f["rule"], f["source"]["line"]) for f in result[key]})


def assert_one_error_line(code, out, err, *parts):
    assert code == 2, (code, out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(ERROR_PREFIX), err
    for part in parts:
        assert part in lines[0], (part, lines[0])


# --------------------------------------------------------------------------- upward search

def test_search_finds_the_closest_file_with_a_padlint_table_and_skips_others(tmp_path):
    top = write(tmp_path, "pyproject.toml", '[tool.padlint]\nselect = ["PAD101"]\n')
    write(tmp_path, "a/pyproject.toml", '[project]\nname = "a"\n\n[tool.ruff]\nline-length = 99\n')
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_pyproject(str(deep)) == top
    config = load_config(start=str(deep))
    assert config.path == top
    assert config.root == str(tmp_path)
    assert config.select == ["PAD101"]
    # a file as the start point searches from its folder
    model = write(tmp_path, "a/b/c/model.py", MODEL)
    assert load_config(start=model).path == top

    # a nearer file with [tool.padlint] wins, even an empty table
    nearer = write(tmp_path, "a/b/pyproject.toml", "[tool.padlint]\n")
    config = load_config(start=str(deep))
    assert config.path == nearer
    assert config.root == str(tmp_path / "a" / "b")
    assert config.select is None and config.rule_select is None


def test_no_configuration_file_gives_defaults_rooted_at_the_start(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')      # no [tool.padlint]
    (tmp_path / "sub").mkdir()
    config = load_config(start=str(tmp_path / "sub"))
    assert config.path is None
    assert config.root == str(tmp_path / "sub")
    assert (config.select, config.ignore, config.fail_on, config.input_size) == (None, [], "warning", None)


def test_search_reports_bad_toml_on_the_way_up(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.padlint]\n")
    write(tmp_path, "sub/pyproject.toml", "[tool.padlint\n")
    with pytest.raises(PadlintError, match=r"sub/pyproject\.toml: is not valid TOML"):
        load_config(start=str(tmp_path / "sub"))


def test_load_config_path_reads_that_file_and_roots_there(tmp_path):
    other = write(tmp_path, "conf/other.toml", '[tool.padlint]\nfail-on = "info"\n')
    write(tmp_path, "pyproject.toml", '[tool.padlint]\nfail-on = "error"\n')
    config = load_config(start=str(tmp_path), path=other)
    assert (config.path, config.root, config.fail_on) == (other, str(tmp_path / "conf"), "info")
    with pytest.raises(PadlintError, match=r"^--config .*missing\.toml: no such file$"):
        load_config(path=str(tmp_path / "missing.toml"))
    plain = write(tmp_path, "plain.toml", '[tool.ruff]\nline-length = 1\n')
    with pytest.raises(PadlintError, match=r"plain\.toml: has no \[tool\.padlint\] table"):
        load_config(path=plain)


# --------------------------------------------------------------------------- parse_table

def test_parse_table_every_key():
    config = parse_table({
        "input-size": [224, "224x320", "3x224x224"],
        "select": ["pad1 ", "PAD105"],
        "ignore": ["PAD103"],
        "extend-select": ["PAD9"],
        "per-file-ignores": {"legacy/*.py": ["pad101"]},
        "fail-on": "info",
        "severity": {"pad105": "warning", "PAD101": "error"},
        "targets": ["nets", "model.py:Net"],
        "exclude": ["build_*"],
        "verify": {"enabled": False, "device": "cpu", "baselines": ["zeros", "random"],
                   "images": "imgs"},
    }, "/proj/pyproject.toml")
    assert config.root == "/proj" and config.path == "/proj/pyproject.toml"
    assert config.input_size == [(224,), (224, 320), (3, 224, 224)]
    assert config.select == ["PAD1", "PAD105"]
    assert config.rule_select == ["PAD1", "PAD105", "PAD9"]
    assert config.ignore == ["PAD103"]
    assert config.per_file_ignores == {"legacy/*.py": ["PAD101"]}
    assert config.fail_on == "info"
    assert config.severity == {"PAD105": "warning", "PAD101": "error"}
    assert config.targets == ["nets", "model.py:Net"]
    assert config.exclude == ["build_*"]
    assert config.verify == {"enabled": False, "device": "cpu", "baselines": ["zeros", "random"],
                             "images": "imgs"}
    assert parse_table({"verify": True}, "p.toml").verify == {"enabled": True}
    assert parse_table({"input-size": 225}, "p.toml").input_size == [(225,)]
    assert parse_table({"select": ["ALL"]}, "p.toml").select == ["ALL"]


PARSE_ERRORS = [
    ({"selct": ["PAD1"]}, r"\[tool\.padlint\] unknown key 'selct' \(did you mean 'select'\?\)"),
    ({"fail_on": "info"}, r"unknown key 'fail_on' \(did you mean 'fail-on'\?\)"),
    ({"zzz": 1}, r"unknown key 'zzz'; the keys are input-size, select"),
    ({"select": ["PAD999"]}, r"\[tool\.padlint\] select: unknown rule code 'PAD999'"),
    ({"select": [""]}, r"select: unknown rule code ''"),
    ({"ignore": ["XYZ1"]}, r"\[tool\.padlint\] ignore: unknown rule code 'XYZ1'"),
    ({"extend-select": ["PAD4"]}, r"extend-select: unknown rule code 'PAD4'"),
    ({"per-file-ignores": {"a.py": ["PAD999"]}}, r"per-file-ignores 'a\.py': unknown rule code 'PAD999'"),
    ({"per-file-ignores": {"a.py": "PAD101"}}, r"per-file-ignores 'a\.py' must be a list of strings, got a string"),
    ({"per-file-ignores": ["a.py"]}, r"per-file-ignores must be a table"),
    ({"severity": {"PAD999": "warning"}}, r"severity: unknown rule code 'PAD999'"),
    ({"severity": {"PAD1": "warning"}}, r"severity: unknown rule code 'PAD1'"),   # exact codes only
    ({"severity": {"PAD105": "fatal"}}, r"severity PAD105 must be one of 'info', 'warning', 'error', got 'fatal'"),
    ({"severity": "warning"}, r"severity must be a table .*got a string"),
    ({"select": "PAD101"}, r"select must be a list of strings, got a string"),
    ({"ignore": [101]}, r"ignore must be a list of strings, got a list"),
    ({"fail-on": 3}, r"fail-on must be one of 'error', 'warning', 'info', 'never', got 3"),
    ({"fail-on": "warn"}, r"fail-on must be one of .* got 'warn'"),
    ({"input-size": True}, r"input-size must be a size or a list of sizes .*got True"),
    ({"input-size": 1.5}, r"input-size must be a size .*got 1\.5"),
    ({"input-size": []}, r"input-size must be a size .*got \[\]"),
    ({"input-size": "abc"}, r"input-size 'abc' is not a valid size"),
    ({"input-size": "0x224"}, r"input-size '0x224' is not a valid size"),
    ({"targets": "model.py"}, r"targets must be a list of strings, got a string"),
    ({"exclude": "legacy"}, r"exclude must be a list of strings, got a string"),
    ({"verify": "yes"}, r"\[tool\.padlint\] verify must be true, false or a table .*got a string"),
    ({"verify": {"devic": "cpu"}}, r"\.verify unknown key 'devic' \(did you mean 'device'\?\)"),
    ({"verify": {"enabled": "yes"}}, r"\.verify enabled must be true or false, got 'yes'"),
    ({"verify": {"device": "tpu"}}, r"\.verify device must be one of 'auto', 'cpu', 'cuda', 'mps', got 'tpu'"),
    ({"verify": {"baselines": ["noise"]}}, r"\.verify baselines must be one of .*got 'noise'"),
    ({"verify": {"images": 3}}, r"\.verify images must be a path, got an integer"),
]


@pytest.mark.parametrize("table, message", PARSE_ERRORS, ids=[m[:40] for _, m in PARSE_ERRORS])
def test_parse_table_errors_name_the_file_and_key(table, message):
    with pytest.raises(PadlintError, match=r"^/proj/pyproject\.toml: \[tool\.padlint\]") as info:
        parse_table(table, "/proj/pyproject.toml")
    assert re.search(message, str(info.value)), str(info.value)
    assert "\n" not in str(info.value)


def test_parse_table_not_a_table():
    with pytest.raises(PadlintError, match=r"^p\.toml: \[tool\.padlint\] must be a table$"):
        parse_table(3, "p.toml")


def test_per_file_ignores_type_error_names_the_type():
    with pytest.raises(PadlintError) as info:
        parse_table({"per-file-ignores": ["a.py"]}, "p.toml")
    assert "{" not in str(info.value).split("got", 1)[1]
    assert str(info.value).endswith("got a list")


@pytest.mark.parametrize("size", [0, -1, [224, 0]])
def test_non_positive_input_size_is_refused(size):
    with pytest.raises(PadlintError, match=r"input-size"):
        parse_table({"input-size": size}, "p.toml")


def test_severity_key_is_stored_as_checked():
    try:
        config = parse_table({"severity": {" PAD105": "warning"}}, "p.toml")
    except PadlintError as err:
        assert "p.toml" in str(err) and "severity" in str(err)
    else:
        assert config.severity == {"PAD105": "warning"}


# --------------------------------------------------------------------------- glob matching

@pytest.mark.parametrize("pattern, rel, hit", [
    ("sub", "sub/model.py", True),                 # a parent folder
    ("sub/", "sub/model.py", True),
    ("model.py", "sub/model.py", True),            # a component (no '/')
    ("model.py", "a/b/model.py", True),
    ("sub/*.py", "sub/model.py", True),
    ("sub/model.py", "sub/model.py", True),
    ("*.py", "sub/model.py", True),
    ("a/b", "a/b/c/model.py", True),
    ("ub", "sub/model.py", False),
    ("other", "sub/model.py", False),
    ("sub/model", "sub/model.py", False),
    ("sub/model.py", "x/sub/model.py", False),     # a pattern with '/' is anchored at the root
    ("b/c", "a/b/c/model.py", False),
    ("Sub", "sub/model.py", False),                # case-sensitive
])
def test_pattern_matching_is_ruff_like(tmp_path, pattern, rel, hit):
    config = Config(root=str(tmp_path))
    assert config.matches(str(tmp_path / rel), pattern) is hit
    config.exclude = [pattern]
    assert config.excluded(str(tmp_path / rel)) is hit


def test_paths_outside_the_root_match_nothing(tmp_path):
    config = Config(root=str(tmp_path / "proj"))
    assert config.relative(str(tmp_path / "proj" / "a" / "m.py")) == "a/m.py"
    assert config.relative(str(tmp_path / "elsewhere" / "m.py")) == ""
    assert not config.matches(str(tmp_path / "elsewhere" / "m.py"), "*")


# --------------------------------------------------------------------------- bad configuration, CLI

CLI_ERRORS = [
    # (pyproject text, expected parts of the one stderr line after the file path)
    ('[tool.padlint]\nselct = ["PAD1"]\n', ["unknown key 'selct' (did you mean 'select'?)"]),
    ('[tool.padlint]\nselect = ["PAD999"]\n', ["select: unknown rule code 'PAD999'"]),
    ('[tool.padlint]\nignore = ["XYZ1"]\n', ["ignore: unknown rule code 'XYZ1'"]),
    ('[tool.padlint]\nextend-select = ["PAD999"]\n', ["extend-select: unknown rule code 'PAD999'"]),
    ('[tool.padlint.per-file-ignores]\n"a.py" = ["PAD999"]\n', ["per-file-ignores 'a.py': unknown rule code 'PAD999'"]),
    ('[tool.padlint.severity]\nPAD999 = "warning"\n', ["severity: unknown rule code 'PAD999'"]),
    ('[tool.padlint]\nselect = "PAD101"\n', ["select must be a list of strings, got a string"]),
    ('[tool.padlint]\nfail-on = 3\n', ["fail-on must be one of", "got 3"]),
    ('[tool.padlint]\ninput-size = true\n', ["input-size must be a size or a list of sizes", "got True"]),
    ('[tool.padlint.severity]\nPAD105 = "fatal"\n', ["severity PAD105 must be one of", "got 'fatal'"]),
    ('[tool.padlint]\nper-file-ignores = ["a.py"]\n', ["per-file-ignores must be a table"]),
    ('[tool.padlint]\ntargets = "model.py"\n', ["targets must be a list of strings, got a string"]),
    ('[tool.padlint]\nexclude = [1]\n', ["exclude must be a list of strings"]),
    ('[tool.padlint\nselect = ["PAD1"]\n', ["is not valid TOML"]),
    ('[tool.padlint]\nselect = ["PAD1"\n', ["is not valid TOML"]),
    ('[tool.padlint.verify]\ndevic = "cpu"\n', ["verify unknown key 'devic' (did you mean 'device'?)"]),
    ('[tool.padlint.verify]\nenabled = 1\n', ["verify enabled must be true or false, got 1"]),
    ('[tool]\npadlint = 3\n', ["[tool.padlint] must be a table"]),
]
CLI_ERROR_IDS = [f"{i}-{parts[0][:30]}" for i, (_, parts) in enumerate(CLI_ERRORS)]


@pytest.mark.parametrize("toml, parts", CLI_ERRORS, ids=CLI_ERROR_IDS)
def test_bad_config_is_one_error_line(tmp_path, cli, toml, parts):
    path = project(tmp_path, toml)
    code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0")
    assert_one_error_line(code, out, err, f"{ERROR_PREFIX}{path}: ", *parts)


# The real command for a part of the matrix: these exit before torch is imported.
SUBPROCESS_ERRORS = [CLI_ERRORS[i] for i in (0, 1, 2, 6, 7, 8, 9, 13, 15, 17)]


@pytest.mark.parametrize("toml, parts", SUBPROCESS_ERRORS,
                         ids=[f"{parts[0][:30]}" for _, parts in SUBPROCESS_ERRORS])
def test_bad_config_through_the_command(tmp_path, toml, parts):
    path = project(tmp_path, toml)
    proc = run_cli(tmp_path, "check", "model.py", timeout=120)
    assert_one_error_line(proc.returncode, proc.stdout, proc.stderr, f"{ERROR_PREFIX}{path}: ", *parts)


def test_bad_config_found_from_a_subfolder_names_the_file(tmp_path, cli):
    path = project(tmp_path, '[tool.padlint]\nfail-on = "sometimes"\n', files=["sub/model.py"])
    code, out, err = cli(tmp_path / "sub", "check", "model.py", "--timeout", "0")
    assert_one_error_line(code, out, err, f"{ERROR_PREFIX}{path}: [tool.padlint] fail-on must be one of",
                          "got 'sometimes'")


def test_config_flag_errors(tmp_path, cli):
    project(tmp_path, None)
    proc = run_cli(tmp_path, "check", "model.py", "--config", "nope.toml", timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"{ERROR_PREFIX}--config nope.toml: no such file\n"

    write(tmp_path, "plain.toml", '[tool.ruff]\nline-length = 1\n')
    code, out, err = cli(tmp_path, "check", "model.py", "--config", "plain.toml", "--timeout", "0")
    assert_one_error_line(code, out, err)
    assert err == f"{ERROR_PREFIX}plain.toml: has no [tool.padlint] table\n"

    write(tmp_path, "bad.toml", "[tool.padlint]\nselect = [\n")
    code, out, err = cli(tmp_path, "check", "model.py", "--config", "bad.toml", "--timeout", "0")
    assert_one_error_line(code, out, err, f"{ERROR_PREFIX}bad.toml: is not valid TOML")


def test_no_target_is_an_error_naming_the_config(tmp_path, cli):
    path = project(tmp_path, '[tool.padlint]\nfail-on = "info"\n')
    code, out, err = cli(tmp_path, "check", "--timeout", "0")
    assert_one_error_line(code, out, err)
    assert err == (f"{ERROR_PREFIX}no target given: name a .py file, a folder or a module:attr spec, "
                   f"or list them in `targets` of [tool.padlint] in {path}\n")
    # without any configuration file the message names none
    code, out, err = cli(tmp_path, "check", "--isolated", "--timeout", "0")
    assert_one_error_line(code, out, err)
    assert err.endswith("list them in `targets` of [tool.padlint]\n")


def test_isolated_ignores_even_a_broken_config(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\nselct = ["PAD1"]\n')
    code, out, err = cli(tmp_path, "check", "model.py", "--isolated", "--timeout", "0",
                         "--format", "json")
    assert (code, err) == (1, "")
    assert findings(out) == ALL_FOUR


# --------------------------------------------------------------------------- keys, end to end

def test_severity_override_changes_label_and_exit_code_through_the_command(tmp_path):
    project(tmp_path, '[tool.padlint.severity]\nPAD105 = "warning"\n')
    proc = run_cli(tmp_path, "check", "model.py", "-s", "225", "--format", "concise")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    finding_lines = [line for line in lines if line.startswith("model.py:")]
    assert len(finding_lines) == 2
    assert all(line.startswith("model.py:8:21: PAD105 [warning] head ") for line in finding_lines)
    assert "PAD101" not in proc.stdout and "[info]" not in proc.stdout


def test_severity_override_in_json_and_without_it(tmp_path, cli):
    project(tmp_path, '[tool.padlint.severity]\npad105 = "warning"\nPAD101 = "error"\n')
    code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0", "--format", "json",
                         "--fail-on", "error")
    assert (code, err) == (1, "")
    assert findings(out) == [("PAD101", "error", "stem", "H"), ("PAD101", "error", "stem", "W"),
                             ("PAD105", "warning", "head", "H"), ("PAD105", "warning", "head", "W")]
    # the default severities: PAD105 info, so 225 (PAD105 only) passes
    code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0", "--isolated", "-s", "225",
                         "--format", "json")
    assert (code, err) == (0, "")
    assert findings(out) == INFO_ONLY
    # with the override, 225 fails under the default fail-on warning
    code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0", "-s", "225",
                         "--format", "json")
    assert code == 1
    assert findings(out) == [("PAD105", "warning", "head", "H"), ("PAD105", "warning", "head", "W")]


def test_sarif_uses_config_severity_and_root(tmp_path, cli):
    project(tmp_path, '[tool.padlint.severity]\nPAD105 = "warning"\n', files=["sub/model.py"])
    code, out, err = cli(tmp_path / "sub", "check", "model.py", "-s", "225", "--timeout", "0",
                         "--format", "sarif")
    assert (code, err) == (1, "")
    run = json.loads(out)["runs"][0]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]}
    assert (levels["PAD105"], levels["PAD101"]) == ("warning", "warning")
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"])
            for r in run["results"]] == [("PAD105", "warning",
                                          {"uri": "sub/model.py", "uriBaseId": "%SRCROOT%"})] * 2
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    # without the override PAD105 is a note
    code, out, err = cli(tmp_path / "sub", "check", "model.py", "-s", "225", "--timeout", "0",
                         "--format", "sarif", "--isolated")
    run = json.loads(out)["runs"][0]
    assert code == 0
    assert {r["id"]: r["defaultConfiguration"]["level"]
            for r in run["tool"]["driver"]["rules"]}["PAD105"] == "note"
    assert [r["level"] for r in run["results"]] == ["note"] * 2


def test_input_size_from_config_and_its_override(tmp_path, cli):
    project(tmp_path, "[tool.padlint]\ninput-size = 225\n")
    code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0", "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["results"][0]["input_shape"] == [1, 3, 225, 225]
    assert findings(out) == INFO_ONLY
    for flag in ("--input-size", "-s"):
        code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0", "--format", "json",
                             flag, "224")
        assert code == 1
        assert json.loads(out)["results"][0]["input_shape"] == [1, 3, 224, 224]
        assert findings(out) == ALL_FOUR


def test_input_size_list_in_config(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\ninput-size = ["224", "3x225x225"]\n')
    code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0", "--format", "json")
    assert (code, err) == (1, "")
    results = json.loads(out)["results"]
    assert [r["input_shape"] for r in results] == [[1, 3, 224, 224], [1, 3, 225, 225]]
    assert findings(out, 0) == ALL_FOUR
    assert findings(out, 1) == INFO_ONLY


def test_select_and_extend_select_and_their_overrides(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\nselect = ["PAD105"]\n')
    base = ("check", "model.py", "--timeout", "0", "--format", "json")
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (0, INFO_ONLY)
    code, out, _ = cli(tmp_path, *base, "--select", "PAD101")           # replaces the file's select
    assert (code, findings(out)) == (1, WARN_ONLY)
    code, out, _ = cli(tmp_path, *base, "--extend-select", "PAD101")    # adds to the file's select
    assert (code, findings(out)) == (1, ALL_FOUR)

    project(tmp_path, '[tool.padlint]\nselect = ["PAD105"]\nextend-select = ["PAD101"]\n')
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (1, ALL_FOUR)
    code, out, _ = cli(tmp_path, *base, "--select", "PAD105")           # drops the file's extend-select
    assert (code, findings(out)) == (0, INFO_ONLY)
    code, out, _ = cli(tmp_path, *base, "--select", "PAD105", "--extend-select", "PAD101")
    assert (code, findings(out)) == (1, ALL_FOUR)


def test_ignore_and_its_override(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\nignore = ["PAD101"]\n')
    base = ("check", "model.py", "--timeout", "0", "--format", "json")
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (0, INFO_ONLY)
    code, out, _ = cli(tmp_path, *base, "--ignore", "PAD105")           # replaces the file's ignore
    assert (code, findings(out)) == (1, WARN_ONLY)


def test_fail_on_and_its_override(tmp_path, cli):
    base = ("check", "model.py", "--timeout", "0", "--format", "json")
    project(tmp_path, '[tool.padlint]\nfail-on = "info"\ninput-size = 225\n')
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (1, INFO_ONLY)                      # info fails under "info"
    code, out, _ = cli(tmp_path, *base, "--fail-on", "warning")
    assert (code, findings(out)) == (0, INFO_ONLY)

    project(tmp_path, '[tool.padlint]\nfail-on = "error"\n')
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (0, ALL_FOUR)                       # warnings pass under "error"
    code, out, _ = cli(tmp_path, *base, "--fail-on", "warning")
    assert code == 1

    project(tmp_path, '[tool.padlint]\nfail-on = "never"\n')
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (0, ALL_FOUR)


def test_verify_disabled_runs_normally(tmp_path, cli):
    project(tmp_path, '[tool.padlint.verify]\nenabled = false\ndevice = "cpu"\n'
                      'baselines = ["zeros", "random"]\nimages = "imgs"\n')
    code, out, err = cli(tmp_path, "check", "model.py", "--timeout", "0", "--format", "json")
    assert (code, err) == (1, "")
    assert findings(out) == ALL_FOUR


# --------------------------------------------------------------------------- per-file-ignores

def test_per_file_ignores_suppresses_and_show_suppressed_lists(tmp_path, cli):
    project(tmp_path, '[tool.padlint.per-file-ignores]\n"sub" = ["PAD101"]\n', files=["sub/model.py"])
    code, out, err = cli(tmp_path, "check", "sub/model.py", "--timeout", "0")
    assert (code, err) == (0, "")                          # only info findings are left
    assert "PAD101" not in out
    assert out.count("PAD105 [info]") == 1 and " on H, W: " in out      # H and W on one line
    assert out.splitlines()[-1] == ("Found 2 findings (2 info) in 1 model run. "
                                    "2 suppressed (--show-suppressed lists them).")

    code, out, err = cli(tmp_path, "check", "sub/model.py", "--timeout", "0", "--show-suppressed")
    assert code == 0
    shown = [line for line in out.splitlines() if "PAD101" in line]
    assert len(shown) == 2
    for line in shown:
        assert line.startswith("sub/model.py:7:21: PAD101 [warning] stem ")
        assert "[suppressed by per-file-ignores" in line
        assert line.endswith('"sub" in pyproject.toml]')

    code, out, err = cli(tmp_path, "check", "sub/model.py", "--timeout", "0", "--format", "json",
                         "--show-suppressed")
    result = json.loads(out)["results"][0]
    assert findings(out) == INFO_ONLY
    assert [(s["rule"], s["layer"], s["axis"], s["suppressed_by"]) for s in result["suppressed"]] == [
        ("PAD101", "stem", "H", "per-file-ignores"), ("PAD101", "stem", "W", "per-file-ignores")]
    assert lines_of(result, "suppressed") == [("PAD101", 7)]


def test_per_file_ignores_patterns_relative_to_the_root(tmp_path, cli):
    base = ("check", "sub/model.py", "--timeout", "0", "--format", "json")
    for pattern, suppressed in [("model.py", True), ("sub/*.py", True), ("*", True),
                                ("other", False), ("ub", False), ("model.py/x", False)]:
        project(tmp_path, f'[tool.padlint.per-file-ignores]\n"{pattern}" = ["PAD1"]\n',
                files=["sub/model.py"])
        code, out, _ = cli(tmp_path, *base)
        result = json.loads(out)["results"][0]
        if suppressed:
            assert (code, findings(out), len(result["suppressed"])) == (0, [], 4), pattern
        else:
            assert (code, findings(out), result["suppressed"]) == (1, ALL_FOUR, []), pattern
    # a code prefix suppresses only its codes
    project(tmp_path, '[tool.padlint.per-file-ignores]\n"sub" = ["PAD105"]\n', files=["sub/model.py"])
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (1, WARN_ONLY)


def test_per_file_ignores_all(tmp_path, cli):
    project(tmp_path, '[tool.padlint.per-file-ignores]\n"model.py" = ["ALL"]\n')
    code, out, _ = cli(tmp_path, "check", "model.py", "--timeout", "0", "--format", "json")
    assert findings(out) == []
    assert code == 0


def test_ignore_all(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\nignore = ["ALL"]\n')
    code, out, _ = cli(tmp_path, "check", "model.py", "--timeout", "0", "--format", "json")
    assert findings(out) == []
    assert code == 0


# --------------------------------------------------------------------------- targets

def test_targets_from_the_root(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\ntargets = ["sub/model.py"]\n', files=["sub/model.py"])
    code, out, err = cli(tmp_path, "check", "--timeout", "0", "--format", "json")
    assert (code, err) == (1, "")
    assert [r["target"] for r in json.loads(out)["results"]] == ["sub/model.py:Net"]
    assert findings(out) == ALL_FOUR
    # a target on the command line replaces `targets`
    write(tmp_path, "other.py", MODEL.replace("class Net", "class Other"))
    code, out, err = cli(tmp_path, "check", "other.py", "--timeout", "0", "--format", "json")
    assert [r["target"] for r in json.loads(out)["results"]] == ["other.py:Other"]


def test_targets_and_per_file_ignores_from_a_subfolder_through_the_command(tmp_path):
    project(tmp_path, '[tool.padlint]\ntargets = ["sub/model.py"]\n\n'
                      '[tool.padlint.per-file-ignores]\n"sub" = ["PAD101"]\n',
            files=["sub/model.py"])
    (tmp_path / "sub" / "deeper").mkdir()
    proc = run_cli(tmp_path / "sub" / "deeper", "check", "--config", "../../pyproject.toml",
                   "--format", "json", "--show-suppressed")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["results"][0]
    # files outside the working directory are shown by their absolute path
    assert result["target"] == f"{tmp_path / 'sub' / 'model.py'}:Net"
    assert findings(proc.stdout) == INFO_ONLY
    assert [(s["rule"], s["suppressed_by"]) for s in result["suppressed"]] == [
        ("PAD101", "per-file-ignores")] * 2


def test_targets_from_a_subfolder_in_process(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\ntargets = ["nets"]\n', files=["nets/model.py"])
    (tmp_path / "docs").mkdir()
    for extra in ((), ("--config", "../pyproject.toml")):    # found upwards, or named
        code, out, err = cli(tmp_path / "docs", "check", *extra, "--timeout", "0", "--format", "json")
        assert (code, err) == (1, ""), extra
        assert [r["target"] for r in json.loads(out)["results"]] == [f"{tmp_path / 'nets' / 'model.py'}:Net"]
        assert findings(out) == ALL_FOUR


def test_targets_attr_spec_is_relative_to_the_root(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\ntargets = ["sub/model.py:Net"]\n', files=["sub/model.py"])
    code, out, err = cli(tmp_path / "sub", "check", "--config", "../pyproject.toml",
                         "--timeout", "0", "--format", "json")
    assert (code, err) == (1, "")
    assert findings(out) == ALL_FOUR


# --------------------------------------------------------------------------- exclude

def test_exclude_in_folder_walks_and_force_exclude(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\nexclude = ["legacy"]\n', files=["legacy/model.py", "ok/m.py"])
    base = ("--timeout", "0", "--format", "json")
    code, out, err = cli(tmp_path, "check", ".", *base)
    assert (code, err) == (1, "")
    assert [r["target"] for r in json.loads(out)["results"]] == ["ok/m.py:Net"]

    # a file named on the command line is checked anyway ...
    code, out, err = cli(tmp_path, "check", "legacy/model.py", *base)
    assert [r["target"] for r in json.loads(out)["results"]] == ["legacy/model.py:Net"]
    assert findings(out) == ALL_FOUR
    # ... unless --force-exclude
    code, out, err = cli(tmp_path, "check", "legacy/model.py", "ok/m.py", *base, "--force-exclude")
    assert (code, err) == (1, "")
    assert [r["target"] for r in json.loads(out)["results"]] == ["ok/m.py:Net"]
    code, out, err = cli(tmp_path, "check", "legacy/model.py", *base, "--force-exclude")
    assert (code, err) == (0, "")
    assert json.loads(out)["results"] == []

    # exclude is relative to the root, also when running from a subfolder
    code, out, err = cli(tmp_path / "ok", "check", "..", *base)
    assert [r["target"] for r in json.loads(out)["results"]] == ["m.py:Net"]   # legacy/ is skipped


def test_exclude_every_file_of_a_folder(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\nexclude = ["*_old.py"]\n', files=["nets/a_old.py"])
    code, out, err = cli(tmp_path, "check", "nets", "--timeout", "0", "--format", "json")
    targets = [r["target"] for r in json.loads(out)["results"]] if out else []
    assert not any(t.startswith("nets/a_old.py") for t in targets), targets


def test_config_flag_reads_another_file(tmp_path, cli):
    project(tmp_path, '[tool.padlint]\nselect = ["PAD101"]\n')
    write(tmp_path, "conf/padlint.toml", '[tool.padlint]\nselect = ["PAD105"]\n')
    base = ("check", "model.py", "--timeout", "0", "--format", "json")
    code, out, _ = cli(tmp_path, *base)
    assert (code, findings(out)) == (1, WARN_ONLY)
    code, out, _ = cli(tmp_path, *base, "--config", "conf/padlint.toml")
    assert (code, findings(out)) == (0, INFO_ONLY)
    code, out, _ = cli(tmp_path, *base, "--isolated")
    assert (code, findings(out)) == (1, ALL_FOUR)


# --------------------------------------------------------------------------- padlint sizes

def test_sizes_uses_config_input_size(tmp_path, cli):
    project(tmp_path, "[tool.padlint]\ninput-size = 225\n")
    base = ("sizes", "model.py", "--timeout", "0", "--format", "json")
    code, out, err = cli(tmp_path, *base)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["input_shape"] == [1, 3, 225, 225]
    assert [list(a["nearest"]) for a in data["axis_results"]] == [["225"], ["225"]]
    code, out, err = cli(tmp_path, *base, "-s", "224")
    assert code == 0
    data = json.loads(out)
    assert data["input_shape"] == [1, 3, 224, 224]
    assert [a["nearest"] for a in data["axis_results"]] == [{"224": [223, 225]}] * 2


def test_sizes_reports_a_bad_config(tmp_path, cli):
    path = project(tmp_path, "[tool.padlint]\ninput-size = true\n")
    code, out, err = cli(tmp_path, "sizes", "model.py", "--timeout", "0")
    assert_one_error_line(code, out, err, f"{ERROR_PREFIX}{path}: [tool.padlint] input-size must be")


def test_api_severity_override_codes_in_any_case():
    from torch import nn

    import padlint
    report = padlint.analyze(nn.Sequential(nn.Conv2d(3, 8, 2)), 224, severity={" pad105": "error"})
    assert [(f.rule, f.severity, f.axis) for f in report.findings] == [
        ("PAD105", "error", "H"), ("PAD105", "error", "W")]
    with pytest.raises(PadlintError, match=r"^invalid severity override PAD999 = 'error'"):
        padlint.analyze(nn.Sequential(nn.Conv2d(3, 8, 2)), 224, severity={"PAD999": "error"})
