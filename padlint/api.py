"""``padlint.analyze``: load -> trace -> geometry -> rules, for one target or model."""
from __future__ import annotations

import os
from typing import Iterable

from torch import nn

from .errors import PadlintError
from .load import Candidate, load_target
from .report import ModelResult, Report
from .rules import Rule, run_rules, select_rules
from .shapes import declared_channels, full_shape, normalize_sizes, shape_str
from .trace import FrontEnd, ForwardFailed, GeometryMismatch, InputTooSmall, smallest_working_size

DEFAULT_SIZE = 224


def _candidates(model_or_target) -> tuple[list[Candidate], list[str], list[tuple[str, str]]]:
    if isinstance(model_or_target, (str, os.PathLike)):
        loaded = load_target(os.fspath(model_or_target))
        return loaded.candidates, loaded.skipped, loaded.errors
    if isinstance(model_or_target, nn.Module):
        return [Candidate(type(model_or_target).__name__, lambda: model_or_target)], [], []
    if callable(model_or_target):
        name = getattr(model_or_target, "__name__", type(model_or_target).__name__)
        return [Candidate(name, model_or_target)], [], []
    raise PadlintError(f"cannot analyze a {type(model_or_target).__name__}: pass an nn.Module, "
                       "a model class or factory, a file, a folder or a module:attr spec")


def _too_small(front: FrontEnd, candidate: Candidate, shape, err: InputTooSmall) -> PadlintError:
    smallest, axes = smallest_working_size(front, shape, err)
    if smallest is None:
        hint = "no input size up to 65536 works"
    elif len(axes) > 1:
        hint = f"the smallest input that works is {smallest}"
    else:
        hint = f"the smallest {err.axis} that works is {smallest}"
    return PadlintError(f"{candidate.target}: input {shape_str(shape[2:])} is too small: {err}; {hint}")


def lint_candidate(candidate: Candidate, sizes: list[tuple[int, ...]] | None, rules: list[Rule],
                   train: bool = False) -> tuple[list[ModelResult], list[dict]]:
    """Every input size of one model. Failures become error entries, never exceptions."""
    results, errors = [], []
    try:
        model = candidate.instantiate()
        front = FrontEnd(model, candidate.sites, candidate.file, train)
    except PadlintError as err:
        return [], [{"target": candidate.target, "message": str(err)}]
    for size in sizes or candidate.input_sizes or [(DEFAULT_SIZE,)]:
        shape = None
        try:
            shape = full_shape(size, model, candidate.target)
            try:
                trace = front.run(shape)
            except ForwardFailed:
                channels = declared_channels(model)
                if channels in (None, shape[1]) or len(size) > len(shape) - 2:
                    raise
                shape = (shape[0], channels) + shape[2:]
                trace = front.run(shape)
        except PadlintError as err:
            errors.append({"target": candidate.target, "message": str(err)})
            continue
        except InputTooSmall as err:
            errors.append({"target": candidate.target,
                           "message": str(_too_small(front, candidate, shape, err))})
            continue
        except GeometryMismatch as err:
            errors.append({"target": candidate.target, "message": f"{candidate.target}: padlint bug: "
                           f"{err}; please report it"})
            continue
        except ForwardFailed as err:   # the model's own forward fails, even for real
            errors.append({"target": candidate.target, "message":
                           f"{candidate.target}: its forward fails at input {shape_str(shape[2:])} {err}; "
                           "fix the forward (run with --debug for the traceback)", "exception": err})
            continue
        except Exception as err:  # noqa: BLE001 - a padlint bug must not hide the other models
            errors.append({"target": candidate.target, "message":
                           f"{candidate.target}: padlint failed on it ({type(err).__name__}: {err}); "
                           "please report this with the output of --debug", "exception": err})
            continue
        results.append(ModelResult(candidate.target, trace, run_rules(trace, rules)))
    return results, errors


def analyze(model_or_target, input_size=None, select: Iterable[str] | None = None,
            ignore: Iterable[str] | None = None, train: bool = False) -> Report:
    """Lint a model (instance, class or factory) or a target (file, folder, ``module:attr``).

    ``input_size`` is 224 by default (or what ``PADLINT_TARGETS`` declares); it takes
    an int, ``'224x320'``, a shape tuple, or a list of these. ``select``/``ignore`` take
    rule codes or prefixes, as in ruff. Bad targets raise :class:`PadlintError`;
    per-model failures are listed in ``report.errors``.
    """
    rules = select_rules(select, ignore)
    sizes = normalize_sizes(input_size) if input_size is not None else None
    candidates, skipped, load_errors = _candidates(model_or_target)
    report = Report(errors=[{"target": t, "message": m} for t, m in load_errors])
    report.skipped = skipped
    for candidate in candidates:
        results, errors = lint_candidate(candidate, sizes, rules, train)
        report.results += results
        report.errors += errors
    return report
