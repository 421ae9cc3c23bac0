"""Independent ground truth for receptive fields (issue 22): the input support of a cell's
gradient on a positive copy of the model (every conv and linear weight 1/fan-in, no
biases, max pools as average pools of the same geometry, normalisation as identity), so
no path cancels and every pixel a cell depends on has a non-zero gradient.

``measure(model, layers, shape)`` runs one forward at ``shape`` and, for each layer asked
for, backpropagates from ``cells`` consecutive output cells around the middle of its map
(each from its own sample of the batch, so their supports stay apart; every channel of
the cell, as a pool sees one channel's field) and returns the support per axis as (lo, hi)
input pixels."""
from __future__ import annotations

import copy
from collections import Counter

import torch
from torch import nn

POOLS = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d}
ADAPTIVE = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
            nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}
# normalisation, and activations, which would clip (ReLU6) or cut the gradient of values
# the positive copy makes large (residual sums grow): identity (a ReLU of a positive value is)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d,
         nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.SiLU, nn.GELU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid,
         nn.Tanh, nn.LeakyReLU, nn.ELU, nn.Mish)


def positive_copy(model: nn.Module) -> nn.Module:
    model = copy.deepcopy(model).eval().double()

    def swap(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            kind = type(child)
            if kind in POOLS:
                if child.dilation not in (1, (1,), (1, 1), (1, 1, 1)):
                    raise ValueError("a dilated max pool has no average-pool twin")
                new = POOLS[kind](child.kernel_size, child.stride, child.padding, child.ceil_mode,
                                  count_include_pad=True)
                setattr(parent, name, new)
            elif kind in ADAPTIVE:
                setattr(parent, name, ADAPTIVE[kind](child.output_size))
            elif isinstance(child, NORMS):
                setattr(parent, name, nn.Identity())
            else:
                swap(child)
    swap(model)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
                fan_in = m.weight[0].numel() if not isinstance(m, nn.modules.conv._ConvTransposeNd) \
                    else m.weight[:, 0].numel()
                m.weight.fill_(1.0 / fan_in)
                if m.bias is not None:
                    m.bias.zero_()
    return model


def measure(model: nn.Module, layers: list[str], shape: tuple[int, ...], cells: int = 2,
            dtype=torch.float64) -> dict[str, list[list[tuple[int, int]]]]:
    """``{layer: [cell 0's (lo, hi) per axis, cell 1's, ...]}`` for the middle cells
    ``j0 = out // 2, j0 + 1, ...`` of each axis (cell ``c`` is ``j0 + c`` on every axis, the last cell of an axis too short for it)."""
    positive = positive_copy(model).to(dtype)
    wanted = set(layers)
    outputs: dict[str, torch.Tensor] = {}
    calls: Counter = Counter()
    names = {m: n for n, m in positive.named_modules()}

    def hook(module, args, out):
        name = names[module]
        calls[name] += 1
        key = name if calls[name] == 1 else f"{name}#{calls[name]}"
        if key in wanted:
            outputs[key] = out[0] if isinstance(out, tuple) else out

    handles = [m.register_forward_hook(hook) for m in positive.modules()]
    order = sorted(wanted)
    batch = cells * len(order)
    x = torch.ones((batch, *shape), dtype=dtype, requires_grad=True)
    try:
        positive(x)
    finally:
        for h in handles:
            h.remove()
    missing = wanted - set(outputs)
    assert not missing, f"no module output for {sorted(missing)}"
    loss = x.new_zeros(())
    for i, name in enumerate(order):
        y = outputs[name]
        for c in range(cells):
            index = tuple(min(n // 2 + c, n - 1) for n in y.shape[2:])   # a short axis: its last cell
            loss = loss + y[(i * cells + c, slice(None), *index)].sum()   # every channel of the cell
    (grad,) = torch.autograd.grad(loss, x)
    support = grad.abs().sum(1) != 0          # over channels: (batch, *spatial)
    result: dict[str, list[list[tuple[int, int]]]] = {}
    nd = len(shape) - 1
    for i, name in enumerate(order):
        per_cell = []
        for c in range(cells):
            s = support[i * cells + c]
            axes = []
            for a in range(nd):
                other = tuple(b for b in range(nd) if b != a)
                hit = s.any(dim=other) if other else s
                where = torch.nonzero(hit).flatten()
                axes.append((int(where.min()), int(where.max())))
            per_cell.append(axes)
        result[name] = per_cell
    return result
