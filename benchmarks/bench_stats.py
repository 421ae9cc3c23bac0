"""Throughput of the mean-patch statistics against a plain forward over the same batches.

`padlint stats --data` runs the model over a dataset and accumulates, for every
convolution call, the k×k strided-slice sums of its padded input (padlint.patches). This
measures, on one device and in one run, samples per second of

- a plain ``torch.no_grad()`` eval forward over the batches (the baseline), and
- :func:`padlint.stats.mean_patches` over the same batches (the forward plus the sums,
  with the sums moved off the device once at the end).

Both go over the same pre-made batches, in alternating rounds after a warm-up; the figure
is the median of the per-round throughput ratios (patches / plain). Goal: at least 0.8x.

Models: torchvision resnet50 (53 convolutions) and mobilenet_v2 (52, of which 17 are
depthwise 3x3, where the input reduction weighs most against the convolution), no
weights, at 224x224.

Run: python benchmarks/bench_stats.py [--rounds 5] [--batches 4] [--batch 8] [--device cpu|cuda]
"""
import argparse
import json
import statistics
import time


def _plain(torch, model, batches, sync):
    with torch.no_grad():
        for x in batches:
            model(x)
    sync()


def _patches(mean_patches, model, batches, sync):
    mean_patches(model, batches)
    sync()


def bench(name: str, rounds: int, n_batches: int, batch: int, device: str) -> dict:
    import torch
    import torchvision

    from padlint.stats.facts import mean_patches
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)().eval().to(device)
    batches = [torch.randn(batch, 3, 224, 224, device=device) for _ in range(n_batches)]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    _plain(torch, model, batches[:1], sync)               # warm-up both paths
    _patches(mean_patches, model, batches[:1], sync)
    ratios, plain_t, patch_t = [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        _plain(torch, model, batches, sync)
        t1 = time.perf_counter()
        _patches(mean_patches, model, batches, sync)
        t2 = time.perf_counter()
        plain_t.append(t1 - t0)
        patch_t.append(t2 - t1)
        ratios.append((t1 - t0) / (t2 - t1))              # throughput ratio = time ratio inverted
    samples = n_batches * batch
    return {"model": name, "device": device, "samples_per_round": samples,
            "plain_samples_per_s": round(samples / statistics.median(plain_t), 2),
            "patches_samples_per_s": round(samples / statistics.median(patch_t), 2),
            "throughput_ratio": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default="resnet50,mobilenet_v2")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = [bench(m, args.rounds, args.batches, args.batch, args.device)
               for m in args.models.split(",")]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        ok = "meets" if r["throughput_ratio"] >= 0.8 else "MISSES"
        print(f"{r['model']} on {r['device']}, {r['samples_per_round']} samples per round: plain "
              f"{r['plain_samples_per_s']}/s, with mean patches {r['patches_samples_per_s']}/s; "
              f"throughput ratio {r['throughput_ratio']} (rounds {r['ratio_range'][0]}-"
              f"{r['ratio_range'][1]}), {ok} the 0.8x goal")


if __name__ == "__main__":
    main()
