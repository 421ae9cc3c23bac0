"""The machine-readable output formats of `padlint check`: concise, github, json and sarif.

Golden files hold each format on the shipped examples (one `python -m padlint` subprocess
per format, as in test_golden.py; regenerate them with PADLINT_UPDATE_GOLDEN=1). The rest
lints small model files written into tmp_path, in this process (`padlint.cli.main` with
`--timeout 0`, the working directory set to the model's folder), which is the real command
without the start-up cost of a new interpreter.
"""
import json
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
import yaml

from padlint.cli.main import main
from padlint.ir.source import Source
from padlint.output.formats import github_command
from paths import DATA, ROOT, check_golden

SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
ROOT_PLACEHOLDER = "file:///PADLINT_ROOT/"

GOLDEN_NAMES = {"concise": "examples.concise.txt", "github": "examples.github.txt",
                "json": "examples.json", "sarif": "examples.sarif.json"}
ALL_FORMATS = ("text", "concise", "json", "sarif", "github")
EXAMPLES_SKIPPED = [
    "padlint: examples/resnet.py: BasicBlock needs arguments; it is analysed inside the models "
    "that use it"]

# At 224: conv (line 7, columns 21-60) pads 1 top, 0 bottom (PAD101 on H and W); down
# (line 8, columns 21-49) is a 1x1 stride-2 conv at 112: PAD102 (error) and PAD103 (info).
NET = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1){noqa}
        self.down = nn.Conv2d(8, 8, 1, stride=2)

    def forward(self, x):
        return self.down(self.conv(x))
