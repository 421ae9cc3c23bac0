"""Length programs (padlint.geometry.lengths) built by hand and evaluated over several
sizes at once; the expected lengths are worked out in the comments."""
from __future__ import annotations

import numpy as np
import pytest

from padlint.geometry.lengths import (
    LengthProgram,
    Sym,
    WindowAxis,
    broadcast_break,
    slice_length,
    tf_same_pads,
    tf_same_total,
)

SIZES = np.array([7, 8, 224, 225])
CONV = WindowAxis(layer=0, axis="H", src=0, out=1, kernel=3, stride=2, dilation=1, own_begin=1, own_end=1)
POOL = WindowAxis(layer=1, axis="H", src=1, out=2, kernel=2, stride=2, dilation=1, own_begin=0, own_end=0)


def chain() -> LengthProgram:
    """A conv k=3 s=2 p=1, a pool k=2 s=2, then one symbol of every other kind."""
    syms = [                                             # args come before the symbols that read them
        Sym("var", params=(0,), ref=224),                # 0: the input length n
        Sym("win", (0,), ref=112),                       # 1: conv: (n + 2 - 3) // 2 + 1
        Sym("win", (1,), ref=56),                        # 2: pool: c // 2
        Sym("pad", (2,), (0, 1), ref=57),                # 3: F.pad(…, (0, 1))
        Sym("scale", (3,), (2.0,), ref=114),             # 4: interpolate(scale_factor=2)
        Sym("const", params=(5,), ref=5),                # 5
        Sym("sum", (4, 5), ref=119),                     # 6: a concatenation's length
        Sym("prod", (2, 5), ref=280),                    # 7: a flatten
        Sym("slice", (1,), (1, None, 2), ref=56),        # 8: x[..., 1::2]
        Sym("min", (4, 1), ref=112),                     # 9
        Sym("eq", (2, 8), ref=56),                       # 10: a merge of the pool and the slice: equal
        Sym("same_pad", (0,), (3, 2, 1), ref=225),       # 11: TF-SAME pad of the input
        Sym("const", params=(1,), ref=1),                # 12
        Sym("merge", (2, 12), ref=56),                   # 13: broadcast against a length-1 map
    ]
    return LengthProgram(syms=syms, windows=[CONV, POOL], inputs=(0,))


def test_every_kind_of_symbol_at_four_sizes():
    ev = chain().evaluate({0: SIZES})
    expected = {                        # symbol -> its lengths at n = 7, 8, 224, 225
        1: [4, 4, 112, 113],            # (n - 1) // 2 + 1
        2: [2, 2, 56, 56],
        3: [3, 3, 57, 57],
        4: [6, 6, 114, 114],
        6: [11, 11, 119, 119],
        7: [10, 10, 280, 280],
        8: [2, 2, 56, 56],
        9: [4, 4, 112, 113],
        13: [2, 2, 56, 56],
        10: [2, 2, 56, 56],
        11: [9, 9, 225, 227],           # n + max((ceil(n/2) - 1)*2 + 3 - n, 0)
    }
    for sym, lengths in expected.items():
        assert ev.values[sym].tolist() == lengths, sym
    assert ev.values[5] == 5 and ev.values[12] == 1          # constants stay plain ints
    assert ev.valid().tolist() == [True] * 4
    assert ev.value(1, 3) == 113


def test_one_size_evaluates_to_plain_ints_like_the_array():
    program = chain()
    many = program.evaluate({0: SIZES})
    for i, n in enumerate(SIZES.tolist()):
        one = program.evaluate({0: n})
        assert [type(v) for v in one.values] == [int] * len(one.values)
        assert one.values == [many.value(s, i) for s in range(len(program.syms))]
    # Without an input the traced length is used.
    assert chain().evaluate({}).values[1] == 112


def test_stacked_facts_have_one_row_per_window_and_one_column_per_size():
    program = chain()
    facts = program.evaluate({0: SIZES}).stacked_facts(program.windows)
    assert facts["n"].tolist() == [[7, 8, 224, 225], [4, 4, 112, 113]]
    assert facts["out"].tolist() == [[4, 4, 112, 113], [2, 2, 56, 56]]
    # conv: r = n + 1 - 2(o - 1) - 3 … 0 at odd n, 1 at even n; the pool drops a row at 113.
    assert facts["unused_pad_end"].tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]]
    assert facts["ignored_input_end"].tolist() == [[0, 0, 0, 0], [0, 0, 0, 1]]
    assert facts["uneven"].tolist() == [[False, True, True, False], [False] * 4]
    assert facts["transposed"].tolist() == [[0], [0]]
    assert program.columns(program.windows) is program.columns(program.windows)     # cached
    single = program.evaluate({0: SIZES}).window_facts(CONV)
    assert single["unused_pad_end"].tolist() == [[0, 1, 1, 0]]


