"""The stimulus positions along one axis, and the default grid from the model's cost.

A grid always holds the first and the last position, and it is mirror-symmetric: a
stimulus of ``extent`` cells at position ``p`` (its first cell) has its mirror image at
``n - extent - p``, and one is in the grid exactly when the other is. So a map of a
mirror-symmetric model is mirror-symmetric on the grid, and its flip asymmetry
(SCIENCE.md §3) measures the model alone.

>>> positions(9, count=5)
[0, 2, 4, 6, 8]
>>> positions(224, step=32)
[0, 32, 64, 96, 127, 159, 191, 223]
>>> positions(6, count=3)          # 6 places, 0..5, have no middle one: 4 positions
[0, 2, 3, 5]
"""
from __future__ import annotations

import math

# Floating-point operations one map may cost by default: about 21 x 21 positions of
# resnet18 at 224 (3.6 GFLOPs a forward), which take about 15 s in float32 on 2 cores.
FLOP_BUDGET = 1.6e12
MIN_COUNT = 5            # positions per axis a default grid has at least (where the axis has them)
OVERHEAD = 5e7           # what a position costs besides its FLOPs (placing it, the op bookkeeping), in FLOPs
BATCH_FLOPS = 4e10       # FLOPs a batch of positions may cost (small models get large batches)


def positions(n: int, count: int | None = None, step: int | None = None, extent: int = 1) -> list[int]:
    """The first cells of a stimulus of ``extent`` cells on an axis of ``n``: ``count``
    positions spread evenly, or every ``step``-th counted in from both ends; mirror-
    symmetric, first and last included (every place when ``count`` exceeds them)."""
    last = n - extent
    if last < 0:
        return []
    if step is not None:
        half = list(range(0, last // 2 + 1, max(1, step)))
    else:
        count = max(2, count or 2)
        if count >= last + 1:
            return list(range(last + 1))
        half = [(i * last) // (count - 1) for i in range((count + 1) // 2)]
    return sorted(set(half) | {last - p for p in half})


def default_count(flops: float, nd: int, budget: float = FLOP_BUDGET) -> int:
    """Positions per axis of the default grid: as many as ``budget`` pays for at
    ``flops`` a forward (at least MIN_COUNT)."""
    return max(MIN_COUNT, int(math.floor((budget / (max(flops, 0.0) + OVERHEAD)) ** (1.0 / nd))))


def default_batch(flops: float, least: int) -> int:
    """Positions a forward: ``least`` (16 on the CPU), more for a small model, up to 256."""
    return max(least, min(256, int(BATCH_FLOPS / max(flops, 1.0))))
