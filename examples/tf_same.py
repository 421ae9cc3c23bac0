"""TensorFlow-style 'SAME' padding emulated in PyTorch: the pad is computed from the
input shape at run time, then a stride-2 conv runs with padding=0."""
import math

import torch.nn.functional as F
from torch import nn


def pad_same(x, k: int, s: int):
    ih, iw = x.shape[-2:]
    ph = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
    pw = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


class TFSameNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.refine = nn.Conv2d(8, 8, 3, padding=1, padding_mode="reflect")

    def forward(self, x):
        x = self.conv(pad_same(x, 3, 2))
        return F.max_pool2d(self.refine(x), 3, stride=2, padding=1)