"""

NET_CONCISE = """\
net.py:7:21: PAD101 [warning] conv uses its padding unevenly on H at input 224: 1 top but 0 bottom (1 end padding row never read)
net.py:7:21: PAD101 [warning] conv uses its padding unevenly on W at input 224: 1 left but 0 right (1 end padding column never read)
net.py:8:21: PAD102 [error] down never reads the last 1 input row on H at input 112: its last window ends at input index 110
net.py:8:21: PAD102 [error] down never reads the last 1 input column on W at input 112: its last window ends at input index 110
net.py:8:21: PAD103 [info] down never reads 55 of 112 input rows inside the map on H (a 1x1 window at stride 2)
net.py:8:21: PAD103 [info] down never reads 55 of 112 input columns inside the map on W (a 1x1 window at stride 2)
Found 6 findings (2 error, 2 warning, 2 info) in 1 model run.
"""

# Only PAD105 (info) fires: a 2x2 stride-1 conv, line 7, columns 21-39.
INFO_ONLY = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 2)

    def forward(self, x):
        return self.conv(x)
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def net_source(noqa: str = "") -> str:
    return NET.format(noqa=noqa)


@pytest.fixture
def padlint(monkeypatch, capsys):
    """`padlint check ARGS --timeout 0` run in ``cwd``: (exit code, stdout, stderr)."""
    def run(cwd, *args):
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(["check", *map(str, args), "--timeout", "0"])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def sarif_run(text: str) -> dict:
    doc = json.loads(text)
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    return doc["runs"][0]


def region(result: dict) -> dict:
    return result["locations"][0]["physicalLocation"]["region"]


def artifact(result: dict) -> dict:
    return result["locations"][0]["physicalLocation"]["artifactLocation"]


def fingerprints(run: dict) -> list[str]:
    return [r["partialFingerprints"]["padlintFinding/v1"] for r in run["results"]]


_GITHUB = re.compile(r"^::(error|warning|notice) (.*?)::(.*)$")


def parse_github(line: str) -> tuple[str, dict, str]:
    match = _GITHUB.match(line)
    assert match, line
    props = dict(item.split("=", 1) for item in match.group(2).split(","))
    return match.group(1), props, match.group(3)


# -- golden files on examples/ ------------------------------------------------------------

def _run_examples(fmt: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "padlint", "check", "examples/", "--format", fmt],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "80"})


@pytest.fixture(scope="module")
def examples() -> dict[str, subprocess.CompletedProcess]:
    """`padlint check examples/ --format F` for each machine format, two at a time."""
    formats = list(GOLDEN_NAMES)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(formats, pool.map(_run_examples, formats)))


def _normalise_sarif(text: str) -> str:
    """The root URI is machine-specific: replace it with a placeholder."""
    uri = sarif_run(text)["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert uri == ROOT.as_uri() + "/"
    needle = f'"uri": {json.dumps(uri)}'
    assert text.count(needle) == 1
    return text.replace(needle, f'"uri": {json.dumps(ROOT_PLACEHOLDER)}')


@pytest.mark.parametrize("fmt", list(GOLDEN_NAMES))
def test_examples_golden(examples, fmt):
    proc = examples[fmt]
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == EXAMPLES_SKIPPED
    text = _normalise_sarif(proc.stdout) if fmt == "sarif" else proc.stdout
    check_golden(GOLDEN_NAMES[fmt], text)


def test_examples_concise_shape(examples):
    lines = examples["concise"].stdout.splitlines()
    assert lines[-1] == "Found 51 findings (6 error, 39 warning, 6 info) in 8 model runs."
    assert len(lines) == 52
    pattern = re.compile(r"^examples/\w+\.py:\d+:\d+: PAD\d{3} \[(error|warning|info)\] \S+ .+$")
    assert all(pattern.match(line) for line in lines[:-1])
    assert lines.count("examples/vgg.py:10:26: PAD102 [error] features.0.2 never reads the last 1 "
                       "input row on H at input 225: its last window ends at input index 223") == 1


def test_examples_github_levels(examples):
    parsed = [parse_github(line) for line in examples["github"].stdout.splitlines()]
    assert len(parsed) == 51
    levels = Counter((props["title"].split()[0], level) for level, props, _ in parsed)
    assert levels == {("PAD101", "warning"): 31, ("PAD102", "error"): 6, ("PAD104", "warning"): 4,
                      ("PAD103", "notice"): 4, ("PAD901", "notice"): 2, ("PAD107", "warning"): 4}
    # the PAD901 of dynamic.py spans lines 13-14: endLine, and no endColumn
    assert examples["github"].stdout.count(
        "::notice file=examples/dynamic.py,line=13,col=9,endLine=14,title=PAD901 untraceable::") == 1
    assert examples["github"].stdout.count(
        "::error file=examples/vgg.py,line=10,col=26,endColumn=41,title=PAD102 dropped-input::"
        "features.0.2 (MaxPool2d k=2 s=2 p=0) never reads the last 1 input row on H") == 1


def _yaml_rules() -> dict[str, dict]:
    rules = {}
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        rules[data["code"]] = data
    return rules


def _flat(text) -> str:
    return " ".join(str(text).split())


def test_examples_sarif_content(examples):
    run = sarif_run(examples["sarif"].stdout)
    assert run["tool"]["driver"]["name"] == "padlint"
    assert run["invocations"] == [{"executionSuccessful": True}]
    descriptors = run["tool"]["driver"]["rules"]
    docs = _yaml_rules()
    assert [d["id"] for d in descriptors] == sorted(docs)
    level = {"error": "error", "warning": "warning", "info": "note"}
    for d in descriptors:
        rule = docs[d["id"]]
        assert d["name"] == rule["name"]
        assert d["shortDescription"] == {"text": rule["title"]}
        assert d["fullDescription"] == {"text": _flat(rule["docs"]["what"])}
        assert d["defaultConfiguration"] == {"level": level[rule["severity"]]}
        why, example, instead = (_flat(rule["docs"][k]) for k in ("why", "example", "use_instead"))
        assert d["help"]["text"] == f"Why is this bad?\n{why}\n\nExample\n{example}\n\nUse instead\n{instead}"
        assert d["help"]["markdown"].startswith(
            f"**Why is this bad?** {why}\n\n**Example** {example}\n\n**Use instead** {instead}")

    results = run["results"]
    assert len(results) == 51
    assert Counter((r["ruleId"], r["level"]) for r in results) == {
        ("PAD101", "warning"): 31, ("PAD102", "error"): 6, ("PAD104", "warning"): 4,
        ("PAD103", "note"): 4, ("PAD901", "note"): 2, ("PAD107", "warning"): 4}
    for r in results:
        assert descriptors[r["ruleIndex"]]["id"] == r["ruleId"]
        assert artifact(r)["uriBaseId"] == "%SRCROOT%"
        assert re.fullmatch(r"examples/\w+\.py", artifact(r)["uri"])
        assert re.fullmatch(r"[0-9a-f]{32}", r["partialFingerprints"]["padlintFinding/v1"])
    assert len(set(fingerprints(run))) == 51
    vgg = [r for r in results if artifact(r)["uri"] == "examples/vgg.py"]
    assert [(r["ruleId"], r["level"], r["properties"]["axis"]) for r in vgg] == [
        ("PAD102", "error", "H"), ("PAD102", "error", "W")]
    assert all(region(r) == {"startLine": 10, "startColumn": 26, "endLine": 10, "endColumn": 41}
               for r in vgg)
    untraceable = [r for r in results if r["ruleId"] == "PAD901"
                   and artifact(r)["uri"] == "examples/dynamic.py"]
    assert [region(r) for r in untraceable] == [
        {"startLine": 13, "startColumn": 9, "endLine": 14, "endColumn": 28}]


def test_examples_sarif_validates(examples):
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(examples["sarif"].stdout))


def test_every_json_finding_once_in_each_format(examples):
    """Each finding of the json report is exactly one line of concise and github output and
    exactly one SARIF result, at the same place with the same text."""
    report = json.loads(examples["json"].stdout)
    findings = [f for result in report["results"] for f in result["findings"]]
    assert len(findings) == 51
    assert all(f["source"] is not None for f in findings)

    def described(f):
        return f"{f['layer'] or '<model>'}" + (f" ({f['op']})" if f["op"] else "") + \
            f" {f['message']}. Fix: {f['fix']}"

    pairs = Counter((f["rule"], f["source"]["line"]) for f in findings)

    concise = examples["concise"].stdout.splitlines()[:-1]
    assert Counter(concise) == Counter(
        f"{f['source']['path']}:{f['source']['line']}:{f['source']['col']}: {f['rule']} "
        f"[{f['severity']}] {f['layer'] or '<model>'} {f['message']}" for f in findings)
    assert Counter((line.split()[1], int(line.split(":")[1])) for line in concise) == pairs

    github = [parse_github(line) for line in examples["github"].stdout.splitlines()]
    assert Counter((props["title"].split()[0], props["file"], int(props["line"]), int(props["col"]),
                    message) for _, props, message in github) == Counter(
        (f["rule"], f["source"]["path"], f["source"]["line"], f["source"]["col"], described(f))
        for f in findings)
    assert Counter((props["title"].split()[0], int(props["line"])) for _, props, _ in github) == pairs

    sarif = sarif_run(examples["sarif"].stdout)["results"]
    assert Counter((r["ruleId"], artifact(r)["uri"], region(r)["startLine"], region(r)["startColumn"],
                    region(r)["endLine"], region(r).get("endColumn"), r["properties"]["axis"],
                    r["message"]["text"]) for r in sarif) == Counter(
        (f["rule"], f["source"]["path"], f["source"]["line"], f["source"]["col"],
         f["source"]["end_line"], f["source"]["end_col"], f["axis"], described(f)) for f in findings)
    assert Counter((r["ruleId"], region(r)["startLine"]) for r in sarif) == pairs


# -- SARIF on small models ----------------------------------------------------------------

def test_sarif_show_suppressed_validates_and_marks_noqa(tmp_path, padlint):
    write(tmp_path, "net.py", net_source("  # noqa: PAD101"))
    code, out, err = padlint(tmp_path, "net.py", "--format", "sarif", "--show-suppressed")
    assert (code, err) == (1, "")
    doc = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    run = doc["runs"][0]
    # no configuration file: the working directory is the root
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}}
    results = run["results"]
    assert [(r["ruleId"], r["level"], r["properties"]["axis"], "suppressions" in r)
            for r in results] == [
        ("PAD102", "error", "H", False), ("PAD102", "error", "W", False),
        ("PAD103", "note", "H", False), ("PAD103", "note", "W", False),
        ("PAD101", "warning", "H", True), ("PAD101", "warning", "W", True)]
    for r in results[4:]:
        assert r["suppressions"] == [{"kind": "inSource",
                                      "justification": "suppressed by noqa at net.py:7:62"}]
        assert artifact(r) == {"uri": "net.py", "uriBaseId": "%SRCROOT%"}
        assert region(r) == {"startLine": 7, "startColumn": 21, "endLine": 7, "endColumn": 60}
    descriptors = run["tool"]["driver"]["rules"]
    assert all(descriptors[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)

    code, out, _ = padlint(tmp_path, "net.py", "--format", "sarif")
    assert code == 1
    plain = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(plain)
    assert plain["runs"][0]["results"] == results[:4]


def test_sarif_schema_rejects_a_broken_log():
    """The validation above can fail: a result without a message is not SARIF."""
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "padlint"}},
                                            "results": [{"ruleId": "PAD101"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(broken)


def test_fingerprints_stable_across_runs_folders_and_line_moves(tmp_path, padlint):
    proj, other = tmp_path / "proj", tmp_path / "other"
    other.mkdir()
    model = write(proj, "net.py", net_source())
    write(proj, "pyproject.toml", "[tool.padlint]\n")
    root_uri = proj.resolve().as_uri() + "/"

    code, out, _ = padlint(proj, "net.py", "--format", "sarif")
    assert code == 1
    first = sarif_run(out)
    prints = fingerprints(first)
    assert len(prints) == 6 and len(set(prints)) == 6
    assert first["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root_uri
    assert [artifact(r) for r in first["results"]] == [{"uri": "net.py", "uriBaseId": "%SRCROOT%"}] * 6
    assert [region(r)["startLine"] for r in first["results"]] == [7, 7, 8, 8, 8, 8]

    _, out, _ = padlint(proj, "net.py", "--format", "sarif")
    assert sarif_run(out)["results"] == first["results"]

    # another working directory, the configuration named: its folder is still the root
    code, out, _ = padlint(other, "../proj/net.py", "--config", "../proj/pyproject.toml",
                           "--format", "sarif")
    assert code == 1
    elsewhere = sarif_run(out)
    assert elsewhere["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root_uri
    assert fingerprints(elsewhere) == prints
    assert [artifact(r) for r in elsewhere["results"]] == [artifact(r) for r in first["results"]]
    assert [region(r) for r in elsewhere["results"]] == [region(r) for r in first["results"]]

    # three lines above the class move every finding down by three: same fingerprints
    model.write_text(net_source().replace("class Net", "# one\n# two\n\nclass Net"))
    code, out, _ = padlint(proj, "net.py", "--format", "sarif")
    assert code == 1
    moved = sarif_run(out)
    assert fingerprints(moved) == prints
    assert [region(r)["startLine"] for r in moved["results"]] == [10, 10, 11, 11, 11, 11]
    assert [region(r)["endLine"] for r in moved["results"]] == [10, 10, 11, 11, 11, 11]
    assert [region(r)["startColumn"] for r in moved["results"]] == \
        [region(r)["startColumn"] for r in first["results"]]


def test_sarif_file_named_dotdot_inside_root_is_relative(tmp_path, padlint):
    write(tmp_path, "..net.py", INFO_ONLY)
    code, out, _ = padlint(tmp_path, "..net.py", "--format", "sarif")
    assert code == 0
    assert [artifact(r) for r in sarif_run(out)["results"]] == [
        {"uri": "..net.py", "uriBaseId": "%SRCROOT%"}] * 2


def test_sarif_relative_uri_is_percent_encoded(tmp_path, padlint):
    write(tmp_path, "my models/net#1.py", INFO_ONLY)
    code, out, _ = padlint(tmp_path, "my models/net#1.py", "--format", "sarif")
    assert code == 0
    assert [artifact(r) for r in sarif_run(out)["results"]] == [
        {"uri": "my%20models/net%231.py", "uriBaseId": "%SRCROOT%"}] * 2


# -- --output-file, --exit-zero -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_output_file_gets_the_report_and_stdout_nothing(tmp_path, padlint, fmt):
    write(tmp_path, "net.py", net_source())
    code, expected, err = padlint(tmp_path, "net.py", "--format", fmt)
    assert (code, err) == (1, "")
    assert expected.count("PAD102") >= (1 if fmt == "text" else 2)   # text: H and W on one line
    code, out, err = padlint(tmp_path, "net.py", "--format", fmt, "-o", f"report.{fmt}")
    assert (code, out, err) == (1, "", "")
    assert (tmp_path / f"report.{fmt}").read_text() == expected


def test_concise_output_exact(tmp_path, padlint):
    write(tmp_path, "net.py", net_source())
    code, out, err = padlint(tmp_path, "net.py", "--format", "concise")
    assert (code, out, err) == (1, NET_CONCISE, "")


def test_output_file_in_missing_folder(tmp_path):
    write(tmp_path, "net.py", net_source())
    proc = subprocess.run([sys.executable, "-m", "padlint", "check", "net.py", "--format", "sarif",
                           "--output-file", "missing/out.sarif"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("padlint: error: --output-file missing/out.sarif")
    assert not (tmp_path / "missing").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.py"]


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_exit_zero_keeps_the_findings(tmp_path, padlint, fmt):
    write(tmp_path, "net.py", net_source())
    code, failing, _ = padlint(tmp_path, "net.py", "--format", fmt)
    assert code == 1
    code, out, err = padlint(tmp_path, "net.py", "--format", fmt, "--exit-zero")
    assert (code, err) == (0, "")
    assert out == failing
    assert out.count("PAD102") >= (1 if fmt == "text" else 2)


# -- github annotations -------------------------------------------------------------------

def test_github_command_escapes_message_and_properties():
    source = Source("dir,a:b%/net.py", 3, 5, 3, 9)
    assert github_command("warning", "100% sure\nnext\rline: a, b", source, "PAD101 uneven-padding") == (
        "::warning file=dir%2Ca%3Ab%25/net.py,line=3,col=5,endColumn=9,title=PAD101 uneven-padding"
        "::100%25 sure%0Anext%0Dline: a, b")
    assert github_command("error", "m", Source("a.py", 3, 5, 6, 2), "T: x, y") == \
        "::error file=a.py,line=3,col=5,endLine=6,title=T%3A x%2C y::m"
    assert github_command("notice", "50%\n") == "::notice::50%25%0A"
    assert github_command("warning", "m", Source("a.py", 4, 1)) == "::warning file=a.py,line=4,col=1::m"


def test_github_file_property_escaped_from_the_cli(tmp_path, padlint):
    write(tmp_path, "a,b/net.py", INFO_ONLY)
    code, out, _ = padlint(tmp_path, "a,b/net.py", "--format", "github")
    assert code == 0
    assert [line.split("::")[1] for line in out.splitlines()] == [
        "notice file=a%2Cb/net.py,line=7,col=21,endColumn=39,title=PAD105 even-kernel-shift"] * 2


# -- info-only findings -------------------------------------------------------------------

def test_info_only_findings_are_sarif_notes_and_github_notices(tmp_path, padlint):
    write(tmp_path, "info.py", INFO_ONLY)
    code, out, err = padlint(tmp_path, "info.py", "--format", "sarif")
    assert (code, err) == (0, "")
    run = sarif_run(out)
    assert [(r["ruleId"], r["level"], region(r)) for r in run["results"]] == [
        ("PAD105", "note", {"startLine": 7, "startColumn": 21, "endLine": 7, "endColumn": 39})] * 2
    descriptor = run["tool"]["driver"]["rules"][run["results"][0]["ruleIndex"]]
    assert descriptor["id"] == "PAD105"
    assert descriptor["defaultConfiguration"] == {"level": "note"}

    code, out, err = padlint(tmp_path, "info.py", "--format", "github")
    assert (code, err) == (0, "")
    fix = "Fix: use an odd kernel (3), or keep it if the half-cell shift is intended"
    assert out.splitlines() == [
        "::notice file=info.py,line=7,col=21,endColumn=39,title=PAD105 even-kernel-shift::conv "
        f"(Conv2d k=2 s=1 p=0) has an even effective kernel (2) on {axis}: its output cells sit "
        f"half a cell off the input grid. {fix}" for axis in "HW"]

    code, out, _ = padlint(tmp_path, "info.py", "--format", "concise")
    assert code == 0
    assert out.splitlines()[-1] == "Found 2 findings (2 info) in 1 model run."


# -- concise at line 100 ------------------------------------------------------------------

def test_concise_location_at_line_100(tmp_path, padlint):
    padding = "".join(f"# line {i}\n" for i in range(7, 100))
    text = net_source().replace("from torch import nn\n", "from torch import nn\n" + padding, 1)
    write(tmp_path, "net.py", text)
    assert text.splitlines()[99].strip().startswith("self.conv = nn.Conv2d")
    code, out, _ = padlint(tmp_path, "net.py", "--format", "concise")
    assert code == 1
    assert out.splitlines()[0] == ("net.py:100:21: PAD101 [warning] conv uses its padding unevenly "
                                   "on H at input 224: 1 top but 0 bottom (1 end padding row never read)")
