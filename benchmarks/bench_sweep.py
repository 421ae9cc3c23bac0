"""Sweeping 993 input sizes (32..1024, on H and on W) of torchvision resnet50 and
efficientnet_b0, and of the tutorial U-Net that pads its skips from x.size()
(tests/frontdoor/unet_pad.py): padlint's fast path against per-size meta-device propagation.

* fast: :func:`padlint.sweep.sweep_trace` on an already traced model (the one-time
  trace, with its length program and any validation runs, is timed separately);
* baseline: the exact path, one traced meta-device run plus the rules per size, timed on
  20 sizes spread over the range and scaled to all 993 x 2 axes.

Both are measured in this run, in alternating rounds; the figures are medians.
Goals: ratio baseline / fast >= 100, and fast < 0.1 s for resnet50.

Run: python benchmarks/bench_sweep.py [--rounds 5]
"""
import argparse
import statistics
import time
import warnings

import numpy as np

from padlint.engine.select import select_rules
from padlint.load.target import Candidate
from padlint.sizes.exact import exact_axis
from padlint.sizes.fast import fast_path_problem
from padlint.sizes.sweep import sweep_trace
from padlint.trace.build import prepare, trace_at

SIZES = np.arange(32, 1025)
SAMPLE = np.linspace(32, 1024, 20).astype(int)


def models():
    import importlib.util
    from pathlib import Path

    from torchvision.models import efficientnet_b0, resnet50
    # the tutorial U-Net that reads x.size() to pad its skips (issue 23): tests/frontdoor/unet_pad.py
    spec = importlib.util.spec_from_file_location(
        "unet_pad", Path(__file__).resolve().parent.parent / "tests" / "frontdoor" / "unet_pad.py")
    unet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(unet)
    return [("resnet50", resnet50), ("efficientnet_b0", efficientnet_b0), ("unet_pad (size reads)", unet.UNet)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rules = select_rules(["PAD101", "PAD102"])
    print(f"{'model':22} {'one-time trace':>15} {'fast sweep':>11} {'baseline (scaled)':>18} {'ratio':>8}")
    for name, build in models():
        prep = prepare(Candidate(name, build))
        start = time.perf_counter()
        trace = trace_at(prep, (224,), program=True)
        problem = fast_path_problem(prep.front, trace)
        once = time.perf_counter() - start
        if problem:
            print(f"{name}: the fast path does not apply: {problem}")
            continue
        fast, base = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            sweep_trace(prep.front, trace, SIZES, rules=rules)
            fast.append(time.perf_counter() - start)
            start = time.perf_counter()
            for axis in (0, 1):
                exact_axis(prep.front, trace, axis, SAMPLE, rules)
            base.append((time.perf_counter() - start) * len(SIZES) / len(SAMPLE))
        f, b = statistics.median(fast), statistics.median(base)
        print(f"{name:22} {once:14.3f}s {f:10.4f}s {b:17.1f}s {b / f:7.0f}x")


if __name__ == "__main__":
    main()
