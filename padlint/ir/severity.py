"""The three severities a finding can have, defined once for the whole package.

>>> at_least("error", "warning"), at_least("info", "warning")
(True, False)
"""
from __future__ import annotations

SEVERITIES = ("info", "warning", "error")          # lowest first
WORST_FIRST = tuple(reversed(SEVERITIES))          # the order the summaries count them in
RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def at_least(severity: str, threshold: str) -> bool:
    """Is ``severity`` as severe as ``threshold`` or more?"""
    return RANK[severity] >= RANK[threshold]
