"""The pre-commit hook on a commit that touches no model file, against the cost of the
one thing such a commit must not pay: importing torch.

* hook: ``padlint check --skip-no-model --force-exclude`` (the hook's entry) on 20
  Python files that define no model (scripts, utilities, a dataset) in a new process,
  as pre-commit runs it;
* baseline: ``python -c "import torch"`` in a new process;
* for scale: the same hook on one small model file (import torch, build, trace).

Measured in this run, in alternating rounds; the figures are medians.
Goal: hook / baseline well below 1 (the hook never imports torch for such files).

Run: python benchmarks/bench_precommit.py [--rounds 5]
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = {
    f"script_{i}.py": "import torch\n\n\ndef main():\n    x = torch.zeros(3)\n    print(x)\n"
    for i in range(10)
} | {
    f"util_{i}.py": "import numpy as np\n\n\ndef norm(x):\n    return (x - x.mean()) / x.std()\n"
    for i in range(9)
} | {"data.py": "from torch.utils.data import Dataset\n\n\nclass Data(Dataset):\n    pass\n"}
MODEL = ("from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
         "        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)\n\n"
         "    def forward(self, x):\n        return self.conv(x)\n")
HOOK = [sys.executable, "-m", "padlint", "check", "--skip-no-model", "--force-exclude"]


def timed(cmd, cwd) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed: {proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in FILES.items():
            (root / name).write_text(text)
        (root / "model.py").write_text(MODEL)
        hook, base, model = [], [], []
        for _ in range(args.rounds):
            hook.append(timed(HOOK + sorted(FILES), root))
            base.append(timed([sys.executable, "-c", "import torch"], root))
            model.append(timed(HOOK + ["model.py"], root))
    h, b, m = (statistics.median(v) for v in (hook, base, model))
    print(f"hook on {len(FILES)} files without a model: {h:.3f} s")
    print(f"baseline, python -c 'import torch':      {b:.3f} s")
    print(f"hook on one small model file:           {m:.3f} s")
    print(f"ratio hook / import torch: {h / b:.2f} (goal: well below 1)")
    print(f"ratio hook / one model file: {h / m:.2f}")


if __name__ == "__main__":
    main()
