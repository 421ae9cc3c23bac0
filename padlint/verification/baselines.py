"""Baseline inputs (SCIENCE.md §3), the user's own images, and the real-weights run that
keeps one aggregated feature map per spatial op.

``constant`` and ``zeros`` are identical across a batch, so one sample gives their mean
map; ``random`` is a seeded normal-noise batch; ``simplified`` is padlint's own small,
mirror-closed batch of synthetic shapes (:func:`simplified_images`); ``--images`` are the
user's inputs.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from padlint.errors import PadlintError
from padlint.ir.shapes import shape_str
from padlint.verification.choices import BASELINES
from padlint.verification.observe import MapObserver

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
SEED = 0


@dataclass
class Images:
    """The user's inputs: one (N, C, *spatial) float array, or decoded image files
    (H, W, C uint8 arrays, resized to the analysed size when used)."""

    path: str
    array: np.ndarray | None = None
    files: list | None = None
    flag: str = "--images"

    def __len__(self) -> int:
        if self.array is not None:
            return len(self.array)
        assert self.files is not None, "Images holds an array or files"
        return len(self.files)

    @property
    def label(self) -> str:
        """How errors name them: the flag and path, or 'images' for an array passed in."""
        return f"{self.flag} {self.path}" if self.path != "images" else "images"


def load_images(path: str, flag: str = "--images") -> Images:
    """Read ``--images PATH``: a ``.pt``/``.npy`` tensor of shape (N, C, H, W) (or
    (N, C, L) / (N, C, D, H, W)), or a folder of image files (needs Pillow). Raises
    :class:`PadlintError` with one line naming the file and what to do."""
    if not os.path.exists(path):
        raise PadlintError(f"{flag} {path}: no such file or folder")
    if os.path.isdir(path):
        return _load_folder(path, flag)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".pt", ".pth", ".npy"):
        raise PadlintError(f"{flag} {path}: unknown kind of file; give a .pt or .npy tensor of "
                           "shape (N, C, H, W), or a folder of images")
    try:
        if suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        else:
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same one line
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
        if "allow_pickle" in text:
            raise PadlintError(f"{flag} {path}: it is not a numeric .npy array (numpy would have "
                               "to unpickle it, which padlint never does: that could run code); "
                               "save a numeric array with numpy.save") from None
        if "Weights only load failed" in text:
            raise PadlintError(f"{flag} {path}: it holds pickled Python objects, which padlint "
                               "never loads (loading them could run code); save a plain tensor or "
                               "numeric array") from None
        reason = text.splitlines()[0] if text else type(err).__name__
        raise PadlintError(f"{flag} {path}: cannot read it ({reason[:160]}); give a tensor saved "
                           f"with {'numpy.save' if suffix == '.npy' else 'torch.save'}") from None
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu()
        if data.dtype == torch.bfloat16:
            data = data.float()
        data = data.numpy()
    if not isinstance(data, np.ndarray):
        raise PadlintError(f"{flag} {path}: holds a {type(data).__name__}, not a tensor; save "
                           "one tensor of shape (N, C, H, W)")
    return Images(path, array=checked_images(data, f"{flag} {path}"), flag=flag)


def checked_images(data: np.ndarray, label: str) -> np.ndarray:
    """``data`` as float32, or a PadlintError starting with ``label`` ('--images x.npy')."""
    if data.dtype == np.uint8:
        data = data.astype(np.float32) / 255.0
    elif data.dtype.kind != "f":
        raise PadlintError(f"{label}: dtype {data.dtype} is not an image type; give "
                           "float values (or uint8 0-255)")
    if not 3 <= data.ndim <= 5:
        raise PadlintError(f"{label}: shape {shape_str(data.shape)} is not (N, C, H, W) "
                           "(nor (N, C, L) or (N, C, D, H, W))")
    if data.shape[0] == 0 or 0 in data.shape:
        raise PadlintError(f"{label}: shape {shape_str(data.shape)} holds no image")
    if not np.isfinite(data).all():
        raise PadlintError(f"{label}: holds NaN or infinite values")
    return np.ascontiguousarray(data, dtype=np.float32)


def _load_folder(path: str, flag: str = "--images") -> Images:
    names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_SUFFIXES))
    if not names:
        raise PadlintError(f"{flag} {path}: the folder has no image file "
                           f"({', '.join(IMAGE_SUFFIXES)})")
    try:
        from PIL import Image  # optional dependency: imported where it is used
    except ImportError:
        raise PadlintError(f"{flag} {path}: reading a folder of images needs Pillow; "
                           "`pip install pillow`, or give a .pt/.npy tensor") from None
    files = []
    for name in names:
        full = os.path.join(path, name)
        try:
            with Image.open(full) as img:
                img.load()
                files.append(img.copy())
        except Exception as err:  # noqa: BLE001
            raise PadlintError(f"{flag} {full}: cannot read it as an image ({err})") from None
    return Images(path, files=files, flag=flag)


def check_images(images: Images, shape: tuple[int, ...], target: str) -> np.ndarray:
    """The user's images as an (N, C, *spatial) float32 array fitting the analysed input
    ``shape``: files are converted and resized; a tensor must already fit."""
    channels, spatial = shape[1], tuple(shape[2:])
    if images.files is not None:
        mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
        if mode is None or len(spatial) != 2:
            raise PadlintError(f"{images.label}: {target} takes {channels}-channel "
                               f"{len(spatial)}-D input, which image files cannot give; save a tensor")
        arrays = [np.asarray(img.convert(mode).resize(spatial[::-1]), dtype=np.float32) / 255.0
                  for img in images.files]
        return np.stack([a.reshape(spatial + (channels,)).transpose(2, 0, 1) for a in arrays])
    data = images.array
    assert data is not None, "Images holds an array or files"
    if data.ndim != len(shape):
        raise PadlintError(f"{images.label}: shape {shape_str(data.shape)} has {data.ndim} "
                           f"axes, but {target} takes {len(shape)} ({shape_str(('N',) + shape[1:])})")
    if data.shape[1] != channels:
        got = f"{data.shape[1]} channel" + ("" if data.shape[1] == 1 else "s")
        raise PadlintError(f"{images.label}: {got}, but {target} takes "
                           f"{channels}; give (N, {channels}, {', '.join(map(str, spatial))})")
    if tuple(data.shape[2:]) != spatial:
        raise PadlintError(f"{images.label}: images are {shape_str(data.shape[2:])}, but "
                           f"{target} is analysed at {shape_str(spatial)}; pass --input-size "
                           f"{shape_str(data.shape[2:])} or resize them")
    return data


BACKGROUND, BRIGHT, DARK = 0.5, 1.0, 0.0


def _centred(n: int, size: int) -> tuple[int, int]:
    """The interval [lo, hi) of about ``size`` cells centred on an axis of ``n``: its own
    mirror image (``size + 1`` cells where the parities of ``n`` and ``size`` differ)."""
    lo = max(0, (n - size) // 2)
    return lo, n - lo


def _box(spatial: tuple[int, ...], bounds) -> np.ndarray:
    """A boolean mask of the box whose [lo, hi) per axis is ``bounds`` (clipped to the map)."""
    mask = np.zeros(spatial, dtype=bool)
    mask[tuple(slice(max(0, lo), min(n, hi)) for n, (lo, hi) in zip(spatial, bounds))] = True
    return mask


def _diamond(spatial: tuple[int, ...], centre, radius: int) -> np.ndarray:
    """The cells within L1 distance ``radius`` of ``centre``: a diamond (a disc in L1)."""
    grids = np.meshgrid(*(np.arange(n) for n in spatial), indexing="ij")
    return sum(np.abs(g - c) for g, c in zip(grids, centre)) <= radius


def _cross(spatial: tuple[int, ...], core, arm: int) -> np.ndarray:
    """A plus sign: on every axis j, the ``core`` box stretched by ``arm`` cells each way on
    axis j alone."""
    mask = np.zeros(spatial, dtype=bool)
    for j in range(len(spatial)):
        mask |= _box(spatial, [(lo - arm, hi + arm) if i == j else (lo, hi)
                               for i, (lo, hi) in enumerate(core)])
    return mask


def _seed_images(spatial: tuple[int, ...]) -> list[np.ndarray]:
    """The images before mirror closure, on a ``BACKGROUND`` map. Shapes are about
    ``max(1, n // 16)`` cells on an axis of ``n``.

    - one *corner* image: a bright square in the first corner, a dark diamond in the
      interior a quarter of the way in on every axis;
    - per axis k, one *border* image: a dark square on the first edge of axis k, centred
      (mirror-symmetric) on the other axes, and a bright cross three quarters of the way
      along axis k, centred on the other axes.

    The diamond's radius and the cross's arms are half a shape size (at least 1 cell), so
    each spans about one shape size. Their flips put a square in every corner and on the
    middle of every edge."""
    sizes = [max(1, n // 16) for n in spatial]
    seeds = []
    corner = np.full(spatial, BACKGROUND, dtype=np.float32)
    corner[_diamond(spatial, [n // 4 for n in spatial], max(1, max(sizes) // 2))] = DARK
    corner[_box(spatial, [(0, s) for s in sizes])] = BRIGHT
    seeds.append(corner)
    for k in range(len(spatial)):
        image = np.full(spatial, BACKGROUND, dtype=np.float32)
        core = [(p, p + 1) if i == k else _centred(n, 1)
                for i, (n, p) in enumerate(zip(spatial, [n - 1 - n // 4 for n in spatial]))]
        image[_cross(spatial, core, max(1, sizes[k] // 2))] = BRIGHT
        image[_box(spatial, [(0, s) if i == k else _centred(n, s)
                             for i, (n, s) in enumerate(zip(spatial, sizes))])] = DARK
        seeds.append(image)
    return seeds


def simplified_images(shape: tuple[int, ...]) -> torch.Tensor:
    """The ``simplified`` baseline for an input of ``shape`` (N, C, *spatial; N is ignored):
    padlint's own synthetic images, a float32 (M, C, *spatial) batch. The background is
    0.5 in every channel; on it lie a few small high-contrast shapes, 1.0 or 0.0 in every
    channel: squares, a diamond (an L1 disc) and a cross, each about ``max(1, n // 16)``
    cells on an axis of ``n``, some touching every corner and the middle of every edge,
    some in the interior. Works for 1-D, 2-D and 3-D inputs and tiny sizes; 8 images in
    2-D, 4 in 1-D, 14 in 3-D (fewer where flips coincide, as on tiny sizes).

    The batch is deterministic (no randomness) and *mirror-closed*: for every image, its
    flips along every subset of the spatial axes are in the batch too (each distinct image
    once). The batch mean is therefore exactly mirror-symmetric (the values are multiples
    of 0.5, whose sums float32 holds exactly in any order), so any asymmetry in a mean
    feature map on this baseline comes from the model, not from the input."""
    channels, spatial = shape[1], tuple(int(n) for n in shape[2:])
    images: list[np.ndarray] = []
    seen: set[bytes] = set()
    nd = len(spatial)
    for seed in _seed_images(spatial):
        for flips in range(1 << nd):
            axes = tuple(i for i in range(nd) if flips >> i & 1)
            image = np.ascontiguousarray(np.flip(seed, axes) if axes else seed)
            if image.tobytes() not in seen:
                seen.add(image.tobytes())
                images.append(image)
    return torch.from_numpy(np.repeat(np.stack(images)[:, None], channels, axis=1))


def baseline_batches(name: str, shape: tuple[int, ...], batch_size: int) -> Iterator[torch.Tensor]:
    one = (1,) + tuple(shape[1:])
    if name == "constant":
        yield torch.ones(one)
    elif name == "zeros":
        yield torch.zeros(one)
    elif name == "random":
        gen = torch.Generator().manual_seed(SEED)
        yield torch.randn((batch_size,) + tuple(shape[1:]), generator=gen)
    elif name == "simplified":
        images = simplified_images(shape)
        for start in range(0, len(images), batch_size):
            yield images[start:start + batch_size]
    else:
        raise PadlintError(f"unknown baseline {name!r}: use {', '.join(BASELINES)}")


def image_batches(images: Images, shape: tuple[int, ...], batch_size: int,
                  target: str) -> Iterator[torch.Tensor]:
    data = check_images(images, shape, target)
    for start in range(0, len(data), batch_size):
        yield torch.from_numpy(data[start:start + batch_size])


def run_maps(model: nn.Module, batches, device: torch.device, dtype: torch.dtype, nd: int,
             prefer_file: str | None = None):
    """Run the unmodified model on every batch; return (node name -> mean map as numpy,
    node name -> its first :class:`~padlint.verification.observe.Node`)."""
    observer = MapObserver(model, nd, prefer_file)
    with torch.no_grad(), observer:
        for batch in batches:
            observer.start_batch()
            x = batch.to(device=device, dtype=dtype)
            observer.watch(x)
            model(x)
            del x
    return observer.maps(), observer.order
