"""Issue 19, items 1, 8 and 9, on the front-door models of ``tests/frontdoor/``:

1. never a false green: ``padlint.analyze`` on a model it cannot analyse at all raises
   PadlintError (partial failures stay in ``report.errors``), and ``assert_clean``,
   ``report.failing()`` and ``report.findings == []`` say the same about info findings;
8. when the forward fails at the size asked, the error names the sizes it runs at (the
   common sizes, and those that give the failing ``nn.Linear`` its in_features) and one
   clean size to use;
9. the channels a user states (``--input-size 1x256x256``, ``PADLINT_TARGETS``) win over
   the first convolution's; without them padlint tries 1 and 3 when the guess fails.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch
from torch import nn

import padlint
from cli_helpers import assert_one_error_line, write
from model_classes import StemRegisteredLast
from padlint import PadlintError
from paths import FRONTDOOR as _FRONTDOOR

FRONTDOOR = str(_FRONTDOOR)    # for sys.path and os.path
sys.path.insert(0, FRONTDOOR)
from cifar_net import CifarNet  # noqa: E402
from keynet import KeyNetLike  # noqa: E402

sys.path.remove(FRONTDOOR)
IN_PROCESS = ("--timeout", "0")     # the `cli` fixture captures output that a child cannot write to


def real_sizes(model: nn.Module, channels: int, sizes) -> list[int]:
    """The square sizes at which a real CPU forward runs: the ground truth of a size hint."""
    ok = []
    with torch.no_grad():
        for s in sizes:
            try:
                model(torch.zeros(1, channels, s, s))
            except RuntimeError:
                continue
            ok.append(s)
    return ok


class LinearAfterStride2(nn.Module):
    """Linear(4*16*16) after one stride-2 conv: it runs at 31 and 32 only. 32 is nearer 33,
    but uneven (PAD101); 31 is clean."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.fc = nn.Linear(4 * 16 * 16, 2)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class FlatVGG(nn.Module):
    """VGG-style: five 3x3 'same' convs each with a 2x2 max pool, flattened into
    Linear(4*7*7): it runs at 224-255; only 224 of them is clean (255, the nearest to 256,
    drops a row at every pool)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*[m for i in range(5) for m in (
            nn.Conv2d(3 if i == 0 else 4, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))])
        self.fc = nn.Linear(4 * 7 * 7, 10)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class EvenOnly(nn.Module):
    """Concatenates its input with a stride-2 down and up path: it runs at even sizes only,
    and has no Linear to derive sizes from, so only the common sizes are found."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 3, 2, stride=2)
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return torch.cat([x, self.up(self.down(x))], 1)


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        raise RuntimeError("broken on purpose")


# ------------------------------------------------------------------ 1. never a false green

def test_analyze_raises_when_its_one_model_cannot_run():
    with pytest.raises(PadlintError) as info:
        padlint.analyze(CifarNet, input_size=224)
    message = str(info.value)
    assert message.startswith("CifarNet: its forward fails at input 224x224 on the meta device ("), message
    assert message.endswith("; it runs at 44–47, e.g. 44: use --input-size 44 or declare it in "
                            "PADLINT_TARGETS (run with --debug for the traceback)"), message
    report = info.value.report
    assert report.results == [] and [e["message"] for e in report.errors] == [message]
    assert isinstance(info.value.__cause__, RuntimeError)     # --debug's traceback: the CPU error


def test_every_size_failing_raises_and_a_partial_failure_stays_in_errors():
    with pytest.raises(PadlintError) as info:
        padlint.analyze(CifarNet, input_size="224,48")
    assert len(info.value.report.errors) == 2
    assert re.fullmatch(r"CifarNet: its forward fails at input 224x224 .*; CifarNet: its forward "
                        r"fails at input 48x48 .*", str(info.value)), str(info.value)
    report = padlint.analyze(CifarNet, input_size="224,44")       # 44 runs, 224 does not
    assert [r.input_shape for r in report.results] == [(1, 3, 44, 44)]
    assert [e["message"][:45] for e in report.errors] == ["CifarNet: its forward fails at input 224x224 "]
    assert report.findings == [] and report.exit_code() == 2
    with pytest.raises(PadlintError, match="its forward fails at input 224x224"):
        padlint.assert_clean(CifarNet, input_size="224,44")    # assert_clean: any error fails


def test_a_file_with_one_model_that_cannot_run_raises(tmp_path):
    path = tmp_path / "cifar_net.py"
    shutil.copy(os.path.join(FRONTDOOR, "cifar_net.py"), path)
    with pytest.raises(PadlintError, match=r"cifar_net\.py:CifarNet: its forward fails at input 224x224"):
        padlint.analyze(str(path))
    checker = padlint.Checker()
    with pytest.raises(PadlintError, match="it runs at 44–47, e.g. 44"):
        checker.check(CifarNet)
    assert [r.input_shape for r in checker.check(CifarNet, input_size=44).results] == [(1, 3, 44, 44)]


