"""The ``simplified`` baseline (issue 21): padlint's own synthetic images, a 0.5 background
with small bright (1.0) and dark (0.0) squares, a diamond and a cross, some on every
border and corner; a deterministic, mirror-closed batch, so its mean input is exactly
mirror-symmetric. Then ``check --verify --baselines simplified`` (JSON) and ``report``.
"""
import itertools
import json

import numpy as np
import pytest
import torch

from cli_helpers import assert_one_error_line, write
from padlint.errors import PadlintError
from padlint.verification.baselines import baseline_batches, simplified_images
from padlint.verification.choices import BASELINES, DEFAULT_BASELINES
from padlint.verification.options import verify_options

SHAPES = [(1, 3, 32, 32), (2, 3, 224, 224), (1, 1, 16), (1, 2, 8, 8, 8), (1, 3, 4, 4),
          (1, 3, 1, 7), (1, 1, 1, 1), (1, 1, 2), (1, 1, 2, 2, 2), (1, 3, 33, 20)]


def picture(image: torch.Tensor) -> list[str]:
    """A 2-D image as rows of '.' (0.5), '#' (1.0) and 'o' (0.0)."""
    chars = {0.5: ".", 1.0: "#", 0.0: "o"}
    return ["".join(chars[v] for v in row) for row in image.tolist()]


# --------------------------------------------------------------------------- the images

def test_the_8x8_batch_is_exactly_these_eight_images():
    x = simplified_images((1, 3, 8, 8))
    assert x.shape == (8, 3, 8, 8) and x.dtype == torch.float32
    assert torch.equal(x, x[:, :1].expand_as(x))            # every channel the same
    corner = ["#.......",
              "..o.....",
              ".ooo....",
              "..o.....",
              "........",
              "........",
              "........",
              "........"]
    top = ["...oo...",      # a dark square on the middle of the top edge,
           "........",      # a bright cross three quarters of the way down
           "........",
           "........",
           "...##...",
           "..####..",
           "...##...",
           "........"]
    left = ["".join(col) for col in zip(*top)]              # the same along W
    expected = [corner, corner[::-1], [r[::-1] for r in corner], [r[::-1] for r in corner[::-1]],
                top, top[::-1], left, [r[::-1] for r in left]]
    assert [picture(im) for im in x[:, 0]] == expected


def test_224x224_shapes_are_a_sixteenth_of_the_side():
    x = simplified_images((1, 3, 224, 224))[:, 0]
    assert x.shape == (8, 224, 224)
    corner = x[0]
    assert torch.equal(corner[:14, :14], torch.ones(14, 14))       # 224 // 16 = 14
    assert corner[14, 0] == corner[0, 14] == 0.5
    # the dark diamond: radius 7 around (56, 56), 2 * 7 * 7 + 2 * 7 + 1 = 113 cells
    assert int((corner == 0.0).sum()) == 113
    assert corner[56, 49] == corner[56, 63] == corner[49, 56] == corner[63, 56] == 0.0
    assert corner[56, 48] == corner[48, 56] == 0.5
    top = x[4]
    dark = (top == 0.0).nonzero()
    assert (dark[:, 0].min(), dark[:, 0].max(), dark[:, 1].min(), dark[:, 1].max()) == (0, 13, 105, 118)
    # the bright cross around row 167, columns 111-112, arms of 7 cells: rows 160-174 by
    # 2 columns, and columns 104-119 of row 167
    assert int((top == 1.0).sum()) == 15 * 2 + 16 - 2
    # background: 4 corner images with 196 + 113 shape cells, 4 edge images with 196 + 44
    assert int((x != 0.5).sum()) == 4 * (196 + 113) + 4 * (196 + 44)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_values_shape_dtype_and_channels(shape):
    x = simplified_images(shape)
    assert x.dtype == torch.float32
    assert x.shape[1:] == shape[1:]
    assert set(x.unique().tolist()) <= {0.0, 0.5, 1.0}
    assert torch.equal(x, x[:, :1].expand_as(x))


