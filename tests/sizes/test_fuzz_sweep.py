"""Property-based fuzzing of the sweep's fast path against its exact path.

Hypothesis builds small 2-D models from random blocks (a windowed op with random
geometry, a residual merge of a strided conv with a strided pool, a TF-"SAME" pad
computed from the input shape, an upsample-and-crop back to a skip connection, a
channel concatenation, a slice), traces one at a random reference size and sweeps H over
1..48 both ways. Wherever the fast path accepts the model, its clean sizes, invalid sizes
and first offending layers must equal the exact path's (one traced run per size).

Profile: ``PADLINT_FUZZ_PROFILE`` as in test_fuzz_chains.py (``ci``: 150 derandomized
examples; ``dev``: 200 random ones); ``PADLINT_SWEEP_FUZZ_EXAMPLES=N`` sets the count.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from torch import nn

from padlint.engine.select import select_rules
from padlint.load.target import Candidate
from padlint.sizes.exact import exact_axis
from padlint.sizes.fast import fast_axis, fast_path_problem
from padlint.trace.build import prepare, trace_at

RULES = select_rules(["PAD101", "PAD102", "PAD104", "PAD105"])
SIZES = np.arange(1, 49)
EXAMPLES = int(os.environ.get("PADLINT_SWEEP_FUZZ_EXAMPLES", 0)) or \
    {"ci": 150, "dev": 200}[os.environ.get("PADLINT_FUZZ_PROFILE", "ci")]
RANDOM = os.environ.get("PADLINT_FUZZ_PROFILE", "ci") != "ci"


class Block(nn.Module):
    def __init__(self, kind: str, params: dict):
        super().__init__()
        self.kind, self.params = kind, params
        k, s, p, d = (params[key] for key in ("k", "s", "p", "d"))
        if kind == "conv":
            self.op = nn.Conv2d(2, 2, k, stride=s, padding=p, dilation=d)
        elif kind == "pool":
            self.op = nn.MaxPool2d(k, stride=s, padding=min(p, k // 2), dilation=d,
                                   ceil_mode=params["ceil"])
        elif kind == "convt":
            self.op = nn.ConvTranspose2d(2, 2, k, stride=s, padding=min(p, (k - 1) * d // 2),
                                         output_padding=params["op"] % max(s, d) if s > 1 else 0)
        elif kind == "residual":
            self.a = nn.Conv2d(2, 2, k, stride=s, padding=p)
            self.b = nn.AvgPool2d(s, s, ceil_mode=params["ceil"])
        elif kind == "same":
            self.op = nn.Conv2d(2, 2, k, stride=s)
        elif kind == "upcrop":
            self.op = nn.Conv2d(2, 2, 3, stride=2, padding=1)

    def forward(self, x):
        if self.kind in ("conv", "pool", "convt"):
            return self.op(x)
        if self.kind == "residual":
            return self.a(x) + self.b(x)
        if self.kind == "same":
            ih, iw = x.shape[-2:]
            k, s = self.params["k"], self.params["s"]
            ph = max((-(-ih // s) - 1) * s + k - ih, 0)
            pw = max((-(-iw // s) - 1) * s + k - iw, 0)
            return self.op(F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2]))
        if self.kind == "upcrop":
            up = F.interpolate(self.op(x), scale_factor=2.0, mode="nearest")
            return up[:, :, : x.shape[2], : x.shape[3]] + x
        if self.kind == "cat":
            return F.max_pool2d(torch.cat([x, x[:, :1]], 1)[:, :2], 2)
        if self.kind == "slice":
            return x[:, :, 1:, :]
        raise AssertionError(self.kind)


blocks = st.fixed_dictionaries({
    "kind": st.sampled_from(("conv", "conv", "pool", "convt", "residual", "same", "upcrop",
                             "cat", "slice")),
    "k": st.integers(1, 5), "s": st.integers(1, 3), "p": st.integers(0, 2),
    "d": st.sampled_from((1, 1, 2)), "ceil": st.booleans(), "op": st.integers(0, 2),
})


def build(spec):
    class Fuzzed(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(*[Block(b["kind"], b) for b in spec])

        def forward(self, x):
            return self.blocks(x)
    return Fuzzed


FULL = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SPECS = dict(spec=st.lists(blocks, min_size=1, max_size=4), ref=st.integers(8, 40))


@pytest.mark.corpus                  # the whole profile (about 20 s) in CI's corpus stage
@FULL
@given(**SPECS)
def test_fast_path_equals_exact_path(spec, ref):
    compare(spec, ref)


@settings(FULL, max_examples=min(40, EXAMPLES))
@given(**SPECS)
def test_fast_path_equals_exact_path_quick(spec, ref):
    compare(spec, ref)


def compare(spec, ref) -> None:
    note(f"spec={spec} ref={ref}")
    prep = prepare(Candidate("Fuzzed", build(spec)))
    shape = (1, 2, ref, ref + 3)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trace = trace_at(prep, shape, program=True)
    except Exception:  # noqa: BLE001 - a model that cannot run at its reference size
        event("does not run at its reference size")
        return
    problem = fast_path_problem(prep.front, trace)
    note(f"fast path: {problem or 'accepted'}")
    if problem is not None:
        event("fast path refused")
        return
    event("compared")
    fast = fast_axis(trace, 0, SIZES, RULES)
    exact = exact_axis(prep.front, trace, 0, SIZES, RULES)
    assert fast.clean == exact.clean
    assert fast.first_uneven == exact.first_uneven
    assert sorted(fast.invalid) == sorted(exact.invalid)
