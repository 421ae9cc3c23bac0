"""Suppression: ``# noqa`` comments on construction lines, and ``per-file-ignores``.

A finding is reported at the line that constructed its layer. A comment

    nn.Conv2d(64, 128, 3, stride=2, padding=1)  # noqa: PAD101

on any line of that constructing call silences it; ``# noqa: PAD1`` silences a code
prefix, a bare ``# noqa`` every code. As in flake8 and ruff, the comment is found
with :mod:`tokenize`, so ``"# noqa"`` inside a string does not count. Suppressed
findings are kept (``ModelResult.suppressed``) for ``--show-suppressed``, and a
directive naming padlint codes that silenced none of them is an :class:`UnusedNoqa`
for ``--warn-unused-noqa``. This step reads findings and files; it never imports torch.
"""
from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache

from padlint.engine.registry import all_rules
from padlint.engine.select import code_matches
from padlint.ir.report import Finding, Report, Suppressed, UnusedNoqa
from padlint.ir.source import Source

# A noqa comment: bare, or 'noqa: PAD101', 'noqa:PAD101,PAD102', 'NOQA: PAD1 E501'. A code has
# digits, so words after the codes ('noqa: PAD105 pad on purpose') are not codes.
_NOQA = re.compile(r"#\s*noqa(?P<colon>\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)?)?",
                   re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


@dataclass
class Directive:
    """One ``# noqa`` comment; ``codes`` is None for a bare ``# noqa``."""

    source: Source
    codes: tuple[str, ...] | None
    used: set[str] = field(default_factory=set)     # the codes (as written) that matched

    def matches(self, rule: str) -> str | None:
        """The code of this directive that covers ``rule`` ('' for a bare noqa)."""
        if self.codes is None:
            return ""
        return next((c for c in self.codes if rule.startswith(c.upper())), None)


def parse_directives(text: str, path: str) -> dict[int, Directive]:
    """Line -> directive, for every ``# noqa`` comment in ``text``."""
    found: dict[int, Directive] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        tokens = []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        match = _NOQA.search(tok.string)
        if match is None or (match.group("colon") and not match.group("codes")):
            continue                     # 'noqa: because' names no code: not a blanket noqa
        codes = match.group("codes")
        line, col = tok.start
        source = Source(path, line, col + match.start() + 1, line, col + match.end() + 1)
        found[line] = Directive(source, tuple(_CODE.findall(codes)) if codes else None)
    return found


@lru_cache(maxsize=512)
def _file_directives(path: str, mtime: float) -> dict[int, Directive]:
    try:
        with open(path, "rb") as fh:
            encoding, _ = tokenize.detect_encoding(fh.readline)
            fh.seek(0)
            text = fh.read().decode(encoding, errors="replace")
    except (OSError, SyntaxError):
        return {}
    return parse_directives(text, path)


class Suppressor:
    """Applies the ``# noqa`` comments and a configuration's ``per-file-ignores``."""

    def __init__(self, config=None) -> None:
        self.config = config
        self.directives: dict[str, dict[int, Directive]] = {}

    def file(self, path: str) -> dict[int, Directive]:
        if path not in self.directives:
            try:
                mtime = os.path.getmtime(path)
            except OSError:
                mtime = -1.0
            fresh = _file_directives(path, mtime)
            # each run counts its own uses
            self.directives[path] = {line: Directive(d.source, d.codes) for line, d in fresh.items()}
        return self.directives[path]

    def why_suppressed(self, finding: Finding, target_file: str | None) -> Suppressed | None:
        """A ``# noqa`` on the construction line first (so that it counts as used), then
        the configuration's ``per-file-ignores`` for the file of the finding."""
        source = finding.source
        if source is not None:
            directives = self.file(source.path)
            for line in source.lines:
                directive = directives.get(line)
                if directive is None:
                    continue
                code = directive.matches(finding.rule)
                if code is not None:
                    directive.used.add(code)
                    return Suppressed(finding, "noqa", str(directive.source))
        path = source.path if source is not None else target_file
        if self.config is not None and path:
            for pattern, codes in self.config.per_file_ignores.items():
                if any(code_matches(finding.rule, c) for c in codes) and self.config.matches(path, pattern):
                    where = os.path.relpath(self.config.path) if self.config.path else "the configuration"
                    return Suppressed(finding, "per-file-ignores", f'"{pattern}" in {where}')
        return None

    def apply(self, report: Report, target_files: dict[str, str] | None = None) -> Report:
        """Move suppressed findings of every result to ``result.suppressed`` (in place)."""
        for result in report.results:
            target_file = (target_files or {}).get(result.target) or _target_file(result.target)
            kept = []
            for finding in result.findings:
                why = self.why_suppressed(finding, target_file)
                if why is None:
                    kept.append(finding)
                else:
                    result.suppressed.append(why)
            result.findings = kept
        return report

    def unused(self, report: Report, selected_codes, files=(), idle=()) -> list[UnusedNoqa]:
        """Directives naming padlint codes that suppressed nothing, in the files that
        constructed the linted layers and in ``files`` (the linted files). The ``idle``
        rule codes (the verify rules when nothing was verified) could not have fired in
        this run: a directive's code or prefix that covers only idle rules is never
        reported."""
        paths = {layer.source.path for layer in report.layers if layer.source is not None}
        paths |= set(files)
        unused = []
        for path in sorted(paths):
            if self.config is not None and not self.config.relative(path):
                continue                                  # outside the project: not the user's
            for _line, directive in sorted(self.file(path).items()):
                if directive.codes is None:
                    continue                              # bare noqa: may be meant for another tool
                codes = [c for c in directive.codes if c.upper().startswith("PAD")
                         and not _only_idle(c, idle)]
                left = tuple(c for c in codes if c not in directive.used)
                if left:
                    disabled = tuple(c for c in left
                                     if not any(s.startswith(c.upper()) for s in selected_codes))
                    unused.append(UnusedNoqa(directive.source, left, disabled))
        return unused


def _only_idle(code: str, idle) -> bool:
    """Does the code or prefix ``code`` cover some rules, all of them ``idle``?"""
    covered = [rule for rule in all_rules() if code_matches(rule, code)]
    return bool(covered) and all(rule in idle for rule in covered)


def _target_file(target: str) -> str | None:
    """The file part of 'path.py:Name', when it is a file."""
    path = target.rsplit(":", 1)[0] if ":" in target else target
    return path if path.endswith(".py") and os.path.isfile(path) else None
