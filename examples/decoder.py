"""A decoder that upsamples with ConvTranspose2d(k=3, s=2, p=1, output_padding=1)."""
from torch import nn


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose2d(3, 16, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        self.out = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x):
        return self.out(self.up2(self.up1(x)).relu())


PADLINT_TARGETS = [(Decoder, 28)]
