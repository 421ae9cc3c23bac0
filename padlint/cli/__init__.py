"""The command line: main and dispatch, one module per command, child-process isolation.

This file stays empty, so that importing a module below does not import torch."""
