"""How long padlint.analyze takes on torchvision resnet50 at 224, as a ratio against one
batch-1 CPU forward pass of the same model, measured in the same process.

The two are timed in alternating blocks (the median of three runs each), round after
round, so machine noise hits both alike; the figure is the median of the per-round
ratios. Goal: ratio <= 0.5.

It also prices the receptive fields (issue 22): analyze as shipped against analyze with
the field steps of padlint.geometry.receptive switched off, on resnet50 and on the
concatenation-heavy densenet121, alternating in the same way. Goal: about 1.

Run: python benchmarks/bench_analyze.py [--pairs 11]
"""
import argparse
import gc
import statistics
import time

import torch
from torchvision.models import densenet121, resnet50

import padlint
from padlint.geometry import receptive

STEPS = ("window", "transposed", "resample", "merge")


def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    model = resnet50().eval()
    x = torch.randn(1, 3, args.size, args.size)

    def forward():
        with torch.no_grad():
            model(x)

    forward(), padlint.analyze(model, args.size), padlint.analyze(model, 4096)   # warm-up

    def block(fn) -> float:
        # the median of three runs: the first run after a switch pays for cold caches and
        # for the forward's OpenMP threads still spinning
        return statistics.median(timed(fn) for _ in range(3))

    rows = [(block(forward), block(lambda: padlint.analyze(model, args.size)),
             block(lambda: padlint.analyze(model, 4096))) for _ in range(args.pairs)]
    fwd, ana, big = (statistics.median(col) for col in zip(*rows))
    ratio = statistics.median(a / f for f, a, _ in rows)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.pairs} rounds (medians)")
    print(f"resnet50 forward, batch 1, {args.size}x{args.size}, CPU: {fwd * 1e3:8.1f} ms")
    print(f"padlint.analyze(resnet50, {args.size}):           {ana * 1e3:8.1f} ms")
    print(f"padlint.analyze(resnet50, 4096):          {big * 1e3:8.1f} ms")
    print(f"ratio analyze / forward (median of rounds): {ratio:.2f}  (goal <= 0.50)")
    print(f"ratio analyze@4096 / analyze@{args.size}: {big / ana:.2f}  (shapes only: about 1)")
    for name, net in (("resnet50", model), ("densenet121", densenet121().eval())):
        with_fields, without = fields_cost(net, args.size, args.pairs)
        print(f"{name}: analyze {with_fields * 1e3:.1f} ms with receptive fields, {without * 1e3:.1f} ms "
              f"without: ratio {with_fields / without:.3f}  (goal: about 1)")


def fields_cost(model, size: int, rounds: int) -> tuple[float, float]:
    """Median analyze time with and without the receptive-field steps, alternating."""
    shipped = {k: getattr(receptive, k) for k in STEPS}

    def run(on: bool) -> float:
        for k in STEPS:
            setattr(receptive, k, shipped[k] if on else (lambda *a, **kw: None))
        try:
            return statistics.median(timed(lambda: padlint.analyze(model, size)) for _ in range(3))
        finally:
            for k in STEPS:
                setattr(receptive, k, shipped[k])

    run(True), run(False)
    rows = [(run(True), run(False)) for _ in range(rounds)]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)


if __name__ == "__main__":
    main()
