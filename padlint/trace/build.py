"""The one place that builds a model and traces it at one input size: used by check,
sizes, stats, fix and report. :func:`prepare` builds a candidate (and finds the part of a
detection model padlint analyses); :func:`trace_at` traces it at a size, choosing the
input channels when the size does not state them. Failures are turned into one line by
:func:`padlint.sizes.failures.failure_message`."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from padlint.ir.shapes import gives_channels
from padlint.ir.trace import Trace
from padlint.load.target import Candidate
from padlint.trace.adapters import Adapted, adapt
from padlint.trace.frontend import ForwardFailed, FrontEnd, GeometryMismatch, InputTooSmall
from padlint.trace.inputs import declared_channels, full_shape


@dataclass
class Prepared:
    """A built model, the part of it padlint analyses, and its front end."""

    candidate: Candidate
    model: nn.Module
    adapted: Adapted | None
    front: FrontEnd


def prepare(candidate: Candidate, train: bool = False) -> Prepared:
    """Build and trace one candidate (raises PadlintError)."""
    model = candidate.instantiate()
    adapted = adapt(model)
    front = FrontEnd(adapted.module if adapted else model, candidate.sites, candidate.file, train)
    return Prepared(candidate, model, adapted, front)


def trace_at(prep: Prepared, size: tuple[int, ...], program: bool = False,
             coverage: bool = False) -> Trace:
    """The trace of one input size (a size as given: 224, (224, 320), a full shape …).
    Channels the size states are used as given; without them the first convolution's
    channels are a guess, and when the forward fails with those, the channels the model
    declares, then 1 and 3, are tried. Raises InputTooSmall, GeometryMismatch,
    ForwardFailed or PadlintError; the first three carry the ``input_shape`` they got."""
    model, adapted, front = prep.model, prep.adapted, prep.front
    shape = full_shape(size, model, prep.candidate.target)
    if shape is None:             # no conv or pool anywhere: nothing to analyse
        return Trace((), "none", size)
    if adapted:
        shape, note = adapted.input_shape(shape)
        return adapted.rename(front.run(shape, program=program, coverage=coverage), note)
    try:
        return run_at(front, shape, program=program, coverage=coverage)
    except ForwardFailed:
        if gives_channels(size, len(shape) - 2):
            raise                 # what the user states wins: no guessing
        for channels in other_channels(model, shape[1]):
            try:
                return run_at(front, (shape[0], channels) + shape[2:], program=program,
                               coverage=coverage)
            except ForwardFailed:
                continue
        raise


def run_at(front: FrontEnd, shape: tuple[int, ...], **kwargs) -> Trace:
    """``front.run(shape)``; a failure carries the shape (``err.input_shape``), so that
    its message and size hints name the input that really failed."""
    try:
        return front.run(shape, **kwargs)
    except (InputTooSmall, GeometryMismatch, ForwardFailed) as err:
        err.input_shape = tuple(shape)
        raise


FALLBACK_CHANNELS = (1, 3)      # grayscale and RGB: what a stem before the first conv takes


def other_channels(model: nn.Module, guessed: int) -> list[int]:
    """Channel counts to try when the first convolution's (``guessed``) do not run: the
    model's declared ones (timm's ``pretrained_cfg``), then 1 and 3."""
    tried = [declared_channels(model), *FALLBACK_CHANNELS]
    return [c for i, c in enumerate(tried) if c is not None and c != guessed and c not in tried[:i]]
