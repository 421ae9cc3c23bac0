"""What `padlint check --verify` costs against a plain forward of the same batch.

On torchvision resnet50 (no weights) at 224x224, batch 8, on one device (the CPU by
default; `--device cuda` where there is a GPU), in one run:

- time: the whole verification (the symmetric-kernel probe at the input size and at the
  nearest clean size, layer-alone probes, and the constant, random and zeros baselines
  with their aggregated maps) against one plain ``torch.no_grad()`` forward of the
  batch. The two are timed in alternating rounds; the figure is the median of the
  per-round ratios. Goal: at most 3x.
- peak memory: each measured in a fresh child process, above what the process holds
  once the model is built (and, for verification, statically analysed). On the CPU the
  peak is the kernel's high-water mark of the resident set (VmHWM, reset through
  /proc/self/clear_refs); on CUDA, torch.cuda.max_memory_allocated. Goal: at most 1.2x.
  CPU peaks are measured twice: with glibc's mmap threshold fixed at 1 MiB for both (what
  `padlint check --verify` sets in its child process), and with glibc's defaults, under
  which the resident peak of the same work varies from run to run by up to 1.5x.

Run: python benchmarks/bench_verify.py [--rounds 5] [--device cpu|cuda] [--batch 8]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _setup(device: str, batch: int, size: int):
    import torch
    from torchvision.models import resnet50

    import padlint
    from padlint.load.target import Candidate
    from padlint.trace.build import prepare
    from padlint.verification.options import verify_options
    torch.manual_seed(0)
    model = resnet50().eval().to(device)
    x = torch.randn(batch, 3, size, size, device=device)
    prep = prepare(Candidate("resnet50", lambda: model))
    result = padlint.analyze(model, size).results[0]
    options = verify_options(device, None, None, batch)
    return torch, model, x, prep, result, options


def _verify(prep, result, options):
    from padlint.engine.select import select_rules
    from padlint.verification.stage import verify_result
    return verify_result(prep, result, options, select_rules())


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def child(what: str, device: str, batch: int, size: int) -> None:
    """Print the peak memory (bytes) of one plain forward or one verification."""
    torch, model, x, prep, result, options = _setup(device, batch, size)
    if what == "verify":
        x = None
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")                         # reset VmHWM to the current RSS
        base = _rss_kib("VmRSS") * 1024
    if what == "forward":
        with torch.no_grad():
            model(x)
    else:
        _verify(prep, result, options)
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = _rss_kib("VmHWM") * 1024 - base
    print(json.dumps({"peak": peak}))


def peak(what: str, args, steady: bool) -> int:
    env = dict(os.environ)
    if steady:             # the same allocator setting for both, as `padlint check --verify` uses
        env["MALLOC_MMAP_THRESHOLD_"] = str(1 << 20)
    out = subprocess.run([sys.executable, __file__, "--child", what, "--device", args.device,
                          "--batch", str(args.batch), "--size", str(args.size)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--memory-runs", type=int, default=3)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.device, args.batch, args.size)
        return
    torch, model, x, prep, result, options = _setup(args.device, args.batch, args.size)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    def forward():
        with torch.no_grad():
            model(x)

    def timed(fn) -> float:
        sync()
        start = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - start

    forward(), _verify(prep, result, options)            # warm-up
    rows = [(timed(forward), timed(lambda: _verify(prep, result, options)))
            for _ in range(args.rounds)]
    fwd, ver = (statistics.median(col) for col in zip(*rows))
    ratio = statistics.median(v / f for f, v in rows)
    peaks = {(what, steady): [peak(what, args, steady) for _ in range(args.memory_runs)]
             for steady in (True, False) for what in ("forward", "verify")}
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    print(f"torch {torch.__version__}, {name}, {torch.get_num_threads()} threads, "
          f"resnet50 {args.size}x{args.size}, batch {args.batch}, {args.rounds} rounds (medians)")
    print(f"plain no_grad forward:   {fwd * 1e3:8.1f} ms")
    print(f"verification (all):      {ver * 1e3:8.1f} ms")
    print(f"time ratio verify / forward:   {ratio:.2f}  (goal <= 3)")
    mib = lambda values: ", ".join(f"{v / 2**20:.0f}" for v in values)      # noqa: E731
    for steady, label in ((True, "mmap threshold 1 MiB, as padlint check --verify sets it"),
                          (False, "glibc defaults")):
        fwd_peaks, ver_peaks = peaks[("forward", steady)], peaks[("verify", steady)]
        print(f"peak memory, {label}: forward {mib(fwd_peaks)} MiB; verify {mib(ver_peaks)} MiB")
        print(f"  memory ratio verify / forward (medians): "
              f"{statistics.median(ver_peaks) / statistics.median(fwd_peaks):.2f}  (goal <= 1.2)")


if __name__ == "__main__":
    main()
