"""SCIENCE.md §1 on plain numbers: padlint.geometry.axis, checked against figures worked
out by hand (the comments show the arithmetic)."""
from __future__ import annotations

import numpy as np
import pytest

from padlint.geometry.axis import (
    axis_facts,
    effective_kernel,
    even_input_lengths,
    global_window,
    min_input_length,
    output_length,
    pad_use,
    resolve_padding,
    tap_counts,
    transposed_axis_facts,
    transposed_output_length,
    uneven_use,
)


def test_pad_use_of_a_stride_2_conv_at_an_even_and_an_odd_size():
    # k=3 s=2 p=1, n=224: L = 226, o = 112, c = 111*2 + 2 = 224, r = 226 - 1 - 224 = 1.
    assert {k: int(v) for k, v in pad_use(224, 3, 2, 1, 1, 1).items()} == {
        "k_e": 3, "padded": 226, "out": 112, "last_read": 224, "leftover": 1,
        "unused_pad_end": 1, "overhang": 0, "ignored_input_end": 0, "used_pad_end": 0}
    # n=225: L = 227, o = 113, c = 226, r = 0: both pads are read.
    assert {k: int(v) for k, v in pad_use(225, 3, 2, 1, 1, 1).items()} == {
        "k_e": 3, "padded": 227, "out": 113, "last_read": 226, "leftover": 0,
        "unused_pad_end": 0, "overhang": 0, "ignored_input_end": 0, "used_pad_end": 1}


def test_pad_use_over_many_sizes_is_the_scalar_answer_at_each():
    n = np.arange(200, 240)
    u = pad_use(n, 7, 2, 1, 3, 3)
    for i, size in enumerate(n.tolist()):
        one = pad_use(size, 7, 2, 1, 3, 3)
        assert {k: int(np.asarray(v)[i]) if np.ndim(v) else int(v) for k, v in u.items()} == \
            {k: int(v) for k, v in one.items()}
    # k=7 s=2 p=3: the end padding goes unused exactly at even sizes.
    assert u["unused_pad_end"].tolist() == [1, 0] * 20


def test_axis_facts_of_the_stem_conv():
    f = axis_facts("H", n=224, k=7, s=2, d=1, pad_begin=3, pad_end=3)
    assert (f.out, f.k_e, f.padded, f.last_read, f.leftover) == (112, 7, 230, 228, 1)
    assert (f.unused_pad_end, f.used_pad_end, f.ignored_input_end, f.ignored_input) == (1, 2, 0, 0)
    assert f.uneven and not f.global_window


def test_k3_s2_p1_at_224_leaves_one_end_pad_unused():
    f = axis_facts("W", n=224, k=3, s=2, d=1, pad_begin=1, pad_end=1)
    assert (f.out, f.unused_pad_end, f.used_pad_end, f.uneven) == (112, 1, 0, True)
    assert not axis_facts("W", n=225, k=3, s=2, d=1, pad_begin=1, pad_end=1).uneven


def test_a_pool_drops_the_last_input_row_at_an_odd_size():
    # MaxPool k=2 s=2 on 225: o = 112, c = 223, r = 1, no padding to absorb it.
    f = axis_facts("H", n=225, k=2, s=2)
    assert (f.out, f.last_read, f.leftover) == (112, 223, 1)
    assert (f.unused_pad_end, f.ignored_input_end, f.ignored_input, f.ignored_input_interior) == (0, 1, 1, 0)
    assert not f.uneven


def test_a_strided_1x1_conv_skips_interior_input():
    # k=1 s=2 on 8: taps at 0, 2, 4, 6; cells 1, 3, 5 (interior) and 7 (the end) are never read.
    f = axis_facts("H", n=8, k=1, s=2)
    assert (f.out, f.ignored_input, f.ignored_input_end, f.ignored_input_interior) == (4, 4, 1, 3)


def test_dilation_widens_the_kernel():
    assert effective_kernel(3, 2) == 5
    f = axis_facts("W", n=10, k=3, s=1, d=2, pad_begin=2, pad_end=2)
    assert (f.k_e, f.out, f.leftover, f.used_pad_end, f.uneven) == (5, 10, 0, 2, False)


def test_ceil_mode_overhang_counts_as_used_end_padding():
    # k=2 s=2 on 7 with ceil_mode: o = 4, the last window starts at 6 and reads cell 7,
    # which does not exist: r = -1, an overhang of 1.
    f = axis_facts("H", n=7, k=2, s=2, ceil_mode=True)
    assert (f.out, f.last_read, f.leftover, f.overhang, f.used_pad_end, f.uneven) == (4, 7, -1, 1, 1, True)
    assert output_length(7, 2, 2) == 3


