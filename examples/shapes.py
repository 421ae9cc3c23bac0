"""Data for `padlint stats --data examples/shapes.py:batches`: procedurally drawn shapes
(filled squares and discs on a dark, noisy background), made from a fixed seed, so
nothing is downloaded."""
import torch


def draw(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """``n`` RGB images (n, 3, size, size) in [0, 1], each with one bright shape placed
    anywhere, borders included."""
    gen = torch.Generator().manual_seed(seed)
    images = 0.1 * torch.rand(n, 3, size, size, generator=gen)
    rows = torch.arange(size).view(-1, 1).float()
    cols = torch.arange(size).view(1, -1).float()
    for i in range(n):
        r = int(torch.randint(size // 16 + 1, size // 4, (1,), generator=gen))
        cy, cx = (int(v) for v in torch.randint(0, size, (2,), generator=gen))
        if i % 2:
            mask = (rows - cy).abs().le(r) & (cols - cx).abs().le(r)
        else:
            mask = (rows - cy) ** 2 + (cols - cx) ** 2 <= r * r
        colour = 0.5 + 0.5 * torch.rand(3, 1, 1, generator=gen)
        images[i] = torch.where(mask, colour, images[i])
    return images


def batches(n: int = 64, size: int = 64, batch_size: int = 16):
    """An iterable of (images, labels) batches, as a DataLoader gives them."""
    images = draw(n, size)
    labels = torch.arange(n) % 2
    return [(images[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, n, batch_size)]
