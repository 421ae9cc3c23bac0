"""Input-size sweeps (`padlint sizes`, `padlint.sweep`) and the suggested sizes of `padlint check`.

The reference for every clean set is padlint's per-size analysis (`padlint.analyze` at
each size on its own), which tests/trace/test_ground_truth.py and tests/test_corpus.py check
against autograd and aten graphs.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import padlint
from corpus_models import CORPUS
from padlint.cli.main import main
from padlint.engine.select import select_rules
from padlint.geometry.lengths import LengthProgram, Sym, WindowAxis
from padlint.load.target import Candidate
from padlint.sizes.exact import exact_axis
from padlint.sizes.fast import fast_axis, fast_path_problem
from padlint.trace.build import prepare, trace_at

warnings.filterwarnings("ignore", category=FutureWarning)
RULES = select_rules(["PAD101", "PAD102"])
VECTOR_RULES = select_rules(["PAD101", "PAD102", "PAD104", "PAD105"])


def tv(name, **kwargs):
    import torchvision
    return lambda: getattr(torchvision.models, name)(weights=None, **kwargs)


def sizes_json(capsys, *args) -> dict:
    code = main(["sizes", *args, "--format", "json", "--timeout", "0"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def brute_clean(build, axis: str, sizes, other: int) -> list[int]:
    """Each size analysed on its own: clean on ``axis`` when no PAD101/PAD102 finding is
    on that axis (the other axis held at ``other``)."""
    model = build()
    clean = []
    for n in sizes:
        size = f"{n}x{other}" if axis == "H" else f"{other}x{n}"
        report = padlint.analyze(model, size, select=["PAD101", "PAD102"])
        assert not report.errors, report.errors
        if not any(f.axis == axis for f in report.findings):
            clean.append(n)
    return clean


# -- `padlint sizes` against per-size analysis ------------------------------------------------

ARCHITECTURES = [
    ("resnet50", "torchvision.models:resnet50", 224, "200:260"),
    ("vgg16", "torchvision.models:vgg16", 224, "200:260"),
    ("mobilenet_v2", "torchvision.models:mobilenet_v2", 224, "200:260"),
    ("densenet121", "torchvision.models:densenet121", 224, "200:260"),
    ("inception_v3", "torchvision.models:inception_v3", 299, "280:320"),
    ("tf_efficientnet_b0", "timm.models:tf_efficientnet_b0", 224, "200:260"),
]


def _factory(spec: str):
    module, attr = spec.split(":")
    import importlib
    obj = getattr(importlib.import_module(module), attr)
    return lambda: obj(weights=None) if module.startswith("torchvision") else obj(pretrained=False)


@pytest.mark.parametrize("name,spec,ref,span", ARCHITECTURES, ids=[a[0] for a in ARCHITECTURES])
def test_clean_sizes_equal_per_size_analysis(capsys, name, spec, ref, span):
    data = sizes_json(capsys, spec, "--range", span, "--input-size", str(ref))
    assert data["method"] == "fast"
    assert data["input_shape"][2:] == [ref, ref]
    a, b = (int(v) for v in span.split(":"))
    sampled = [a, a + 1, a + 7, ref - 1, ref, ref + 1, (a + b) // 2 + 3, b - 1, b]
    for axis_result in data["axis_results"]:
        axis = axis_result["axis"]
        want = brute_clean(_factory(spec), axis, sampled, ref)
        got = [n for n in sampled if n in axis_result["clean"]]
        assert got == want, (name, axis)
        for n in sampled:                      # every size is clean, unclean or invalid: once
            listed = [n in axis_result["clean"], str(n) in axis_result["first_uneven"],
                      str(n) in axis_result["invalid"]]
            assert listed.count(True) == 1, (name, axis, n)


def test_resnet50_known_facts():
    result = padlint.sweep(tv("resnet50"), range(32, 1025))
    h = result.axis("H")
    assert result.method == "fast"
    assert 225 in h.clean and 257 in h.clean and 224 not in h.clean
    assert h.clean == list(range(33, 1025, 32))            # n ≡ 1 (mod 32), SCIENCE.md §1
    assert h.first_uneven[224] == "conv1"
    assert h.first_uneven[227] == "maxpool"                 # conv1 227 -> 114 even; maxpool 114 -> 57, r = 1
    assert h.nearest(224) == (193, 225)
    assert result.axis("W").clean == h.clean
    assert h.invalid == {}


def test_vgg16_known_facts():
    h = padlint.sweep(tv("vgg16"), range(1, 300), axis="H").axis("H")
    assert 224 in h.clean and 225 not in h.clean
    assert h.clean == list(range(32, 300, 32))              # n ≡ 0 (mod 32)
    assert h.first_uneven[225] == "features.4"              # the first 2x2/2 max pool drops a row
    assert h.invalid[1] == "features.4 (MaxPool2d) would get 1 on H and needs at least 2"
    assert sorted(h.invalid) == list(range(1, 32))


def test_inception_v3_at_299_is_computed():
    result = padlint.sweep(tv("inception_v3", init_weights=False), range(290, 310), input_size=299)
    h = result.axis("H")
    # 299 -> 149 -> 147 -> 73 -> 71 -> 35 -> 17 -> 8: every valid 3x3/2 conv and pool ends exactly
    assert 299 in h.clean and 300 not in h.clean
    assert h.first_uneven[300] == "Conv2d_1a_3x3.conv"      # 300 - 3 is odd: one row left over
    assert brute_clean(tv("inception_v3", init_weights=False), "H", [299, 300, 301], 299) == \
        [n for n in (299, 300, 301) if n in h.clean]


# -- fast path against exact path -------------------------------------------------------------

SAMPLE = [1, 2, 3, 5, 8, 13, 20, 31, 32, 33, 47, 63, 64, 65, 96, 111, 127, 128, 129, 223, 224,
          225, 255, 256, 257, 300, 383, 449]


def _agree(build, ref):
    prep = prepare(Candidate("model", build))
    trace = trace_at(prep, ref, program=True)
    problem = fast_path_problem(prep.front, trace)
    if problem is not None:
        return problem
    sizes = np.array(SAMPLE)
    for axis in range(len(trace.input_shape) - 2):
        fast = fast_axis(trace, axis, sizes, RULES)
        exact = exact_axis(prep.front, trace, axis, sizes, RULES)
        assert fast.clean == exact.clean
        assert fast.first_uneven == exact.first_uneven
        assert fast.invalid.keys() == exact.invalid.keys()
        for n, reason in exact.invalid.items():    # a too-small input is worded alike,
            if " would get " in reason:            # unless a merge earlier in the forward
                # broke first: torch broadcast through it (dla34's level2 add) and failed later
                assert fast.invalid[n] == reason or "merged branches disagree" in fast.invalid[n], \
                    (n, fast.invalid[n], reason)
    return None


FAST_AGREE = ["tv.resnet18", "tv.shufflenet_v2_x1_0", "tvseg.deeplabv3_resnet50",
              "timm.tf_efficientnet_b0", "tvvideo.r3d_18", "tv.swin_t"]
# Models whose length program the fast path must refuse, and why (validated in the run).
EXACT_ONLY = {"tv.swin_t", "tv.maxvit_t", "timm.tresnet_m", "timm.efficientvit_b0",
              "timm.mobilevit_xs"}


def _corpus_case(model_id):
    entry = next(e for e in CORPUS if e[0] == model_id)
    from padlint.ir.shapes import normalize_sizes
    return entry[1], normalize_sizes(entry[2][0])[0]


@pytest.mark.parametrize("model_id", FAST_AGREE)
def test_fast_and_exact_paths_agree(model_id):
    build, ref = _corpus_case(model_id)
    problem = _agree(build, ref)
    assert (problem is not None) == (model_id in EXACT_ONLY), problem


@pytest.mark.corpus
@pytest.mark.parametrize("model_id", [e[0] for e in CORPUS])
def test_fast_and_exact_paths_agree_on_the_corpus(model_id):
    build, ref = _corpus_case(model_id)
    problem = _agree(build, ref)
    assert (problem is not None) == (model_id in EXACT_ONLY), problem


# -- what the length program models ------------------------------------------------------------

class Branches(nn.Module):
    """A 3x3/2 conv branch added to a 2x2/2 pool branch: floor((n-1)/2) and floor(n/2)
    agree at odd sizes only, so even sizes cannot run."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, stride=2, padding=0)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        return self.conv(x) + self.pool(x)


