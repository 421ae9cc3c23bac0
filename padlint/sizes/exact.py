"""The sweep's exact path: the model traced on the meta device at each size, the rules run
on each trace."""
from __future__ import annotations

from padlint.engine.rule import Rule
from padlint.engine.run import run_rules
from padlint.errors import first_line
from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.lengths import broadcast_break
from padlint.ir.trace import Trace
from padlint.sizes.fast import with_axis
from padlint.sizes.result import AxisResult
from padlint.trace.frontend import InputTooSmall


def exact_axis(front, trace: Trace, axis: int, sizes, rules: list[Rule],
               prefix: str = "") -> AxisResult:
    """One axis, one traced meta-device run per size. ``prefix`` names the analysed part
    of the model (``backbone.`` of a detection model), as the reference trace does."""
    name = AXIS_NAMES[len(trace.input_shape) - 2][axis]
    axis_rules = [r for r in rules if r.scope == "axis"]
    clean, invalid, first = [], {}, {}
    merges = trace.program is not None and bool(trace.program.merges)
    for n in sizes:
        n = int(n)
        try:
            t = front.run(with_axis(trace.input_shape, axis, n), allow_cpu=trace.method == "cpu",
                          program=merges)
        except InputTooSmall as err:
            invalid[n] = str(err)
            continue
        except Exception as err:  # noqa: BLE001 - the model cannot run at this size
            invalid[n] = first_line(err, typed=True)
            continue
        broadcast = (merges and trace.program is not None and t.program is not None
                     and broadcast_break(trace.program, t.program))
        if broadcast:       # it runs only by broadcasting a length-1 map: not this model
            invalid[n] = broadcast
            continue
        hit = next((f.layer for f in run_rules(t, axis_rules) if f.axis == name), None)
        if hit is None:
            clean.append(n)
        else:
            first[n] = prefix + hit
    return AxisResult(name, [int(v) for v in sizes], clean, invalid, first)
