"""Rule packs: YAML + Python pairs loaded from a folder, and the errors a broken pack
gives (each one line naming the file)."""
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from padlint.engine import registry
from padlint.engine.registry import collect, load_folder, pack_modules
from padlint.errors import PadlintError
from paths import ROOT, TESTS

RULE_EXAMPLES = TESTS / "rules" / "test_rule_examples.py"     # run on a copy of the repository

YAML = """\
code: {code}
name: {name}
title: "a test rule that fires on every even input length"
severity: {severity}
scope: {scope}
summary: "has an even input length {{n}} on {{axis}}"
fix: "use an odd input length"
docs: {{what: w, why: y, example: e, use_instead: u, references: [r]}}
examples: {{}}
"""
CHECK = """\
from ._shared import even


def vector(f):
    return f.n % 2 == 0


def check(layer, f):
    return {} if even(f.n) else None
"""


def pack(folder, *rules, shared=True, **files):
    """A pack folder with one YAML + .py pair per (code, name[, scope]) and extra files."""
    folder.mkdir(parents=True, exist_ok=True)
    if shared:
        (folder / "_shared.py").write_text("def even(n):\n    return n % 2 == 0\n")
    for code, name, *scope in rules:
        (folder / f"{code}-{name}.yaml").write_text(YAML.format(
            code=code, name=name, severity="info", scope=scope[0] if scope else "axis"))
        (folder / f"{name.replace('-', '_')}.py").write_text(CHECK)
    for file, text in files.items():
        (folder / file.replace("__", ".")).write_text(textwrap.dedent(text))
    return folder


def error_of(folder) -> str:
    with pytest.raises(PadlintError) as err:
        collect([load_folder(folder)])
    message = str(err.value)
    assert "\n" not in message
    return message


def test_a_pack_in_a_folder_loads_its_pairs(tmp_path):
    rules = load_folder(pack(tmp_path / "p", ("XYZ101", "even-length"), ("XYZ102", "other-even", "model")))
    assert [(r.code, r.name, r.scope, r.severity) for r in rules] == [
        ("XYZ101", "even-length", "axis", "info"), ("XYZ102", "other-even", "model", "info")]
    axis, model = rules
    assert axis.vector is not None and model.vector is None      # a vector only for axis rules
    assert axis.path.endswith("XYZ101-even-length.yaml")
    assert axis.check(None, type("F", (), {"n": 4})()) == {}    # its helper came from _shared.py


def test_a_yaml_without_its_check(tmp_path):
    folder = pack(tmp_path / "p")
    (folder / "PAD199-x.yaml").write_text(YAML.format(code="PAD199", name="x", severity="info", scope="axis"))
    message = error_of(folder)
    assert message.startswith(f"{folder}/PAD199-x.yaml: no check: expected {folder}/x.py next to it")


def test_a_check_without_its_yaml(tmp_path):
    folder = pack(tmp_path / "p", ("XYZ101", "even-length"), stray__py=CHECK)
    message = error_of(folder)
    assert message.startswith(f"{folder}/stray.py: no rule file: expected {folder}/<CODE>-stray.yaml")


def test_a_module_without_a_check_function(tmp_path):
    folder = pack(tmp_path / "p", ("XYZ101", "even-length"))
    (folder / "even_length.py").write_text("def chek(layer, f):\n    return None\n")
    message = error_of(folder)
    assert message.startswith(f"{folder}/even_length.py: no check function")
    assert "XYZ101-even-length.yaml" in message


def test_a_yaml_whose_file_name_does_not_match(tmp_path):
    folder = pack(tmp_path / "p", ("XYZ101", "even-length"))
    (folder / "XYZ101-even-length.yaml").rename(folder / "XYZ101-even.yaml")
    message = error_of(folder)
    assert message == (f"{folder}/XYZ101-even.yaml: the file name does not match its code and "
                       "name: expected XYZ101-even-length.yaml")


def test_an_unknown_scope(tmp_path):
    folder = pack(tmp_path / "p", ("XYZ101", "even-length", "layer"))
    message = error_of(folder)
    assert message == (f"{folder}/XYZ101-even-length.yaml: unknown scope 'layer': expected one of "
                       "axis, model, verify, stats, blindspots")


def test_a_yaml_without_scope(tmp_path):
    folder = pack(tmp_path / "p", ("XYZ101", "even-length"))
    path = folder / "XYZ101-even-length.yaml"
    path.write_text(path.read_text().replace("scope: axis\n", ""))
    assert error_of(folder) == (f"{path}: unknown scope None: expected one of axis, model, verify, "
                                "stats, blindspots")


def test_a_code_defined_twice_in_one_pack(tmp_path):
    folder = pack(tmp_path / "p", ("XYZ101", "even-length"), ("XYZ101", "again"))
    message = error_of(folder)
    assert message == (f"{folder}/XYZ101-even-length.yaml: rule XYZ101 is defined twice: also in "
                       f"{folder}/XYZ101-again.yaml")


def test_a_code_defined_in_two_packs(tmp_path):
    one = load_folder(pack(tmp_path / "one", ("XYZ101", "even-length")))
    two = load_folder(pack(tmp_path / "two", ("XYZ101", "even-length")))
    with pytest.raises(PadlintError, match=r"two/XYZ101-even-length\.yaml: rule XYZ101 is defined "
                                           r"twice: also in .*one/XYZ101-even-length\.yaml$"):
        collect([one, two])


