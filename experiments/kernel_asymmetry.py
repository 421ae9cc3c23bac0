"""Do trained stride-2 kernels turn asymmetric under uneven padding? (SCIENCE.md §4)

A 3×3 stride-2 convolution with padding 1 that gets an even input size reads its
top/left zero-padding row but never its bottom/right one ("Mind the Pad", ICLR 2021).
This script trains the same small CNN, from the same seed, on the same procedurally
drawn shapes at an uneven size (default 32: every stride-2 layer sees an even input)
and at the nearest clean size (33 -> 17 -> 9 -> 5 -> 3: all odd), then compares the
mean 3×3 kernel (weights averaged over output and input channels) of every layer:

- ``asym``: ``padlint.measures.flip_asymmetry`` of the mean kernel along H and W,
- ``sig``: ``padlint.stats.significance``, the same difference in units of what
  channel noise alone would give (above ~3: beyond noise),
- ``tilt``: signed (first row - last row) / ||K - mean K|| (columns for W), > 0 = top/left heavier,
- ``heavier``: ``padlint.stats.heavier_side`` per seed, counted over seeds.

The untrained kernels (identical for both sizes, same seed) are the noise reference.
Nothing is downloaded; data is drawn from the seed with numpy. Runs on 2 CPU cores:

    python3 experiments/kernel_asymmetry.py                 # full: 5 seeds, 8 epochs
    python3 experiments/kernel_asymmetry.py --quick         # ~1 minute smoke run
    python3 experiments/kernel_asymmetry.py --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import time

# Idle OpenMP threads sleep instead of spinning: with another process on the 2 cores
# (a CI run), spinning threads made training 2-4x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
from torch import nn

import padlint
from padlint.geometry.measures import flip_asymmetry
from padlint.stats.facts import heavier_side, kernel_stats, significance, tilt

CLASSES = ("square", "circle", "cross", "triangle", "ring", "x")
AXES = (("H", 0), ("W", 1))


# ----------------------------------------------------------------------------- data

def draw_params(n: int, rng: np.random.Generator) -> dict:
    """Shape parameters in the unit square, independent of the pixel size, so that both
    sizes see the same images. Centres anywhere in [0.05, 0.95]: shapes often touch or
    cross a border. Every class is symmetric under H and W flips (triangles point up, down,
    left or right with equal odds), so the data itself favours no side."""
    return {"label": rng.integers(0, len(CLASSES), n),
            "cx": rng.uniform(0.05, 0.95, n), "cy": rng.uniform(0.05, 0.95, n),
            "r": rng.uniform(0.12, 0.32, n),
            "orient": rng.integers(0, 4, n),
            "fg": rng.uniform(0.6, 1.0, n) * rng.choice([-1.0, 1.0], n),
            "bg": rng.uniform(-0.3, 0.3, n),
            "noise_seed": rng.integers(0, 2 ** 31, n)}


def render(p: dict, size: int, noise: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Rasterise the shapes at ``size``×``size`` (pixel centres at (j + 0.5) / size)."""
    n = len(p["label"])
    c = (np.arange(size) + 0.5) / size
    yy, xx = np.meshgrid(c, c, indexing="ij")
    out = np.empty((n, 1, size, size), np.float32)
    for i in range(n):
        dx, dy, r = (xx - p["cx"][i]) / p["r"][i], (yy - p["cy"][i]) / p["r"][i], 1.0
        o = p["orient"][i]
        if o == 1:
            dy = -dy
        elif o == 2:
            dx, dy = dy, dx
        elif o == 3:
            dx, dy = dy, -dx
        k = CLASSES[p["label"][i]]
        rad = np.hypot(dx, dy)
        if k == "square":
            m = np.maximum(abs(dx), abs(dy)) <= 0.8 * r
        elif k == "circle":
            m = rad <= r
        elif k == "cross":
            m = ((abs(dx) <= 0.25) & (abs(dy) <= r)) | ((abs(dy) <= 0.25) & (abs(dx) <= r))
        elif k == "triangle":           # apex at dy = -1, base at dy = +0.7
            m = (dy >= -1.0) & (dy <= 0.7) & (abs(dx) <= (dy + 1.0) / 1.7 * 0.9)
        elif k == "ring":
            m = (rad <= r) & (rad >= 0.6 * r)
        else:                            # x: the cross turned 45°
            u, v = (dx + dy) / np.sqrt(2), (dx - dy) / np.sqrt(2)
            m = ((abs(u) <= 0.22) & (abs(v) <= r)) | ((abs(v) <= 0.22) & (abs(u) <= r))
        img = np.where(m, p["fg"][i], 0.0) + p["bg"][i]
        img += np.random.default_rng(p["noise_seed"][i]).normal(0.0, noise, img.shape)
        out[i, 0] = img
    return torch.from_numpy(out), torch.from_numpy(p["label"].astype(np.int64))


