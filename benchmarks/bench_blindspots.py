"""What `padlint blindspots` costs on torchvision resnet18 (no weights) at 224x224, against
the naive experiment measured in the same run.

- the default run: `padlint.blindspots.analyze(model, 224)` as the command runs it (the
  default grid chosen from the model's cost, float32, the positions batched, the map at
  the nearest clean size, 225, beside it). Goal: under 60 s on the CPU, under 5 s on a GPU.
- the naive experiment: one float64 forward of the model per position (the stimulus on
  the background, batch 1), timed on a sample of positions and extrapolated to the
  default run's positions; and one float32 forward a position, the same way. The ratios
  say what the batching and the dtype buy.

Run: python benchmarks/bench_blindspots.py [--device cpu|cuda] [--rounds 1] [--sample 8]
"""
import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=1, help="default runs to time (the median is shown)")
    parser.add_argument("--sample", type=int, default=8, help="naive forwards to time per dtype and round")
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()

    import torch
    from torchvision.models import resnet18

    import padlint.blindspots.stage as stage
    torch.manual_seed(0)
    model = resnet18().eval().to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    n = args.size

    def naive(dtype, count: int) -> float:
        """Seconds a position: one forward of the stimulus on the background, batch 1."""
        m = model.to(dtype)
        x = torch.full((1, 3, n, n), 0.5, dtype=dtype, device=args.device)
        with torch.no_grad():
            m(x)                                   # warm-up
            sync()
            start = time.perf_counter()
            for i in range(count):
                x[0, :, (i * 37) % n, (i * 53) % n] = 1.0
                m(x)
            sync()
        model.to(torch.float32)
        return (time.perf_counter() - start) / count

    runs, naive64, naive32, positions = [], [], [], 0
    stage.analyze(model, 64, device=args.device, clean=False)      # warm-up: imports, kernels
    for _ in range(args.rounds):
        naive64.append(naive(torch.float64, args.sample))
        naive32.append(naive(torch.float32, args.sample))
        sync()
        start = time.perf_counter()
        report = stage.analyze(model, n, device=args.device)
        sync()
        runs.append(time.perf_counter() - start)
        b = report.results[0].blindspots
        positions = sum(m.response.size for m in b.maps)
        grids = ", ".join(f"{m.label} {'x'.join(str(len(p)) for p in m.positions.values())}" for m in b.maps)
    run = statistics.median(runs)
    per64, per32 = statistics.median(naive64), statistics.median(naive32)
    print(f"resnet18 at {n}x{n} on {args.device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"default run: {grids}: {positions} positions in {run:.1f} s "
          f"({1000 * run / positions:.1f} ms a position, the background runs included)")
    print(f"naive float64, one forward a position: {1000 * per64:.1f} ms a position, "
          f"{per64 * positions:.1f} s for these positions: the default run is {per64 * positions / run:.1f}x faster")
    print(f"naive float32, one forward a position: {1000 * per32:.1f} ms a position, "
          f"{per32 * positions:.1f} s for these positions: the default run is {per32 * positions / run:.1f}x faster")
    goal = 5.0 if args.device.startswith("cuda") else 60.0
    print(f"goal: under {goal:g} s: {'met' if run < goal else 'NOT met'} ({run:.1f} s)")


if __name__ == "__main__":
    main()
