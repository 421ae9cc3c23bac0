"""Fixtures shared by the test folders, which mirror padlint's packages (tests/sizes/ tests
padlint/sizes/, tests/cli/ tests padlint/cli/ …; whole-pipeline tests stay here at the top).

Under pytest's default ``prepend`` import mode this folder is put on ``sys.path`` with this
file, so the helper modules beside it (cli_helpers, model_sources, corpus_models,
autograd_truth, paths) import by name from every subfolder."""
import pytest

from padlint.cli.main import main


@pytest.fixture
def cli(monkeypatch, capsys):
    """``padlint ARGS`` in this process, from ``cwd``: (exit code, stdout, stderr)."""
    def run(cwd, *args):
        monkeypatch.chdir(str(cwd))
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return run
