"""A model file that prints at import and while building: the prints must not reach stdout."""
from torch import nn

print("hello from the model file")


class Printer(nn.Module):
    def __init__(self):
        super().__init__()
        print("building Printer")
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
