"""A 3-D (video) stem in the style of torchvision's r3d_18."""
from torch import nn


class TinyR3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv3d(3, 16, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3))
        self.down = nn.Conv3d(16, 32, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x):
        return self.pool(self.down(self.stem(x).relu())).flatten(1)


PADLINT_TARGETS = [(TinyR3D, "16x112x112")]
