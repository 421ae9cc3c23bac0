"""A small model with one layer for each rewrite of `padlint fix examples/fixable.py`."""
import torch
from torch import nn


class Fixable(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.shortcut = nn.Conv2d(8, 16, 1, stride=2, bias=False)
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.head = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x):
        x = self.pool(torch.relu(self.stem(x)))
        x = torch.relu(self.down(x)) + self.shortcut(x)
        return self.head(torch.relu(self.up(x)))


PADLINT_TARGETS = [(Fixable, 32)]
