"""What the alignment and coverage facts (PAD106-PAD108) cost padlint.analyze: resnet50
and a U-Net-sized model at 224 and 1024, with the tracker as shipped against the same
run with a tracker that records nothing, measured in the same process.

The two are timed in alternating blocks (the median of three runs each), round after
round, so machine noise hits both alike; each figure is the median of the per-round
ratios. Goal: ratio <= 1.5 at 224 (the profiles are followed up to 1024 pixels per axis).

Run: python benchmarks/bench_alignment.py [--pairs 7]
"""
import argparse
import gc
import statistics
import time

import torch
from torchvision.models import efficientnet_b0, resnet50

import padlint
import padlint.trace.frontend as trace_module
from padlint.trace.alignment import AlignmentTracker
from padlint.trace.grids import Alignment


class Silent:
    """A tracker that is told every call and records nothing."""

    def __init__(self, site, profiles=False):
        self.facts = Alignment()

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def of(self, t):
        return (None,) * t.dim()


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def block(fn) -> float:
    return statistics.median(timed(fn) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.pairs} rounds (medians)")
    for name, model in (("resnet50", resnet50().eval()), ("efficientnet_b0", efficientnet_b0().eval())):
        for size in (224, 1024):
            def run():
                padlint.analyze(model, size)  # noqa: B023 - called within this iteration only

            def silent():
                trace_module.AlignmentTracker = Silent
                try:
                    padlint.analyze(model, size)  # noqa: B023 - called within this iteration only
                finally:
                    trace_module.AlignmentTracker = AlignmentTracker
            run(), silent()                                  # warm-up
            rows = [(block(silent), block(run)) for _ in range(args.pairs)]
            base, full = (statistics.median(col) for col in zip(*rows))
            ratio = statistics.median(f / b for b, f in rows)
            print(f"{name:16s} {size:5d}: without {base * 1e3:7.1f} ms, with {full * 1e3:7.1f} ms, "
                  f"ratio {ratio:.2f}  (goal <= 1.5 at 224)")


if __name__ == "__main__":
    main()
