"""The rule engine: rules from YAML, packs from the ``padlint.rules`` entry point, selection,
running and ``# noqa``.

This file stays empty, so that importing a module below does not import torch."""
