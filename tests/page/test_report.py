"""`padlint report`: the page's content, read back from the HTML (the browser test is
tests/page/test_report_browser.py; bad input and options are in tests/page/test_report_cli.py)."""
import base64
import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib import colormaps  # noqa: E402
from PIL import Image  # noqa: E402

import padlint  # noqa: E402
from cli_helpers import write  # noqa: E402
from padlint.page.layout import SECTIONS  # noqa: E402

RESNET = "examples/resnet.py"
MODEL = """import torch.nn as nn


class Net(nn.Sequential):
    def __init__(self):
        super().__init__({})
"""
WHITE = tuple(colormaps["RdBu_r"](0.5, bytes=True)[:3])


class Parsed(HTMLParser):
    """Every element's tag and attributes, in document order, and the page's text."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def ids(self):
        return [a["id"] for _, a in self.elements if "id" in a]

    def images(self):
        return [a for tag, a in self.elements if tag == "img"]

    def image(self, alt):
        found = [a for a in self.images() if a.get("alt") == alt]
        assert found, f"no image {alt!r}; have {[a.get('alt') for a in self.images()][:20]}"
        return decode(found[0]["src"])


def decode(src) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:40]
    img = Image.open(io.BytesIO(base64.b64decode(src[len(prefix):])))
    img.load()
    return np.asarray(img.convert("RGB"))


def section(html, ident):
    start = html.index(f'<section id="{ident}">')
    return html[start:html.index("</section>", start)]


@pytest.fixture(scope="module")
def uneven():
    """examples/resnet.py at 224 (uneven: its stride-2 layers flagged) with its nearest clean size, 225."""
    return padlint.html_report(RESNET)


@pytest.fixture(scope="module")
def page(uneven):
    return Parsed(uneven)


def test_every_section_is_there_in_order(page):
    ids = page.ids()
    assert [i for i in ids if i in dict(SECTIONS)] == [ident for ident, _ in SECTIONS]
    nav = [a["href"] for tag, a in page.elements if tag == "a" and a.get("href", "").startswith("#")][:len(SECTIONS)]
    assert nav == [f"#{ident}" for ident, _ in SECTIONS]


def test_header_counts_and_clean_sizes(uneven):
    summary = section(uneven, "summary")
    assert "<code>examples/resnet.py:TinyResNet</code>" in summary
    assert "1x3x224x224" in summary
    assert "the nearest clean sizes are 217 and 225" in summary
    static = padlint.analyze(RESNET).findings
    errors = sum(f.severity == "error" for f in static)
    warnings = sum(f.severity == "warning" for f in static) + 1     # and PAD203 (the blind-spot maps)
    assert f'<span class="badge error">{errors} error</span>' in summary
    assert f'<span class="badge warning">{warnings} warning</span>' in summary
    assert "8 of 8 PAD101/PAD102 findings confirmed" in summary
    assert "<dt>weights</dt><dd>the model's initial weights</dd>" in summary


def test_layer_table_rows_geometry_and_links(uneven, page):
    rows = [(a["id"], a["class"]) for tag, a in page.elements if tag == "tr" and "id" in a]
    assert [r[0] for r in rows] == [f"layer-{i}" for i in range(7)]
    classes = dict(rows)
    assert classes["layer-0"].startswith("flagged warning")      # stem: PAD101
    assert classes["layer-4"].startswith("flagged error")        # layer2.downsample.0: PAD102
    table = section(uneven, "layers")
    stem = table[table.index('id="layer-0"'):table.index('id="layer-1"')]
    # H and W in one row: in 224 -> 112, k 7, s 2, p 3, d 1, one unused end padding row,
    # nothing dropped
    assert "<td>H,W</td>" in stem
    cells = re.findall(r'<td class="num">([^<]*)</td>', stem)
    assert cells[:7] == ["224 → 112", "7", "2", "3", "1", "1", ""]
    shortcut = table[table.index('id="layer-4"'):table.index('id="layer-5"')]
    assert re.findall(r'<td class="num">([^<]*)</td>', shortcut)[:7] == [
        "56 → 28", "1", "2", "0", "1", "", "1"]
    assert 'href="#finding-' in stem and "PAD101 H,W" in stem
    assert "PAD102 H,W" in shortcut


def test_every_link_resolves(page):
    ids = set(page.ids())
    hrefs = [a["href"] for tag, a in page.elements if tag == "a"]
    assert hrefs and all(h.startswith("#") for h in hrefs), [h for h in hrefs if not h.startswith("#")]
    assert {h[1:] for h in hrefs} <= ids, {h[1:] for h in hrefs} - ids


def test_no_external_url_or_resource(uneven, page):
    assert not re.search(r"(?i)\b(?:https?|ftp|wss?)://", uneven)
    assert not re.search(r"(?i)(?:src|href)\s*=\s*[\"']?//", uneven)
    assert "url(" not in uneven and "@import" not in uneven and "<script" not in uneven
    assert "<link" not in uneven and "<iframe" not in uneven
    assert all(a["src"].startswith("data:image/png;base64,") for a in page.images())
    for a in page.images():       # nor do the PNGs (matplotlib's default metadata names its site)
        png = base64.b64decode(a["src"].split(",", 1)[1])
        assert b"http" not in png and b"Software" not in png
    assert "default-src &#x27;none&#x27;" in uneven or "default-src 'none'" in uneven


def test_every_image_decodes_at_its_declared_aspect(page):
    images = page.images()
    assert len(images) > 40
    for a in images:
        pixels = decode(a["src"])
        h, w = pixels.shape[:2]
        assert a.get("alt"), a
        assert abs(int(a["height"]) / int(a["width"]) - h / w) < 0.1, (a["alt"], h, w)


def test_maps_are_drawn_one_pixel_per_cell(page):
    assert page.image("stem: symmetric-kernel probe at 224x224").shape[:2] == (112, 112)
    assert page.image("stem: symmetric-kernel probe at 225x225").shape[:2] == (113, 113)
    assert page.image("layer2.conv2: constant input at 224x224").shape[:2] == (28, 28)


def test_lopsided_part_is_white_at_the_clean_size_and_coloured_at_the_uneven_one(page):
    """The science the page exists to show: under the symmetric-kernel probe every map is
    mirror-symmetric at 225, and not at 224, where the stride-2 layers drop their end padding."""
    for name in ("stem", "pool", "layer1.conv1", "layer2.downsample.0", "layer2.conv1", "layer2.conv2"):
        clean = page.image(f"{name}, lopsided part: symmetric-kernel probe at 225x225")
        assert (clean == WHITE).all(), name
        skewed = page.image(f"{name}, lopsided part: symmetric-kernel probe at 224x224")
        off = np.argwhere((skewed != WHITE).any(axis=2))
        assert len(off) > 0, name
    # pool (k=3 s=2 p=1) at 112 reads its top padding row but not its bottom one: the
    # lopsided part lives in the first and last rows and columns, not in the interior
    pool = page.image("pool, lopsided part: symmetric-kernel probe at 224x224")
    inner = pool[2:-2, 2:-2]
    assert (inner == WHITE).all()
    assert (pool[0] != WHITE).any() and (pool[-1] != WHITE).any()


def test_probe_captions_and_origins(uneven):
    overview = section(uneven, "overview")
    pairs = overview[:overview.index('<h3 id="maps-')]
    assert "Side by side: 224x224 and the nearest clean size, 225x225" in pairs
    assert pairs.count("asymmetry H 0 W 0") >= 7          # every layer, probe at 225
    stem = pairs[pairs.index("<code>stem</code>"):pairs.index("<code>pool</code>")]
    assert "origin H,W" in stem
    assert re.search(r"asymmetry H 0\.\d+ W 0\.\d+", stem)
    grids = re.findall(r'<h3 id="maps-(\w+)">', overview)
    assert grids == ["probe", "constant", "random"]


def test_findings_carry_their_rule_docs(uneven):
    from padlint.engine.registry import all_rules
    findings = section(uneven, "findings")
    static = padlint.analyze(RESNET).findings
    for f in static:
        assert re.sub(r"\s+", " ", f.message).replace("'", "&#x27;") in findings, f.message
    rules = all_rules()
    for code in {f.rule for f in static}:
        group = findings[findings.index(f'id="rule-{code}"'):]
        what = " ".join(str(rules[code].docs["what"]).split())
        assert "<dt>What</dt><dd>" + what.replace("'", "&#x27;").replace('"', "&quot;") in group
        assert "<dt>Why it matters</dt>" in group
    ids = re.findall(r'id="finding-(\d+)"', findings)
    assert ids == [str(i) for i in sorted(map(int, ids))] or len(ids) == len(set(ids))
    assert findings.count('class="fix"') == len(ids)
    assert "verification: confirmed" in findings


def test_clean_input_is_compared_with_the_nearest_uneven_size():
    html = padlint.html_report(RESNET, input_size=225)
    summary = section(html, "summary")
    assert "input 225x225 is clean" in summary
    overview = section(html, "overview")
    assert "Side by side: 225x225 and the nearest size at which the padding is uneven, 226x226" in overview
    assert '<span class="badge clean">clean</span>' in overview
    sizes = section(html, "sizes")
    assert 'class="s clean here"' in sizes and 'class="s uneven other"' in sizes
    assert "H: 9 of 65 sizes clean; 225 is clean; the nearest other clean sizes: 217 and 233" in sizes


def test_detection_backbone_is_compared_at_the_clean_size_itself():
    """The model's transform resizes every image to 320x320, so the comparison runs the
    backbone at 321x321 directly, and says so."""
    html = padlint.html_report("torchvision.models.detection:fasterrcnn_mobilenet_v3_large_320_fpn",
                               blind_spots=False)
    overview = section(html, "overview")
    assert "Side by side: 320x320 and the nearest clean size, 321x321" in overview
    assert ("Note: backbone run at 321x321 directly: the model&#x27;s own transform gives it "
            "320x320.") in overview
    parsed = Parsed(html)
    clean = parsed.image("backbone.body.0.0, lopsided part: symmetric-kernel probe at 321x321")
    assert (clean == WHITE).all()
    assert (parsed.image("backbone.body.0.0, lopsided part: symmetric-kernel probe at 320x320")
            != WHITE).any()


def test_blind_spot_maps_beside_the_clean_size_and_under_each_padding_mode(uneven, page):
    """TinyResNet at 224 under symmetric kernels: its 12x12 map is lopsided with the
    bottom row and right column blind (PAD203, badge linked to the finding), the map at
    225 mirror-symmetric with no blind position; the zeros swap is the model as built,
    and circular padding, which wraps the last row into the top padding, is the one
    remedy that leaves no position blind."""
    part = section(uneven, "blindspots")
    assert ("A square:1 stimulus of value 1 on a 0.5 background, placed at each of 12 x 12 "
            "positions") in part
    assert "<code>layer2.relu#2 (32x28x28)</code>" in part
    assert "Kernels: the symmetric-kernel probe's flip-averaged weights" in part
    rows = dict(re.findall(r"<li><b>([^<]+)</b> \((?:\d+x\d+)\): ([^<]+)</li>", part))
    assert list(rows) == ["as built", "clean size 225x225", "zeros padding", "reflect padding",
                          "replicate padding", "circular padding"]
    assert rows["as built"] == ("asymmetry H 1.3, W 1.4; 23 of 144 positions blind "
                                "(below 25 % of the median 0.0487)")
    assert rows["zeros padding"] == rows["as built"]
    assert rows["circular padding"].endswith("; no blind position (below 25 % of the median 0.0522)")
    h, w = re.fullmatch(r"asymmetry H (\S+), W (\S+); no blind position .*", rows["clean size 225x225"]).groups()
    assert float(h) < 1e-5 and float(w) < 1e-5
    badge = re.search(r'<a class="badge warning" href="#finding-(\d+)"[^>]*>PAD203</a>', part)
    assert badge, part[:2000]
    finding = section(uneven, "findings")
    target = finding[finding.index(f'id="finding-{badge.group(1)}"'):]
    assert target.startswith('id="finding-') and "a square:1 stimulus at the bottom grid row (input row 223)" in target
    assert page.image("blind-spot maps as built beside the nearest clean size").shape[:2] == (360, 720)
    assert page.image("blind-spot maps under each padding mode").shape[:2] == (360, 1360)


def test_no_blindspots_leaves_the_maps_out_and_says_so():
    from padlint.page.gather import gather
    visual = gather(RESNET, input_size=64, compare=False, blind_spots=False)
    assert visual.result.blindspots is None
    assert not [f for f in visual.result.findings if f.rule == "PAD203"]
    part = section(padlint.page.layout.render_html(visual), "blindspots")
    assert 'No blind-spot maps: left out (--no-blindspots).' in part and "<img" not in part


def test_size_strip_marks_match_the_sweep(uneven):
    sizes = section(uneven, "sizes")
    sweep = padlint.sweep(RESNET, sizes=range(192, 257))
    for axis in ("H", "W"):
        strip = sizes[sizes.index(f'data-axis="{axis}"'):]
        strip = strip[:strip.index("</div>")]
        marks = re.findall(r'<span class="s (\w+)[^"]*" title="(\d+):', strip)
        assert [int(n) for _, n in marks] == list(range(192, 257))
        assert [int(n) for kind, n in marks if kind == "clean"] == sweep.axis(axis).clean
    assert "H: 8 of 65 sizes clean; nearest clean to 224: 217 and 225" in sizes


def test_kernels_need_weights_or_data(uneven):
    assert "Pass <code>--weights CKPT</code>" in section(uneven, "kernels")


def test_kernels_and_patches_with_data():
    html = padlint.html_report(RESNET, data="examples/shapes.py:batches", limit=8)
    kernels = section(html, "kernels")
    cards = re.findall(r'<div class="card[^"]*"><div><code>([^<]+)</code>', kernels)
    assert cards == ["stem", "layer1.conv1", "layer1.conv2", "layer2.conv1", "layer2.conv2"]
    assert "(1 1×1 ones passed over)" in kernels
    assert kernels.count("mean input patch</figcaption>") == 5
    assert "data: examples/shapes.py:batches (8 samples)" in kernels
    parsed = Parsed(html)
    patch = parsed.image("stem mean input patch")
    assert patch.shape[:2] == (7, 7)
    assert "Every layer, your data (8 samples), at 64x64" in section(html, "overview")


def test_large_maps_are_downsampled_and_say_so(tmp_path):
    path = write(tmp_path, "wide.py", MODEL.format("nn.Conv2d(3, 4, 3, padding=1), "
                                                   "nn.Conv2d(4, 4, 3, stride=2, padding=1)"))
    html = padlint.html_report(path, input_size=300)
    assert "300x300, shown at 128×128" in html
    assert Parsed(html).image("0: constant input at 300x300").shape[:2] == (128, 128)
    assert Parsed(html).image("1: constant input at 300x300").shape[:2] == (128, 128)


def test_one_and_three_dimensional_models(tmp_path):
    one = write(tmp_path, "one.py", MODEL.format("nn.Conv1d(2, 4, 3, stride=2, padding=1), nn.ReLU()"))
    html = padlint.html_report(one, input_size="2x64")
    assert "PAD101" in section(html, "findings")
    strip = Parsed(html).image("0: constant input at 64")
    assert strip.shape[:2] == (1, 32)
    three = write(tmp_path, "three.py", MODEL.format("nn.Conv3d(1, 2, 3, stride=2, padding=1)"))
    html = padlint.html_report(three, input_size="1x8x16x16")
    assert "mean over D" in html
    assert Parsed(html).image("0: constant input at 8x16x16").shape[:2] == (8, 8)


def test_the_same_model_gives_the_same_page(uneven):
    again = padlint.html_report(RESNET)
    made = re.compile(r"<dt>made</dt><dd>[^<]*</dd>")
    assert made.sub("", again) == made.sub("", uneven)


def test_text_is_escaped(tmp_path):
    path = write(tmp_path, "a&b<c/net.py", MODEL.format("nn.Conv2d(3, 4, 3, stride=2, padding=1)"))
    html = padlint.html_report(path)
    assert "a&amp;b&lt;c" in html and "a&b<c" not in html


def test_coverage_section_draws_the_deepest_maps_padding_share():
    """convnext_tiny at 224: the 7x7 last stage is PAD108's map; its 49 cells and the
    224x224 input's use (shown at 128), with the numbers PAD108 reports."""
    import torchvision
    html = padlint.html_report(torchvision.models.convnext_tiny(), input_size=224, baselines=["constant"],
                               blind_spots=False)
    part = section(html, "coverage")
    assert "<code>features.7.2.block.0</code> (Conv2d k=7 s=1 p=3)" in part
    assert "padding share of each of its 7x7 cells" in part
    assert "49 of 49 cells above one half; mean 85%" in part
    assert "use of each input pixel (224x224)" in part and "corner pixel 0.028x the centre; shown at 128×128" in part
    assert re.search(r'<a class="badge info" href="#finding-\d+">PAD108</a> fires on it', part)
    assert part.count("<img ") == 3                  # the scale and two maps
