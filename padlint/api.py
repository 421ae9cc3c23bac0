"""``padlint.analyze`` and ``padlint.verify``: the one place that composes check's stages,
load -> trace -> geometry -> rules (-> verify), for one target or model."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from padlint.engine.noqa import Suppressor
from padlint.engine.rule import Rule
from padlint.engine.run import run_rules
from padlint.engine.select import select_rules
from padlint.errors import PadlintError
from padlint.ir.report import ModelResult, Outcome, Report
from padlint.ir.shapes import normalize_sizes
from padlint.ir.trace import Trace
from padlint.load.target import Candidate, candidates_in_module, candidates_of, import_file, load_target
from padlint.sizes.failures import failure_message
from padlint.sizes.preprocess import preprocess_facts
from padlint.sizes.suggest import suggest_sizes
from padlint.trace.build import Prepared, prepare, trace_at
from padlint.trace.frontend import GeometryMismatch, InputTooSmall
from padlint.verification.options import verify_options
from padlint.verification.stage import verify_failure, verify_result


def lint_candidate(candidate: Candidate, sizes: list[tuple[int, ...]] | None, rules: list[Rule],
                   train: bool = False, verify=None) -> tuple[list[ModelResult], list[dict]]:
    """Every input size of one model. Failures become error entries, never exceptions.
    ``verify`` (a :class:`padlint.verification.options.VerifyOptions`) adds the verify stage."""
    results, errors = [], []
    try:
        prep = prepare(candidate, train)
    except PadlintError as err:
        return [], [{"target": candidate.target, "message": str(err), "exception": err}]
    for size in candidate.sizes(sizes):
        try:
            trace = trace_at(prep, size, program=True,
                             coverage=any(r.code == "PAD108" for r in rules))
        except Exception as err:  # noqa: BLE001 - a padlint bug must not hide the other models
            entry: dict[str, Any] = {"target": candidate.target, "message": failure_message(prep, size, err)}
            if not isinstance(err, (PadlintError, InputTooSmall, GeometryMismatch)):
                entry["exception"] = err
            errors.append(entry)
            continue
        result = lint_trace(prep, trace, rules)
        if verify is not None and trace.layers:
            try:
                result = verify_result(prep, result, verify, rules)
            except Exception as err:  # noqa: BLE001 - one model's failure must not hide the others
                entry = {"target": candidate.target, "message": verify_failure(candidate.target, err)}
                if not isinstance(err, PadlintError):
                    entry["exception"] = err
                errors.append(entry)
                continue
        results.append(result)
    return results, errors


def lint_trace(prep: Prepared, trace: Trace, rules: list[Rule]) -> ModelResult:
    """The static findings of one traced size, with the nearest clean sizes."""
    suggested = suggest_sizes(prep.front, trace, rules)
    if prep.adapted is not None and any(r.code == "PAD109" for r in rules):
        trace = replace(trace, preprocess=preprocess_facts(prep, trace))
    return ModelResult(prep.candidate.target, trace, run_rules(trace, rules, suggested), suggested)


def lint_target(target: str, sizes, select=None, ignore=None, train: bool = False,
                folder_file: bool = False, severity: dict | None = None, verify=None) -> Outcome:
    """Load one target (a single file when ``folder_file``) and lint every model in it."""
    rules = select_rules(select, ignore, severity)
    try:
        if folder_file:
            candidates, skipped = candidates_in_module(import_file(target), target)
            load_errors = []
        else:
            loaded = load_target(target)
            candidates, skipped, load_errors = loaded.candidates, loaded.skipped, loaded.errors
    except PadlintError as err:
        return Outcome(errors=[{"target": target, "message": str(err), "exception": err}],
                       skipped=getattr(err, "skipped", []))
    outcome = Outcome(errors=[{"target": t, "message": m} for t, m in load_errors],
                      skipped=skipped, models=len(candidates))
    for candidate in candidates:
        results, errors = lint_candidate(candidate, sizes, rules, train, verify)
        outcome.results += results
        outcome.errors += errors
    return outcome


def analyze(model_or_target, input_size=None, select: Iterable[str] | None = None,
            ignore: Iterable[str] | None = None, train: bool = False,
            severity: dict[str, str] | None = None, config=None, verify=False,
            device: str = "auto", baselines=None, images=None, batch_size: int = 8) -> Report:
    """Lint a model (instance, class or factory) or a target (file, folder, ``module:attr``).

    ``input_size`` is 224 by default (or what ``PADLINT_TARGETS`` declares); it takes
    an int, ``'224x320'``, a shape tuple, or a list of these. ``select``/``ignore`` take
    rule codes or prefixes, as in ruff; ``severity`` overrides rule severities
    (``{"PAD103": "warning"}``). A ``# noqa`` comment on a layer's construction line
    moves its findings to ``result.suppressed``; ``config`` (a
    :class:`padlint.config.Config`) adds its ``per-file-ignores``. Bad targets raise
    :class:`PadlintError`, and so does a call that analyses nothing (its one model, or
    every model and size, failed: ``err.report`` holds the errors), so ``findings == []``
    never passes on a model that was not analysed. Partial failures (some models or sizes
    analysed) are listed in ``report.errors``. ``report.findings`` counts info findings;
    ``report.failing()`` lists those at or above warning, as :func:`padlint.assert_clean`
    fails on by default.

    ``verify=True`` adds the verify stage: the symmetric-kernel probe and real-weights
    ``baselines`` (default constant and random; simplified and zeros on request) on ``device``
    (auto: CUDA when there is one), plus ``images`` (a path to a .pt/.npy tensor or an image folder, or an
    (N, C, H, W) array or tensor). PAD101/PAD102 findings then carry ``verification``,
    PAD201/PAD202 can fire, and each result carries ``verification`` facts.
    """
    rules = select_rules(select, ignore, severity)
    options = verify_options(device, baselines, images, batch_size) if verify else None
    sizes = normalize_sizes(input_size) if input_size is not None else None
    candidates, skipped, load_errors = candidates_of(model_or_target)
    report = Report(errors=[{"target": t, "message": m} for t, m in load_errors])
    report.skipped = skipped
    for candidate in candidates:
        results, errors = lint_candidate(candidate, sizes, rules, train, options)
        report.results += results
        report.errors += errors
    report = Suppressor(config).apply(report)
    if report.errors and not report.results:
        raise nothing_analysed(report)
    return report


def nothing_analysed(report: Report) -> PadlintError:
    """The error for a report with errors and no result: an empty ``findings`` would read
    as clean. It carries the report (``err.report``) and the first failure's exception."""
    err = PadlintError("; ".join(e["message"] for e in report.errors))
    err.report = report
    err.__cause__ = next((e["exception"] for e in report.errors if e.get("exception")), None)
    return err


def verify(model_or_target, input_size=None, device: str = "auto", baselines=None, images=None,
           batch_size: int = 8, **kwargs):
    """``padlint.analyze(..., verify=True)``: the static findings with the verify stage
    (see :func:`padlint.analyze` for ``select``, ``ignore``, ``train``, ``severity``)."""
    return analyze(model_or_target, input_size, verify=True, device=device, baselines=baselines,
                   images=images, batch_size=batch_size, **kwargs)
