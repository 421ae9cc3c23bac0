"""kornia HardNet/SOSNet-style head: a final 8x8 conv on an 8x8 map (one output cell,
exactly centred). Declared at its real input, 1x32x32."""
from torch import nn


class PatchDescriptor(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.head = nn.Conv2d(64, 128, 8)

    def forward(self, x):
        return self.head(self.features(x)).flatten(1)


PADLINT_TARGETS = [(PatchDescriptor, "1x32x32")]
