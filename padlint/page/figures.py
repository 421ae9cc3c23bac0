"""The pictures of ``padlint report``, as PNG data URIs (matplotlib, the ``report`` extra).

Every map and matrix is drawn on one diverging colour scale: each cell's deviation from
its map's median, divided by the largest deviation in its group (a map alone, or the
same layer at two input sizes), so -1 is the deepest blue, 0 white, +1 the deepest red.
Maps are drawn one pixel per cell (the page scales them up without smoothing); sides
longer than :data:`MAX_CELLS` are reduced by block means first. Shares in [0, 1] (the
coverage section: padding share per cell, the input's use) are drawn on a sequential
scale, :data:`SHARE_CMAP`, 0 the darkest.
"""
from __future__ import annotations

import base64
import importlib
import io

import numpy as np

from padlint.errors import PadlintError
from padlint.geometry.measures import centred, downsample

CMAP = "RdBu_r"
SHARE_CMAP = "viridis"
NO_METADATA = {"Software": None}   # matplotlib's default names its web site in every PNG
MAX_CELLS = 128              # the largest side of a drawn map, in cells
RESPONSE_CUT = 3.0           # blind-spot maps are drawn up to this many times their largest median


def require_matplotlib() -> None:
    """PadlintError naming the extra when matplotlib is missing."""
    try:
        importlib.import_module("matplotlib.figure")
    except ImportError as err:
        raise PadlintError(f"padlint report needs matplotlib ({err}); install the report extra: "
                           "pip install 'padlint[report]'") from None


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, from its IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def shown(m: np.ndarray, limit: int = MAX_CELLS) -> tuple[np.ndarray, str | None]:
    """``m`` as a 2-D array of at most ``limit`` cells a side, and a note on what was
    done to it: 3-D maps are averaged over their first axis, 1-D ones become one row."""
    m = np.asarray(m, dtype=np.float64)
    notes = ["mean over D"] if m.ndim == 3 else []
    small = downsample(m, limit)
    if max(small.shape) < max(m.shape[-2:]):
        notes.append(f"shown at {small.shape[-1]}×{small.shape[0]}" if small.shape[0] > 1
                     else f"shown at {small.shape[-1]}")
    return small, "; ".join(notes) or None


def _png(values: np.ndarray, share: bool = False) -> bytes:
    """One PNG pixel per cell of ``values`` (in [-1, 1]) on the shared colour scale, or of a
    share (in [0, 1]) on the sequential one."""
    from matplotlib import colormaps  # optional dependency: imported where it is used
    if share:
        rgba = colormaps[SHARE_CMAP](np.clip(values, 0, 1), bytes=True)
    else:
        cmap = colormaps[CMAP]
        values = np.clip(values, -1, 1)
        values[np.abs(values) < 1 / cmap.N] = 0.0      # below one colour step: the median's white
        rgba = cmap((values + 1) / 2, bytes=True)
    from matplotlib.image import imsave  # optional dependency: imported where it is used
    buf = io.BytesIO()
    # matplotlib documents a None value as "leave this key out"; its stubs allow only str.
    imsave(buf, rgba, format="png", metadata=NO_METADATA)  # type: ignore[arg-type]
    return buf.getvalue()


def tiles(maps: list[np.ndarray]) -> list[tuple[str, str | None]]:
    """Data URIs of a group of maps drawn on one shared scale, and each one's note."""
    small = [shown(m) for m in maps]
    return [(data_uri(_png(v)), note) for v, (_, note) in zip(centred([s for s, _ in small]), small)]


def lopsided(m: np.ndarray) -> np.ndarray:
    """The part of a map that mirroring every axis at once flips in sign, ``(M - flip M) / 2``:
    zero exactly where the map is symmetric (so at a clean size in the symmetric-kernel probe)."""
    m = np.asarray(m, dtype=np.float64)
    return (m - np.flip(m)) / 2


def lopsided_tiles(maps: list[np.ndarray], tolerance: float) -> list[tuple[str, str | None, float]]:
    """Data URIs of the lopsided parts of a group of maps, each scaled to its own largest
    value so that any real asymmetry shows at full contrast; a part no larger than
    ``tolerance`` of its map's own largest deviation from the median is float noise and
    drawn white. Also returns each part's size relative to its map's deviation (0 when white)."""
    out = []
    for m in maps:
        part = lopsided(m)
        dev = float(np.abs(m - np.median(m)).max()) if m.size else 0.0
        peak = float(np.abs(part).max()) if part.size else 0.0
        small, note = shown(part)
        if dev == 0 or peak <= tolerance * dev:
            out.append((data_uri(_png(np.zeros_like(small))), note, 0.0))
        else:
            out.append((data_uri(_png(small / peak)), note, peak / dev))
    return out


def tile(m: np.ndarray) -> tuple[str, str | None]:
    return tiles([m])[0]


def share_tile(m: np.ndarray) -> tuple[str, str | None]:
    """A map of shares in [0, 1] on the sequential scale, and its note."""
    small, note = shown(m)
    return data_uri(_png(small, share=True)), note


def colour_bar(label: str, share: bool = False) -> str:
    """The scale every tile shares (or the shares' scale), as a horizontal bar with its label."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency: imported where it is used
    from matplotlib.colorbar import ColorbarBase  # optional dependency: imported where it is used
    from matplotlib.colors import Normalize  # optional dependency: imported where it is used
    from matplotlib.figure import Figure  # optional dependency: imported where it is used
    fig = Figure(figsize=(5.2, 0.9), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.55, 0.92, 0.3))
    bar = ColorbarBase(ax, cmap=SHARE_CMAP if share else CMAP,
                       norm=Normalize(0, 1) if share else Normalize(-1, 1), orientation="horizontal",
                       ticks=[0, 0.25, 0.5, 0.75, 1] if share else [-1, -0.5, 0, 0.5, 1])
    bar.ax.tick_params(labelsize=8)
    bar.set_label(label, fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata=NO_METADATA)
    return data_uri(buf.getvalue())


def response_figure(maps: list[tuple[str, np.ndarray, str]]) -> bytes:
    """Blind-spot response maps side by side as one PNG: (title, response, caption) each,
    on one sequential scale from 0 (no response: blind) up to the largest response, or to
    3x the largest median where a few positions (a corner under replicate padding) would
    make every other map dark; the colour bar then shows the cut as an arrow."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency: imported where it is used
    from matplotlib.figure import Figure  # optional dependency: imported where it is used
    shown_maps = [(t, np.atleast_2d(np.asarray(r, dtype=np.float64)), c) for t, r, c in maps]
    while any(r.ndim > 2 for _, r, _ in shown_maps):
        shown_maps = [(t, r.mean(axis=0) if r.ndim > 2 else r, c) for t, r, c in shown_maps]
    top = max((float(r.max()) for _, r, _ in shown_maps if r.size), default=1.0) or 1.0
    medians = [float(np.median(r[r > 0])) for _, r, _ in shown_maps if (r > 0).any()]
    cut = min(top, RESPONSE_CUT * max(medians)) if medians else top
    fig = Figure(figsize=(3.2 * len(shown_maps) + 0.8, 3.6))
    FigureCanvasAgg(fig)
    for i, (title, r, caption) in enumerate(shown_maps):
        ax = fig.add_subplot(1, len(shown_maps), i + 1)
        image = ax.imshow(r, cmap=SHARE_CMAP, vmin=0.0, vmax=cut, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(caption, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=fig.axes, shrink=0.8, label="response (0: blind)",
                 extend="max" if cut < top else "neither")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata=NO_METADATA)  # type: ignore[arg-type]
    return buf.getvalue()
