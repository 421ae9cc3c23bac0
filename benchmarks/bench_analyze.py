"""How long padlint.analyze takes on torchvision resnet50 at 224, as a ratio against one
batch-1 CPU forward pass of the same model, measured in the same process.

Goal: ratio <= 0.5.  Run: python benchmarks/bench_analyze.py [--repeat 7]
"""
import argparse
import statistics
import time

import torch
from torchvision.models import resnet50

import padlint


def median_time(fn, repeat: int) -> float:
    fn()                                      # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    model = resnet50().eval()
    x = torch.randn(1, 3, args.size, args.size)

    def forward():
        with torch.no_grad():
            model(x)

    t_forward = median_time(forward, args.repeat)
    t_analyze = median_time(lambda: padlint.analyze(model, args.size), args.repeat)
    t_big = median_time(lambda: padlint.analyze(model, 4096), args.repeat)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeat}")
    print(f"resnet50 forward, batch 1, {args.size}x{args.size}, CPU: {t_forward * 1e3:8.1f} ms")
    print(f"padlint.analyze(resnet50, {args.size}):           {t_analyze * 1e3:8.1f} ms")
    print(f"padlint.analyze(resnet50, 4096):          {t_big * 1e3:8.1f} ms")
    print(f"ratio analyze / forward: {t_analyze / t_forward:.2f}  (goal <= 0.50)")
    print(f"ratio analyze@4096 / analyze@{args.size}: {t_big / t_analyze:.2f}  (shape-only: ~1)")


if __name__ == "__main__":
    main()
