"""Issue 19, items 5 and 6: a global pool is not uneven, and a single centred output cell
is not shifted. The models are in tests/frontdoor/."""
from __future__ import annotations

import importlib.util

import pytest
from torch import nn

import padlint
from padlint.geometry.axis import axis_facts
from paths import FRONTDOOR


def _load(name: str, attr: str):
    spec = importlib.util.spec_from_file_location(f"frontdoor_{name}", FRONTDOOR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attr)


def _codes(report, layer: str) -> list[tuple[str, str]]:
    return sorted((f.rule, f.axis) for f in report.findings if f.layer == layer)


# --- item 5: AvgPool2d(1280, ceil_mode=True) on a map smaller than 1280 is its mean ---

def test_global_pool_window_is_not_uneven():
    f = axis_facts("H", 7, 1280, 1280, ceil_mode=True)
    assert (f.out, f.overhang, f.used_pad_end) == (1, 1273, 1273)
    assert f.global_window and not f.uneven


def test_global_pool_model_has_no_finding_and_a_clean_size():
    report = padlint.analyze(_load("globalpool", "GlobalPoolNet"), input_size=224)
    assert report.findings == []
    pool = next(layer for layer in report.layers if layer.name == "pool")
    assert [(a.n, a.out, a.uneven) for a in pool.axes] == [(224, 1, False), (224, 1, False)]
    assert report.results[0].suggested_sizes == [224]


def test_global_pool_sweep_is_clean_everywhere_below_the_kernel():
    sweep = padlint.sweep(_load("globalpool", "GlobalPoolNet"), range(112, 449))
    assert sweep.axis("H").clean == list(range(112, 449))


def test_pool_that_is_not_global_still_fires():
    # at 1300 the 1280 window no longer covers the map: two cells, the last overhanging
    report = padlint.analyze(_load("globalpool", "GlobalPoolNet"), input_size=1300)
    assert _codes(report, "pool") == [("PAD101", "H"), ("PAD101", "W")]
    assert "0 top but 1260 bottom" in report.findings[0].message


# --- item 6: a final 8x8 conv on an 8x8 map is one exactly centred cell ---

def test_final_kxk_conv_on_kxk_map_is_not_shifted():
    report = padlint.analyze(_load("lastconv", "PatchDescriptor"), input_size="1x32x32")
    assert _codes(report, "head") == []
    head = next(layer for layer in report.layers if layer.name == "head")
    assert [(a.n, a.out) for a in head.axes] == [(8, 1), (8, 1)]
    # the stride-2 convs before it are still reported
    assert sorted({f.layer for f in report.findings}) == ["features.2", "features.4"]


def test_even_kernel_with_two_cells_still_fires_and_its_fix_fits():
    report = padlint.analyze(nn.Sequential(nn.Conv2d(3, 8, 8)), input_size=9)
    assert _codes(report, "0") == [("PAD105", "H"), ("PAD105", "W")]
    assert report.findings[0].fix == "use an odd kernel (9), or keep it if the half-cell shift is intended"


@pytest.mark.parametrize("pad, stride, n, fires", [(0, 1, 8, False), (1, 1, 6, False), (0, 3, 10, True)])
def test_single_cell_fires_only_when_off_centre(pad, stride, n, fires):
    # k=8: one cell at n=8 (p=0) and n=6 (p=1), both centred on the input; at stride 3 on
    # n=10 the one window covers 0..7 of 0..9: centred at 3.5, not 4.5
    model = nn.Sequential(nn.Conv2d(3, 8, 8, stride=stride, padding=pad))
    report = padlint.analyze(model, input_size=n)
    assert [a.out for a in report.layers[0].axes] == [1, 1]
    assert bool(_codes(report, "0")) is fires, [f.message for f in report.findings]


def test_a_padded_window_over_the_whole_input_stays_uneven():
    # k3 s2 p1 on 2 cells: one window over -1..1 reads the top padding and not the bottom;
    # a conv's weights then sit off centre, so it is not a global pool
    f = axis_facts("H", 2, 3, 2, pad_begin=1, pad_end=1)
    assert (f.out, f.pad_begin, f.used_pad_end) == (1, 1, 0)
    assert f.uneven and not f.global_window
