"""``padlint fix``: rewrite the construction calls of the layers padlint can fix.

The fixes are text edits of the literal call that built each flagged layer (found with
:mod:`ast` at the finding's :class:`~padlint.ir.source.Source`); everything else in the file
is kept byte for byte. Four rewrites are known:

1. **Transposed conv, stride 2** (PAD104 checkerboard, PAD101 through
   ``output_padding``): ``kernel_size=4, stride=2, padding=1``, ``output_padding``
   dropped. Its output length is ``(n-1)*2 - 2 + 4 = 2n`` at every ``n``, as with
   k=3, s=2, p=1, output_padding=1; every output phase gets 2 taps, and the adjoint
   conv uses its padding evenly.
2. **1x1 stride-s shortcut** (PAD102/PAD103, the ``shortcut`` fix variant):
   ``Sequential(AvgPool{n}d(s, stride=s, ceil_mode=True, count_include_pad=False),
   Conv{n}d(in, out, 1, ...))`` (ResNet-D). Output length ``ceil(n/s)``, the same as
   the 1x1 stride-s conv; every input cell is read. The module's ``state_dict`` keys
   change: the conv's weight moves to ``<name>.1.weight``.
3. **Odd kernel at stride 2 on an even input** (PAD101): kernel ``k+1`` with the same
   stride and padding, when that keeps the output length and is even at the analysed
   size.

Why rewrite 3 changes the kernel and not the padding: with symmetric padding
``p_b = p_e = p`` the padded length ``n + 2p`` has the parity of ``n``, and a stride-2
window grid uses both ends of it exactly when ``n + 2p - k_e`` is a multiple of 2. For
odd ``k_e`` that needs ``n`` odd. So at an even input length **no symmetric padding**
makes an odd stride-2 kernel even; an even kernel ``k+1`` (``n + 2p - (k+1)`` even) can.
That only holds for the input lengths of the analysed parity, which is why
``--size-policy any`` (rewrites that are even at every input size) skips rewrite 3:
there, pick an input size with ``padlint sizes`` instead.

4. **align_corners=True interpolation before a merge** (PAD107, when the alignment
   tracker finds that ``align_corners=False`` there lines the merged cells up):
   ``align_corners=True`` -> ``False`` in the literal ``F.interpolate(...)`` or
   ``nn.Upsample(...)`` call. The output length does not change; the cells move onto
   the half-pixel grid ``S*r*j + O + S*(r-1)/2`` of the other branch. The edit is made
   at the interpolation, not at the merge the finding names; a PAD107 finding with
   another cause, or whose call cannot be read, is listed as not fixed.

Every set of edits is verified before it is shown: the edited files are imported in
place of the originals, the model is built and run on the CPU at the analysed size
(the output shape must not change) and analysed again (the fixed findings must be gone,
and no new finding of the fixable rules or of PAD107 may appear: an average-pool
shortcut is centred on 2j+0.5, a 3x3 stride-2 main path beside it on 2j, so rewrite 2
passes only where that path becomes kernel 4 too). An edit that fails is dropped and
listed as not fixed.
"""
from __future__ import annotations

import os

from padlint.engine.select import select_rules
from padlint.errors import PadlintError
from padlint.fix.calls import open_file, read_call, rewrite
from padlint.fix.corners import plan_corners
from padlint.fix.edits import FIXABLE, NO_REWRITE, NOT_LITERAL, OUTSIDE, POLICIES, Edit, FixPlan, NotFixed, Site
from padlint.fix.recheck import analysis, verify_plan
from padlint.fix.text import rel_path, under_cwd
from padlint.ir.report import Finding
from padlint.ir.source import Source
from padlint.output.files import write_atomic


