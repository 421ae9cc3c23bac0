"""The model's own transform pads every input to sizes where its backbone is uneven."""
from __future__ import annotations

from padlint.geometry.words import cell_word
from padlint.ir.trace import Trace


def check(trace: Trace, params: dict):
    pre = trace.preprocess
    if pre is None:
        return
    for axis, multiples in pre.clean_multiples.items():
        if multiples:
            continue
        fix = pre.fix.get(axis)
        fields = {"layer": pre.name, "op": pre.op, "axis": axis, "divisor": pre.divisor,
                  "limit": pre.limit, "part": pre.part, "rows": cell_word(axis, 2),
                  "describe": f"{pre.op} size_divisible={pre.divisor}"}
        if fix is not None:
            period, offset = fix
            fields.update(period=period, offset=offset, fix_variant="offset",
                          example=", ".join(str(period * k + offset) for k in (1, 2, 3)))
        yield pre.name, axis, pre.source, fields