class UpCat(nn.Module):
    """Upsample by 2, crop, pad, concatenate with a skip, pixel-shuffle, then pool."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.head = nn.Conv2d(8, 4, 3, stride=2, padding=1)

    def forward(self, x):
        skip = x[:, :, 1:-1, 1:-1]
        up = F.interpolate(self.down(skip), scale_factor=2.0, mode="nearest")
        up = F.pad(up, (0, 0, 0, 0))
        y = torch.cat([up[:, :, : skip.shape[2], : skip.shape[3]], skip.repeat(1, 4, 1, 1)[:, :4]], 1)
        return F.avg_pool2d(self.head(y), 2)


class TFSame(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)

    def forward(self, x):
        ih, iw = x.shape[-2:]
        ph = max((-(-ih // 2) - 1) * 2 + 3 - ih, 0)
        pw = max((-(-iw // 2) - 1) * 2 + 3 - iw, 0)
        return self.conv(F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2]))


class PadToSkip(nn.Module):
    """A U-Net decoder step as milesial/Pytorch-UNet writes it: the upsampled map is padded
    to the skip's size, both read from the tensors' shapes, then concatenated with it."""

    def __init__(self, feed_window: bool = False):
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(4, 3, 4, stride=4)
        self.head = nn.Conv2d(3 if feed_window else 6, 4, 3, padding=1)
        self.feed_window = feed_window

    def forward(self, x):
        y = self.up(self.pool(self.down(x)))
        dy, dx = x.size()[2] - y.size()[2], x.size()[3] - y.size()[3]
        y = F.pad(y, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.head(y if self.feed_window else torch.cat([x, y], dim=1))


@pytest.mark.parametrize("model, ref", [(Branches, 65), (UpCat, 65), (TFSame, 65), (PadToSkip, 65),
                                        (PadToSkip, 64)])
def test_small_models_fast_equals_exact_on_every_size(model, ref):
    prep = prepare(Candidate(model.__name__, model))
    trace = trace_at(prep, (ref,), program=True)
    assert fast_path_problem(prep.front, trace) is None
    sizes = np.arange(1, 130)
    for axis in (0, 1):
        fast = fast_axis(trace, axis, sizes, RULES)
        exact = exact_axis(prep.front, trace, axis, sizes, RULES)
        assert (fast.clean, fast.first_uneven, sorted(fast.invalid)) == \
            (exact.clean, exact.first_uneven, sorted(exact.invalid))


def test_a_pad_to_the_skips_size_is_the_skips_length():
    # At 64 the upsampled map already fits (pads of 0); at 67 it is 64 and takes (1, 2):
    # the padded length is the skip's at every size, so every size runs.
    result = padlint.sweep(PadToSkip, range(60, 70), axis="H", input_size=64)
    assert result.method == "fast" and result.axis("H").invalid == {}
    program = trace_at(prepare(Candidate("p", PadToSkip)), (64,), program=True).program
    assert program.unmodelled is None
    assert any("reads a tensor's shape" in why for why in program.uncertain)


def test_a_window_on_a_pad_to_another_size_takes_the_exact_path():
    result = padlint.sweep(lambda: PadToSkip(feed_window=True), range(60, 70), axis="H", input_size=64)
    assert result.method == "exact"
    assert "a window reads a pad to another tensor's size (head)" in result.why_exact


def test_disagreeing_branches_are_invalid_with_a_reason():
    h = padlint.sweep(Branches, range(4, 12), axis="H", input_size=65).axis("H")
    # 4 runs only by broadcasting the conv's 1 row against the pool's 2: not this model,
    # whose branches are both 32 long at the analysed 65
    assert sorted(h.invalid) == [4, 6, 8, 10]
    assert h.invalid[4] == "add: merged branches disagree (1 vs 2)"
    assert h.invalid[6] == "add: merged branches disagree (2 vs 3)"
    assert h.clean == []
    assert h.first_uneven == {5: "pool", 7: "pool", 9: "pool", 11: "pool"}


def test_tf_same_pad_follows_its_formula():
    program = trace_at(prepare(Candidate("t", TFSame)), (65,), program=True).program
    window = program.windows[0]
    assert window.explicit == ("same", "end")
    assert any("pad computed from the input shape" in why for why in program.uncertain)
    h = padlint.sweep(TFSame, range(60, 70), axis="H", input_size=64).axis("H")
    assert h.clean == [61, 63, 65, 67, 69]                  # TF-SAME pads (0, 1) on even sizes
    assert h.first_uneven[64] == "conv"


def test_an_unmodelled_view_falls_back_to_the_exact_path():
    class Flat(nn.Module):        # Linear(8*7*7) only fits 28x28 and 29x29
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3, stride=2, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(8 * 7 * 7, 10)

        def forward(self, x):
            return self.fc(self.pool(self.conv(x)).view(x.shape[0], -1))

    result = padlint.sweep(Flat, range(24, 34), axis="H", input_size=28)
    assert result.method == "exact"
    assert "28x28" not in result.why_exact and "fails at input 29x69" in result.why_exact
    h = result.axis("H")
    assert h.clean == [27]
    assert h.first_uneven == {28: "conv", 29: "pool", 30: "conv"}   # 29: 15 -> 7 drops a row
    assert sorted(h.invalid) == [24, 25, 26, 31, 32, 33]


# -- vector forms of the rules ---------------------------------------------------------------

@pytest.mark.corpus                  # an exhaustive grid (about 25 s): CI's corpus stage
@pytest.mark.parametrize("transposed", [False, True])
def test_vector_rules_match_their_checks(transposed):
    """The vector forms of PAD101, PAD102, PAD104 and PAD105 fire exactly where their
    checks do, over a grid of geometries and sizes."""
    from padlint.sizes.fast import _scalar_facts
    rules = {r.code: r for r in VECTOR_RULES}
    assert all(r.vector is not None for r in rules.values())
    sizes = np.arange(1, 70)
    for k in (1, 2, 3, 4, 7):
        for s in (1, 2, 3):
            for d in (1, 2):
                for pb, pe in ((0, 0), (1, 1), (0, 1), (3, 3), (2, 1)):
                    for ceil in ((False, True) if not transposed else (False,)):
                        op = (0,) if not transposed else (0, 1)
                        for outpad in op:
                            if transposed and outpad >= max(s, d):
                                continue
                            program = LengthProgram(syms=[Sym("var", params=(0,)), Sym("win", (0,))])
                            w = WindowAxis(0, "H", 0, 1, k, s, d, pb, pe, ceil, ("static", 0, 0),
                                           transposed, outpad)
                            program.windows.append(w)
                            ev = program.evaluate({0: sizes})
                            from types import SimpleNamespace
                            facts = SimpleNamespace(**ev.window_facts(w))
                            for code, rule in rules.items():
                                fires = np.broadcast_to(rule.vector(facts), (1, len(sizes)))[0]
                                for i, n in enumerate(sizes):
                                    if not ev.valid()[i]:
                                        continue
                                    f = _scalar_facts(w, int(n))
                                    assert bool(fires[i]) == (rule.check(None, f) is not None), \
                                        (code, k, s, d, pb, pe, ceil, outpad, n)


# -- the command line --------------------------------------------------------------------------

def test_sizes_text_output(capsys):
    assert main(["sizes", "examples/resnet.py", "--range", "32:1024", "--timeout", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("examples/resnet.py:TinyResNet: sweeping H/W over 993 sizes (32-1024), each "
                      "alone, the others held at 224x224; unclean means PAD101 or PAD102 fires on "
                      "that axis")
    assert out[1] == "fast path: every size in one numpy pass over the recorded lengths"
    assert out[2] == "H: 124 clean sizes of 993: 33, 41, …, 1017"
    assert out[3] == "  224 is not clean (first: stem); nearest clean: 217 below, 225 above"
    assert out[5] == "    stem (Conv2d k=7 s=2 p=3): 497 sizes: 32, 34, …, 1024"
    assert out[-1] == "W: the same as H"


def test_sizes_json_contract(capsys):
    data = sizes_json(capsys, "examples/vgg.py", "--range", "1:40", "--axis", "W")
    assert set(data) >= {"target", "axis_results"}
    assert data["target"] == "examples/vgg.py:TinyVGG"
    assert data["input_shape"] == [1, 3, 225, 225]           # what PADLINT_TARGETS declares
    (w,) = data["axis_results"]
    assert w["axis"] == "W"
    assert w["clean"] == [8, 16, 24, 32, 40]
    assert w["invalid"]["1"] == "features.0.2 (MaxPool2d) would get 1 on W and needs at least 2"
    assert w["first_uneven"]["9"] == "features.0.2"
    assert w["nearest"] == {"225": [40, None]}


def test_sizes_per_size_lines(capsys):
    assert main(["sizes", "examples/resnet.py", "-r", "30:40", "--axis", "H", "--per-size",
                 "--timeout", "0"]) == 0
    out = capsys.readouterr().out
    assert "    34: stem (Conv2d k=7 s=2 p=3)\n" in out
    assert "    35: pool (MaxPool2d k=3 s=2 p=1)\n" in out


@pytest.mark.parametrize("args,message", [
    (["--range", "300:200"], "invalid --range '300:200': the start (300) is larger than the end (200); use A:B with A <= B, e.g. 200:300"),
    (["--range=-5:10"], "invalid --range '-5:10': sizes must be positive; use A:B or A:B:S with whole numbers, e.g. 32:1024 or 32:1024:8"),
    (["--range", "32:64:0"], "invalid --range '32:64:0': the step must be at least 1; use A:B or A:B:S with whole numbers, e.g. 32:1024 or 32:1024:8"),
    (["--range", "32-64"], "invalid --range '32-64': use A:B or A:B:S with whole numbers, e.g. 32:1024 or 32:1024:8"),
    (["--range", "1:1000000"], "invalid --range '1:1000000': 1000000 sizes is more than one sweep takes (100000); narrow it or add a step, e.g. 1:1000000:10"),
    (["--axis", "Q"], "examples/resnet.py:TinyResNet: no axis 'Q': this model's spatial axes are H, W"),
    (["--rules", "PAD999"], "unknown rule code or prefix 'PAD999'; `padlint rules` lists them"),
])
def test_bad_sizes_arguments(capsys, args, message):
    assert main(["sizes", "examples/resnet.py", *args, "--timeout", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"padlint: error: {message}\n"


def test_a_slow_exact_sweep_needs_yes(capsys):
    assert main(["sizes", "torchvision.models:resnet50", "--method", "exact", "--range", "32:4096",
                 "--timeout", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("padlint: error: torchvision.models:resnet50: sweeping 4065 "
                                   "sizes x 2 axes needs the exact path (asked for), which would "
                                   "take about ")
    assert captured.err.endswith("; pass --yes to run it, or narrow --range or add a step (A:B:S)\n")


def test_a_folder_is_not_one_model(capsys):
    assert main(["sizes", "examples/", "--timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("padlint: error: examples/: defines 8 models (")
    assert err.endswith("a sweep takes one: name it as path.py:Name\n")


# -- `padlint check` suggestions ------------------------------------------------------------------

def test_check_suggests_the_nearest_clean_sizes(capsys):
    assert main(["check", "torchvision.models:resnet50", "--format", "json", "--timeout", "0"]) == 1
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["suggested_sizes"] == [193, 225]
    fixes = {f["fix"] for f in result["findings"] if f["rule"] == "PAD101"}
    assert ("use input size 193 or 225 on H instead of 224, where every layer uses its padding "
            "evenly and drops nothing, or kernel 8 with padding 3") in fixes


def test_check_suggestion_line_and_clean_inputs():
    report = padlint.analyze(tv("vgg16"), [224, 225, "224x225"])
    assert [r.suggested_sizes for r in report.results] == [[224], [224, 256], [[224, 224], [224, 256]]]
    from padlint.output.text import finding_lines
    lines = [str(line) for line in finding_lines(report)]
    assert any(line.endswith("; the nearest clean sizes are 224 and 256") for line in lines)
    # 224x225: H is clean, W is not: keep H, move W
    assert report.results[2].suggested.for_axis("H") is None and report.results[2].suggested.for_axis("W") == "224 or 256"


def test_shape_dependent_branches_use_the_exact_path(capsys):
    data = sizes_json(capsys, "examples/dynamic.py", "--range", "220:228")
    assert data["method"] == "exact"
    assert data["why_exact"] == "the model runs other operations at input 225x265"
    h, w = data["axis_results"]
    assert h["clean"] == [223, 227]
    assert w["clean"] == []                       # odd widths are cropped to even ones
    assert w["first_uneven"] == {str(n): "conv" for n in range(220, 229)}


def test_method_fast_refuses_when_it_does_not_apply(capsys):
    assert main(["sizes", "examples/dynamic.py", "--method", "fast", "--timeout", "0"]) == 2
    assert capsys.readouterr().err == (
        "padlint: error: examples/dynamic.py:CropNet: the fast path cannot be used: the model "
        "runs other operations at input 225x265\n")


def test_yes_lifts_the_time_limit_in_the_child_process(capsys):
    # --yes waits without a limit (10**7 s overflowed the selector's milliseconds: a traceback)
    assert main(["sizes", "examples/resnet.py:TinyResNet", "--yes", "--method", "exact",
                 "--range", "62:66", "--axis", "H"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("examples/resnet.py:TinyResNet: sweeping H over 5 sizes (62-66)")
