"""Regenerate the README's pictures of `padlint report`: the page's top, its side-by-side
view, its coverage and its blind-spot sections, as PNGs, rendered by headless Chromium (as
tests/page/test_report_browser.py does).

    python scripts/report_screenshots.py [TARGET]     # default torchvision.models:resnet18
"""
import os
import sys
import tempfile

from playwright.sync_api import sync_playwright

import padlint

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "docs")
sys.path.insert(0, os.path.join(HERE, "..", "tests", "page"))
from test_report_browser import ARGS, chromium  # noqa: E402


def main(target: str = "torchvision.models:resnet18") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page_path = os.path.join(tmp, "report.html")
        padlint.html_report(target, page_path)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto("file://" + page_path, wait_until="load")
            page.screenshot(path=os.path.join(DOCS, "report-top.png"),
                            clip={"x": 0, "y": 0, "width": 1280, "height": 1100})
            box = page.locator("#overview").bounding_box()
            page.screenshot(path=os.path.join(DOCS, "report-maps.png"), full_page=True,
                            clip={"x": 0, "y": box["y"], "width": 1280, "height": 1500})
            section = page.locator("#coverage")
            section.scroll_into_view_if_needed()
            section.screenshot(path=os.path.join(DOCS, "report-coverage.png"))
            section = page.locator("#blindspots")
            section.scroll_into_view_if_needed()
            section.screenshot(path=os.path.join(DOCS, "report-blindspots.png"))
            browser.close()
    print("wrote docs/report-top.png, docs/report-maps.png, docs/report-coverage.png and "
          "docs/report-blindspots.png")


if __name__ == "__main__":
    main(*sys.argv[1:])