# ---------------------------------------------------------------------------- model

def block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Net(nn.Module):
    """stem (s1) then ``downs`` stages of [3×3 s2 down, 3×3 s1], zero padding 1 everywhere,
    global average pool, linear head."""

    def __init__(self, width: int = 16, downs: int = 4, classes: int = len(CLASSES)):
        super().__init__()
        chans = [width * min(2 ** i, 4) for i in range(downs + 1)]
        layers = {"stem": block(1, chans[0], 1)}
        for i in range(downs):
            layers[f"down{i + 1}"] = block(chans[i], chans[i + 1], 2)
            layers[f"conv{i + 1}"] = block(chans[i + 1], chans[i + 1], 1)
        self.features = nn.ModuleDict(layers)
        self.head = nn.Linear(chans[-1], classes)

    def forward(self, x):
        for layer in self.features.values():
            x = layer(x)
        return self.head(x.mean(dim=(2, 3)))


def layer_names(model: Net) -> dict[str, str]:
    """Conv qualified name ('features.down1.0') -> short name ('down1')."""
    return {f"features.{k}.0": k for k in model.features}


# ---------------------------------------------------------------------------- measure

def measure(model: Net) -> dict:
    names = layer_names(model)
    out = {}
    for qual, facts in kernel_stats(model).items():
        short = names.get(qual, qual)
        row = {"mean_kernel": facts.mean.round(6).tolist()}
        for ax, i in AXES:
            row[f"asym_{ax}"] = flip_asymmetry(facts.mean, i, 2)
            row[f"sig_{ax}"] = significance(facts.mean, facts.noise, i)
            row[f"tilt_{ax}"] = tilt(facts.mean, i)
            row[f"heavier_{ax}"] = heavier_side(facts.mean, i, ax)
        out[short] = row
    return out


def uneven_layers(model: Net, size: int) -> list[str]:
    """The layers padlint flags PAD101 (uneven padding) at ``size``, as 'down1:H'."""
    names = layer_names(model)
    report = padlint.analyze(model, input_size=size, select=["PAD101"])
    return sorted({f"{names.get(f.layer, f.layer)}:{f.axis}"
                   for r in report.results for f in r.findings if f.rule == "PAD101"})


# ---------------------------------------------------------------------------- train