def test_info_findings_assert_clean_failing_and_findings_agree():
    even_kernel = nn.Sequential(nn.Conv2d(3, 4, 2))          # PAD105 (info) on H and W, nothing else
    report = padlint.assert_clean(even_kernel, input_size=224)          # default fail_on="warning"
    assert [(f.rule, f.severity, f.axis) for f in report.findings] == [
        ("PAD105", "info", "H"), ("PAD105", "info", "W")]
    assert report.failing() == [] and report.failing("warning") == [] and report.failing("never") == []
    assert report.failing("info") == report.findings            # findings == [] counts info too
    assert report.exit_code() == 0 and report.exit_code("info") == 1
    with pytest.raises(AssertionError, match=r"^padlint: 2 findings at or above info in Sequential"):
        padlint.assert_clean(even_kernel, input_size=224, fail_on="info")
    with pytest.raises(PadlintError, match="fail_on must be one of error, warning, info, never, got 'warn'"):
        report.failing("warn")


def test_failing_lists_what_assert_clean_fails_on():
    stem = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.Conv2d(4, 4, 2))
    report = padlint.analyze(stem, 224)           # PAD101 (warning) on layer 0, PAD105 (info) on 1
    assert [(f.rule, f.layer, f.axis) for f in report.failing()] == [
        ("PAD101", "0", "H"), ("PAD101", "0", "W")]
    with pytest.raises(AssertionError) as info:
        padlint.assert_clean(stem, input_size=224)
    lines = str(info.value).splitlines()
    assert lines[0] == "padlint: 2 findings at or above warning in Sequential @ 1x3x224x224:"
    assert lines[-1] == "  (and 2 less severe findings)"
    assert report.failing("error") == []


# ---------------------------------------------------------- 8. sizes at which it does run

def test_cifar_net_cli_names_the_sizes_it_runs_at(cli):
    truth = real_sizes(CifarNet(), 3, range(8, 300))
    assert truth == [44, 45, 46, 47]                  # 16 * 8 * 8 = 1024 features after two conv+pools
    proc = subprocess.run([sys.executable, "-m", "padlint", "cifar_net.py"], cwd=FRONTDOOR,
                          capture_output=True, text=True, timeout=300)   # the real command: a child per target
    line = assert_one_error_line(proc.returncode, proc.stdout, proc.stderr,
                                 "cifar_net.py:CifarNet: its forward fails at input 224x224")
    runs = re.search(r"; it runs at (\d+)–(\d+), e\.g\. (\d+): use --input-size (\d+) or declare it "
                     r"in PADLINT_TARGETS \(run with --debug for the traceback\)$", line)
    assert runs, line
    low, high, example, asked = map(int, runs.groups())
    assert list(range(low, high + 1)) == truth and example == asked == 44
    assert "fix the forward" not in line
    code, out, err = cli(FRONTDOOR, "cifar_net.py", "--input-size", "44", *IN_PROCESS)     # the advice works:
    assert (code, err) == (0, "") and "CifarNet @ 1x3x44x44: 4 windowed layers, 0 findings" in out
    code, out, _ = cli(FRONTDOOR, "cifar_net.py", "--input-size", "47", *IN_PROCESS)       # the nearest is not clean
    assert code == 1 and "PAD102" in out


def test_the_example_is_the_nearest_clean_size_not_just_the_nearest():
    assert real_sizes(LinearAfterStride2(), 3, range(8, 80)) == [31, 32]
    with pytest.raises(PadlintError) as info:
        padlint.analyze(LinearAfterStride2, 33)
    assert str(info.value).endswith("; it runs at 31–32, e.g. 31: use --input-size 31 or declare it in "
                                    "PADLINT_TARGETS (run with --debug for the traceback)"), str(info.value)
    assert padlint.analyze(LinearAfterStride2, 31).findings == []
    assert [f.rule for f in padlint.analyze(LinearAfterStride2, 32).findings] == ["PAD101", "PAD101"]


def test_the_example_comes_from_the_sweep_when_the_nearest_sizes_are_unclean():
    assert real_sizes(FlatVGG(), 3, range(200, 280)) == list(range(224, 256))
    with pytest.raises(PadlintError) as info:
        padlint.analyze(FlatVGG, 256)
    assert str(info.value).endswith("; it runs at 224–255, e.g. 224: use --input-size 224 or declare "
                                    "it in PADLINT_TARGETS (run with --debug for the traceback)"), str(info.value)
    assert padlint.analyze(FlatVGG, 224).findings == []
    assert {f.rule for f in padlint.analyze(FlatVGG, 255).findings} == {"PAD102"}


def test_the_suggestion_keeps_the_channels_the_user_gave():
    with pytest.raises(PadlintError) as info:
        padlint.analyze(LinearAfterStride2, "3x33x33")
    assert str(info.value).startswith("LinearAfterStride2: its forward fails at input 3x33x33 ")
    assert "e.g. 31: use --input-size 3x31x31 or declare it" in str(info.value)


