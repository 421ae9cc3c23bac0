"""The page's look: its stylesheet, and the small HTML pieces every section uses (escaped
text, badges, images)."""
from __future__ import annotations

import html
import re
from collections import Counter

from padlint.ir.severity import WORST_FIRST

TILE = 120                     # CSS pixels across a map tile


SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.I)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1280px;margin:0 auto;padding:0 24px 48px}
header.top{background:#1d2330;color:#fff;padding:18px 24px}
header.top h1{margin:0;font-size:20px;font-weight:600}
header.top .sub{opacity:.75;font-size:13px}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #dde1e7;padding:8px 24px;z-index:2}
nav a{margin-right:18px;color:#2456c7;text-decoration:none;font-weight:500}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;margin:18px 0;padding:14px 18px}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:15px;margin:16px 0 8px}
.note{color:#5b6474;font-size:13px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;text-decoration:none;color:#fff}
.badge.error{background:#c62828}.badge.warning{background:#c77700}.badge.info{background:#1f6fb2}
.badge.clean{background:#2e7d32}.badge.uneven{background:#c77700}.badge.origin{background:#7b1fa2}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.facts dt{color:#5b6474}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e8ebef;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600;font-size:13px}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.flagged td{background:#fff4e0}tr.flagged.error td{background:#fde8e8}tr.flagged.info td{background:#eef5fc}
tr.axis-first td{border-top:1px solid #cfd5de}
.grid{display:flex;flex-wrap:wrap;gap:10px}
img.figure{max-width:100%;height:auto;display:block}
figure.tile{margin:0;width:TILEpx;font-size:11px;line-height:1.3}
figure.tile img{display:block;width:TILEpx;image-rendering:pixelated;border:1px solid #ccd2db;padding:2px;box-sizing:content-box;background:#fff}
figure.tile.flagged img{border:2px solid #e08a00;padding:1px}
figure.tile.origin img{border:2px dashed #7b1fa2;padding:1px}
figure.tile figcaption{overflow-wrap:anywhere}
table.pairs td{border:none;padding:4px 6px}
table.pairs td.name{font-size:12px;max-width:220px;overflow-wrap:anywhere}
table.pairs th{font-size:12px}
.bar img{display:block;max-width:520px}
.strip{display:flex;flex-wrap:nowrap;overflow-x:auto;padding-bottom:4px}
.strip .s{flex:0 0 auto;width:15px;text-align:center;font-size:9px;color:#5b6474}
.strip .s i{display:block;height:22px;margin:0 1px;border-radius:2px}
.strip .s.clean i{background:#43a047}.strip .s.uneven i{background:#f0a030}.strip .s.invalid i{background:#c5cad3}
.strip .s.here i{outline:3px solid #1d2330;outline-offset:-1px}
.strip .s.other i{outline:3px dashed #7b1fa2;outline-offset:-1px}
.legend span{margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
.rule{border-top:1px solid #e8ebef;padding-top:6px;margin-top:12px}
.rule dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
.rule dt{font-weight:600;color:#5b6474}.rule dd{margin:0}
.finding{margin:8px 0 8px 12px;padding:6px 10px;border-left:4px solid #ccd2db;background:#fafbfc}
.finding.error{border-color:#c62828}.finding.warning{border-color:#c77700}.finding.info{border-color:#1f6fb2}
.finding:target{background:#fff8d6}
.finding .fix{color:#2e5d32}
.kernels .tile{width:auto}
.kernels figure.tile img{width:72px}
.kernels .card{border:1px solid #e3e7ed;border-radius:6px;padding:8px;background:#fbfcfd}
.kernels .card.uneven{border-color:#f0a030}
.kernels .pics{display:flex;gap:8px}
#coverage .card img{display:block;image-rendering:pixelated;margin:6px 0}
""".replace("TILEpx", f"{TILE}px")


def esc(text) -> str:
    """Escaped text; a URL in it loses its scheme, so that the page names none."""
    return html.escape(SCHEME.sub("", str(text)))


def badge(kind: str, text: str, href: str | None = None, title: str | None = None) -> str:
    attrs = f' title="{esc(title)}"' if title else ""
    if href:
        return f'<a class="badge {kind}" href="{href}"{attrs}>{esc(text)}</a>'
    return f'<span class="badge {kind}"{attrs}>{esc(text)}</span>'


def counts_html(findings) -> str:
    c = Counter(f.severity for f in findings)
    shown = [badge(s, f"{c[s]} {s}") for s in WORST_FIRST if c[s]]
    return " ".join(shown) or badge("clean", "no findings")


def img(uri: str, alt: str, aspect: float, title: str | None = None) -> str:
    height = max(6, round(TILE * aspect))
    extra = f' title="{esc(title)}"' if title else ""
    return f'<img src="{uri}" alt="{esc(alt)}" width="{TILE}" height="{height}"{extra}>'


def aspect(m) -> float:
    shape = m.shape[-2:] if m.ndim >= 2 else (1, m.shape[0])
    if m.ndim == 1:
        return 1 / 8
    return shape[0] / shape[1]


def counts_text(findings) -> str:
    c = Counter(f.severity for f in findings)
    parts = [f"{c[s]} {s}" for s in WORST_FIRST if c[s]]
    return esc(", ".join(parts) if parts else "no findings")
