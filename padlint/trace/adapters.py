"""Models that cannot be analysed whole, and the part of them padlint analyses instead.

Detection models (torchvision's ``GeneralizedRCNN``, ``RetinaNet``, ``FCOS``, ``SSD``) do
not trace: their heads run data-dependent code (NMS, top-k). Their convolutions, though,
live in ``model.backbone`` (with its FPN), which traces, and which only ever sees what the
model's own ``transform`` makes of an image: resized, then padded to a multiple of
``size_divisible``. So padlint analyses the backbone at exactly that size.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from padlint.ir.trace import Trace, TraceNote
from padlint.ir.shapes import shape_str


@dataclass
class Adapted:
    """The part of a model to analyse, under which name, and how it maps input shapes."""

    module: nn.Module
    prefix: str                          # qualified name of ``module`` in the whole model
    model: nn.Module

    def input_shape(self, image_shape: tuple[int, ...]) -> tuple[tuple[int, ...], TraceNote]:
        transform = self.model.transform
        with torch.no_grad():
            images, _ = transform.eval()([torch.zeros(image_shape[1:])])
        shape = tuple(images.tensors.shape)
        fixed = getattr(transform, "fixed_size", None)
        how = (f"resizes every image to {shape_str(fixed)}" if fixed else
               f"resizes images to min_size {_one(transform.min_size)} / max_size {transform.max_size}"
               f" and pads them to a multiple of {transform.size_divisible}")
        padded = (f"; the backbone only ever sees multiples of {transform.size_divisible}, so its "
                  "findings hold for every image" if not fixed and transform.size_divisible > 1 else
                  "; the backbone sees this size for every image" if fixed else "")
        reason = (f"detection model: the full model does not trace (its heads run data-dependent "
                  f"code), so padlint analysed {self.prefix} (backbone and FPN) at "
                  f"{shape_str(shape[2:])}, the size its {type(transform).__name__} gives a "
                  f"{shape_str(image_shape[2:])} image: it {how}{padded}")
        return shape, TraceNote("partial", self.prefix, reason)


    def rename(self, trace: Trace, note: TraceNote) -> Trace:
        """Layer names as in the whole model (``backbone.body.conv1``), and the note."""
        layers = tuple(replace(layer, name=f"{self.prefix}.{layer.name}") for layer in trace.layers)
        alignment = trace.alignment.rename(self.prefix) if trace.alignment is not None else None
        return replace(trace, layers=layers, notes=trace.notes + (note,), alignment=alignment)


@dataclass(frozen=True)
class Preprocess:
    """A model's own input transform that pads every image to a multiple of ``divisor``,
    and, per axis, what that does to the analysed part (read by PAD109)."""

    name: str                 # 'transform'
    op: str                   # 'GeneralizedRCNNTransform'
    source: object            # its construction site
    divisor: int
    limit: int                # the largest padded size checked
    part: str                 # 'backbone'
    clean_multiples: dict     # axis -> the multiples of divisor up to limit that are clean
    fix: dict                 # axis -> (period, offset) of sizes that are all clean, or None


def preprocess_facts(prep, trace: Trace) -> Preprocess | None:
    """What padding to a multiple of ``size_divisible`` means for the analysed backbone:
    which multiples (up to the transform's padded ``max_size``) are clean, and the
    smallest period and offset whose sizes all are. None when the transform does not pad
    to a multiple, or the length program cannot be trusted."""
    import numpy as np
    from padlint.geometry.axis import AXIS_NAMES
    from padlint.load.sites import layer_source
    from padlint.sizes.sweep import DEFAULT_RULES, fast_axis, fast_path_problem
    adapted = prep.adapted
    transform = adapted.model.transform
    divisor = int(getattr(transform, "size_divisible", 1) or 1)
    from padlint.engine.select import select_rules
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


def _one(value):
    return value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value


def adapt(model: nn.Module) -> Adapted | None:
    """The analysable part of ``model``, or None when the whole model is analysed."""
    transform = getattr(model, "transform", None)
    backbone = getattr(model, "backbone", None)
    if (type(transform).__name__ == "GeneralizedRCNNTransform" and isinstance(backbone, nn.Module)):
        return Adapted(backbone, "backbone", model)
    return None