def test_ceil_mode_drops_a_window_that_would_start_in_the_end_padding():
    # k=2 s=2 p=1 on 5: ceil((5 + 2 - 2)/2) + 1 = 4, but window 3 would start at 6, past
    # the input and the begin padding (1 + 5 = 6): PyTorch makes 3.
    assert output_length(5, 2, 2, 1, 1, 1, ceil_mode=True) == 3
    # An explicit end pad before the op counts as input for that rule.
    assert output_length(5, 2, 2, 1, 1, 1, ceil_mode=True, explicit_end=1) == 4


def test_per_row_ceil_mode_flags():
    out = output_length(np.array([[7], [7]]), 2, 2, ceil_mode=np.array([[False], [True]]))
    assert out.tolist() == [[3], [4]]


def test_a_global_pool_is_neither_uneven_nor_a_reason_to_resize():
    # AvgPool2d(1280, ceil_mode=True) on 7: one window, overhang 1273, no padding.
    f = axis_facts("H", n=7, k=1280, s=1280, ceil_mode=True)
    assert (f.out, f.overhang, f.used_pad_end) == (1, 1273, 1273)
    assert f.global_window and not f.uneven
    # With padding the one window sits off centre: that stays uneven.
    assert not bool(global_window(7, 1, 9, 1, 1))
    assert global_window(np.array([7, 7, 8]), np.array([1, 2, 1]), 7, 0, 0).tolist() == [True, False, False]


def test_uneven_use_element_wise():
    n = np.array([224, 225, 7])
    out = np.array([112, 113, 1])
    assert uneven_use(n, out, np.array([3, 3, 7]), 1, 1, np.array([0, 1, 0])).tolist() == [True, False, True]
    assert uneven_use(7, 1, 7, 0, 0, 3).item() is False          # a global window


def test_transposed_axis_facts_are_the_adjoint_convs():
    # ConvTranspose k=4 s=2 p=1 on 56: o = 55*2 - 2 + 4 = 112; the adjoint conv on 112
    # reads both pads (r = 0): even; every output phase gets 2 taps.
    f = transposed_axis_facts("H", n=56, k=4, s=2, pad_begin=1, pad_end=1)
    assert (f.out, f.leftover, f.used_pad_end, f.uneven, f.taps, f.ignored_input) == (112, 0, 1, False, (2, 2), 0)
    # k=3 s=2 p=1 with output_padding=1: o = 112, the adjoint's r = 1 leaves its end pad unused.
    g = transposed_axis_facts("H", n=56, k=3, s=2, pad_begin=1, pad_end=1, output_padding=1)
    assert (g.out, g.leftover, g.unused_pad_end, g.used_pad_end, g.uneven, g.taps) == (112, 1, 1, 0, True, (2, 1))
    assert g.to_json()["taps_per_phase"] == [2, 1] and g.to_json()["transposed"] is True
    assert transposed_output_length(56, 3, 2, 1, 1, 1, 1) == 112


def test_tap_counts_per_output_phase():
    assert tap_counts(3, 2, 1) == [2, 1]
    assert tap_counts(4, 2, 1) == [2, 2]
    assert tap_counts(3, 2, 2) == [3, 0]        # dilation 2: every tap on the even phase
    assert tap_counts(5, 3, 1) == [2, 2, 1]


def test_resolve_padding():
    assert resolve_padding("valid", 3, 1) == (0, 0)
    assert resolve_padding("same", 3, 2) == (2, 2)
    assert resolve_padding("same", 4, 1) == (1, 2)      # PyTorch puts the odd cell at the end
    assert resolve_padding(2, 5, 1) == (2, 2)


def test_min_input_length_and_empty_outputs():
    assert min_input_length(3) == 3
    assert min_input_length(3, 2) == 5
    assert min_input_length(7, 1, 3, 3) == 1
    with pytest.raises(ValueError, match="empty output"):
        axis_facts("H", n=2, k=5, s=1)
    with pytest.raises(ValueError, match="empty output"):
        axis_facts("H", n=0, k=1, s=1, pad_begin=1, pad_end=1)


def test_even_input_lengths():
    assert even_input_lengths(224, 3, 2, 1, 1, 1) == (223, 225)
    assert even_input_lengths(225, 3, 2, 1, 1, 1) == (223, 227)
    # MaxPool k=2 s=2 drops the last row at odd sizes: the nearest even sizes are clean.
    assert even_input_lengths(225, 2, 2, 1, 0, 0) == (224, 226)
    assert even_input_lengths(4, 7, 1, 1, 0, 0, search=8) == (None, 7)


def test_to_json_records_ceil_mode_and_explicit_pads():
    f = axis_facts("H", n=7, k=2, s=2, ceil_mode=True, explicit_begin=1, explicit_end=0)
    assert f.to_json() == {
        "axis": "H", "in": 7, "out": 4, "kernel": 2, "stride": 2, "dilation": 1, "pad_begin": 0, "pad_end": 0,
        "unused_pad_end": 0, "ignored_input_end": 0, "ignored_input": 0, "used_pad_end": 1, "leftover": -1,
        "uneven": True, "ceil_mode": True, "overhang": 1, "explicit_pad": [1, 0]}
