"""What ``padlint fix`` plans: the sites it would edit, the edits, what it cannot fix and why."""
from __future__ import annotations

from dataclasses import dataclass, field

from padlint.fix.text import edited_texts, unified_diff
from padlint.ir.source import Source

FIXABLE = ("PAD101", "PAD102", "PAD103", "PAD104", "PAD107")


# Rules a rewrite must not make fire anew: an average-pool shortcut beside a 3x3 stride-2
# main path is half a cell off it (PAD107), unless that path is rewritten to kernel 4 too.
WATCHED = ("PAD107",)


POLICIES = ("input", "any")


NOT_LITERAL = "not a literal call"


ARGS_NOT_LITERAL = "arguments not literal"


NO_REWRITE = "no rewrite known"


OUTSIDE = "outside the working directory"


ANY_SIZE = ("no rewrite is even at every input size; pick an input size with "
            "`padlint sizes`")


@dataclass
class Site:
    """The findings of one construction call, and every layer that call built."""

    source: Source | str               # the construction call, or the layer's name where none is known
    findings: list = field(default_factory=list)
    layers: list = field(default_factory=list)

    @property
    def label(self) -> str:
        names = ", ".join(dict.fromkeys(f.layer for f in self.findings))
        rules = ", ".join(sorted({f.rule for f in self.findings}))
        axes = ", ".join(dict.fromkeys(f.axis for f in self.findings if f.axis))
        return f"{self.source} {names} {rules}" + (f" ({axes})" if axes else "")


@dataclass
class Edit:
    """One rewritten call: ``text[start:end]`` becomes ``new``."""

    site: Site
    path: str                          # absolute
    start: int
    end: int
    old: str
    new: str
    what: str                          # 'kernel_size=4, stride=2, padding=1'
    note: str = ""
    prefixes: tuple = ()               # layer names whose fixable findings must be gone


@dataclass
class NotFixed:
    site: Site
    reason: str

    def line(self) -> str:
        return f"not fixed: {self.site.label}: {self.reason}"


@dataclass
class FixPlan:
    target: str
    size: tuple
    edits: list = field(default_factory=list)
    not_fixed: list = field(default_factory=list)
    originals: dict = field(default_factory=dict)     # path -> text

    def texts(self, edits=None) -> dict:
        return edited_texts(self.originals, self.edits if edits is None else edits)

    def diff(self) -> str:
        out = []
        for path, new in self.texts().items():
            out.append(unified_diff(path, self.originals[path], new))
        return "".join(out)

    def files(self) -> list[str]:
        return list(dict.fromkeys(e.path for e in self.edits))