def train(seed: int, size: int, params: tuple[dict, dict], args) -> tuple[Net, float, dict]:
    torch.manual_seed(seed)
    model = Net(args.width, args.downs)
    init = measure(model)
    xtr, ytr = render(params[0], size)
    xte, yte = render(params[1], size)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4,
                          nesterov=True)
    steps = args.epochs * ((len(ytr) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=steps, pct_start=0.2)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(args.epochs):                 # no flip augmentation: it would symmetrise
        order = torch.randperm(len(ytr), generator=gen)
        for b in range(0, len(ytr), args.batch):
            idx = order[b:b + args.batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        acc = float(torch.cat([model(xte[b:b + 500]).argmax(1) for b in range(0, len(yte), 500)])
                    .eq(yte).float().mean())
    return model, acc, init


# ---------------------------------------------------------------------------- report

def summary(runs: list[dict], layers: list[str]) -> dict:
    out = {}
    for layer in layers:
        row = {}
        for ax, _ in AXES:
            for key in ("asym", "sig", "tilt"):
                v = np.array([r[layer][f"{key}_{ax}"] for r in runs], dtype=float)
                row[f"{key}_{ax}"] = (float(v.mean()), float(v.std()))
            sides = [r[layer][f"heavier_{ax}"] for r in runs]
            row[f"heavier_{ax}"] = {s: sides.count(s) for s in dict.fromkeys(sides)}
        out[layer] = row
    return out


def fmt_sides(counts: dict, n: int) -> str:
    side, c = max(counts.items(), key=lambda kv: kv[1])
    return f"{side} {c}/{n}"


def print_table(title: str, summ: dict, n: int) -> None:
    print(f"\n{title}")
    print(f"{'layer':<7}| {'asym H':>11} {'sig H':>11} {'tilt H':>12} {'heavier H':>11} "
          f"| {'asym W':>11} {'sig W':>11} {'tilt W':>12} {'heavier W':>11}")
    for layer, row in summ.items():
        cells = []
        for ax, _ in AXES:
            a, s, t = row[f"asym_{ax}"], row[f"sig_{ax}"], row[f"tilt_{ax}"]
            cells.append(f"{a[0]:5.2f}±{a[1]:4.2f} {s[0]:5.1f}±{s[1]:4.1f} {t[0]:+5.2f}±{t[1]:4.2f} "
                         f"{fmt_sides(row[f'heavier_{ax}'], n):>11}")
        print(f"{layer:<7}| " + " | ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (0 .. n-1)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--train", type=int, default=3000, help="training images per run")
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--uneven", type=int, default=32, help="input size that makes stride-2 layers uneven")
    ap.add_argument("--clean", type=int, default=33, help="nearest clean input size")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--downs", type=int, default=4, help="number of stride-2 stages")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true",
                    help="~1 minute smoke run (2 seeds, 4 epochs, 2000 images)")
    ap.add_argument("--json", metavar="PATH", help="write all per-seed and summary results here")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.train, args.test = 2, 4, 2000, 500
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    probe = Net(args.width, args.downs)
    sizes = {"uneven": args.uneven, "clean": args.clean}
    pad101 = {k: uneven_layers(probe, s) for k, s in sizes.items()}
    for k, s in sizes.items():
        print(f"{k} size {s}: PAD101 on {', '.join(pad101[k]) or 'no layer'}")
    layers = list(layer_names(probe).values())
    print(f"model: {sum(p.numel() for p in probe.parameters())} parameters, layers {layers}")
    print(f"data: {args.train} train / {args.test} test images, {len(CLASSES)} classes; "
          f"{args.epochs} epochs, {args.seeds} seeds, {args.threads} threads")

    init, trained, acc, per_seed = [], {k: [] for k in sizes}, {k: [] for k in sizes}, []
    for seed in range(args.seeds):
        rng = np.random.default_rng(1000 + seed)
        params = (draw_params(args.train, rng), draw_params(args.test, rng))
        record = {"seed": seed}
        for k, s in sizes.items():
            t0 = time.perf_counter()
            model, a, m0 = train(seed, s, params, args)
            m = measure(model)
            trained[k].append(m)
            acc[k].append(a)
            record[k] = {"size": s, "accuracy": a, "kernels": m, "seconds": time.perf_counter() - t0}
            print(f"seed {seed} {k:>6} size {s}: test acc {a:.3f}  "
                  f"down1 asym H {m['down1']['asym_H']:.2f} ({m['down1']['heavier_H']}, "
                  f"sig {m['down1']['sig_H']:.1f})  W {m['down1']['asym_W']:.2f} "
                  f"({m['down1']['heavier_W']}, sig {m['down1']['sig_W']:.1f})  "
                  f"[{time.perf_counter() - t0:.0f}s]", flush=True)
        init.append(m0)             # same seed -> same init for both sizes
        record["init"] = m0
        per_seed.append(record)

    n = args.seeds
    summ = {"init": summary(init, layers)}
    print_table(f"AT INITIALISATION (untrained, {n} seeds; identical for both sizes)", summ["init"], n)
    for k, s in sizes.items():
        summ[k] = summary(trained[k], layers)
        a = np.array(acc[k])
        print_table(f"TRAINED, {k.upper()} size {s} (test acc {a.mean():.3f}±{a.std():.3f}; "
                    f"PAD101: {', '.join(pad101[k]) or 'none'})", summ[k], n)
    wall = time.perf_counter() - start
    print("\nasym = flip asymmetry ||K-flip K||/||K-mean K|| of the mean 3x3 kernel (mean±std over seeds);"
          "\nsig = the same difference over channel noise (>3: beyond noise); tilt = signed"
          " (first-last row/col)/||K-mean K||, >0: top/left heavier;\nheavier = the side most seeds"
          " agree on, count of seeds.")
    print(f"\nwall time: {wall:.1f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "pad101": pad101, "accuracy": acc, "summary": summ,
                       "per_seed": per_seed, "wall_seconds": wall}, f, indent=1)


if __name__ == "__main__":
    main()
