"""A 2x2 stride-2 patch stem: at an odd size its last input row and column reach no window."""
from torch import nn


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 2, stride=2)
        self.conv = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        return self.conv(self.patch(x).relu())
