"""``nn.Module`` to :class:`padlint.ir.trace.Trace` on the meta device: the op table, the
recorder and its listeners (length program, alignment), the FX front end and adapters.

This file stays empty, so that importing a module below does not import torch."""
