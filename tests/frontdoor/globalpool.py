"""A global pool written as AvgPool2d with a kernel larger than its input and ceil_mode
(transformers' EfficientNet pooler: AvgPool2d(1280, ceil_mode=True) on a 7x7 map)."""
from torch import nn


class GlobalPoolNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.pool = nn.AvgPool2d(1280, ceil_mode=True)

    def forward(self, x):
        return self.pool(self.conv(x)).flatten(1)