@pytest.mark.parametrize("shape, count", [((1, 3, 32, 32), 8), ((1, 3, 224, 225), 8),
                                          ((1, 1, 16), 4), ((1, 1, 64), 4),
                                          ((1, 2, 8, 8, 8), 14), ((1, 1, 16, 20, 24), 14),
                                          ((1, 3, 1, 7), 5), ((1, 1, 1, 1), 2), ((1, 1, 1), 2)])
def test_batch_size(shape, count):
    assert len(simplified_images(shape)) == count


@pytest.mark.parametrize("size, share", [(16, 1 - (4 * 6 + 4 * 10) / (8 * 256)),
                                         (224, 1 - (4 * 309 + 4 * 240) / (8 * 224 * 224))])
def test_background_share(size, share):
    x = simplified_images((1, 3, size, size))
    assert float((x == 0.5).double().mean()) == pytest.approx(share, abs=1e-12)
    assert share > 0.96


@pytest.mark.parametrize("shape", [s for s in SHAPES if min(s[2:]) >= 4], ids=str)
def test_shapes_touch_every_corner_and_every_border_and_the_interior(shape):
    x = simplified_images(shape)[:, 0]
    spatial = x.shape[1:]
    marked = x != 0.5
    for corner in itertools.product(*[(0, n - 1) for n in spatial]):
        assert marked[(slice(None),) + corner].any(), corner
    for axis, n in enumerate(spatial):
        for edge in (0, n - 1):
            face = marked.select(axis + 1, edge)
            assert face.any(), (axis, edge)
            # the middle of the face too, not only its corners
            middle = tuple(m // 2 for i, m in enumerate(spatial) if i != axis)
            assert face[(slice(None),) + middle].any(), (axis, edge)
    size = [max(1, n // 16) for n in spatial]
    inner = marked[(slice(None),) + tuple(slice(s, n - s) for s, n in zip(size, spatial))]
    assert inner.any()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_mirror_closed_and_the_mean_equals_its_flips_exactly(shape):
    x = simplified_images(shape)
    nd = x.dim() - 2
    images = {im.numpy().tobytes() for im in x}
    assert len(images) == len(x)                                   # no duplicates
    for axes in itertools.chain.from_iterable(itertools.combinations(range(2, 2 + nd), k)
                                              for k in range(1, nd + 1)):
        assert {im.numpy().tobytes() for im in x.flip(axes)} == images, axes
        mean = x.mean(0)
        assert torch.equal(mean, mean.flip([a - 1 for a in axes])), axes


def test_deterministic_and_ignores_the_batch_dimension():
    a = simplified_images((1, 3, 40, 24))
    b = simplified_images((5, 3, 40, 24))
    torch.manual_seed(123)
    c = simplified_images((1, 3, 40, 24))
    assert torch.equal(a, b) and torch.equal(a, c)


def test_baseline_batches_yields_it_in_batches():
    shape = (1, 3, 32, 32)
    batches = list(baseline_batches("simplified", shape, 3))
    assert [len(b) for b in batches] == [3, 3, 2]
    assert torch.equal(torch.cat(batches), simplified_images(shape))
    assert [len(b) for b in baseline_batches("simplified", shape, 8)] == [8]


def test_simplified_is_a_choice_on_request_only():
    assert "simplified" in BASELINES and "simplified" not in DEFAULT_BASELINES
    assert verify_options("cpu", "simplified").baselines == ("simplified",)


def test_unknown_baseline_errors_list_simplified():
    with pytest.raises(PadlintError) as info:
        verify_options("cpu", "constant,noise")
    assert str(info.value) == "unknown baseline 'noise': use constant, random, simplified, zeros"
    with pytest.raises(PadlintError) as info:
        list(baseline_batches("noise", (1, 3, 8, 8), 8))
    assert str(info.value) == "unknown baseline 'noise': use constant, random, simplified, zeros"


# --------------------------------------------------------------------------- the verify stage

# A max pool with -inf padding is mirror-equivariant and exact on values in {0, 0.5, 1}:
# its mean map on the mirror-closed batch is exactly symmetric.
SYMMETRIC = """\
from torch import nn


class Pool(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x):
        return self.pool(x)
"""

# Zero padding on the bottom and right only: an asymmetric model.
LOPSIDED = """\
from torch import nn


class Lopsided(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((0, 1, 0, 1))
        self.pool = nn.AvgPool2d(2, stride=1)

    def forward(self, x):
        return self.pool(self.pad(x))
"""


def verify_json(cli, cwd, *args):
    code, out, err = cli(cwd, "check", *args, "--timeout", "0", "--format", "json", "--device", "cpu")
    return code, (json.loads(out) if out else None), err


def expected_asymmetry(model, shape) -> dict:
    """The flip asymmetry of the mean map, computed here from the images and the model."""
    with torch.no_grad():
        m = model(simplified_images(shape).double()).mean(dim=(0, 1)).numpy()
    out = {}
    for i, axis in enumerate("HW"):
        spread = np.linalg.norm(m - m.mean())
        out[axis] = float(f"{np.linalg.norm(m - np.flip(m, i)) / spread:.4g}")
    return out


def test_check_verify_json_carries_the_simplified_maps(tmp_path, cli):
    write(tmp_path, "pool.py", SYMMETRIC)
    code, doc, err = verify_json(cli, tmp_path, "pool.py", "-s", "16", "--baselines", "simplified,random")
    assert (code, err) == (0, "")
    v = doc["results"][0]["verification"]
    assert v["baselines"] == ["simplified", "random"]
    assert list(v["maps"]) == ["pool"]
    simplified = v["maps"]["pool"]["simplified"]
    assert set(simplified) == {"magnitude", "extent", "cover", "asymmetry", "scale"}
    # the input is mirror-symmetric on average, so a mirror-equivariant model's map is too
    assert simplified["asymmetry"] == {"H": 0.0, "W": 0.0}
    # the random batch is not mirror-closed: the same model's map is lopsided on it
    assert min(v["maps"]["pool"]["random"]["asymmetry"].values()) > 0.1


def test_an_asymmetric_model_is_asymmetric_on_the_simplified_baseline(tmp_path, cli):
    write(tmp_path, "lopsided.py", LOPSIDED)
    code, doc, err = verify_json(cli, tmp_path, "lopsided.py", "-s", "16", "--baselines", "simplified")
    assert err == "" and code in (0, 1)
    v = doc["results"][0]["verification"]
    assert v["baselines"] == ["simplified"]
    (layer,) = [name for name, per in v["maps"].items() if "simplified" in per and name.startswith("pool")]
    got = v["maps"][layer]["simplified"]["asymmetry"]
    model = torch.nn.Sequential(torch.nn.ZeroPad2d((0, 1, 0, 1)), torch.nn.AvgPool2d(2, stride=1))
    assert got == expected_asymmetry(model, (1, 3, 16, 16))
    assert got["H"] > 0.1 and got["W"] > 0.1


def test_unknown_baseline_on_the_command_line_lists_simplified(tmp_path, cli):
    write(tmp_path, "pool.py", SYMMETRIC)
    code, out, err = cli(tmp_path, "check", "pool.py", "-s", "16", "--timeout", "0", "--baselines", "bogus")
    assert_one_error_line(code, out, err, "unknown baseline 'bogus': use constant, random, simplified, zeros")


def test_config_accepts_simplified(tmp_path, cli):
    write(tmp_path, "pool.py", SYMMETRIC)
    write(tmp_path, "pyproject.toml", '[tool.padlint.verify]\nenabled = true\ndevice = "cpu"\n'
                                      'baselines = ["simplified"]\n')
    code, out, err = cli(tmp_path, "check", "pool.py", "-s", "16", "--timeout", "0", "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["results"][0]["verification"]["baselines"] == ["simplified"]


def test_report_renders_the_simplified_maps(tmp_path, cli):
    pytest.importorskip("matplotlib")
    write(tmp_path, "pool.py", SYMMETRIC)
    code, out, err = cli(tmp_path, "report", "pool.py", "-s", "16", "--device", "cpu",
                         "--baselines", "simplified", "-o", "out.html")
    assert (code, err) == (0, ""), err
    html = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert '<h3 id="maps-simplified">Every layer, simplified input, at 16x16</h3>' in html
    assert 'id="maps-constant"' not in html and 'id="maps-random"' not in html
