"""`padlint check` on a matrix of bad and unusual model files, through the real command.

The contract for every case: a one-line `padlint: error: ...` on stderr that names the file
or model and says what to do (where it is an error); exit 2 on errors, else 1 on findings,
else 0; no 'Traceback' on stderr without --debug; and under `--format json` the whole of
stdout is one valid JSON document (errors in `errors`, results in `results`).

Every padlint process imports torch, which takes seconds of CPU on a busy machine, so
the model files are grouped into a few invocations (pure errors together, in one
--format json run), and the invocations are forked from one "zygote" process that has
done `python -m padlint`'s imports once. Each fork then does what `python -m padlint`
does after its imports: its stdout and stderr are its own files, its cwd the folder of
its model files, `sys.argv` the command line, and it runs `padlint.__main__`, whose
`sys.exit` (or an uncaught exception, printed as a 'Traceback') ends the process through
the interpreter's normal shutdown. So exit codes, buffering and stray output are those
of the real command (checked once against `subprocess.run([python, -m, padlint, ...])`
for every invocation here: the same exit codes, stdout and stderr lines). The zygote runs without PYTHONUNBUFFERED, as a user's shell does:
stdout is block-buffered, as it is when padlint's output is piped or redirected.

The module fixture `runs` runs the invocations that the selected tests declare (with
`@uses`), and each test reads its own.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from test_cli_errors import ERROR_PREFIX, NEEDS_ARGS, STRIDED, assert_no_traceback, error_lines, show, write

WORKERS = 3                 # invocations at a time, after the first phase
JOB_TIMEOUT = 240           # seconds, per invocation

# ---------------------------------------------------------------------------------------
# Model files
# ---------------------------------------------------------------------------------------

SYNTAX = """\
import torch
def broken(:
    pass
"""

IMPORT_ERROR = """\
import no_such_module_padlint_xyz
"""

EXIT_AT_IMPORT = """\
import sys
sys.exit()
"""

# Prints at import, in __init__ and in forward; its model has PAD101 at 224.
PRINTS = """\
from torch import nn

print("HELLO FROM IMPORT")


class Loud(nn.Module):
    def __init__(self):
        super().__init__()
        print("HELLO FROM INIT")
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        print("HELLO FROM FORWARD")
        return self.conv(x)
"""

RAISES_IN_INIT = """\
from torch import nn


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        raise ValueError("bad config 42")

    def forward(self, x):
        return x
"""

# sys.exit() in one model's __init__; the other model of the file is fine.
EXIT_IN_INIT = """\
import sys
from torch import nn


class Quits(nn.Module):
    def __init__(self):
        super().__init__()
        sys.exit(5)

    def forward(self, x):
        return x


class Fine(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
"""

NO_MODEL = """\
def double(x):
    return 2 * x
"""

# torch's own deprecation warnings are silenced, so that stderr holds padlint's lines only.
SCRIPTED = """\
import warnings

import torch
from torch import nn

warnings.filterwarnings("ignore")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


PADLINT_TARGETS = [lambda: torch.jit.script(Net())]
"""

QUANTIZED_DIRECT = """\
import warnings

import torch
from torch import nn

warnings.filterwarnings("ignore")


class QNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.conv = torch.ao.nn.quantized.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.conv(self.quant(x)))
"""

# Eager static quantization: prepare, calibrate, convert.
QUANTIZED_STATIC = """\
import warnings

import torch
from torch import nn

warnings.filterwarnings("ignore")


class _Float(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.conv(self.quant(x)))


def quantized():
    engines = torch.backends.quantized.supported_engines
    engine = "qnnpack" if "qnnpack" in engines else "fbgemm"
    torch.backends.quantized.engine = engine
    model = _Float().eval()
    model.qconfig = torch.ao.quantization.get_default_qconfig(engine)
    torch.ao.quantization.prepare(model, inplace=True)
    model(torch.randn(1, 3, 16, 16))
    return torch.ao.quantization.convert(model)


PADLINT_TARGETS = [quantized]
"""

HANGS = """\
import time
from torch import nn


class Hangs(nn.Module):
    def __init__(self):
        super().__init__()
        time.sleep(1000)

    def forward(self, x):
        return x
"""

CRASHES = """\
import os
from torch import nn


class Crashes(nn.Module):
    def __init__(self):
        super().__init__()
        os._exit(7)

    def forward(self, x):
        return x
"""

# A 3x3 stride-2 conv at 224: PAD101 on H and W.
GOOD = STRIDED

MLP_CLASS = """\
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))

    def forward(self, x):
        return self.net(x)
