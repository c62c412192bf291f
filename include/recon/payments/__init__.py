"""Payments reconciliation: a processor's day against the ledger, every break typed and priced.

- ``model``: break types, the snapshot columns, the business day and its settlement window;
- ``scope``: which rows are the day's and which another day's;
- ``classify``: each result row's break type and money at stake;
- ``impact``: the financial impact, risk and compliance of a run;
- ``checks``: data-quality checks per input;
- ``reconcile``: all of it for one processor (``reconcile_payments``).
"""

from __future__ import annotations

from recon.payments.checks import quality_checks
from recon.payments.classify import break_type, classify
from recon.payments.impact import combined_summary, financial_impact, payments_summary
from recon.payments.model import (
    AMOUNT,
    BREAK_TYPES,
    CURRENCY,
    FAILED_PAYMENT,
    FEE_MISMATCH,
    LABELS,
    MISSING_AT_PROCESSOR,
    MISSING_IN_LEDGER,
    TIMING,
    Day,
    check_spec,
)
from recon.payments.reconcile import reconcile_payments
from recon.payments.scope import Scope

__all__ = [
    "AMOUNT",
    "BREAK_TYPES",
    "CURRENCY",
    "FAILED_PAYMENT",
    "FEE_MISMATCH",
    "LABELS",
    "MISSING_AT_PROCESSOR",
    "MISSING_IN_LEDGER",
    "TIMING",
    "Day",
    "Scope",
    "break_type",
    "check_spec",
    "classify",
    "combined_summary",
    "financial_impact",
    "payments_summary",
    "quality_checks",
    "reconcile_payments",
]
