"""Small nn.Module classes that tests in several folders analyse."""
from torch import nn


class StemRegisteredLast(nn.Module):
    """The stride-2 conv is registered before the stem, though the stem runs first."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.stem = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return self.down(self.stem(x))
