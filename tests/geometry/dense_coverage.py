"""The coverage profiles as full (m, n + 1) matrices: padlint's implementation before it
stored bands (issue 23), kept as the reference that padlint.geometry.coverage must match
to the bit."""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from padlint.geometry.axis import AxisFacts
from padlint.geometry.coverage import _transposed, adaptive_bins

Profile = NDArray[np.floating[Any]]


def identity(n: int) -> Profile:
    return np.concatenate([np.eye(n, dtype=np.float32), np.zeros((n, 1), np.float32)], axis=1)


def _pad_row(p: Profile) -> Profile:
    row = np.zeros((1, p.shape[1]), p.dtype)
    row[0, -1] = 1.0
    return row


def window(p: Profile, f: AxisFacts, transposed: bool) -> Profile:
    n = p.shape[0]
    ext = np.concatenate([p, _pad_row(p)], axis=0)          # row n: a padding cell
    j = np.arange(f.out)[:, None]
    t = np.arange(f.kernel)[None, :]
    if not transposed:
        idx = j * f.stride + t * f.dilation - f.pad_begin
        idx = np.where((idx >= 0) & (idx < n), idx, n)
        first: Profile = ext[idx[:, 0]]
        if f.kernel == 1:
            return first
        out = first.copy()
        for tap in range(1, f.kernel):
            out += ext[idx[:, tap]]
        out *= np.float32(1.0 / f.kernel)
        return out
    # padlint computes a transposed window on the full matrix itself (then takes its
    # bands): the same step, so this reference calls it and checks the bands around it
    return _transposed(p, f)


def pad(p: Profile, begin: int, end: int) -> Profile:
    if begin < 0:
        p, begin = p[-begin:], 0
    if end < 0:
        p, end = p[:p.shape[0] + end], 0
    row = _pad_row(p)
    return np.concatenate([np.repeat(row, begin, 0), p, np.repeat(row, end, 0)], axis=0)


def take(p: Profile, start: int, step: int, count: int) -> Profile:
    return p[start:start + step * count:step][:count]


def resample(p: Profile, m: int, corners: bool, mode: str = "linear", r: float | None = None) -> Profile:
    n = p.shape[0]
    o = np.arange(m, dtype=np.float64)
    step = n / m if r is None else float(r)
    if not corners and mode.startswith("nearest"):
        src = np.floor((o + 0.5) * step if mode == "nearest-exact" else o * step).astype(np.int64)
        nearest: Profile = p[np.minimum(src, n - 1)]
        return nearest
    x = o * (n - 1) / max(m - 1, 1) if corners else (o + 0.5) * step - 0.5
    x = np.clip(x, 0, n - 1)
    lo = np.floor(x).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    w = (x - lo)[:, None].astype(p.dtype)
    linear: Profile = (1 - w) * p[lo] + w * p[hi]
    return linear


def adaptive(p: Profile, m: int) -> Profile:
    n = p.shape[0]
    cs = np.concatenate([np.zeros((1, p.shape[1]), np.float64), np.cumsum(p, axis=0, dtype=np.float64)])
    start, end = adaptive_bins(n, m)
    pooled: Profile = ((cs[end] - cs[start]) / (end - start)[:, None]).astype(p.dtype)
    return pooled


def merge(profiles: list[Profile]) -> Profile | None:
    if any(q.shape != profiles[0].shape for q in profiles):
        return None
    out = profiles[0].copy()
    for q in profiles[1:]:
        out += q
    out *= np.float32(1.0 / len(profiles))
    return out