def test_a_check_that_fails_to_import(tmp_path):
    folder = pack(tmp_path / "p", ("XYZ101", "even-length"))
    (folder / "even_length.py").write_text("import padlint.no_such_module\n")
    assert error_of(folder).startswith(f"{folder}/even_length.py: failed to import: ModuleNotFoundError")


def _points(monkeypatch, *values):
    points = importlib.metadata.EntryPoints(
        importlib.metadata.EntryPoint(f"p{i}", value, registry.GROUP) for i, value in enumerate(values))
    monkeypatch.setattr(registry.importlib.metadata, "entry_points", lambda group: points)


def test_the_core_pack_comes_only_from_its_entry_point(monkeypatch):
    _points(monkeypatch)
    with pytest.raises(PadlintError, match=r"the core rule pack is not registered .*"
                                           r"reinstall padlint, e\.g\. `pip install -e \.`"):
        pack_modules()


def test_the_same_entry_point_twice_is_one_pack(monkeypatch):
    _points(monkeypatch, registry.CORE, registry.CORE)            # an editable and a wheel install
    assert [p.__name__ for p in pack_modules()] == [registry.CORE]


def test_an_entry_point_that_is_not_a_package(monkeypatch):
    _points(monkeypatch, registry.CORE, "padlint.engine.words:join_words")
    with pytest.raises(PadlintError, match=r"rule pack 'p1' \(padlint\.engine\.words:join_words\) is "
                                           "not a package"):
        pack_modules()


# --------------------------------------------------------------------------- a rule in two files

def _run(*args, cwd, env=None, timeout=600):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _build_env(site: Path) -> dict:
    """The environment for `pip wheel --no-build-isolation`: the build backend from the
    packages torch comes from when it can build wheels (setuptools >= 70.1 or wheel), else
    None: pip then builds in isolation."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import importlib.util, setuptools
        major, minor = (int(v) for v in setuptools.__version__.split(".")[:2])
        assert (major, minor) >= (70, 1) or importlib.util.find_spec("wheel")""")],
        env=env, capture_output=True, check=False)
    return env if probe.returncode == 0 else None


@pytest.mark.slow
def test_PAD199_copied_in_two_files_is_a_rule_after_a_wheel_install():
    """Copy PAD105's two files to PAD199 (code and name changed, nothing else edited),
    build a wheel of the copy, install it (not editable) in a fresh virtual environment,
    and the rule is listed, documented and its examples run as tests."""
    # not tmp_path: its folder is named after this test, and `-k PAD199` would match
    # every test of the copy by that folder name
    with tempfile.TemporaryDirectory(prefix="padlint-copy-") as folder:
        _copy_pad105_build_install_and_run(Path(folder))


def _copy_pad105_build_install_and_run(tmp_path: Path) -> None:
    import torch
    started = time.perf_counter()
    root = ROOT
    copy = tmp_path / "copy"
    for name in _run("git", "ls-files", cwd=root).stdout.splitlines():
        if (root / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, copy / name)
    for source, target in (("PAD105-even-kernel-shift.yaml", "PAD199-copied-shift.yaml"),
                           ("even_kernel_shift.py", "copied_shift.py")):
        text = (copy / "rules" / source).read_text()
        (copy / "rules" / target).write_text(
            text.replace("PAD105", "PAD199").replace("even-kernel-shift", "copied-shift"))

    site = Path(torch.__file__).resolve().parent.parent        # the packages to reuse
    env = _build_env(site)
    wheels = tmp_path / "wheels"
    isolation = ["--no-build-isolation"] if env is not None else []
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", wheels, copy,
         cwd=tmp_path, env=env)
    built = time.perf_counter()
    (wheel,) = wheels.glob("padlint-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    own = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=tmp_path).stdout.strip())
    (own / "reuse.pth").write_text(f"{site}\n")
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    installed = time.perf_counter()

    outside = tmp_path / "elsewhere"                 # not the copy: the wheel must be imported
    outside.mkdir()
    where = _run(python, "-c", "import padlint._rules; print(padlint._rules.__file__)", cwd=outside)
    assert where.stdout.startswith(str(own)), where.stdout

    listed = _run(venv / "bin" / "padlint", "rules", cwd=outside).stdout
    assert [line.split()[:3] for line in listed.splitlines() if line.startswith("PAD199")] == [
        ["PAD199", "copied-shift", "info"]]
    documented = _run(venv / "bin" / "padlint", "rule", "PAD199", cwd=outside).stdout
    assert documented.splitlines()[0] == "PAD199 copied-shift (info): even kernel: output grid shifted half a cell"
    assert "Use instead" in documented.splitlines()

    tested = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
                  "--rootdir", outside, copy / (RULE_EXAMPLES.relative_to(ROOT)), "-k", "PAD199",
                  cwd=outside).stdout
    rule = yaml.safe_load((copy / "rules" / "PAD199-copied-shift.yaml").read_text())
    examples = len(rule["examples"]["invalid"]) + len(rule["examples"]["valid"])
    assert re.search(rf"\b{examples + 1} passed\b", tested), tested      # the examples and the schema
    print(f"\nPAD199: wheel {built - started:.0f} s, venv and install {installed - built:.0f} s, "
          f"whole test {time.perf_counter() - started:.0f} s")
