"""The data handed between stages, torch-free: sources, layers, traces, findings, reports, sizes.

This file stays empty, so that importing a module below does not import torch."""
