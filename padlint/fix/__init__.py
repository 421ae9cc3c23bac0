"""``padlint fix``: plans, call rewriting, re-checking and diffs.

This file stays empty, so that importing a module below does not import torch."""