"""
MLP_DECLARED = MLP_CLASS + "\n\nPADLINT_TARGETS = [(lambda: MLP(), (1, 16))]\n"

# 1-channel audio at 16000 samples.
#   c1 k=3 s=2 p=1, n=16000: out = (16000+2-3)//2 + 1 = 8000, last read (8000-1)*2+2 = 16000
#      of padded 0..16001: the end pad cell is never read -> PAD101 on L, 1 start but 0 end.
#   c2 the same at n=8000 -> out 4000, PAD101 on L.
#   c3 k=5 s=3 p=0, n=4000: out = (4000-5)//3 + 1 = 1332, last read (1332-1)*3+4 = 3997,
#      so input cells 3998 and 3999 are never read -> PAD102 on L: 2 cells, last index 3997.
AUDIO = """\
from torch import nn


class Audio(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(1, 8, 3, stride=2, padding=1)
        self.c2 = nn.Conv1d(8, 16, 3, stride=2, padding=1)
        self.c3 = nn.Conv1d(16, 32, 5, stride=3)

    def forward(self, x):
        return self.c3(self.c2(self.c1(x)))
"""

# Three unpadded 3x3 convs: n -> n-2 -> n-4 -> n-6, so the smallest input is 7.
STACK = """\
from torch import nn


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(),
                                   nn.Conv2d(8, 8, 3))

    def forward(self, x):
        return self.convs(x)
"""

# Forward returns a dict, a list, a tuple: each has PAD101 (H, W) on its 3x3 stride-2 conv at 224;
# the 1x1 head and the 2x2 pool at 112 are clean.
OUTPUTS = """\
from torch import nn


class DictOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        y = self.stem(x)
        return {"features": y, "logits": self.head(y)}


class ListOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.b = nn.MaxPool2d(2)

    def forward(self, x):
        y = self.a(x)
        return [y, self.b(y)]


class TupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        y = self.a(x)
        return y, y.mean()
"""

# The same conv called twice: at 224 (PAD101) and again at 112 (PAD101). The second class
# is not FX-traceable (a branch on a shape), so it goes through the module-hook front end.
SHARED = """\
from torch import nn


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 1)
        self.conv = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(self.conv(self.stem(x)))


class SharedUntraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 1)
        self.conv = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        y = self.conv(self.stem(x))
        if y.shape[-1] > 0:
            y = self.conv(y)
        return y
