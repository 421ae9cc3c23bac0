"""The verify stage: observers, the symmetric-kernel probe, baselines, and the stage itself.

This file stays empty, so that importing a module below does not import torch."""
