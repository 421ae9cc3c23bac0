"""The model was not traced whole (a fallback, a partial analysis, or facts that
padlint's own tracking could not follow to the end); reads the trace's notes."""
from __future__ import annotations

from padlint.engine.select import codes_reading
from padlint.engine.words import join_words
from padlint.ir.trace import Trace

_HOW = {"hooks": "; analysed with module hooks on a meta-device run instead",
        "cpu": "; analysed with module hooks on a real CPU forward of a constant input instead"}


def check(trace: Trace, params: dict):
    for note in trace.notes:
        if note.kind == "fx-fallback":
            yield note.layer, None, note.source, {"reason": note.reason,
                                                  "how": _HOW.get(trace.method, "")}
        elif note.kind == "partial":
            yield note.layer, None, note.source, {"reason": note.reason, "how": "",
                                                  "fix_variant": "partial"}
        elif note.kind == "facts":            # the alignment facts stopped part way
            partial = join_words(codes_reading("alignment"))
            yield note.layer, None, note.source, {
                "reason": note.reason, "how": f"; {partial} saw only the calls before it",
                "fix_variant": "facts"}
