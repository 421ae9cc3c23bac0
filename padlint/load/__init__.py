"""Targets to models: files, ``module:attr`` specs and factories, construction sites, and the
syntax-tree pre-filter that passes over files with no model.

This file stays empty, so that importing a module below does not import torch."""
