"""Findings and reports: what the rules produce and every output format reads."""
from __future__ import annotations

import json
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from padlint import __version__
from padlint.errors import PadlintError
from padlint.ir.severity import RANK, at_least
from padlint.ir.source import Source
from padlint.ir.trace import Layer, Trace

SCHEMA_VERSION = 1


# What a result reads of the later stages' facts (the IR imports none of those stages).
class SizeSuggestion(Protocol):
    """A padlint.sizes.suggest.Suggestion."""

    @property
    def axes(self) -> dict[str, tuple[int | None, int | None]]: ...   # axis -> nearest clean below/above

    @property
    def clean(self) -> dict[str, bool]: ...                            # axis -> the checked size is clean

    def sizes(self) -> list[Any]: ...

    def text(self) -> str: ...                                          # 'the nearest clean sizes are …'


class VerificationFacts(Protocol):
    """A padlint.verification.stage.Verification."""

    def to_json(self) -> dict[str, Any]: ...


class BlindspotsFacts(Protocol):
    """A padlint.blindspots.facts.Blindspots."""

    def to_json(self) -> dict[str, Any]: ...


class LayerStatsFacts(Protocol):
    """A padlint.stats.facts.LayerStats."""

    @property
    def name(self) -> str: ...

    @property
    def op(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


class StatsFacts(Protocol):
    """A padlint.stats.facts.Stats."""

    @property
    def layers(self) -> Sequence[LayerStatsFacts]: ...

    def layer(self, name: str) -> LayerStatsFacts | None: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Finding:
    """One rule firing on one layer axis (or on a whole model, with ``axis=None``)."""

    rule: str
    name: str
    severity: str
    layer: str
    axis: str | None
    message: str
    fix: str
    source: Source | None = None
    op: str = ""                                   # 'Conv2d k=3 s=2 p=1'
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    verification: dict[str, Any] | None = field(default=None, compare=False, hash=False)   # with --verify

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "name": self.name, "severity": self.severity,
               "layer": self.layer, "axis": self.axis, "message": self.message, "fix": self.fix,
               "source": self.source.to_json() if self.source else None,
               "op": self.op, "data": self.data}
        if self.source is not None and self.source.defined_at is not None:
            out["defined_at"] = self.source.defined_at.to_json()     # the library's line
        if self.verification is not None:
            out["verification"] = self.verification
        return out

    def at_least(self, severity: str) -> bool:
        return at_least(self.severity, severity)


@dataclass(frozen=True)
class Suppressed:
    """A finding that a ``# noqa`` comment or ``per-file-ignores`` silenced."""

    finding: Finding
    by: str                                        # 'noqa' or 'per-file-ignores'
    where: str = ""                                # 'path:line:col' of the comment, or the pattern

    @property
    def label(self) -> str:
        """'suppressed by noqa at net.py:7:62', 'suppressed by per-file-ignores "legacy/" in pyproject.toml'."""
        if not self.where:
            return f"suppressed by {self.by}"
        return f"suppressed by {self.by} {'at ' if self.by == 'noqa' else ''}{self.where}"

    def to_json(self) -> dict[str, Any]:
        return self.finding.to_json() | {"suppressed_by": self.by, "suppressed_at": self.where}


@dataclass(frozen=True)
class UnusedNoqa:
    """A ``# noqa`` comment naming padlint codes that suppressed none of them."""

    source: Source
    codes: tuple[str, ...]                         # the unused codes as written
    disabled: tuple[str, ...] = ()                 # those of them no selected rule can fire

    @property
    def message(self) -> str:
        text = f"unused noqa directive: {', '.join(self.codes)} suppressed nothing"
        if self.disabled:
            text += f" ({', '.join(self.disabled)} not selected)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source.to_json(), "codes": list(self.codes),
                "disabled": list(self.disabled), "message": self.message}


