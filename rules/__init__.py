"""The core rule pack, installed as ``padlint._rules`` and registered through the
``padlint.rules`` entry point like any plugin pack.

Each rule is a pair: ``PAD105-even-kernel-shift.yaml`` (code, name, severity, scope,
message, fix, docs, examples) beside ``even_kernel_shift.py`` (its ``check``). Modules
whose name starts with ``_`` hold helpers that several rules share.
"""
