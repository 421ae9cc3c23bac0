"""A tutorial U-Net whose decoder upsamples with F.interpolate(align_corners=True): with
align_corners=True the upsampled cell j sits at (n-1)/(m-1)*j, not at the skip's 2j+0.5."""
import torch
import torch.nn.functional as F
from torch import nn


def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True),
    )


class UNetAlignCorners(nn.Module):
    def __init__(self):
        super().__init__()
        self.inc = double_conv(3, 16)
        self.down1 = nn.Sequential(nn.MaxPool2d(2), double_conv(16, 32))
        self.down2 = nn.Sequential(nn.MaxPool2d(2), double_conv(32, 64))
        self.up1 = double_conv(64 + 32, 32)
        self.up2 = double_conv(32 + 16, 16)
        self.outc = nn.Conv2d(16, 2, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        u = F.interpolate(x3, scale_factor=2, mode="bilinear", align_corners=True)
        u = self.up1(torch.cat([x2, u], dim=1))
        u = F.interpolate(u, scale_factor=2, mode="bilinear", align_corners=True)
        u = self.up2(torch.cat([x1, u], dim=1))
        return self.outc(u)
