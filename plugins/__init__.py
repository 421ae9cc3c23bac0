"""Integrations with other tools, installed as ``padlint._plugins``."""
