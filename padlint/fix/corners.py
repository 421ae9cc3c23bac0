"""Rewrite 4 of :mod:`padlint.fix.plan`: ``align_corners=True`` -> ``False`` in the literal
interpolation call that misaligns a merge (PAD107)."""
from __future__ import annotations

import ast
import os

from padlint.fix.calls import ParsedFile, dotted_name, open_file
from padlint.fix.edits import ARGS_NOT_LITERAL, NO_REWRITE, NOT_LITERAL, OUTSIDE, Edit, FixPlan, NotFixed, Site
from padlint.fix.text import under_cwd

# where align_corners is passed positionally: F.interpolate(input, size, scale_factor,
# mode, align_corners, ...), nn.Upsample(size, scale_factor, mode, align_corners, ...)
_ALIGN_CORNERS_AT = {"interpolate": 4, "upsample": 4, "Upsample": 3}


def _corner_causes(findings, trace) -> tuple[dict, list]:
    """The PAD107 findings that ``align_corners=False`` would remove, by the interpolation
    call to rewrite ({source: (CornersCall, [finding, ...])}: a helper that interpolates
    for two merges is one call, edited once), and the others with the reason."""
    merges = {(m.name, m.axis): m for m in (trace.alignment.merges if trace.alignment else ())}
    calls: dict = {}
    others = []
    for f in findings:
        merge = merges.get((f.layer, f.axis))
        if merge is None or not merge.corners:
            others.append((f, f"{NO_REWRITE} (no align_corners=True interpolation puts these "
                              "cells apart)"))
        elif len(merge.without_corners()) > 1:
            names = " and ".join(c.name for c in merge.corners)
            others.append((f, f"{NO_REWRITE} (align_corners=False in {names} would not line the "
                              "cells up)"))
        else:
            for call in merge.corners:
                calls.setdefault(call.source or call.name, (call, []))[1].append(f)
    return calls, others


def plan_corners(result: FixPlan, findings, trace, files: dict) -> None:
    """Rewrite 4: an edit per interpolation whose align_corners=True puts a merge's cells
    apart; every PAD107 finding it cannot fix is listed as not fixed."""
    calls, others = _corner_causes(findings, trace)
    merge_sites: dict = {}
    for f, reason in others:                    # one line per merge call and reason
        key = (f.layer, reason)
        if key not in merge_sites:
            merge_sites[key] = Site(f.source if f.source is not None else f.layer)
            result.not_fixed.append(NotFixed(merge_sites[key], reason))
        merge_sites[key].findings.append(f)
    for call, found in calls.values():
        site = Site(call.source if call.source is not None else call.name, found)
        path = os.path.abspath(call.source.path) if call.source is not None else None
        if path is None:
            result.not_fixed.append(NotFixed(site, f"{NOT_LITERAL} (no call site known for {call.name})"))
            continue
        if not under_cwd(path):
            result.not_fixed.append(NotFixed(site, OUTSIDE))
            continue
        file = open_file(files, path)
        node = file.call_at(call.source) if not isinstance(file, str) else None
        rewritten = file if isinstance(file, str) else (
            _align_corners_false(file, node) if node is not None else NOT_LITERAL)
        if isinstance(rewritten, str):
            result.not_fixed.append(NotFixed(site, rewritten))
            continue
        start, end = file.offsets.span(node)
        result.originals.setdefault(path, file.text)
        result.edits.append(Edit(site, path, start, end, file.text[start:end], *rewritten,
                                 tuple(dict.fromkeys(f.layer for f in found))))


def _resampler(file: ParsedFile, node: ast.Call) -> str | None:
    """'interpolate', 'upsample' or 'Upsample' when ``node`` calls torch.nn.functional's
    interpolate/upsample or torch.nn.Upsample under a name the file imports, else None."""
    name = dotted_name(node.func)
    if name is None:
        return None
    head, _, op = name.rpartition(".")
    if not head:
        op = file.bare.get(name, "")
        return op if op in _ALIGN_CORNERS_AT else None
    functional = ({f"{n}.functional" for n in file.nn_names} | _functional_aliases(file.tree)
                  | {a for a, v in file.bare.items() if v == "functional"})
    if op in ("interpolate", "upsample") and head in functional:
        return op
    return op if op == "Upsample" and head in file.nn_names else None


def _functional_aliases(tree) -> set[str]:
    """Names bound by ``import torch.nn.functional as F``."""
    return {a.asname for node in ast.walk(tree) if isinstance(node, ast.Import)
            for a in node.names if a.name == "torch.nn.functional" and a.asname}


def _align_corners_false(file: ParsedFile, node: ast.Call) -> tuple[str, str, str] | str:
    """``(new call text, what, note)`` with align_corners=False, or why the call cannot be
    rewritten."""
    kind = _resampler(file, node)
    if kind is None:
        return f"{NOT_LITERAL} of F.interpolate or nn.Upsample ({file.segment(node.func)}(...))"
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        return f"{ARGS_NOT_LITERAL} (*args or **kwargs)"
    value = next((k.value for k in node.keywords if k.arg == "align_corners"), None)
    if value is None and len(node.args) > _ALIGN_CORNERS_AT[kind]:
        value = node.args[_ALIGN_CORNERS_AT[kind]]
    if value is None:
        return f"{NO_REWRITE} (the call passes no align_corners)"
    try:
        literal = ast.literal_eval(value)
    except ValueError:
        return f"{ARGS_NOT_LITERAL} (align_corners={file.segment(value)})"
    if literal is not True:
        return f"{NO_REWRITE} (align_corners={file.segment(value)})"
    start, end = file.offsets.span(node)
    at, stop = file.offsets.span(value)
    return file.text[start:at] + "False" + file.text[stop:end], "align_corners=False", ""
