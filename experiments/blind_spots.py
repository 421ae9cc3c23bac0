"""Where do trained models stop seeing a small object? (the seed talk's experiment)

The sibling of ``experiments/kernel_asymmetry.py``: the same small CNN, trained from the
same seed on the same procedurally drawn shapes at an uneven size (default 32: every
stride-2 layer sees an even input) and at the nearest clean size (33), then mapped by
``padlint blindspots`` with the trained (real) weights: a 1-pixel stimulus of 1 on a 0.5
background at every input position, the response being how much the deepest map
changes. Per map:

- ``asym``: the map's flip asymmetry per axis (SCIENCE.md §3; 0: mirror-symmetric),
- ``edge``: the mean response of the last row (column for W) over that of the first:
  below 1 the bottom (right) border is seen less than the top (left) one,
- ``blind``: positions below PAD203's threshold (25 % of the map's median), and where they
  lie: ``end`` counts those in the last 4 rows or columns (bottom/right band), ``start``
  those in the first 4 (top/left band); the two bands are the same size.

The untrained models (identical for both sizes, same seed) are the reference. Nothing is
downloaded; data is drawn from the seed with numpy. Runs on 2 CPU cores:

    python3 experiments/blind_spots.py                 # full: 5 seeds, 8 epochs (~2.5 minutes)
    python3 experiments/blind_spots.py --quick         # ~40 s smoke run
    python3 experiments/blind_spots.py --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")     # as in kernel_asymmetry.py

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_asymmetry import Net, draw_params, train  # noqa: E402

import padlint.blindspots.stage as blindspots  # noqa: E402

KEYS = ("asym_H", "asym_W", "edge_H", "edge_W", "blind", "blind_end", "blind_start")
BAND = 4


def measure(model: Net, size: int) -> dict:
    """The full-grid map (every input position) of ``model`` at ``size``, real weights, float64."""
    report = blindspots.analyze(model, size, kernels="real", step=1, clean=False, dtype="float64")
    b = report.results[0].blindspots
    r = b.main.response
    asym = b.main.asymmetry
    blind = b.main.blind
    end, start = np.zeros_like(blind), np.zeros_like(blind)
    end[-BAND:], end[:, -BAND:], start[:BAND], start[:, :BAND] = True, True, True, True
    return {"asym_H": asym["H"], "asym_W": asym["W"],
            "edge_H": float(r[-1].mean() / r[0].mean()), "edge_W": float(r[:, -1].mean() / r[:, 0].mean()),
            "blind": int(blind.sum()),
            "blind_end": int((blind & end).sum()), "blind_start": int((blind & start).sum()), "positions": int(r.size), "watched": b.watched,
            "pad203": [f.message for f in report.results[0].findings if f.rule == "PAD203"]}


def spread(rows: list[dict]) -> dict:
    return {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows]))) for k in KEYS}


def line(title: str, s: dict, rows: list[dict]) -> str:
    fired = sum(bool(r["pad203"]) for r in rows)
    return (f"{title:<26} asym H {s['asym_H'][0]:.3f}±{s['asym_H'][1]:.3f}  W {s['asym_W'][0]:.3f}±{s['asym_W'][1]:.3f}  "
            f"edge H {s['edge_H'][0]:.2f}±{s['edge_H'][1]:.2f}  W {s['edge_W'][0]:.2f}±{s['edge_W'][1]:.2f}  "
            f"blind {s['blind'][0]:.1f}±{s['blind'][1]:.1f} of {rows[0]['positions']} "
            f"(end {s['blind_end'][0]:.1f}±{s['blind_end'][1]:.1f}, start {s['blind_start'][0]:.1f}±{s['blind_start'][1]:.1f})  PAD203 {fired}/{len(rows)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--train", type=int, default=3000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--uneven", type=int, default=32)
    ap.add_argument("--clean", type=int, default=33)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--downs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 4 epochs, 2000 images")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.train, args.test = 2, 4, 2000, 500
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    sizes = {"uneven": args.uneven, "clean": args.clean}
    rows: dict[str, list[dict]] = {f"{k} {when}": [] for k in sizes for when in ("init", "trained")}
    for seed in range(args.seeds):
        rng = np.random.default_rng(1000 + seed)
        params = (draw_params(args.train, rng), draw_params(args.test, rng))
        for k, s in sizes.items():
            torch.manual_seed(seed)
            rows[f"{k} init"].append(measure(Net(args.width, args.downs), s))
            model, acc, _ = train(seed, s, params, args)
            m = measure(model, s) | {"accuracy": acc}
            rows[f"{k} trained"].append(m)
            print(f"seed {seed} {k:>6} {s}: acc {acc:.3f}  asym H {m['asym_H']:.3f} W {m['asym_W']:.3f}  "
                  f"edge H {m['edge_H']:.2f} W {m['edge_W']:.2f}  blind {m['blind']}/{m['positions']} "
                  f"(end {m['blind_end']}, start {m['blind_start']})  "
                  f"(map of {m['watched']})", flush=True)
    print(f"\nmean ± std over {args.seeds} seeds (asym: flip asymmetry of the map; edge: last row/col "
          "over first; blind: below 25 % of the median, end/start: of those, in the last/first "
          f"{BAND} rows or columns)")
    summary = {}
    for title, rs in rows.items():
        summary[title] = spread(rs)
        print(line(f"{title} ({sizes[title.split()[0]]})", summary[title], rs))
    wall = time.perf_counter() - start
    print(f"\nwall time: {wall:.1f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows, "summary": summary, "wall_seconds": wall}, f, indent=1)


if __name__ == "__main__":
    main()
