"""`padlint report` opened in a real browser: headless Chromium (Debian's `chromium`,
which .ci/run installs), driven by Playwright without its own browser download.

Skips, saying why, only where there is no Chromium (or no Playwright). Set
PADLINT_CHROMIUM to use another Chromium binary."""
import io
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("matplotlib")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: "
                               "pip install -e '.[test]'")

import padlint  # noqa: E402
from padlint.page.layout import SECTIONS  # noqa: E402

# What Chromium needs to start as root in a container without a display or a network:
# no sandbox, no GPU, and none of its own background connections.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-domain-reliability", "--no-pings"]


def chromium() -> str | None:
    wanted = os.environ.get("PADLINT_CHROMIUM")
    if wanted:
        return wanted
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)


@pytest.fixture(scope="module")
def browser():
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium; or set "
                    "PADLINT_CHROMIUM to a Chromium binary)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The shipped example with data, so that every section has pictures."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    padlint.html_report("examples/resnet.py", str(path), data="examples/shapes.py:batches", limit=8)
    return path


@pytest.fixture(scope="module")
def opened(browser, report):
    """The page loaded, with every request the browser made (and every failed one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests, failed = [], []
    context.on("request", lambda r: requests.append(r.url))
    context.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(report.as_uri(), wait_until="load")
    yield page, requests, failed
    context.close()


def test_screenshot_is_not_blank(opened, tmp_path):
    from PIL import Image
    page, _, _ = opened
    shot = page.screenshot(full_page=True)
    (tmp_path / "report.png").write_bytes(shot)
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    height, width = pixels.shape[:2]
    assert width == 1280 and height > 3000, (width, height)     # every section laid out
    colours = {tuple(c) for c in pixels[::7, ::7].reshape(-1, 3)}
    assert len(colours) > 200, len(colours)
    # the maps' reds and blues are on screen, not only text on a plain background
    red = ((pixels[..., 0] > 150) & (pixels[..., 2] < 110)).sum()
    blue = ((pixels[..., 2] > 150) & (pixels[..., 0] < 110)).sum()
    assert red > 500 and blue > 500, (red, blue)


def test_every_section_is_rendered(opened):
    page, _, _ = opened
    for ident, _ in SECTIONS:
        box = page.locator(f"section#{ident}").bounding_box()
        assert box is not None and box["height"] > 40 and box["width"] > 600, (ident, box)
        assert page.locator(f"section#{ident} h2").first.is_visible()
    assert page.locator("#layers tr[id^=layer-]").count() == 7
    assert page.locator("#findings .finding").count() >= 10
    assert page.locator("#sizes .strip").count() == 2
    assert page.locator("#kernels .card").count() == 5


def test_every_image_decodes(opened, report):
    page, _, _ = opened
    sizes = page.evaluate("""() => Promise.all([...document.images].map(img =>
        img.decode().then(() => [img.naturalWidth, img.naturalHeight, img.alt],
                          err => [0, 0, img.alt + ': ' + err])))""")
    assert len(sizes) == report.read_text().count("<img ")
    assert len(sizes) > 60
    broken = [alt for w, h, alt in sizes if not (w > 0 and h > 0)]
    assert not broken, broken
    shown = page.evaluate("() => [...document.images].filter(i => i.width > 0).length")
    assert shown == len(sizes)


def test_no_network_request(opened, report):
    _, requests, failed = opened
    assert requests == [report.as_uri()], requests
    assert failed == []


def test_a_layer_badge_leads_to_its_finding(opened):
    page, _, _ = opened
    badge = page.locator("#layer-4 a.badge.error").first        # layer2.downsample.0: PAD102
    target = badge.get_attribute("href")
    badge.click()
    assert page.evaluate("() => location.hash") == target
    finding = page.locator(target)
    assert "never reads the last 1 input" in finding.inner_text()
    assert finding.is_visible()
    page.evaluate("() => window.scrollTo(0, 0)")
