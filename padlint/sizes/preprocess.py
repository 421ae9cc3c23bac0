"""PAD109's facts: what a detection model's own transform, which pads every image to a
multiple of ``size_divisible``, does to the analysed backbone at every such size."""
from __future__ import annotations

from typing import Any

import numpy as np

from padlint.engine.select import select_rules
from padlint.geometry.axis import AXIS_NAMES
from padlint.ir.trace import Preprocess, Trace
from padlint.load.sites import layer_source
from padlint.sizes.fast import fast_axis, fast_path_problem
from padlint.sizes.result import DEFAULT_RULES
from padlint.trace.build import Prepared


def preprocess_facts(prep: Prepared, trace: Trace) -> Preprocess | None:
    """What padding to a multiple of ``size_divisible`` means for the analysed backbone:
    which multiples (up to the transform's padded ``max_size``) are clean, and the
    smallest period and offset whose sizes all are. None when the transform does not pad
    to a multiple, or the length program cannot be trusted."""
    adapted = prep.adapted
    assert adapted is not None, "only a model with an adapted part has a transform"
    # A torchvision GeneralizedRCNNTransform (nn.Module's __getattr__ types it Tensor | Module).
    transform: Any = adapted.model.transform
    divisor = int(getattr(transform, "size_divisible", 1) or 1)
    chosen = select_rules(list(DEFAULT_RULES))          # what makes a size unclean
    if (divisor <= 1 or getattr(transform, "fixed_size", None) or not chosen or not trace.layers
            or trace.program is None or fast_path_problem(prep.front, trace) is not None):
        return None
    limit = -(-int(max(transform.max_size, max(trace.input_shape[2:]))) // divisor) * divisor
    sizes = np.arange(divisor, limit + 1)
    names = AXIS_NAMES[len(trace.input_shape) - 2]
    multiples, fix = {}, {}
    for i, axis in enumerate(names):
        result = fast_axis(trace, i, sizes, chosen, reasons=False)
        clean, runs = np.zeros(len(sizes), bool), np.ones(len(sizes), bool)
        clean[np.asarray(result.clean, dtype=np.int64) - divisor] = True
        runs[np.asarray(list(result.invalid), dtype=np.int64) - divisor] = False
        if not (runs & (sizes % divisor == 0)).any():
            continue                                   # no multiple runs at all: nothing to say
        multiples[axis] = [int(n) for n in sizes[clean & (sizes % divisor == 0)]]
        fix[axis] = _periodic(sizes, clean, runs, divisor)
    return Preprocess("transform", type(transform).__name__,
                      layer_source(adapted.model, "transform", prep.front.sites), divisor, limit,
                      adapted.prefix, multiples, fix)


def _periodic(sizes, clean, runs, divisor: int):
    """The smallest ``(period, offset)``, period a multiple of ``divisor`` up to 8 times it,
    such that every checked size ``period*k + offset`` that runs is clean."""
    for period in (divisor * m for m in (1, 2, 4, 8)):
        for offset in range(period):
            pick = (sizes % period == offset) & runs
            if pick.any() and clean[pick].all():
                return period, offset
    return None