@dataclass
class ModelResult:
    """One model at one input size."""

    target: str
    trace: Trace
    findings: list[Finding]
    suggested: SizeSuggestion | None = None      # when the fast path gave one
    suppressed: list[Suppressed] = field(default_factory=list)
    verification: VerificationFacts | None = None   # with --verify
    stats: StatsFacts | None = None               # from `padlint stats`
    blindspots: BlindspotsFacts | None = None     # from `padlint blindspots`

    @property
    def suggested_sizes(self) -> list[Any] | None:
        """Nearest clean input sizes below/above ([] when clean, None when unknown)."""
        return self.suggested.sizes() if self.suggested is not None else None

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.trace.layers

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.trace.input_shape

    def _layers_json(self) -> list[dict[str, Any]]:
        layers = [layer.to_json() for layer in self.layers]
        if self.stats is None:
            return layers
        for entry in layers:                     # `padlint stats`: the §4 facts of each conv
            s = self.stats.layer(entry["name"])
            if s is not None:
                entry.update(s.to_json())
        seen = {entry["name"] for entry in layers}
        layers += [{"name": s.name, "op": s.op} | s.to_json() for s in self.stats.layers
                   if s.name not in seen]
        return layers

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "input_shape": list(self.input_shape),
                "method": self.trace.method,
                "layers": self._layers_json(),
                "findings": [f.to_json() for f in self.findings],
                "suggested_sizes": self.suggested_sizes,
                "suppressed": [s.to_json() for s in self.suppressed]} | (
                    {"verification": self.verification.to_json()} if self.verification else {}) | (
                    {"stats": self.stats.to_json()} if self.stats is not None else {}) | (
                    {"blindspots": self.blindspots.to_json()} if self.blindspots is not None else {})


@dataclass
class Report:
    results: list[ModelResult] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)      # {"target", "message"}
    skipped: list[str] = field(default_factory=list)     # classes that need arguments
    unused_noqa: list[UnusedNoqa] = field(default_factory=list)   # with --warn-unused-noqa

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def suppressed(self) -> list[Suppressed]:
        return [s for r in self.results for s in r.suppressed]

    @property
    def layers(self) -> list[Layer]:
        return [layer for r in self.results for layer in r.layers]

    def to_dict(self) -> dict[str, Any]:
        return {"padlint_version": __version__, "schema_version": SCHEMA_VERSION,
                "results": [r.to_json() for r in self.results],
                "errors": [{"target": e["target"], "message": e["message"]} for e in self.errors],
                "unused_noqa": [u.to_json() for u in self.unused_noqa]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def failing(self, fail_on: str = "warning") -> list[Finding]:
        """The findings at or above ``fail_on`` (none for ``'never'``): what
        ``padlint.assert_clean`` and the exit code fail on. ``findings`` also holds the
        info findings, so ``findings == []`` is the stricter test."""
        if fail_on == "never":
            return []
        if fail_on not in RANK:
            raise PadlintError(f"fail_on must be one of error, warning, info, never, got {fail_on!r}")
        return [f for f in self.findings if f.at_least(fail_on)]

    def exit_code(self, fail_on: str = "warning") -> int:
        if self.errors:
            return 2
        if fail_on == "never":
            return 0
        unused = bool(self.unused_noqa) and at_least("warning", fail_on)
        return int(unused or bool(self.failing(fail_on)))


@dataclass
class Outcome:
    """What linting one target (or one file of a folder) produced: picklable, so that a
    child process can hand it back."""

    # ModelResults; the CLI's other child-process work hands back its own payload here
    # (sizes.sweep.sweep_target: [SweepResult, the spatial sizes asked about]).
    results: list[Any] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    models: int = 0

    def portable(self) -> Outcome:
        """Exceptions replaced by their formatted tracebacks (exceptions may not pickle)."""
        errors = []
        for err in self.errors:
            err = dict(err)
            exc = err.pop("exception", None)
            if exc is not None:
                err["traceback"] = "".join(traceback.format_exception(exc))
            errors.append(err)
        return Outcome(self.results, errors, self.skipped, self.models)
