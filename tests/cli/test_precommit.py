"""The pre-commit hook, run by pre-commit itself on a scratch git repository.

The default run uses the README's ``repo: local`` / ``language: system`` recipe (the
padlint installed here). The ``slow`` test runs ``pre-commit try-repo`` on this
repository's ``.pre-commit-hooks.yaml``, which installs padlint and torch into an
isolated environment (about a minute from a local wheel; ``pytest -m slow``)."""
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from model_sources import CLEAN
from paths import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FLAGGED = """from torch import nn


class Flagged(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.down(x)
"""
NO_MODEL = "import sys\n\nprint(sys.argv)\n"

# The README's recipe for projects that already have torch installed.
LOCAL_HOOK = """repos:
  - repo: local
    hooks:
      - id: padlint
        name: padlint
        entry: padlint check --skip-no-model --force-exclude
        language: system
        types: [python]
        require_serial: true
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    (repo / "models" / "clean.py").write_text(CLEAN)
    (repo / "models" / "flagged.py").write_text(FLAGGED)
    (repo / "tools.py").write_text(NO_MODEL)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    return repo


def _pre_commit(repo: Path, *args: str, extra_env=None, timeout=300):
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
           "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_hook_manifest_is_what_the_readme_recipe_runs():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["padlint"]
    local = yaml.safe_load(LOCAL_HOOK)["repos"][0]["hooks"][0]
    for key in ("entry", "types", "require_serial"):
        assert hooks[0][key] == local[key]
    assert hooks[0]["language"] == "python"
    assert LOCAL_HOOK in (ROOT / "README.md").read_text()


def test_local_hook_passes_clean_and_no_model_files(repo):
    (repo / ".pre-commit-config.yaml").write_text(LOCAL_HOOK)
    proc = _pre_commit(repo, "run", "--files", "models/clean.py", "tools.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].startswith("padlint")
    assert proc.stdout.splitlines()[0].endswith("Passed")


def test_local_hook_fails_on_the_flagged_file(repo):
    (repo / ".pre-commit-config.yaml").write_text(LOCAL_HOOK)
    _git(repo, "add", "-A")
    proc = _pre_commit(repo, "run", "--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.splitlines()[0].endswith("Failed")
    assert "- exit code: 1" in out
    assert ("models/flagged.py:7:21: PAD101 [warning] down (Conv2d k=3 s=2 p=1) uses its "
            "padding unevenly on H, W at input 224: 1 top/left but 0 bottom/right") in out
    assert "models/clean.py:Clean @ 1x3x224x224: 1 windowed layer, 0 findings" in out
    assert "Found 2 findings (2 warning) in 2 model runs." in out


def test_local_hook_honours_noqa(repo):
    (repo / ".pre-commit-config.yaml").write_text(LOCAL_HOOK)
    flagged = repo / "models" / "flagged.py"
    flagged.write_text(FLAGGED.replace("padding=1)\n", "padding=1)  # noqa: PAD101\n"))
    _git(repo, "add", "-A")
    proc = _pre_commit(repo, "run", "--files", "models/flagged.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].endswith("Passed")


def _local_torch_constraint(tmp_path: Path) -> dict:
    """Where the CPU build of torch lies on this machine's disk, pin it, so that the hook's
    isolated environment does not fetch a multi-GB build."""
    wheels = glob.glob("/opt/wheels/torch-*+cpu-*.whl")
    if not wheels:
        return {}
    version = os.path.basename(wheels[0]).split("-")[1]
    constraint = tmp_path / "constraint.txt"
    constraint.write_text(f"torch=={version}\n")
    return {"PIP_CONSTRAINT": str(constraint)}


@pytest.mark.slow
def test_try_repo_with_the_repositorys_hook_manifest(repo, tmp_path):
    proc = _pre_commit(repo, "try-repo", str(ROOT), "padlint", "--files", "models/flagged.py",
                       "models/clean.py", "tools.py", extra_env=_local_torch_constraint(tmp_path),
                       timeout=1200)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "models/flagged.py:7:21: PAD101 [warning] down (Conv2d k=3 s=2 p=1)" in proc.stdout
    assert "Found 2 findings (2 warning) in 2 model runs." in proc.stdout
    proc = _pre_commit(repo, "try-repo", str(ROOT), "padlint", "--files", "models/clean.py",
                       "tools.py", extra_env=_local_torch_constraint(tmp_path), timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