def test_without_a_linear_the_common_sizes_that_run_are_named():
    truth = real_sizes(EvenOnly(), 3, (28, 32, 64, 96, 128, 160, 192, 224, 256, 299, 384, 512))
    assert truth == [28, 32, 64, 96, 128, 160, 192, 224, 256, 384, 512]
    with pytest.raises(PadlintError) as info:
        padlint.analyze(EvenOnly, 225)
    assert str(info.value).endswith("; it runs at 28, 32, 64, 96, 128, 160, …, e.g. 224: use --input-size "
                                    "224 or declare it in PADLINT_TARGETS (run with --debug for the "
                                    "traceback)"), str(info.value)


def test_a_forward_that_fails_at_every_size_still_says_fix_the_forward():
    with pytest.raises(PadlintError) as info:
        padlint.analyze(Broken, 32)
    assert str(info.value) == (
        "Broken: its forward fails at input 32x32 on the meta device (RuntimeError: broken on purpose) "
        "and on the CPU (RuntimeError: broken on purpose); fix the forward (run with --debug for the "
        "traceback)")


def test_size_ranges_text():
    from padlint.sizes.failures import size_ranges
    assert size_ranges([32, 44, 45, 46, 47, 64]) == "32, 44–47, 64"
    assert size_ranges([7]) == "7"
    assert size_ranges(list(range(1, 20, 2)), limit=3) == "1, 3, 5, …"


# ------------------------------------------------------------- 9. stated channels win

KEYNET_LAYERS = ["conv2d", "conv2d_1", "learner.0", "learner.2"]      # FX names the F.conv2d calls


def test_keynet_with_an_explicit_one_channel_shape():
    report = padlint.analyze(KeyNetLike, "1x256x256")
    (result,) = report.results
    assert result.input_shape == (1, 1, 256, 256) and report.errors == []
    assert [layer.name for layer in result.layers] == KEYNET_LAYERS
    assert result.layers[2].input_shape == (1, 10, 256, 256)        # the 1 -> 10 expansion ran
    assert report.findings == []
    full = padlint.analyze(KeyNetLike, (1, 1, 64, 64))              # a full shape too
    assert full.results[0].input_shape == (1, 1, 64, 64)


def test_keynet_cli_input_size_and_padlint_targets(cli, tmp_path):
    code, out, err = cli(FRONTDOOR, "keynet.py", "--input-size", "1x256x256", *IN_PROCESS)
    assert (code, err) == (0, ""), err
    assert "keynet.py:KeyNetLike @ 1x1x256x256: 4 windowed layers, 0 findings" in out
    with open(os.path.join(FRONTDOOR, "keynet.py"), encoding="utf-8") as fh:
        source = fh.read()
    write(tmp_path, "keynet_declared.py", source + '\n\nPADLINT_TARGETS = [(KeyNetLike, "1x256x256")]\n')
    code, out, err = cli(tmp_path, "keynet_declared.py", *IN_PROCESS)
    assert (code, err) == (0, ""), err
    assert "keynet_declared.py:KeyNetLike @ 1x1x256x256: 4 windowed layers, 0 findings" in out


def test_keynet_without_a_size_finds_its_one_channel(cli):
    report = padlint.analyze(KeyNetLike)
    assert [r.input_shape for r in report.results] == [(1, 1, 224, 224)]
    assert [layer.name for layer in report.layers] == KEYNET_LAYERS
    code, out, err = cli(FRONTDOOR, "keynet.py", *IN_PROCESS)
    assert (code, err) == (0, ""), err
    assert "keynet.py:KeyNetLike @ 1x1x224x224: 4 windowed layers, 0 findings" in out


def test_wrong_stated_channels_name_the_channels_it_runs_with():
    with pytest.raises(PadlintError) as info:
        padlint.analyze(KeyNetLike, "3x64x64")        # stated, so not replaced by a guess
    assert str(info.value).startswith("KeyNetLike: its forward fails at input 3x64x64 on the meta device")
    assert str(info.value).endswith("; it runs with 1 channel (its first convolution takes 10): give "
                                    "1x64x64 (run with --debug for the traceback)"), str(info.value)
    with pytest.raises(PadlintError) as info:
        padlint.analyze(nn.Sequential(nn.Conv2d(3, 4, 3)), "4x32x32")
    assert str(info.value).endswith("; the model's first convolution takes 3 channels: give 32x32 or "
                                    "3x32x32 (run with --debug for the traceback)"), str(info.value)


def test_an_explicit_shape_wins_over_the_first_registered_conv():
    report = padlint.analyze(StemRegisteredLast, (1, 3, 16, 16))
    assert report.results[0].input_shape == (1, 3, 16, 16)
    assert [layer.name for layer in report.layers] == ["stem", "down"]
    fallback = padlint.analyze(StemRegisteredLast, 16)        # 4 fails, so 3 is found
    assert fallback.results[0].input_shape == (1, 3, 16, 16)
