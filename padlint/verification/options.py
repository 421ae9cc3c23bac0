"""The verify stage's choices, checked once: the device, the baselines, the images and
the batch size (:func:`verify_options`), and the device a name resolves to."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from padlint.errors import PadlintError
from padlint.verification.baselines import Images, checked_images, load_images
from padlint.verification.choices import BASELINES, DEFAULT_BASELINES, DEVICES


@dataclass(frozen=True)
class VerifyOptions:
    device: str = "auto"
    baselines: tuple[str, ...] = DEFAULT_BASELINES
    images: Images | None = None
    batch_size: int = 8
    steady_memory: bool = False       # the CLI's child process: see steady_allocator()
    probe_maps: bool = False          # keep the probe's mean maps (`padlint report`)


def resolve_device(name: str, where: str = "--device") -> torch.device:
    """``auto`` is CUDA when available, else the CPU; asking for a missing one is an
    error (``where`` names the setting it came from)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        why = ("this torch is built without CUDA" if torch.version.cuda is None
               else "no CUDA GPU is visible")
        raise PadlintError(f"{where} cuda: CUDA is not available ({why}); use cpu, or auto to "
                           "take CUDA only where there is one")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise PadlintError(f"{where} mps: Apple's MPS backend is not available here; use cpu")
    if name not in DEVICES:
        raise PadlintError(f"{where} {name!r} is not a device: use {', '.join(DEVICES[:-1])} or {DEVICES[-1]}")
    return torch.device(name)


def verify_options(device: str = "auto", baselines=None, images=None, batch_size: int = 8,
                   where: str = "device"):
    """Checked :class:`VerifyOptions` (raises PadlintError); ``where``
    names the setting the device came from in an error."""
    resolve_device(device, where)
    if isinstance(baselines, str):
        baselines = [b.strip() for b in baselines.split(",") if b.strip()]
    baselines = tuple(baselines) if baselines is not None else DEFAULT_BASELINES
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise PadlintError(f"unknown baseline {unknown[0]!r}: use {', '.join(BASELINES)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise PadlintError(f"invalid batch size {batch_size!r}: give a positive integer")
    if isinstance(images, (str, os.PathLike)):
        images = load_images(os.fspath(images))
    elif isinstance(images, torch.Tensor):
        images = Images("images", array=checked_images(images.detach().cpu().float().numpy(), "images"))
    elif isinstance(images, np.ndarray):
        images = Images("images", array=checked_images(images, "images"))
    elif images is not None and not isinstance(images, Images):
        raise PadlintError(f"images: a {type(images).__name__} is not a path, array or tensor")
    return VerifyOptions(device, baselines, images, batch_size)
