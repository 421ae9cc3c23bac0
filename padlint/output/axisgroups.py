"""One line for one finding on several axes: the text forms print a layer's PAD101 on H
and on W as ``on H, W`` instead of two lines with the same long Fix.

The findings themselves stay one per axis (JSON and SARIF keep them apart); this only
groups what a person reads. Two findings are one line when they have the same rule,
layer, source and severity and their message and fix differ only in the axis name and in
the axis's edge words (``top``/``left``, ``row``/``column``): those become ``H, W`` and
``top/left``. Any other difference (another number, another input length) keeps them
apart.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from padlint.geometry.words import SIDE_WORDS
from padlint.ir.report import Finding
from padlint.ir.shapes import shape_str

_PUNCT = ".,:;()[]"


def _merge_texts(texts: list[str], axes: list[str]) -> str | None:
    """The texts joined word by word, or None when they differ beyond axis words."""
    words = [t.split(" ") for t in texts]
    if len({len(w) for w in words}) != 1:
        return None
    merged = []
    for column in zip(*words):
        if len(set(column)) == 1:
            merged.append(column[0])
            continue
        cores = [w.strip(_PUNCT) for w in column]
        if any(w.replace(c, "", 1) != column[0].replace(cores[0], "", 1) for w, c in zip(column, cores)):
            return None                   # the punctuation around the word differs
        if cores == axes:
            merged.append(column[0].replace(cores[0], ", ".join(axes), 1))
        elif all(c in SIDE_WORDS for c in cores):
            merged.append(column[0].replace(cores[0], "/".join(dict.fromkeys(cores)), 1))
        else:
            return None
    return " ".join(merged)


_APART = object()        # verifications that one line cannot carry: keep the lines apart


def _merge_verification(group: list[Finding]):
    """One verification for the merged line: the shared one, one with the figures per
    axis, or ``_APART`` when the axes' statuses, probes or shapes differ."""
    vs = [f.verification for f in group]
    if all(v is None for v in vs):
        return None
    if all(v == vs[0] for v in vs):
        return vs[0]
    present = [v for v in vs if v is not None]
    if len(present) == len(vs) and len({v["status"] for v in present}) == 1 and \
            all("asymmetry" in v for v in present) and \
            len({(v.get("probe"), tuple(v["input_shape"]), tuple(v.get("clean_shape") or ()))
                 for v in present}) == 1:
        return {"status": present[0]["status"], "text": _per_axis_text(group)}
    return _APART


def _per_axis_text(group: list[Finding]) -> str:
    """'confirmed: asymmetry 1.06 on H, 1.01 on W at 32x32, 0 at 33x33': one status,
    one probe and one pair of shapes, the figures per axis."""
    vs = [_verified(f) for f in group]
    v = vs[0]
    values = {f"{x['asymmetry']:.3g}" for x in vs}
    asym = values.pop() if len(values) == 1 else ", ".join(
        f"{x['asymmetry']:.3g} on {f.axis}" for f, x in zip(group, vs))
    how = " (layer alone, on a symmetric input)" if v.get("probe") == "layer" else ""
    text = f"{v['status'].replace('-', ' ')}: asymmetry {asym}{how} at {shape_str(v['input_shape'])}"
    if all("clean_asymmetry" in x for x in vs):
        clean = {f"{x['clean_asymmetry']:.2g}" for x in vs}
        text += ", " + (clean.pop() if len(clean) == 1 else ", ".join(
            f"{x['clean_asymmetry']:.2g} on {f.axis}" for f, x in zip(group, vs)))
        text += f" at {shape_str(v['clean_shape'])}"
    return text


def _verified(f: Finding) -> dict[str, Any]:
    """A finding's verification, which the caller knows is there."""
    assert f.verification is not None
    return f.verification


def _merge(group: list[Finding]) -> list[Finding]:
    if len(group) == 1:
        return group
    axes = [f.axis or "" for f in group]          # a group of several is all on named axes
    message = _merge_texts([f.message for f in group], axes)
    fix = _merge_texts([f.fix for f in group], axes)
    verification = _merge_verification(group)
    if message is None or fix is None or verification is _APART:
        return group
    return [replace(group[0], axis=", ".join(axes), message=message, fix=fix,
                    verification=verification)]


def merge_axes(findings: list[Finding]) -> list[Finding]:
    """Findings in their order, with each layer's same finding on several axes as one."""
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        key = (f.rule, f.layer, f.source, f.severity, f.op) if f.axis else (id(f),)
        groups.setdefault(key, []).append(f)
    return [m for group in groups.values() for m in _merge(group)]
