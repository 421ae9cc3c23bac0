"""The size sweep: which input sizes are clean, on the fast (length program) and exact paths.

This file stays empty, so that importing a module below does not import torch."""
