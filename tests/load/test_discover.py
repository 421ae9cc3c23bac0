"""Files that surely define no model are passed over without importing them (or torch):
the pre-commit hook must be fast on a changed script or utility module."""
import subprocess
import sys
import textwrap

import pytest

from padlint.load.discover import may_define_model

NO_MODEL = {
    "script": "import torch\nx = torch.zeros(3)\nprint(x.sum())\n",
    "functions": "from torch import nn\n\ndef build():\n    return nn.Conv2d(3, 8, 3)\n",
    "enum_and_error": "import enum\nclass Mode(enum.Enum):\n    A = 1\nclass Oops(ValueError):\n    pass\nclass Bad(RuntimeWarning):\n    pass\n",
    "plain_class": "class Config:\n    width = 64\nclass Other(object):\n    pass\n",
    "dataset": "from torch.utils.data import Dataset\nclass Data(Dataset):\n    pass\n",
    "nested_class_only": "def f():\n    class Net(object):\n        pass\n    return Net\n",
    "empty": "",
}
MAY_DEFINE = {
    "module_subclass": "from torch import nn\nclass Net(nn.Module):\n    pass\n",
    "user_base": "from mylib import Base\nclass Net(Base):\n    pass\n",
    "generic_base": "from typing import Generic\nclass Net(Generic[T], Base):\n    pass\n",
    "metaclass": "class Net(metaclass=Meta):\n    pass\n",
    "targets": "PADLINT_TARGETS = []\n",
    "annotated_targets": "PADLINT_TARGETS: list = []\n",
    "imported_targets": "from models import PADLINT_TARGETS\n",
    "star_import": "from models import *\n",
    "class_in_if": "import sys\nif sys.version_info > (3,):\n    class Net(Base):\n        pass\n",
    "class_in_try": "try:\n    class Net(Base):\n        pass\nexcept ImportError:\n    pass\n",
    "dynamic_class": "Net = type('Net', (Base,), {})\n",
    "globals_write": "globals()['Net'] = make()\n",
    "syntax_error": "class Net(nn.Module:\n",
}


@pytest.mark.parametrize("name", sorted(NO_MODEL))
def test_files_that_define_no_model(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(NO_MODEL[name])
    assert may_define_model(str(path)) is False


@pytest.mark.parametrize("name", sorted(MAY_DEFINE))
def test_files_that_may_define_a_model(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(MAY_DEFINE[name])
    assert may_define_model(str(path)) is True


def test_unreadable_file_is_left_to_the_importer(tmp_path):
    assert may_define_model(str(tmp_path / "missing.py")) is True


def _run(code: str, cwd):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_skip_no_model_never_imports_torch(tmp_path):
    for name, text in NO_MODEL.items():
        (tmp_path / f"{name}.py").write_text(text)
    proc = _run("""
        import sys
        from padlint.cli.main import main
        code = main(["check", "--skip-no-model", *sorted(__import__("glob").glob("*.py"))])
        print(code, "torch" in sys.modules)
    """, tmp_path)
    assert proc.stdout.splitlines() == ["No findings: no model in the files checked.", "0 False"]
    assert proc.stderr == ""


def test_file_without_model_is_an_error_without_skip_no_model(tmp_path):
    """Named on the command line, such a file is imported all the same (so that an import
    error is reported as such), and finding no model is an error."""
    (tmp_path / "script.py").write_text(NO_MODEL["functions"])
    proc = subprocess.run([sys.executable, "-m", "padlint", "check", "script.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "padlint: error: script.py: no model found; define an nn.Module subclass that builds "
        "with no arguments, or list models in PADLINT_TARGETS"]


def test_folder_walk_passes_over_files_without_models(tmp_path):
    """A broken utility module with no model in a folder is not imported (and not an error);
    the model next to it is linted."""
    (tmp_path / "utils.py").write_text("import does_not_exist\n")
    (tmp_path / "net.py").write_text(
        "from torch import nn\n\n\nclass Net(nn.Sequential):\n"
        "    def __init__(self):\n        super().__init__(nn.Conv2d(3, 8, 3, stride=2, padding=1))\n")
    proc = subprocess.run([sys.executable, "-m", "padlint", "check", ".", "--timeout", "0",
                           "--format", "concise"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert [line.split(" [")[0] for line in proc.stdout.splitlines()[:-1]] == [
        "net.py:6:26: PAD101", "net.py:6:26: PAD101"]


def test_package_import_is_torch_free_and_sweep_stays_the_function(tmp_path):
    proc = _run("""
        import sys
        import padlint, padlint.cli.main, padlint.config, padlint.engine.noqa, padlint.output.formats
        import padlint._plugins.pytest_padlint
        print("torch" in sys.modules)
        import padlint.api                     # imports padlint.sizes.sweep
        from padlint.sizes.sweep import sweep_trace
        print("torch" in sys.modules, callable(padlint.sweep), padlint.sweep.__name__)
        print(sorted(padlint.__all__))
    """, tmp_path)
    assert proc.stdout.splitlines() == [
        "False", "True True sweep",
        "['AxisResult', 'Checker', 'Finding', 'ModelResult', 'PadlintError', 'Report', "
        "'SweepResult', '__version__', 'analyze', 'assert_clean', 'html_report', 'stats', 'sweep', "
        "'verify']"], proc.stderr
