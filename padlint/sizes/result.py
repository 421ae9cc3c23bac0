"""What a size sweep found: per axis, the clean sizes, the invalid ones and why."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from padlint.geometry.axis import AXIS_NAMES

DEFAULT_RULES = ("PAD101", "PAD102")


@dataclass
class AxisResult:
    """One axis of a sweep: which sizes are clean, which cannot run, and why the rest are not."""

    axis: str
    sizes: list[int]
    clean: list[int]
    invalid: dict[int, str] = field(default_factory=dict)       # size -> why it cannot run
    first_uneven: dict[int, str] = field(default_factory=dict)  # size -> first layer that fires

    def is_clean(self, n: int) -> bool:
        return n in set(self.clean)

    def nearest(self, n: int) -> tuple[int | None, int | None]:
        """The nearest clean sizes strictly below and above ``n`` among the swept sizes."""
        clean = np.asarray(self.clean, dtype=np.int64)
        below, above = clean[clean < n], clean[clean > n]
        return (int(below.max()) if below.size else None, int(above.min()) if above.size else None)

    def to_json(self) -> dict:
        return {"axis": self.axis, "clean": list(self.clean),
                "invalid": {str(k): v for k, v in self.invalid.items()},
                "first_uneven": {str(k): v for k, v in self.first_uneven.items()}}


@dataclass
class SweepResult:
    target: str
    input_shape: tuple[int, ...]              # the reference shape; other axes are held at it
    method: str                               # 'fast' | 'exact'
    rules: list[str]
    axis_results: list[AxisResult]
    why_exact: str | None = None
    notes: list[str] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)   # layer -> 'Conv2d k=3 s=2 p=1'

    def axis(self, name: str) -> AxisResult:
        for result in self.axis_results:
            if result.axis == name:
                return result
        raise KeyError(f"no axis {name!r}; swept {[r.axis for r in self.axis_results]}")

    def asked_lengths(self, asked=None) -> list[tuple[int, ...]]:
        """Spatial sizes asked about: the reference, or the given ones."""
        return list(asked) if asked else [tuple(self.input_shape[2:])]

    def to_json(self, asked=None) -> dict:
        names = AXIS_NAMES[len(self.input_shape) - 2]
        axes = []
        for r in self.axis_results:
            d = r.to_json()
            i = names.index(r.axis)
            d["nearest"] = {str(a[i]): list(r.nearest(a[i])) for a in self.asked_lengths(asked)}
            axes.append(d)
        d = {"target": self.target, "input_shape": list(self.input_shape), "method": self.method,
             "rules": list(self.rules), "axis_results": axes}
        if self.why_exact:
            d["why_exact"] = self.why_exact
        if self.notes:
            d["notes"] = list(self.notes)
        return d