def test_tf_same_pads_follow_the_input_length():
    # k=3 s=2: total = (ceil(n/2) - 1)*2 + 3 - n: 1 at even n, 2 at odd n.
    assert tf_same_total(np.array([224, 225, 226]), 3, 2).tolist() == [1, 2, 1]
    begin, end = tf_same_pads(np.array([224, 225]), 3, 2, 1, "end")
    assert (begin.tolist(), end.tolist()) == ([0, 1], [1, 1])
    begin, end = tf_same_pads(np.array([224, 225]), 3, 2, 1, "begin")
    assert (begin.tolist(), end.tolist()) == ([1, 1], [0, 1])
    assert int(tf_same_total(8, 1, 2)) == 0

    same = WindowAxis(layer=0, axis="W", src=0, out=1, kernel=3, stride=2, dilation=1, own_begin=0,
                      own_end=0, explicit=("same", "end"))
    program = LengthProgram(syms=[Sym("var", params=(0,), ref=224), Sym("win", (0,), ref=112)],
                            windows=[same], inputs=(0,))
    ev = program.evaluate({0: np.array([224, 225])})
    assert ev.values[1].tolist() == [112, 113]
    facts = ev.stacked_facts([same])
    assert facts["explicit_begin"].tolist() == [[0, 1]] and facts["explicit_end"].tolist() == [[1, 1]]
    # TF-SAME at an even size pads only the end, and reads it: uneven.
    assert facts["uneven"].tolist() == [[True, False]]


def test_transposed_windows():
    up = WindowAxis(layer=0, axis="H", src=0, out=1, kernel=4, stride=2, dilation=1, own_begin=1, own_end=1,
                    transposed=True)
    program = LengthProgram(syms=[Sym("var", params=(0,), ref=56), Sym("win", (0,), ref=112)],
                            windows=[up], inputs=(0,))
    ev = program.evaluate({0: np.array([28, 56])})
    assert ev.values[1].tolist() == [56, 112]            # (n - 1)*2 - 2 + 4
    facts = ev.stacked_facts([up])
    assert facts["used_pad_end"].tolist() == [[1, 1]] and facts["uneven"].tolist() == [[False, False]]
    assert facts["transposed"].tolist() == [[1]]


def test_sizes_that_cannot_run_name_the_first_failing_symbol():
    program = LengthProgram(syms=[Sym("var", params=(0,), ref=9), Sym("win", (0,), ref=5)],
                            windows=[WindowAxis(layer=0, axis="H", src=0, out=1, kernel=5, stride=1, dilation=1,
                                                own_begin=0, own_end=0)], inputs=(0,))
    ev = program.evaluate({0: np.array([3, 4, 5, 9])})
    assert ev.first_bad.tolist() == [1, 1, -1, -1]
    assert ev.valid().tolist() == [False, False, True, True]
    assert ev.reason(0, ["conv"], ["Conv2d"]) == "conv (Conv2d) would get 3 on H and needs at least 5"


@pytest.mark.parametrize(("sym", "sizes", "valid", "reason"), [
    (Sym("eq", (0, 1), where="net.cat"), (224, 225), False, "net.cat: merged branches disagree (224 vs 225)"),
    (Sym("eq", (0, 1), where="net.cat"), (224, 224), True, None),
    (Sym("merge", (0, 1), where="net.add"), (224, 225), False, "net.add: merged branches disagree (224 vs 225)"),
    (Sym("merge", (0, 1), where="net.add"), (224, 1), True, None),
])
def test_merges_of_two_inputs(sym, sizes, valid, reason):
    program = LengthProgram(syms=[Sym("var", params=(0,), ref=224), Sym("var", params=(1,), ref=224), sym])
    ev = program.evaluate({0: np.array([sizes[0]]), 1: np.array([sizes[1]])})
    assert ev.valid().tolist() == [valid]
    if reason:
        assert ev.reason(0, [], []) == reason
    else:
        assert ev.value(2, 0) == max(sizes)


def test_a_crop_to_nothing():
    program = LengthProgram(syms=[Sym("var", params=(0,), ref=8), Sym("pad", (0,), (-3, -3), where="net.crop")])
    ev = program.evaluate({0: np.array([6, 7])})
    assert ev.values[1].tolist() == [0, 1]
    assert ev.reason(0, [], []) == "net.crop: an empty output (pad of 6)"


def test_unknown_symbols_are_refused():
    with pytest.raises(ValueError, match="unknown length op 'cube'"):
        LengthProgram(syms=[Sym("cube")]).evaluate({})


def test_slice_length_is_len_of_a_sliced_range():
    n = np.arange(0, 20)
    for start, stop, step in [(None, None, 1), (1, None, 2), (-3, None, 1), (0, -1, 2), (2, 5, 1), (5, 2, 1),
                              (-30, 30, 3)]:
        got = slice_length(n, start, stop, step).tolist()
        assert got == [len(range(m)[start:stop:step]) for m in n.tolist()], (start, stop, step)


def test_broadcast_break():
    ref = LengthProgram(merges=[("net.add", ((1, 8, 2, 2), (1, 8, 2, 2)), (1, 8, 2, 2))])
    bad = LengthProgram(merges=[("net.add", ((1, 8, 4, 4), (1, 8, 1, 1)), (1, 8, 4, 4))])
    assert broadcast_break(ref, bad) == "net.add: merged branches disagree (4 vs 1)"
    fine = LengthProgram(merges=[("net.add", ((1, 8, 4, 4), (1, 8, 4, 4)), (1, 8, 4, 4))])
    assert broadcast_break(ref, fine) is None
    other = LengthProgram(merges=[("net.mul", ((1, 8, 4, 4), (1, 8, 1, 1)), (1, 8, 4, 4))])
    assert broadcast_break(ref, other) is None               # the runs parted before: no verdict
    # A merge that already broadcast a length-1 map at the traced size may keep doing so.
    gate = LengthProgram(merges=[("net.mul", ((1, 8, 2, 2), (1, 8, 1, 1)), (1, 8, 2, 2))])
    assert broadcast_break(gate, other) is None
