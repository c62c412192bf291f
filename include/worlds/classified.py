"""Classified (payments) results made by hand, for the tests of what reads one without running
``recon.payments``: the reports, the alert words and the results store.

- :data:`BREAK_TYPE_ORDER`: the payments contract's break types, in the order a summary's
  ``classification.order`` lists them (written out: the tests hold the readers to the contract,
  not to ``recon.payments``' constant);
- :func:`payments_spec`: a payments spec in small, processor against ledger on one key.
"""

from __future__ import annotations

from typing import Final

from recon.spec import ReconSpec, spec_from_dict

BREAK_TYPE_ORDER: Final = (
    "missing_at_processor",
    "missing_in_ledger",
    "amount",
    "currency",
    "failed_payment",
    "fee_mismatch",
    "status",
    "duplicate",
    "invalid",
    "timing",
)


def payments_spec(name: str, key: str, *, abs_tol: float) -> ReconSpec:
    """Processor against ledger on ``key``: amount (within ``abs_tol``) and currency compared,
    amount the money field; at most 1 % of keys may break, risk medium from 2 %, high from 5 %."""
    return spec_from_dict(
        {
            "name": name,
            "left": {"label": "processor"},
            "right": {"label": "ledger"},
            "keys": [key],
            "compare": {"amount": {"abs_tol": abs_tol}, "currency": {}},
            "amount": "amount",
            "thresholds": {"max_break_rate": 0.01, "risk": {"medium": 0.02, "high": 0.05}},
        }
    )


__all__ = ["BREAK_TYPE_ORDER", "payments_spec"]
