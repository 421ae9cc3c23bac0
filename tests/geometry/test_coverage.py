"""Coverage profiles (padlint.geometry.coverage, SCIENCE.md §2) of small chains, with
every share worked out by hand in ninths, thirds and halves."""
from __future__ import annotations

import dense_coverage as full
import numpy as np
import pytest
from numpy.testing import assert_allclose

from padlint.geometry.axis import axis_facts, transposed_axis_facts
from padlint.geometry.coverage import (
    AxisCoverage,
    MapCoverage,
    adaptive,
    adaptive_bins,
    identity,
    merge,
    pad,
    resample,
    summarize,
    take,
    window,
)


def conv(p, k, s, pb, pe):
    return window(p, axis_facts("L", n=p.shape[0], k=k, s=s, pad_begin=pb, pad_end=pe), transposed=False)


def test_identity_is_each_pixel_on_its_own():
    p = identity(3)
    assert p.dtype == np.float32 and p.shape == (3, 4) and p.band.shape == (3, 1)
    assert_allclose(p, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])


def test_a_stride_2_conv_after_a_3x3_conv_reads_more_begin_padding_than_end_padding():
    # 4 pixels, conv k=3 s=1 p=1: the edge cells take one tap in three from padding.
    first = conv(identity(4), 3, 1, 1, 1)
    assert_allclose(first, np.array([[1, 1, 0, 0, 1], [1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1]]) / 3,
                    rtol=1e-6)
    # Then k=3 s=2 p=1 (2 cells): cell 0 reads (padding, cell 0, cell 1) of the first map,
    # cell 1 reads cells 1, 2, 3: its end padding is never read (n = 4 is even).
    second = conv(first, 3, 2, 1, 1)
    assert_allclose(second, np.array([[2, 2, 1, 0, 4], [1, 2, 3, 2, 1]]) / 9, rtol=1e-6)
    c = summarize("W", second)
    assert_allclose(c.padding, [4 / 9, 1 / 9], rtol=1e-6)
    assert c.reaches.tolist() == [True, True]
    assert_allclose(c.usage, [3 / 9, 4 / 9, 4 / 9, 2 / 9], rtol=1e-6)


def test_every_row_of_a_profile_sums_to_one():
    p = identity(9)
    p = conv(p, 3, 2, 1, 1)                                            # 5 cells
    p = pad(p, 1, 0)                                                   # 6
    p = window(p, transposed_axis_facts("L", n=6, k=4, s=2, pad_begin=1, pad_end=1), transposed=True)   # 12
    p = resample(p, 7, corners=False)
    p = adaptive(p, 3)
    p = merge([p, conv(identity(9), 3, 3, 0, 0)])                    # 3 cells, no padding
    assert p is not None and p.shape == (3, 10)
    assert_allclose(np.asarray(p).sum(axis=1), 1.0, rtol=1e-5)


def test_a_transposed_conv_averages_the_taps_that_reach_each_output_cell():
    # k=3 s=2 p=1 on 2 cells: 3 outputs; output 1 gets a tap from each input, 0 and 2 one each.
    f = transposed_axis_facts("L", n=2, k=3, s=2, pad_begin=1, pad_end=1)
    assert_allclose(window(identity(2), f, transposed=True), [[1, 0, 0], [0.5, 0.5, 0], [0, 1, 0]])
    # k=1 s=2 output_padding=1 on 1 cell: output 1 gets no tap, only the bias (padding).
    g = transposed_axis_facts("L", n=1, k=1, s=2, output_padding=1)
    assert_allclose(window(identity(1), g, transposed=True), [[1, 0], [0, 1]])


