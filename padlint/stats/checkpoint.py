"""``--weights``: read a checkpoint without running any of its code, and load it into a model.

A ``.pt``/``.pth``/``.bin``/``.ckpt`` file goes through ``torch.load(weights_only=True)``
only: a pickle that needs code execution is refused, never run. A ``.safetensors`` file
goes through the ``safetensors`` package when it is installed. The state dict may be the
whole file or sit under a usual key (``state_dict``, ``model``, ``model_state_dict``,
``ema`` …); DataParallel's ``module.`` prefix is dropped when the model has none.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import torch
from torch import nn

from padlint.errors import PadlintError, first_line

# Where training scripts usually put the model's state dict inside a checkpoint dict.
STATE_KEYS = ("state_dict", "model_state_dict", "model", "state_dict_ema", "model_ema", "ema",
              "net", "network", "weights", "params")
SHOWN = 5                                   # names listed in a one-line message


@dataclass
class Loaded:
    """What loading a checkpoint into a model did."""

    path: str
    loaded: int                              # tensors copied into the model
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    key: str | None = None                   # the checkpoint key the state dict sat under

    @property
    def label(self) -> str:
        return os.path.basename(self.path) + (f"[{self.key}]" if self.key else "")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def read_checkpoint(path: str) -> tuple[dict[str, torch.Tensor], str | None]:
    """The state dict in ``path`` and the key it sat under (None: the whole file)."""
    flag = f"--weights {path}"
    if os.path.isdir(path):
        raise PadlintError(f"{flag}: is a folder; give the checkpoint file in it (a .pt/.pth "
                           "state_dict or a .safetensors file)")
    if not os.path.isfile(path):
        raise PadlintError(f"{flag}: no such file")
    if path.endswith(".safetensors"):
        try:
            from safetensors.torch import load_file  # optional dependency: imported where it is used
        except ImportError:
            raise PadlintError(f"{flag}: reading .safetensors needs the safetensors package; "
                               "`pip install safetensors`") from None
        try:
            return load_file(path, device="cpu"), None
        except Exception as err:  # noqa: BLE001 - one line for any unreadable file
            raise PadlintError(f"{flag}: cannot read it as safetensors ({first_line(err)[:160]})") from None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001
        text = first_line(err)[:160]
        full = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
        code = re.search(r"GLOBAL (\S+)", full) or re.search(r"[Uu]nsupported global:? (\S+)", full)
        if code:                      # torch's weights-only unpickler met a Python object to call
            named = code.group(1)
            raise PadlintError(
                f"{flag}: refused: loading it would run pickled Python code ({named}), which padlint "
                "never does; save the weights alone with torch.save(model.state_dict(), path) "
                "or as .safetensors") from None
        detail = re.search(r"WeightsUnpickler error:\s*(.+)", full)
        reason = detail.group(1).strip() if detail else text
        raise PadlintError(f"{flag}: cannot read it (not a file saved with torch.save: "
                           f"{type(err).__name__} {reason[:120]}); give a state_dict saved with "
                           "torch.save, or a .safetensors file") from None
    return _state_dict(data, flag)


def _is_state(obj) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _state_dict(data, flag: str) -> tuple[dict[str, torch.Tensor], str | None]:
    if _is_state(data):
        return data, None
    if isinstance(data, dict):
        for key in STATE_KEYS:
            if _is_state(data.get(key)):
                return data[key], key
        keys = ", ".join(map(repr, list(data)[:8]))
        raise PadlintError(f"{flag}: a dict with no state_dict in it (keys: {keys}); save "
                           "model.state_dict(), or a dict holding it under 'state_dict'")
    raise PadlintError(f"{flag}: holds a {type(data).__name__}, not a state_dict; save "
                       "model.state_dict()")


def _strip_prefix(state: dict, model_keys: set) -> dict:
    for prefix in ("module.", "_orig_mod.", "model."):
        if all(k.startswith(prefix) for k in state) and not any(k.startswith(prefix) for k in model_keys):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return state


def load_weights(model: nn.Module, path: str, target: str, strict: bool = True) -> Loaded:
    """Copy the checkpoint at ``path`` into ``model``. Shape mismatches always fail;
    missing or unexpected keys fail when ``strict``, and are listed by name either way."""
    state, key = read_checkpoint(path)
    own = model.state_dict()
    state = _strip_prefix(state, set(own))
    flag = f"--weights {path}"
    mismatched = [f"{k} {tuple(v.shape)} vs {tuple(own[k].shape)}" for k, v in state.items()
                  if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if mismatched:
        raise PadlintError(f"{flag}: shapes differ from {target}'s in {len(mismatched)} tensor(s) "
                           f"(checkpoint vs model): {_names(mismatched)}; is it the same architecture?")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({_names(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({_names(unexpected)})")
        raise PadlintError(f"{flag}: does not match {target}: {'; '.join(parts)}; pass "
                           "--no-strict to load the tensors that match")
    matched = {k: v for k, v in state.items() if k in own}
    if not matched:
        raise PadlintError(f"{flag}: none of its {len(state)} tensors is a tensor of {target} "
                           f"(it has {_names(list(state))}); is it the same architecture?")
    model.load_state_dict(matched, strict=False)
    return Loaded(path, len(matched), missing, unexpected, key)
