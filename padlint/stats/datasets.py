"""``--data SPEC``: where ``padlint stats`` gets its samples, as a stream of batches.

SPEC is a ``.pt``/``.npy`` tensor file (N, C, H, W), a folder of images (Pillow, resized
to the input size), or ``module:callable`` / ``path.py:callable`` returning an iterable of
batches (a DataLoader, a generator, a list of tensors or (inputs, labels) pairs).
"""
from __future__ import annotations

import importlib
import itertools
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch

from padlint.errors import PadlintError
from padlint.load.target import import_file
from padlint.stats.patches import batch_tensor
from padlint.verification.baselines import check_images, load_images


@dataclass
class DataSource:
    """A stream of input batches and what is known about it before it runs."""

    label: str                        # how messages name it: '--data imgs.pt'
    batches: Iterator
    first: torch.Tensor               # the first batch's inputs (already in ``batches``)
    total: int | None                 # samples, when known in advance

    @property
    def spatial(self) -> tuple[int, ...]:
        return tuple(self.first.shape[2:])


def _array_batches(data, batch_size: int) -> Iterator[torch.Tensor]:
    for start in range(0, len(data), batch_size):
        yield torch.from_numpy(data[start:start + batch_size])


def _callable(spec: str, label: str):
    file, _, attr = spec.rpartition(":")
    if file.endswith(".py"):
        module = import_file(file)
    else:
        sys.path.insert(0, os.getcwd()) if os.getcwd() not in sys.path else None
        try:
            module = importlib.import_module(file)
        except Exception as err:  # noqa: BLE001 - one line for any import failure
            raise PadlintError(f"{label}: cannot import {file} ({type(err).__name__}: {err})") from None
    obj = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise PadlintError(f"{label}: {file} has no {attr}")
    if callable(obj) and not isinstance(obj, (torch.Tensor, torch.utils.data.DataLoader)):
        try:
            obj = obj()
        except Exception as err:  # noqa: BLE001
            raise PadlintError(f"{label}: calling {attr}() failed ({type(err).__name__}: {err}); "
                               "it must take no argument and return batches") from None
    return obj


def _total(obj) -> int | None:
    dataset = getattr(obj, "dataset", None)
    try:
        return len(dataset) if dataset is not None else None
    except TypeError:
        return None


def open_data(spec, shape: tuple[int, ...] | None, batch_size: int = 8, target: str = "the model",
              label: str | None = None, sized: bool = False) -> DataSource:
    """Open ``spec`` (a string SPEC, or batches/a tensor/an array given in Python) for a
    model that takes ``shape`` (N, C, *spatial). The spatial size matters only for image
    folders, which are resized to it when ``sized`` (an explicit input size) or when their
    images differ in size; otherwise they keep their own. Raises PadlintError naming the
    data and what to do."""
    label = label or (f"--data {spec}" if isinstance(spec, (str, os.PathLike)) else "data")
    total = None
    if isinstance(spec, (str, os.PathLike)):
        spec = os.fspath(spec)
        if os.path.exists(spec):
            images = load_images(spec, flag="--data")
            if images.files is not None:
                if shape is None:
                    raise PadlintError(f"{label}: {target} takes no image input padlint can size")
                sizes = {img.size for img in images.files}
                if not sized and len(sizes) == 1 and len(shape) == 4:
                    w, h = sizes.pop()
                    shape = tuple(shape[:2]) + (h, w)
                data = check_images(images, shape, target)
            else:
                assert images.array is not None, "Images holds an array or files"
                data = images.array
            return _opened(label, _array_batches(data, batch_size), len(data), shape, target)
        if ":" not in spec:
            raise PadlintError(f"{label}: no such file or folder; give a .pt/.npy tensor, a folder "
                               "of images, or module:callable returning batches")
        obj = _callable(spec, label)
    else:
        obj = spec
    if isinstance(obj, (torch.Tensor,)) or hasattr(obj, "__array_interface__"):
        t = torch.as_tensor(obj)
        return _opened(label, iter(torch.split(t, batch_size)), len(t), shape, target)
    if not isinstance(obj, Iterable):
        raise PadlintError(f"{label}: gave a {type(obj).__name__}, which is not an iterable of "
                           "batches; return a DataLoader, a list or a generator of tensors")
    total = _total(obj)
    return _opened(label, iter(obj), total, shape, target)


def _opened(label: str, batches: Iterator, total: int | None, shape, target: str) -> DataSource:
    try:
        first_item = next(batches)
    except StopIteration:
        raise PadlintError(f"{label}: holds no batch") from None
    except PadlintError:
        raise
    except Exception as err:  # noqa: BLE001 - the user's loader failed
        raise PadlintError(f"{label}: reading the first batch failed ({type(err).__name__}: "
                           f"{err})") from None
    first = batch_tensor(first_item, label)
    if not first.is_floating_point() and first.dtype != torch.uint8:
        raise PadlintError(f"{label}: dtype {str(first.dtype).replace('torch.', '')} is not an "
                           "image type; give float values (or uint8 0-255)")
    if shape is not None:
        if first.dim() != len(shape):
            raise PadlintError(f"{label}: batches of shape {tuple(first.shape)} have {first.dim()} "
                               f"axes, but {target} takes {len(shape)} (N, C, …)")
        if first.shape[1] != shape[1]:
            raise PadlintError(f"{label}: {first.shape[1]} channel(s), but {target} takes {shape[1]}")
    return DataSource(label, itertools.chain([first_item], batches), first, total)
