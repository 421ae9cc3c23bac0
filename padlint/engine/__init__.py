"""The rule engine: rules as YAML + Python pairs, packs from the ``padlint.rules`` entry
point, selection, running and ``# noqa``.

- :mod:`padlint.engine.rule`: :class:`Rule` and the rendering of its templates.
- :mod:`padlint.engine.registry`: packs from entry points, loading the pairs, ``all_rules``.
- :mod:`padlint.engine.select`: ``code_matches``, ``select_rules``.
- :mod:`padlint.engine.run`: ``run_rules``, ``run_fact_rules`` and the base fields.
- :mod:`padlint.engine.words`, :mod:`padlint.engine.noqa`.

A rule's YAML states its ``scope``, and the scope fixes the signature of the ``check``
in the module beside it:

- ``axis``: ``check(layer, facts) -> dict | None``, once per layer axis
  (:class:`padlint.geometry.axis.AxisFacts`); the fields its templates need, or None
  when it does not fire. An optional ``vector(facts)`` is the same test on the array
  facts of a size sweep (one row per layer, one column per input size), written with
  elementwise operators (``&``, ``|``, ``~``) only; it must fire exactly where ``check``
  returns fields.
- ``model``: ``check(trace, params)`` yields ``(layer, axis, source, fields)`` for a
  whole :class:`padlint.ir.trace.Trace`; ``fields["describe"]``, when given, is the
  finding's op text.
- ``verify``, ``stats`` and ``blindspots``: ``check(facts, trace, params)`` yields
  ``(layer, axis, source, op, fields)`` from the verify stage's, ``padlint stats``' or
  ``padlint blindspots``' facts.

``params`` is the YAML's ``params`` mapping.

This file stays free of imports, so that importing a module below does not import torch."""