def test_pads_crops_and_slices():
    assert_allclose(pad(identity(2), 1, 1), [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert_allclose(pad(identity(3), -1, 1), [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    assert_allclose(pad(identity(3), 0, -2), [[1, 0, 0, 0]])
    assert_allclose(take(identity(5), 1, 2, 2), [[0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]])
    assert take(identity(5), 4, 2, 3).shape == (1, 6)                 # runs off the end


def test_resample():
    # align_corners: 3 -> 5 cells at source positions 0, 0.5, 1, 1.5, 2.
    assert_allclose(np.asarray(resample(identity(3), 5, corners=True))[:, :3],
                    [[1, 0, 0], [0.5, 0.5, 0], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 1]])
    # Half-pixel centres, 2 -> 4: source positions -0.25 (clipped to 0), 0.25, 0.75, 1.25 (clipped).
    assert_allclose(np.asarray(resample(identity(2), 4, corners=False))[:, :2], [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]])
    nearest = resample(identity(3), 6, corners=False, mode="nearest")
    assert np.asarray(nearest)[:, :3].argmax(axis=1).tolist() == [0, 0, 1, 1, 2, 2]
    exact = resample(identity(3), 2, corners=False, mode="nearest-exact")     # floor((o + 0.5) * 1.5)
    assert np.asarray(exact)[:, :3].argmax(axis=1).tolist() == [0, 2]
    stepped = resample(identity(3), 4, corners=False, mode="nearest", r=0.5)   # scale_factor=2
    assert np.asarray(stepped)[:, :3].argmax(axis=1).tolist() == [0, 0, 1, 1]


def test_adaptive_pooling_bins_as_pytorch_makes_them():
    start, end = adaptive_bins(5, 3)
    assert (start.tolist(), end.tolist()) == ([0, 1, 3], [2, 4, 5])
    start, end = adaptive_bins(7, 7)
    assert (start.tolist(), end.tolist()) == (list(range(7)), list(range(1, 8)))
    assert_allclose(np.asarray(adaptive(identity(5), 3))[:, :5],
                    [[0.5, 0.5, 0, 0, 0], [0, 1 / 3, 1 / 3, 1 / 3, 0], [0, 0, 0, 0.5, 0.5]], rtol=1e-6)


def test_merge():
    a, b, c = identity(2), pad(identity(2), 1, -1), pad(identity(2), -1, 1)
    # Row 0: pixel 0 (a), padding (b), pixel 1 (c); row 1: pixel 1 (a), pixel 0 (b), padding (c).
    assert_allclose(merge([a, b, c]), [[1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    assert merge([identity(2), identity(3)]) is None


def test_map_coverage_of_a_2d_3x3_conv():
    a = summarize("H", conv(identity(3), 3, 1, 1, 1))
    m = MapCoverage(layer=0, stride=1.0, axes=(a, a))
    # A corner cell: 1 - (2/3)^2 = 5/9 of its paths end on padding; an edge cell 1/3.
    assert_allclose(m.padding_share(), np.array([[5, 3, 5], [3, 0, 3], [5, 3, 5]]) / 9, atol=1e-7)
    assert m.reaching().tolist() == [[True, True, True], [True, False, True], [True, True, True]]
    # Usage per axis is (2/3, 1, 2/3): the corner pixel is used 4/9 as much as the centre.
    assert_allclose(m.usage(), np.outer([2 / 3, 1, 2 / 3], [2 / 3, 1, 2 / 3]), rtol=1e-6)
    assert abs(m.corner_ratio() - 4 / 9) < 1e-6


def test_a_map_whose_centre_pixel_is_unused_has_corner_ratio_zero():
    axis = AxisCoverage("L", padding=np.zeros(3), reaches=np.zeros(3, bool), usage=np.array([1.0, 0.0, 1.0]))
    assert MapCoverage(layer=0, stride=2.0, axes=(axis,)).corner_ratio() == 0.0


def _chain(rng: np.random.Generator, banded, dense):
    """One random chain of profile steps, applied to both implementations side by side."""
    n = int(rng.integers(1, 40))
    a, b = banded.identity(n), dense.identity(n)
    for _ in range(int(rng.integers(1, 9))):
        m = a.shape[0]
        step = rng.choice(["conv", "conv", "transposed", "pad", "take", "resample", "adaptive", "merge"])
        if step == "conv":
            k, s, d = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
            pb, pe = int(rng.integers(0, k)), int(rng.integers(0, k))
            if m + pb + pe < d * (k - 1) + 1:
                continue
            f = axis_facts("L", n=m, k=k, s=s, d=d, pad_begin=pb, pad_end=pe)
            a, b = banded.window(a, f, False), dense.window(b, f, False)
        elif step == "transposed":
            k, s = int(rng.integers(1, 5)), int(rng.integers(1, 3))
            f = transposed_axis_facts("L", n=m, k=k, s=s, pad_begin=int(rng.integers(0, k)),
                                      pad_end=int(rng.integers(0, k)))
            if f.out < 1:
                continue
            a, b = banded.window(a, f, True), dense.window(b, f, True)
        elif step == "pad":
            begin, end = int(rng.integers(-2, 3)), int(rng.integers(-2, 3))
            if m + min(begin, 0) + min(end, 0) < 1:
                continue
            a, b = banded.pad(a, begin, end), dense.pad(b, begin, end)
        elif step == "take":
            start, by = int(rng.integers(0, m)), int(rng.integers(1, 3))
            count = len(range(start, m, by))
            a, b = banded.take(a, start, by, count), dense.take(b, start, by, count)
        elif step == "resample":
            out, corners = int(rng.integers(1, 2 * m + 2)), bool(rng.integers(0, 2))
            mode = str(rng.choice(["linear", "nearest", "nearest-exact"]))
            a, b = banded.resample(a, out, corners, mode), dense.resample(b, out, corners, mode)
        elif step == "adaptive":
            out = int(rng.integers(1, m + 1))
            a, b = banded.adaptive(a, out), dense.adaptive(b, out)
        else:
            s = int(rng.integers(0, 3))
            other_a, other_b = banded.pad(a, s, -s) if s < m else a, dense.pad(b, s, -s) if s < m else b
            a, b = banded.merge([a, other_a, a]), dense.merge([b, other_b, b])
        assert np.array_equal(np.asarray(a), b), step
        assert a.band.shape[1] <= a.n and (a.lo + a.band.shape[1] <= a.n).all() and (a.lo >= 0).all()
    return a, b


@pytest.mark.parametrize("seed", range(40))
def test_banded_profiles_equal_the_full_matrices_to_the_bit(seed):
    import padlint.geometry.coverage as banded
    a, b = _chain(np.random.default_rng(seed), banded, full)
    assert np.array_equal(summarize("L", a).usage, b[:, :-1].sum(axis=0).astype(np.float64))


def test_an_early_map_on_a_long_axis_keeps_a_narrow_band():
    # resnet's stem at 1024: a 7-tap stride-2 conv, then a 3-tap stride-2 pool; each of the
    # 256 cells reaches at most 11 pixels, so its band is 11 wide, not 1024.
    p = conv(identity(1024), 7, 2, 3, 3)
    p = conv(p, 3, 2, 1, 1)
    assert p.shape == (256, 1025) and p.band.shape == (256, 11)
    assert p.lo[:3].tolist() == [0, 0, 3] and p.lo[-1] == 1024 - 11     # cell 2 reads conv cells 3..5: pixels 3..13
