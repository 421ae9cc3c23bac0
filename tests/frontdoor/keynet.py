"""kornia KeyNet-style: the model takes 1 channel and expands it to 10 in a hand-written
block (fixed filters and their products) before the first nn.Conv2d, which takes 10."""
import torch
import torch.nn.functional as F
from torch import nn


class HandcraftedBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("sobel", torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]))

    def forward(self, x):
        kx = self.sobel.view(1, 1, 3, 3)
        ky = self.sobel.t().reshape(1, 1, 3, 3)
        dx = F.conv2d(x, kx, padding=1)
        dy = F.conv2d(x, ky, padding=1)
        feats = [x, dx, dy, dx * dx, dy * dy, dx * dy, dx + dy, dx - dy, dx.abs(), dy.abs()]
        return torch.cat(feats, dim=1)


class KeyNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.handcrafted = HandcraftedBlock()
        self.learner = nn.Sequential(nn.Conv2d(10, 8, 5, padding=2), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))

    def forward(self, x):
        return self.learner(self.handcrafted(x))
