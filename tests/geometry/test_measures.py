"""The artifact measures of SCIENCE.md §3 (padlint.geometry.measures) on small arrays."""
from __future__ import annotations

import math

import numpy as np
import pytest

from padlint.geometry.measures import centred, downsample, flip_asymmetry, measure_map, round_sig
from padlint.geometry.words import sides


def test_edges_name_both_ends_of_every_axis():
    assert [sides(a) for a in "LDHW"] == [("start", "end"), ("front", "back"), ("top", "bottom"),
                                         ("left", "right")]


def test_flip_asymmetry_ignores_a_channels_constant_offset():
    ramp = np.tile([1.0, 2.0, 3.0], (3, 1))                 # (H, W), a ramp along W
    x = np.stack([ramp, ramp + 10.0])                       # two channels
    # ||X - flip_W(X)|| = sqrt(6 * 8), ||X - mean|| = sqrt(6 * 2): 2.
    assert flip_asymmetry(x, axis=1, nd=2) == pytest.approx(2.0)
    assert flip_asymmetry(x, axis=0, nd=2) == 0.0


def test_flip_asymmetry_of_a_single_bright_end():
    # [1, 0, 0]: deviations (2, -1, -1)/3, flip difference (1, 0, -1): sqrt(2) / (sqrt(6)/3) = sqrt(3).
    assert flip_asymmetry(np.array([1.0, 0.0, 0.0]), axis=0, nd=1) == pytest.approx(math.sqrt(3))


def test_a_flat_map_has_no_asymmetry():
    assert flip_asymmetry(np.full((4, 4), 7.0), axis=0, nd=2) == 0.0
    assert flip_asymmetry(np.zeros((4, 4)), axis=1, nd=2) == 0.0
    noisy = np.full(6, 1.0)
    noisy[0] += 1e-12                                       # below FLAT of the map's size
    assert flip_asymmetry(noisy, axis=0, nd=1) == 0.0


def test_measure_map_of_a_bright_bottom_row():
    m = np.ones((6, 6))
    m[0] = 1.05                                             # 5%: under the default tolerance
    m[-1] = 1.5
    r = measure_map(m)
    assert (r.scale, r.shape) == ("median", (6, 6))
    assert r.magnitude == pytest.approx(0.5)
    assert r.extent == {"top": 0, "bottom": 1, "left": 0, "right": 0}
    assert r.cover == pytest.approx(6 / 36)
    assert r.worst_edge() == ("bottom", 1)
    assert r.asymmetry["W"] == 0.0 and r.asymmetry["H"] > 0
    assert measure_map(m, tolerance=0.01).extent == {"top": 1, "bottom": 1, "left": 0, "right": 0}


def test_measure_map_falls_back_to_the_peak_when_the_median_is_zero():
    m = np.zeros((4, 4))
    m[:, 0] = 1.0                                           # a bright left column
    r = measure_map(m)
    assert (r.scale, r.magnitude, r.cover) == ("max", 1.0, 0.25)
    assert r.extent == {"top": 0, "bottom": 0, "left": 1, "right": 0}
    # mean 1/4: ||X - mean|| = sqrt(4 * 0.75² + 12 * 0.25²) = sqrt(3); the flip moves the
    # column across: ||X - flip|| = sqrt(8).
    assert r.asymmetry == {"H": 0.0, "W": pytest.approx(math.sqrt(8 / 3))}
    assert r.to_json() == {"magnitude": 1.0, "scale": "max", "extent": r.extent, "cover": 0.25,
                           "asymmetry": {"H": 0.0, "W": 1.633}}


def test_measure_map_of_nothing_and_of_other_ranks():
    r = measure_map(np.zeros((3, 3)))
    assert (r.magnitude, r.cover, r.worst_edge()) == (0.0, 0.0, ("top", 0))      # ties: the first edge
    line = measure_map(np.array([3.0, 1, 1, 1, 1, 1]))
    assert line.extent == {"start": 1, "end": 0} and line.magnitude == 2.0
    cube = measure_map(np.ones((2, 2, 2)))
    assert set(cube.extent) == {"front", "back", "top", "bottom", "left", "right"}


def test_round_sig():
    assert round_sig(3.14159) == 3.142
    assert round_sig(0.000123456) == 0.0001235
    assert round_sig(123456.0, 2) == 120000.0
    assert round_sig(1.0) == 1.0


def test_centred_shares_one_scale():
    out = centred([np.array([1.0, 2.0, 3.0]), np.array([5.0, 5.0, 5.5])])
    assert [o.tolist() for o in out] == [[-1.0, 0.0, 1.0], [0.0, 0.0, 0.5]]
    assert [o.tolist() for o in centred([np.ones(2), np.full(3, 4.0)])] == [[0.0, 0.0], [0.0, 0.0, 0.0]]
    assert centred([]) == []


def test_downsample():
    assert downsample(np.arange(16.0).reshape(4, 4), 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert downsample(np.arange(16.0).reshape(4, 4), 4).tolist() == np.arange(16.0).reshape(4, 4).tolist()
    # 1-D: one row; bounds round(0, 2.5, 5) = (0, 2, 5): blocks [0, 2) and [2, 5).
    assert downsample(np.arange(5.0), 2).tolist() == [[0.5, 3.0]]
    # 3-D: the leading axes are averaged away first.
    cube = np.stack([np.zeros((2, 2)), np.full((2, 2), 2.0)])
    assert downsample(cube, 8).tolist() == [[1.0, 1.0], [1.0, 1.0]]
