"""A forward with a shape-dependent Python branch: torch.fx cannot trace it, so padlint
falls back to module hooks on a meta-device run and says so (PAD901)."""
from torch import nn


class CropNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        if x.shape[-1] % 2:          # drop an odd last column
            x = x[..., :-1]
        return self.pool(self.conv(x))
