#!/usr/bin/env python
"""Fuzz padlint at scale: the property of ``tests/trace/test_fuzz_chains.py`` on many random chains.

    python scripts/fuzz_chains.py --examples 100000 [--seed N] [--no-shrink]

Every example is a random ``nn.Sequential`` of windowed ops and explicit pads whose
padlint report is checked against a real CPU forward and autograd (see the test
module's docstring). Unlike the test, a disagreement does not stop the run: all are
counted, the first few printed, and then Hypothesis searches again from the same seed
and shrinks the first one it meets to a minimal repro. Exits 1 on any disagreement.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "trace")]  # padlint, the test modules, uninstalled

warnings.filterwarnings("ignore", message="Using padding='same'")   # torch's note, from the truth

import test_fuzz_chains as fz  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402


def _settings(examples: int, phases) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck), phases=phases)


def explore(examples: int, seed_value: int, show: int, progress: int) -> list[tuple[object, str]]:
    found: list[tuple[object, str]] = []
    start = time.perf_counter()

    @seed(seed_value)
    @_settings(examples, [Phase.generate])
    @given(fz.chains())
    def run(chain):
        try:
            fz.check_chain(chain)
        except Exception as err:  # noqa: BLE001 - every failure is a finding; keep going
            found.append((chain, f"{type(err).__name__}: {err}"))
            if len(found) <= show:
                print(f"\n--- disagreement #{len(found)} (example {fz.STATS['examples']}) ---\n"
                      f"{found[-1][1]}\n", flush=True)
        done = fz.STATS["examples"]
        if progress and done % progress == 0:
            print(f"  {done} examples, {len(found)} disagreements, "
                  f"{time.perf_counter() - start:.0f}s", flush=True)

    run()
    return found


def shrink(examples: int, seed_value: int) -> tuple[object, str] | None:
    """Search again from the same seed, stopping at the first disagreement, and shrink it."""
    last: dict = {}

    @seed(seed_value)
    @_settings(examples, [Phase.generate, Phase.shrink])
    @given(fz.chains())
    def run(chain):
        try:
            fz.check_chain(chain)
        except Exception as err:
            last["found"] = (chain, f"{type(err).__name__}: {err}")
            raise

    try:
        run()
    except Exception:  # noqa: BLE001 - the last failing call is the shrunk example
        pass
    return last.get("found")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=5000, help="examples to check (default 5000)")
    ap.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random, printed)")
    ap.add_argument("--show", type=int, default=5, help="disagreements to print in full (default 5)")
    ap.add_argument("--progress", type=int, default=1000, help="progress line every N examples (0: none)")
    ap.add_argument("--no-shrink", action="store_true", help="do not shrink the first disagreement")
    ap.add_argument("--include-slow", action="store_true",
                    help="also generate the 3-D avg/LP pools that make padlint's size search slow "
                         "(see AVOID_SLOW_3D_POOLS in the test module)")
    args = ap.parse_args(argv)
    fz.AVOID_SLOW_3D_POOLS = not args.include_slow
    seed_value = args.seed if args.seed is not None else random.randrange(2 ** 32)
    print(f"padlint chain fuzzing: {args.examples} examples, seed {seed_value}", flush=True)

    start = time.perf_counter()
    with fz.fast_cpu():
        found = explore(args.examples, seed_value, args.show, args.progress)
        elapsed = time.perf_counter() - start
        stats, slow = Counter(fz.STATS), list(fz.SLOW)
        text = fz.summary().replace(f"({fz.PROFILE})", f"(seed {seed_value})")
        minimal = shrink(args.examples, seed_value) if found and not args.no_shrink else None

    print("\n" + text)
    print(f"examples run: {stats['examples']}")
    print(f"disagreements: {len(found)}")
    if slow:
        print(f"padlint.analyze slower than {fz.SLOW_ANALYZE_S:.0f}s: {len(slow)} calls, "
              f"slowest {max(slow)[0]:.1f}s")
    print(f"time: {elapsed:.1f}s ({1000 * elapsed / max(1, stats['examples']):.1f} ms/example)")
    if found:
        kinds = Counter(re.sub(r"\d+", "N", msg.splitlines()[0])[:150] for _, msg in found)
        print("by first line:\n" + "\n".join(f"  {n:5d}  {line}" for line, n in kinds.most_common(10)))
    if minimal:
        print(f"\nminimal failing example (shrunk by Hypothesis):\n{minimal[1]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
