"""The facts of ``padlint blindspots``: one :class:`ResponseMap` per run (the model as it
is, at the nearest clean size, under each swapped padding mode) and :class:`Blindspots`
holding them, which PAD203 reads and the JSON, the text view and the report show."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from padlint.blindspots.region import Region, describe
from padlint.blindspots.stimulus import Stimulus
from padlint.geometry.measures import flip_asymmetry
from padlint.ir.report import Finding

RESPONDS = 1e-6          # below this share of the largest response, a position does not respond


@dataclass
class ResponseMap:
    """How much the watched map changes with the stimulus at each grid position."""

    label: str                                  # 'as built', 'clean size 225', 'reflect'
    input_shape: tuple[int, ...]
    positions: dict[str, list[int]]             # axis -> the stimulus's first input cells
    response: NDArray[np.float64]               # one value per position, axis-major
    threshold: float                            # blind below this share of the median
    padding_mode: str | None = None             # the swapped mode, None: the model's own
    error: str = ""                             # why this run could not be made

    @property
    def axes(self) -> list[str]:
        return list(self.positions)

    @property
    def median(self) -> float:
        """The median response of the positions that respond at all (above a millionth
        of the largest): where most positions are blind (a strided 1x1 stem), the
        median of the whole map would be 0."""
        if not self.response.size:
            return 0.0
        responding = self.response[self.response > RESPONDS * float(self.response.max())]
        return float(np.median(responding)) if responding.size else 0.0

    @property
    def asymmetry(self) -> dict[str, float]:
        """Per axis, ``||R - flip R|| / ||R - mean R||`` (SCIENCE.md §3) of the map: the
        grid is mirror-symmetric, so a flip of the map is the mirrored positions' map."""
        if not self.response.size:
            return {}
        nd = self.response.ndim
        return {a: flip_asymmetry(self.response, i, nd) for i, a in enumerate(self.axes)}

    @property
    def blind(self) -> NDArray[np.bool_]:
        """Positions whose response is below ``threshold`` of the median (none when the
        median is 0: then nothing responds anywhere, and the map says so)."""
        median = self.median
        if median <= 0:
            return np.zeros(self.response.shape, dtype=bool)
        return self.response < self.threshold * median

    def region(self) -> Region:
        return describe(self.blind, self.positions)

    def blind_positions(self) -> list[list[int]]:
        return [[self.positions[a][int(i)] for a, i in zip(self.axes, where)]
                for where in np.argwhere(self.blind)]

    def share(self, where: NDArray[np.bool_]) -> tuple[float, float]:
        """The least and the largest response at ``where``, as shares of the median."""
        median = self.median
        values = self.response[where]
        if not values.size or median <= 0:
            return 0.0, 0.0
        return float(values.min()) / median, float(values.max()) / median

    def to_json(self) -> dict[str, Any]:
        if self.error:
            return {"input_shape": list(self.input_shape), "error": self.error}
        return {"input_shape": list(self.input_shape),
                "positions": {a: list(p) for a, p in self.positions.items()},
                "response": self.response.tolist(), "median": self.median,
                "asymmetry": self.asymmetry, "blind": self.blind_positions()}


@dataclass
class Blindspots:
    """Every map of one ``padlint blindspots`` run, and what it watched."""

    main: ResponseMap
    kernels: str                                 # 'symmetric' or 'real'
    stimulus: Stimulus
    background: float
    value: float
    watched: str                                 # 'layer4.1.relu (512x7x7)' or 'output 3'
    watched_layer: str                           # the op's name ('' for an output)
    watched_shape: tuple[int, ...]               # its shape, the batch axis left out
    dtype: str
    weights: str | None = None
    clean: ResponseMap | None = None             # at the nearest clean size
    clean_why: str = ""                          # why there is none
    remedies: dict[str, ResponseMap] = field(default_factory=dict)   # padding mode -> map
    static: list[Finding] = field(default_factory=list)   # PAD101/102/103 at the analysed size
    output: int | None = None
    batches: int = 0                             # forwards run, all maps together

    @property
    def maps(self) -> list[ResponseMap]:
        return [self.main] + ([self.clean] if self.clean else []) + list(self.remedies.values())

    def to_json(self) -> dict[str, Any]:
        main = self.main.to_json()
        out: dict[str, Any] = {
            "kernels": self.kernels, "stimulus": self.stimulus.spec, "background": self.background,
            "value": self.value, "weights": self.weights, "dtype": self.dtype,
            "response_of": ({"output": self.output} if self.output is not None
                            else {"layer": self.watched_layer, "shape": list(self.watched_shape)}),
            "threshold": self.main.threshold}
        out |= {k: main[k] for k in ("positions", "response", "median", "asymmetry", "blind")}
        clean = self.clean.to_json() if self.clean else None
        out |= {"clean_size": clean["input_shape"][2:] if clean else None,
                "clean_why": self.clean_why or None,
                "clean_positions": clean.get("positions") if clean else None,
                "clean_response": clean.get("response") if clean else None,
                "clean_asymmetry": clean.get("asymmetry") if clean else None,
                "clean_blind": clean.get("blind") if clean else None}
        out["padding_modes"] = {mode: m.to_json() for mode, m in self.remedies.items()}
        return out
