"""A small U-Net: strided 3x3 convs down, 2x2 transposed convs up, skips concatenated.

A stride-2 3x3 conv (padding 1) centres output cell j on input cell 2j; a 2x2 stride-2
transposed conv spreads it over 2j and 2j+1. So every upsampled map sits half a cell of
its own grid off the skip it is concatenated with (PAD107)."""
import torch
from torch import nn


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, channels=3, classes=2, width=16):
        super().__init__()
        self.enc1, self.enc2 = block(channels, width), block(width, 2 * width)
        self.down1 = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1)
        self.mid = block(2 * width, 2 * width)
        self.up2 = nn.ConvTranspose2d(2 * width, 2 * width, 2, stride=2)
        self.dec2 = block(4 * width, width)
        self.up1 = nn.ConvTranspose2d(width, width, 2, stride=2)
        self.dec1 = block(2 * width, width)
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(self.down1(s1))
        y = self.mid(self.down2(s2))
        y = self.dec2(torch.cat([s2, self.up2(y)], 1))
        y = self.dec1(torch.cat([s1, self.up1(y)], 1))
        return self.head(y)


PADLINT_TARGETS = [(UNet, 64)]
