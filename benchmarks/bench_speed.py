"""Where users wait (issue 23): padlint.analyze against torchinfo.summary and
torch.fx.symbolic_trace, its cost at a large input, and `padlint check` as a whole
process against the floor it cannot go below.

1. On torchvision resnet50, efficientnet_b0, densenet121, mobilenet_v3_small and
   convnext_tiny at 224 (no weights): padlint.analyze (every rule), torchinfo.summary
   (batch 1, verbose=0) and torch.fx.symbolic_trace, timed in alternating rounds in this
   process. Goals: analyze <= 0.5x torchinfo and <= 1.5x the FX trace.
2. resnet50 analysed at 1024 against 224, every rule selected (PAD108's coverage
   profiles included). Goal: <= 1.2x.
3. `padlint check examples/resnet.py` in a new process against the floor: a new python
   that imports torch, imports the same file and builds its model. Goal: <= 1.3x. The
   import profile of the check (python -X importtime) follows: the top-level imports
   over 20 ms, in the order they happen.

The figures are medians of the rounds. Needs torchinfo (pip install torchinfo).

Run: python benchmarks/bench_speed.py [--rounds 7]
"""
import argparse
import gc
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.fx
import torchinfo
from torchvision import models

import padlint

MODELS = ("resnet50", "efficientnet_b0", "densenet121", "mobilenet_v3_small", "convnext_tiny")
ROOT = Path(__file__).resolve().parent.parent
FLOOR = ("import importlib.util, sys, torch\n"
         "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
         "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
         "mod.TinyResNet()\n")


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rounds(fns: dict, n: int) -> dict:
    """Median seconds per function, the functions alternating round after round."""
    for fn in fns.values():
        fn()                                            # warm-up
    times: dict = {k: [] for k in fns}
    for _ in range(n):
        for k, fn in fns.items():
            times[k].append(timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def against_peers(n: int) -> None:
    print(f"{'model':20s} {'analyze':>9s} {'torchinfo':>10s} {'fx trace':>9s}   /torchinfo (<=0.5)   /fx (<=1.5)")
    for name in MODELS:
        model = getattr(models, name)().eval()
        t = rounds({"analyze": lambda m=model: padlint.analyze(m, 224),
                    "torchinfo": lambda m=model: torchinfo.summary(m, (1, 3, 224, 224), verbose=0),
                    "fx": lambda m=model: torch.fx.symbolic_trace(m)}, n)
        print(f"{name:20s} {t['analyze'] * 1e3:7.1f}ms {t['torchinfo'] * 1e3:8.1f}ms {t['fx'] * 1e3:7.1f}ms"
              f"   {t['analyze'] / t['torchinfo']:17.2f}   {t['analyze'] / t['fx']:10.2f}")


def large_input(n: int) -> None:
    model = models.resnet50().eval()
    t = rounds({"224": lambda: padlint.analyze(model, 224), "1024": lambda: padlint.analyze(model, 1024)}, n)
    print(f"resnet50 analyze at 224 {t['224'] * 1e3:.1f} ms, at 1024 {t['1024'] * 1e3:.1f} ms: "
          f"ratio {t['1024'] / t['224']:.2f}  (goal <= 1.2)")


def process_start(n: int) -> None:
    example = str(ROOT / "examples" / "resnet.py")
    check = [sys.executable, "-m", "padlint", "check", example]
    floor = [sys.executable, "-c", FLOOR, example]

    def run(cmd):
        return lambda: subprocess.run(cmd, capture_output=True, check=False)

    t = rounds({"check": run(check), "floor": run(floor)}, n)
    print(f"padlint check examples/resnet.py {t['check']:.2f} s, floor (import torch, the file, "
          f"build TinyResNet) {t['floor']:.2f} s: ratio {t['check'] / t['floor']:.2f}  (goal <= 1.3)")
    proc = subprocess.run([sys.executable, "-X", "importtime", *check[1:]], capture_output=True, text=True)
    print("import profile of the check (imports over 20 ms, cumulative, two levels deep):")
    for line in proc.stderr.splitlines():
        fields = line[len("import time:"):].split("|") if line.startswith("import time:") else []
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue
        depth = (len(fields[2]) - len(fields[2].lstrip()) - 1) // 2
        if int(fields[1]) > 20000 and depth <= 1:
            print(f"  {int(fields[1]) / 1e3:7.1f} ms  {'  ' * depth}{fields[2].strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print(f"torch {torch.__version__}, torchinfo {torchinfo.__version__}, "
          f"{torch.get_num_threads()} threads, {args.rounds} rounds (medians)")
    against_peers(args.rounds)
    large_input(args.rounds)
    process_start(args.rounds)


if __name__ == "__main__":
    main()
