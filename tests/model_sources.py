"""Small model files that several test modules write into scratch folders.

``STEM_HEAD``: at input 224, PAD101 (warning) on ``stem`` H and W (line 7, column 21);
PAD105 (info) on ``head`` H and W (line 8, column 21). At 225 ``stem`` is clean and
PAD105 stays. ``{stem}`` and ``{head}`` are appended to lines 7 and 8 (line 7 is 59
characters long, so a comment put two spaces after it starts at column 62)."""

# One conv that uses its padding evenly at every size: no finding.
CLEAN = """\
from torch import nn


class Clean(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return self.conv(x)
"""

# Two models in one file: the commands that take one model refuse it.
TWO = """\
from torch import nn


class A(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return self.c(x)


class B(A):
    pass
"""

STEM_HEAD = """\
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1){stem}
        self.head = nn.Conv2d(8, 8, 2){head}

    def forward(self, x):
        return self.head(self.stem(x))
"""


def stem_head(stem: str = "", head: str = "") -> str:
    return STEM_HEAD.format(stem=stem, head=head)


# Two evenly padded stride-1 convs with a torch.roll (line 13) between them: no static
# finding at all; under --verify PAD201 (warning) on W at the roll, PAD202 (info) only.
ROLLED = """\
import torch
from torch import nn


class Rolled(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        x = self.a(x)
        x = torch.roll(x, 1, dims=3){noqa}
        return self.b(x)
"""
ROLL_LINE = 13


def rolled(noqa: str = "") -> str:
    return ROLLED.format(noqa=noqa)