def _sites(findings, layers) -> tuple[list[Site], list[Finding]]:
    sites: dict = {}
    unplaced = []
    for f in findings:
        if f.source is None:
            unplaced.append(f)
            continue
        key = (os.path.abspath(f.source.path), f.source.line, f.source.col)
        sites.setdefault(key, Site(f.source)).findings.append(f)
    for layer in layers:
        if layer.source is None:
            continue
        key = (os.path.abspath(layer.source.path), layer.source.line, layer.source.col)
        if key in sites:
            sites[key].layers.append(layer)
    return list(sites.values()), unplaced


def _rules(select, ignore, severity):
    chosen = select_rules(select if select is not None else list(FIXABLE), ignore, severity)
    rules = [r for r in chosen if r.code in FIXABLE]
    if not rules:
        shown = ",".join(select or [])
        raise PadlintError(f"--select {shown}: selects no rule padlint fix can fix "
                           f"({', '.join(FIXABLE)})")
    return rules


def plan(target, input_size=None, size_policy: str = "input", select=None, ignore=None,
         severity=None, config=None, verify: bool = True) -> FixPlan:
    """The edits ``padlint fix`` makes for the one model ``target`` names, verified."""
    if size_policy not in POLICIES:
        raise PadlintError(f"--size-policy {size_policy}: use input or any")
    chosen = {r.code for r in _rules(select, ignore, severity)}
    rules = _rules(None, ignore, severity)       # verification watches every fixable rule
    prep, trace, every, size = analysis(target, input_size, rules, config)
    findings = [f for f in every if f.rule in chosen]
    target_name = prep.candidate.target
    result = FixPlan(target_name, size)
    if not findings:
        return result
    merges = [f for f in findings if f.rule == "PAD107"]       # rewritten at the interpolation
    sites, unplaced = _sites([f for f in findings if f.rule != "PAD107"], trace.layers)
    for f in unplaced:
        result.not_fixed.append(NotFixed(Site(f"{f.layer}", [f], []),
                                         f"{NOT_LITERAL} (no construction site known)"))
    files: dict = {}
    for site in sites:
        assert isinstance(site.source, Source)         # _sites placed each at its call
        path = os.path.abspath(site.source.path)
        if not under_cwd(path):
            result.not_fixed.append(NotFixed(site, OUTSIDE))
            continue
        file = open_file(files, path)
        if isinstance(file, str):
            result.not_fixed.append(NotFixed(site, file))
            continue
        node = file.call_at(site.source)
        if node is None or not site.layers:
            result.not_fixed.append(NotFixed(site, NOT_LITERAL))
            continue
        call = read_call(file, node, site.layers[0].op)
        if isinstance(call, str):
            result.not_fixed.append(NotFixed(site, call))
            continue
        if len({layer.op for layer in site.layers}) != 1:
            result.not_fixed.append(NotFixed(site, f"{NO_REWRITE} (the call builds different ops)"))
            continue
        rewritten = rewrite(site, call, size_policy)
        if isinstance(rewritten, str):
            result.not_fixed.append(NotFixed(site, rewritten))
            continue
        new, what, note = rewritten
        start, end = file.offsets.span(node)
        result.originals.setdefault(path, file.text)
        result.edits.append(Edit(site, path, start, end, file.text[start:end], new, what, note,
                                 tuple(layer.name for layer in site.layers)))
    plan_corners(result, merges, trace, files)
    if result.edits and verify:
        verify_plan(result, prep, trace, every, rules, target, size, config)
    return result


def apply(result: FixPlan) -> list[str]:
    """Write the edited files, each all at once; one line per file."""
    lines = []
    for path, text in result.texts().items():
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o644
        try:
            write_atomic(path, text, suffix=".py", mode=mode, newline="")
        except OSError as err:
            raise PadlintError(f"{rel_path(path)}: cannot write it ({err.strerror or err})") from None
        count = sum(1 for e in result.edits if e.path == path)
        lines.append(f"fixed {rel_path(path)}: {count} call{'s' if count != 1 else ''} rewritten")
    return lines


def edit_line(e: Edit) -> str:
    return f"fix: {e.site.label}: {e.what}" + (f"; note: {e.note}" if e.note else "")
