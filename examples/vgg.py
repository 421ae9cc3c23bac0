"""A small VGG: 2x2 max pools are even at multiples of 32 and drop a row at 225.

TinyVGG needs an argument, so it is declared in PADLINT_TARGETS with its input size.
"""
from torch import nn


def stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.MaxPool2d(2))


class TinyVGG(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.features = nn.Sequential(stage(3, width), stage(width, 2 * width),
                                      stage(2 * width, 4 * width))
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(self.features(x)).flatten(1)


PADLINT_TARGETS = [(lambda: TinyVGG(width=8), "3x225x225")]
