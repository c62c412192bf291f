"""Recon definitions for tests: one side of each kind against the shop's orders ledger.

A test writes the part it is about (the schedule and the left side) and takes the rest (the
ledger's SQL side, the spec and the alerts of ``config/recons/orders_s3_vs_ledger.yaml``'s
shape) from :func:`against_the_ledger`.
"""

from __future__ import annotations

from typing import Final

LEDGER_SIDE_SPEC_ALERTS: Final = """\
right:
  label: ledger
  sql: {query: orders_ledger.sql}
spec:
  keys: [order_id]
  compare: {amount: {abs_tol: 0.01}}
alerts:
  email: ops@example.test
"""


def against_the_ledger(head: str) -> str:
    """``head`` (schedule, left side, ...) followed by the ledger side, spec and alerts."""
    return head + LEDGER_SIDE_SPEC_ALERTS


__all__ = ["LEDGER_SIDE_SPEC_ALERTS", "against_the_ledger"]
