"""SCIENCE.md's arithmetic on plain numbers and numpy arrays; nothing here imports torch
or the rest of padlint.

This file stays empty, so that importing a module below does not import torch."""
