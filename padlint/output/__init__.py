"""The report stage: text, concise, json, sarif, github and heatmaps. It never runs a model.

This file stays empty, so that importing a module below does not import torch."""
