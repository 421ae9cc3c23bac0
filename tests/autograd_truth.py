"""Independent ground truth (SCIENCE.md §5): which input cells a window op touches,
from the gradient of a ones-weight, single-channel copy of its geometry."""
import torch
import torch.nn.functional as F


def conv_axis_truth(n: int, k: int, s: int, d: int, p_b: int, p_e: int) -> dict:
    """out, ignored_input, ignored_input_end, unused_pad_end of one axis, by autograd."""
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, k, dtype=torch.float64)
    y = F.conv1d(F.pad(x, (p_b, p_e)), w, stride=s, dilation=d)
    y.sum().backward()
    touched = (x.grad[0, 0] != 0).tolist()
    out = y.shape[-1]
    trailing = len(touched) - (max(i for i, t in enumerate(touched) if t) + 1) if any(touched) else n
    last_read = (out - 1) * s + d * (k - 1)
    padded = n + p_b + p_e
    return {"out": out, "ignored_input": touched.count(False), "ignored_input_end": trailing,
            "unused_pad_end": min(max(padded - 1 - last_read, 0), p_e)}
