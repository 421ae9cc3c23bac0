"""Blind spots (the seed's shifted-stimulus experiment, ``padlint blindspots``): a small
stimulus on a constant background, moved over a grid of input positions, and how much
the model's last spatial map (or one output) changes at each.

- :mod:`padlint.blindspots.grid`: the positions (mirror-symmetric, ends included) and the
  default grid chosen from the model's cost. Torch-free.
- :mod:`padlint.blindspots.stimulus`: ``SHAPE:SIZE`` specs and their masks. Torch-free.
- :mod:`padlint.blindspots.region`: the blind positions of a map, in words. Torch-free.
- :mod:`padlint.blindspots.facts`: :class:`~padlint.blindspots.facts.ResponseMap` and
  :class:`~padlint.blindspots.facts.Blindspots`, the facts PAD203 reads. Torch-free.
- :mod:`padlint.blindspots.mode`: the ``TorchFunctionMode`` that runs the maps (kernels,
  padding modes, dtype, the captured map).
- :mod:`padlint.blindspots.run`: batched response maps.
- :mod:`padlint.blindspots.stage`: ``padlint blindspots`` as a function.
"""
