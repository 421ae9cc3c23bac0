"""``padlint report``: gathering the facts, laying out the page, its figures.

This file stays empty, so that importing a module below does not import torch."""
