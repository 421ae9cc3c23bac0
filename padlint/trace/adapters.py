"""Models that cannot be analysed whole, and the part of them padlint analyses instead.

Detection models (torchvision's ``GeneralizedRCNN``, ``RetinaNet``, ``FCOS``, ``SSD``) do
not trace: their heads run data-dependent code (NMS, top-k). Their convolutions, though,
live in ``model.backbone`` (with its FPN), which traces, and which only ever sees what the
model's own ``transform`` makes of an image: resized, then padded to a multiple of
``size_divisible``. So padlint analyses the backbone at exactly that size.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from padlint.ir.shapes import shape_str
from padlint.ir.trace import Trace, TraceNote


@dataclass
class Adapted:
    """The part of a model to analyse, under which name, and how it maps input shapes."""

    module: nn.Module
    prefix: str                          # qualified name of ``module`` in the whole model
    model: nn.Module

    def input_shape(self, image_shape: tuple[int, ...]) -> tuple[tuple[int, ...], TraceNote]:
        # A torchvision GeneralizedRCNNTransform (nn.Module's __getattr__ types it Tensor | Module).
        transform: Any = self.model.transform
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


def _one(value):
    return value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value


def adapt(model: nn.Module) -> Adapted | None:
    """The analysable part of ``model``, or None when the whole model is analysed."""
    transform = getattr(model, "transform", None)
    backbone = getattr(model, "backbone", None)
    if (type(transform).__name__ == "GeneralizedRCNNTransform" and isinstance(backbone, nn.Module)):
        return Adapted(backbone, "backbone", model)
    return None