"""

# Pure error cases of one --format json / text batch: file -> (source, error target, needles).
BAD = {
    "syntax.py": (SYNTAX, "syntax.py", ["syntax.py:2:", "syntax error", "fix the file"]),
    "imperr.py": (IMPORT_ERROR, "imperr.py",
                  ["imperr.py", "ModuleNotFoundError", "no_such_module_padlint_xyz", "--debug"]),
    "exits.py": (EXIT_AT_IMPORT, "exits.py", ["exits.py", "sys.exit(", "__main__"]),
    "needs.py": (NEEDS_ARGS, "needs.py", ["needs.py", "no model found", "needs arguments",
                                          "PADLINT_TARGETS"]),
    "broken.py": (RAISES_IN_INIT, "broken.py:Broken", ["broken.py:Broken", "ValueError",
                                                       "bad config 42"]),
    "nomodel.py": (NO_MODEL, "nomodel.py", ["nomodel.py", "no model found", "PADLINT_TARGETS"]),
    "scripted.py": (SCRIPTED, "scripted.py:Net", ["scripted.py:Net", "TorchScript", "eager"]),
    "quant.py": (QUANTIZED_DIRECT, "quant.py:QNet", ["quant.py:QNet", "quantized",
                                                     "before quantization"]),
    "quant_static.py": (QUANTIZED_STATIC, "quant_static.py:quantized",
                        ["quant_static.py:quantized", "quantized", "before quantization"]),
    "crash.py": (CRASHES, "crash.py", ["crash.py", "crashed", "exit code 7", "run the file with python"]),
}
BAD_FILES = {name: src for name, (src, _, _) in BAD.items()}

# ---------------------------------------------------------------------------------------
# The invocations: name -> (files, arguments after `padlint check`)
# ---------------------------------------------------------------------------------------

MIXED = {"exitinit.py": EXIT_IN_INIT, "good.py": GOOD, "prints.py": PRINTS, "outputs.py": OUTPUTS,
         "shared.py": SHARED}
HANG = {"hang.py": HANGS, "good.py": GOOD, "crash.py": CRASHES}

RUNS: dict[str, tuple[dict[str, str], list[str]]] = {
    # phase 1, one at a time and alone: each waits 3 s on hang.py, then good.py must be
    # linted within 3 s on a machine that may be busy
    "hang_text": (HANG, ["hang.py", "good.py", "crash.py", "--timeout", "3"]),
    "hang_json": (HANG, ["hang.py", "good.py", "crash.py", "--timeout", "3", "--format", "json"]),
    # phase 2
    "batch_json": ({**BAD_FILES, **MIXED}, [*BAD_FILES, *MIXED, "--format", "json"]),
    "in_process": ({"prints.py": PRINTS, "exitinit.py": EXIT_IN_INIT},
                   ["prints.py", "exitinit.py", "--format", "json", "--timeout", "0"]),
    "audio": ({"audio.py": AUDIO}, ["audio.py", "--input-size", "16000", "--format", "json"]),
    "mlp": ({"mlp_declared.py": MLP_DECLARED, "mlp_plain.py": MLP_CLASS},
            ["mlp_declared.py", "mlp_plain.py", "--format", "json"]),
    "too_small": ({"stack.py": STACK}, ["stack.py", "--input-size", "5"]),
    "channels": ({"stack.py": STACK}, ["stack.py", "--input-size", "4x224x224"]),
    "single_broken": ({"broken.py": RAISES_IN_INIT}, ["broken.py"]),
    "single_broken_debug": ({"broken.py": RAISES_IN_INIT}, ["broken.py", "--debug"]),
    "single_scripted": ({"scripted.py": SCRIPTED}, ["scripted.py"]),
    "single_quantized": ({"quant_static.py": QUANTIZED_STATIC}, ["quant_static.py"]),
}
FIRST_PHASE = ("hang_text", "hang_json")


# Forks one `python -m padlint ARGS` per job, phase by phase; writes {name: exit code}.
ZYGOTE = textwrap.dedent("""\
    import json, os, runpy, signal, sys, time

    import padlint.cli.main  # noqa: F401 - what `python -m padlint` imports before main()

    spec = json.load(open(sys.argv[1]))


    def start(job):
        out = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        pid = os.fork()
        if pid == 0:
            # the child becomes `python -m padlint ARGS` run in job["cwd"]
            os.setpgrp()
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.close(out)
            os.close(err)
            os.chdir(job["cwd"])
            sys.path[0] = job["cwd"]
            sys.argv = ["padlint", *job["args"]]
            runpy.run_module("padlint", run_name="__main__", alter_sys=True)
            sys.exit(0)
        os.close(out)
        os.close(err)
        return pid


    codes = {}
    for phase in spec["phases"]:
        pending, running = list(phase["jobs"]), {}
        while pending or running:
            while pending and len(running) < phase["workers"]:
                job = pending.pop(0)
                running[start(job)] = (job, time.monotonic())
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                for pid, (job, began) in running.items():
                    if time.monotonic() - began > spec["timeout"]:
                        try:
                            os.killpg(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                time.sleep(0.05)
                continue
            job, began = running.pop(pid)
            codes[job["name"]] = os.waitstatus_to_exitcode(status)
    with open(spec["codes"], "w") as f:
        json.dump(codes, f)
""")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    return env


def execute(root, phases: list[tuple[list[str], int]]) -> dict[str, subprocess.CompletedProcess]:
    """Run the named invocations, phase by phase (names, how many at a time), each in a
    folder of its own under ``root``."""
    spec = {"phases": [], "timeout": JOB_TIMEOUT, "codes": str(root / "codes.json")}
    for names, workers in phases:
        jobs = []
        for name in names:
            files, args = RUNS[name]
            folder = root / name
            for file, text in files.items():
                write(folder, file, text)
            jobs.append({"name": name, "cwd": str(folder), "args": ["check", *args],
                         "stdout": str(root / f"{name}.stdout"),
                         "stderr": str(root / f"{name}.stderr")})
        spec["phases"].append({"jobs": jobs, "workers": workers})
    (root / "spec.json").write_text(json.dumps(spec))
    (root / "zygote.py").write_text(ZYGOTE)
    total = JOB_TIMEOUT * sum(len(names) for names, _ in phases) + 60
    zygote = subprocess.run([sys.executable, str(root / "zygote.py"), str(root / "spec.json")],
                            cwd=root, capture_output=True, text=True, timeout=total, env=_env())
    assert zygote.returncode == 0, "the test harness failed" + show(zygote)
    codes = json.loads((root / "codes.json").read_text())
    return {name: subprocess.CompletedProcess(
                ["padlint", "check", *RUNS[name][1]], codes[name],
                (root / f"{name}.stdout").read_text(), (root / f"{name}.stderr").read_text())
            for names, _ in phases for name in names}


def uses(*names: str):
    """Declare which invocations a test reads, so that the fixture runs them together."""
    unknown = set(names) - set(RUNS)
    assert not unknown, unknown

    def mark(fn):
        fn.padlint_runs = names
        return fn
    return mark


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """The invocations that this module's selected tests declare: the --timeout 3 runs
    first, one at a time (on a loaded machine the good file would time out too), then
    the rest, a few at a time."""
    wanted = set()
    for item in request.session.items:
        if getattr(item, "module", None) is sys.modules[__name__]:
            wanted.update(getattr(getattr(item, "function", None), "padlint_runs", ()))
    first = [name for name in FIRST_PHASE if name in wanted]
    rest = [name for name in RUNS if name in wanted and name not in FIRST_PHASE]
    return execute(tmp_path_factory.mktemp("matrix"), [(first, 1), (rest, WORKERS)])


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------

def json_doc(proc) -> dict:
    """The whole of stdout is one JSON document."""
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as err:
        pytest.fail(f"stdout is not one valid JSON document ({err})" + show(proc))
    assert set(doc) >= {"results", "errors"}, show(proc)
    return doc


def padlint_lines(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("padlint: ")]


def assert_one_error_line(proc, *needles) -> str:
    """Exit 2, no traceback, nothing on stdout, and stderr is exactly one error line."""
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    assert proc.stdout == "", "partial output on stdout" + show(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), \
        "expected exactly one `padlint: error:` line on stderr" + show(proc)
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in the error line" + show(proc)
    return lines[0]


def result_of(doc: dict, target: str) -> dict:
    found = [r for r in doc["results"] if r["target"] == target]
    assert len(found) == 1, (target, [r["target"] for r in doc["results"]])
    return found[0]


def errors_for(doc: dict, file: str) -> list[dict]:
    return [e for e in doc["errors"] if e["target"].split(":")[0] == file]


def findings(result: dict) -> list[tuple[str, str, str | None]]:
    return [(f["rule"], f["layer"], f["axis"]) for f in result["findings"]]


GOOD_FINDINGS = [("PAD101", "conv", "H"), ("PAD101", "conv", "W")]


# ---------------------------------------------------------------------------------------
# 1-3, 10. Pure errors, batched: one JSON document, one error entry per bad target
# ---------------------------------------------------------------------------------------

@uses("batch_json")
def test_batch_json_is_one_document_and_exits_2(runs):
    proc = runs["batch_json"]
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    doc = json_doc(proc)
    for err in doc["errors"]:
        assert set(err) == {"target", "message"}, err
        assert "\n" not in err["message"], err
    # the good file is still linted
    assert findings(result_of(doc, "good.py:Strided")) == GOOD_FINDINGS
    # stderr repeats each JSON error as one `padlint: error:` line
    assert sorted(error_lines(proc)) == sorted(ERROR_PREFIX + e["message"] for e in doc["errors"]), \
        show(proc)


@uses("batch_json")
@pytest.mark.parametrize("file", list(BAD))
def test_batch_json_error_entry(runs, file):
    proc = runs["batch_json"]
    doc = json_doc(proc)
    _, target, needles = BAD[file]
    entries = errors_for(doc, file)
    assert len(entries) == 1, f"expected one error for {file}: {entries}" + show(proc)
    assert entries[0]["target"] == target, entries[0]
    for needle in needles:
        assert needle in entries[0]["message"], (needle, entries[0]["message"])
    assert not [r for r in doc["results"] if r["target"].split(":")[0] == file]


@uses("batch_json")
def test_batch_stderr_one_line_per_bad_target(runs):
    proc = runs["batch_json"]
    errors = error_lines(proc)
    for file, (_, _, needles) in BAD.items():
        mine = [line for line in errors if line[len(ERROR_PREFIX):].split(":")[0] == file]
        assert len(mine) == 1, file + show(proc)
        assert all(n in mine[0] for n in needles), (file, mine[0])
    # one skip line, for the class that needs arguments; no other padlint line
    skips = [line for line in padlint_lines(proc) if not line.startswith(ERROR_PREFIX)]
    assert len(skips) == 1, show(proc)
    assert skips[0].startswith("padlint: needs.py:NeedsWidth: skipped") and "width" in skips[0] \
        and "PADLINT_TARGETS" in skips[0], skips[0]


# -- single-target runs: exit 2, exactly one stderr line, nothing on stdout ---------

@uses("single_broken")
def test_model_raising_in_init(runs):
    assert_one_error_line(runs["single_broken"], "broken.py:Broken", "ValueError: bad config 42",
                          "--debug")


@uses("single_scripted")
def test_scripted_model_declined(runs):
    assert_one_error_line(runs["single_scripted"], "scripted.py:Net", "TorchScript",
                          "lint the eager nn.Module")


@uses("single_quantized")
def test_quantized_model_declined(runs):
    assert_one_error_line(runs["single_quantized"], "quant_static.py:quantized", "is quantized",
                          "lint the model before quantization")


@uses("single_broken_debug")
def test_model_raising_in_init_debug_shows_traceback(runs):
    # The error says "run with --debug for the traceback": --debug must show it.
    proc = runs["single_broken_debug"]
    assert proc.returncode == 2, show(proc)
    assert proc.stdout == "", show(proc)
    assert "Traceback" in proc.stderr, "--debug shows no traceback" + show(proc)
    assert 'raise ValueError("bad config 42")' in proc.stderr, show(proc)
    assert proc.stderr.splitlines()[-1].startswith(ERROR_PREFIX + "broken.py:Broken"), show(proc)
    assert len(error_lines(proc)) == 1, show(proc)


# -- sys.exit() in a model's __init__ -----------------------------------------------

@uses("batch_json")
def test_sys_exit_in_init_names_the_class(runs):
    proc = runs["batch_json"]
    doc = json_doc(proc)
    entries = errors_for(doc, "exitinit.py")
    assert len(entries) == 1, show(proc)
    assert entries[0]["target"] == "exitinit.py:Quits", entries[0]
    assert "SystemExit" in entries[0]["message"] or "sys.exit" in entries[0]["message"], entries[0]


@uses("batch_json")
def test_sys_exit_in_init_does_not_hide_the_other_models(runs):
    doc = json_doc(runs["batch_json"])
    targets = [r["target"] for r in doc["results"]]
    assert [t for t in targets if t.startswith("exitinit.py")] == ["exitinit.py:Fine"], \
        (targets, errors_for(doc, "exitinit.py"))


@uses("in_process")
def test_sys_exit_in_init_in_process(runs):
    # --timeout 0: the model runs in padlint's own process; sys.exit(5) must not end it
    proc = runs["in_process"]
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    doc = json_doc(proc)
    assert [e["target"] for e in doc["errors"]] == ["exitinit.py:Quits"], show(proc)
    assert [r["target"] for r in doc["results"]] == ["prints.py:Loud", "exitinit.py:Fine"], show(proc)


# -- 1. a file that prints at import, in __init__ and in forward --------------------

@uses("batch_json")
def test_printing_model_is_linted(runs):
    doc = json_doc(runs["batch_json"])          # its prints did not break the JSON
    assert errors_for(doc, "prints.py") == []
    assert findings(result_of(doc, "prints.py:Loud")) == GOOD_FINDINGS


@uses("batch_json", "in_process")
@pytest.mark.parametrize("run", ["batch_json", "in_process"])
def test_prints_do_not_reach_stdout(runs, run):
    proc = runs[run]
    assert "HELLO" not in proc.stdout, show(proc)


@uses("batch_json", "in_process")
@pytest.mark.parametrize("run", ["batch_json", "in_process"])
def test_prints_go_to_stderr(runs, run):
    proc = runs[run]
    for text in ("HELLO FROM IMPORT", "HELLO FROM INIT", "HELLO FROM FORWARD"):
        assert text in proc.stderr, \
            f"the user's print {text!r} is lost\n--- stderr:\n{proc.stderr}"


# ---------------------------------------------------------------------------------------
# 4. a model without windowed ops
# ---------------------------------------------------------------------------------------

@uses("mlp")
def test_mlp_is_clean(runs):
    proc = runs["mlp"]
    assert_no_traceback(proc)
    doc = json_doc(proc)
    assert doc["errors"] == [], "an MLP must be analysed clean, not be an error" + show(proc)
    assert proc.returncode == 0, show(proc)
    assert proc.stderr == "", show(proc)


@uses("mlp")
@pytest.mark.parametrize("target", ["mlp_declared.py:MLP", "mlp_plain.py:MLP"])
def test_mlp_result(runs, target):
    doc = json_doc(runs["mlp"])
    assert [e for e in doc["errors"] if e["target"] == target] == []
    result = result_of(doc, target)
    assert result["layers"] == [] and result["findings"] == [], result
    if target == "mlp_declared.py:MLP":
        assert result["input_shape"] == [1, 16], result


# ---------------------------------------------------------------------------------------
# 5. non-image input: Conv1d audio at 16000 samples
# ---------------------------------------------------------------------------------------

@uses("audio")
def test_conv1d_audio(runs):
    proc = runs["audio"]
    assert proc.returncode == 1, show(proc)
    assert proc.stderr == "", show(proc)
    doc = json_doc(proc)
    assert doc["errors"] == []
    result = result_of(doc, "audio.py:Audio")
    assert result["input_shape"] == [1, 1, 16000]
    assert [layer["name"] for layer in result["layers"]] == ["c1", "c2", "c3"]
    assert all([a["axis"] for a in layer["axes"]] == ["L"] for layer in result["layers"])
    assert findings(result) == [("PAD101", "c1", "L"), ("PAD101", "c2", "L"), ("PAD102", "c3", "L")]
    # by hand (see AUDIO): c1 8000 out; c2 at 8000 -> 4000; c3 at 4000 -> 1332, last read 3997
    c1, c2, c3 = result["layers"]
    assert (c1["axes"][0]["in"], c1["axes"][0]["out"], c1["axes"][0]["used_pad_end"]) == (16000, 8000, 0)
    assert (c2["axes"][0]["in"], c2["axes"][0]["out"]) == (8000, 4000)
    n, k, s = 4000, 5, 3
    out = (n - k) // s + 1
    last = (out - 1) * s + k - 1
    assert (out, last, n - 1 - last) == (1332, 3997, 2)
    assert c3["axes"][0].items() >= {"in": n, "out": out, "ignored_input_end": 2, "leftover": 2}.items()
    pad101 = result["findings"][0]["message"]
    assert "on L at input 16000: 1 start but 0 end" in pad101, pad101
    pad102 = result["findings"][2]
    assert pad102["message"] == (f"never reads the last 2 input cells on L at input {n}: "
                                 f"its last window ends at input index {last}"), pad102
    assert pad102["data"]["last_input"] == last


# ---------------------------------------------------------------------------------------
# 6-7. input too small, channels mismatch
# ---------------------------------------------------------------------------------------

@uses("too_small")
def test_input_smaller_than_receptive_field(runs):
    # 5 -> 3 -> 1 -> the third conv (convs.4) needs 3; the smallest input is 1 + 3*2 = 7
    line = assert_one_error_line(runs["too_small"], "stack.py:Stack", "too small", "convs.4")
    assert re.search(r"smallest .*\b7\b", line), line


@uses("channels")
def test_channels_mismatch(runs):
    line = assert_one_error_line(runs["channels"], "stack.py:Stack", "4x224x224")
    assert re.search(r"first convolution takes 3\b", line), line


# ---------------------------------------------------------------------------------------
# 8-9. dict / list / tuple outputs, shared modules
# ---------------------------------------------------------------------------------------

@uses("batch_json")
@pytest.mark.parametrize("file", ["outputs.py", "shared.py"])
def test_outputs_and_shared_no_errors(runs, file):
    assert errors_for(json_doc(runs["batch_json"]), file) == []


@uses("batch_json")
@pytest.mark.parametrize("target, layers, expected", [
    ("outputs.py:DictOut", ["stem", "head"], [("PAD101", "stem", "H"), ("PAD101", "stem", "W")]),
    ("outputs.py:ListOut", ["a", "b"], [("PAD101", "a", "H"), ("PAD101", "a", "W")]),
    ("outputs.py:TupleOut", ["a"], [("PAD101", "a", "H"), ("PAD101", "a", "W")]),
])
def test_non_tensor_outputs(runs, target, layers, expected):
    result = result_of(json_doc(runs["batch_json"]), target)
    assert [layer["name"] for layer in result["layers"]] == layers
    assert findings(result) == expected


@uses("batch_json")
@pytest.mark.parametrize("target, method, line", [("shared.py:Shared", "fx", 8),
                                                  ("shared.py:SharedUntraceable", "hooks", 18)])
def test_shared_module_called_twice(runs, target, method, line):
    result = result_of(json_doc(runs["batch_json"]), target)
    assert result["method"] == method
    layers = result["layers"]
    assert [layer["name"] for layer in layers] == ["stem", "conv", "conv#2"]
    assert [layer["input_shape"] for layer in layers] == [[1, 3, 224, 224], [1, 8, 224, 224],
                                                          [1, 8, 112, 112]]
    assert layers[1]["source"] == layers[2]["source"] and layers[1]["source"]["line"] == line
    geometric = [f for f in findings(result) if f[0] != "PAD901"]
    assert geometric == [("PAD101", "conv", "H"), ("PAD101", "conv", "W"),
                         ("PAD101", "conv#2", "H"), ("PAD101", "conv#2", "W")]
    second = [f for f in result["findings"] if f["layer"] == "conv#2"]
    assert all("at input 112" in f["message"] for f in second), second


# ---------------------------------------------------------------------------------------
# 11. a hang (--timeout) and a crash, next to a good file
# ---------------------------------------------------------------------------------------

TIMED_OUT = ERROR_PREFIX + "hang.py: timed out after 3 s"


@uses("hang_text")
def test_hang_and_crash_text(runs):
    proc = runs["hang_text"]
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, show(proc)
    assert lines[0].startswith(TIMED_OUT) and "--timeout" in lines[0], lines[0]
    assert lines[1].startswith(ERROR_PREFIX + "crash.py: ") and "crashed" in lines[1] \
        and "exit code 7" in lines[1], lines[1]
    assert re.findall(r": (PAD\d{3}) \[", proc.stdout) == ["PAD101"], show(proc)   # on H, W
    assert " on H, W at input 224" in proc.stdout, show(proc)
    assert "good.py:Strided @ 1x3x224x224" in proc.stdout, show(proc)
    assert "2 targets failed (see stderr)" in proc.stdout, show(proc)


@uses("hang_json")
def test_hang_and_crash_json(runs):
    proc = runs["hang_json"]
    assert proc.returncode == 2, show(proc)
    assert_no_traceback(proc)
    doc = json_doc(proc)
    assert [e["target"] for e in doc["errors"]] == ["hang.py", "crash.py"], doc["errors"]
    hang, crash = (e["message"] for e in doc["errors"])
    assert hang.startswith("hang.py: timed out after 3 s") and "raise --timeout" in hang, hang
    assert "crashed (exit code 7)" in crash and "run the file with python" in crash, crash
    assert findings(result_of(doc, "good.py:Strided")) == GOOD_FINDINGS
    assert len(doc["results"]) == 1
