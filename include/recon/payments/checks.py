"""Data-quality checks per input of a payments run."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from recon.files import json_text
from recon.payments.currencies import ISO_4217
from recon.payments.model import AMOUNT, CURRENCY, FAILED, STATUS
from recon.payments.scope import Scope, normalised
from recon.spec import ReconSpec

# -- data-quality checks per input --------------------------------------------------------------


def quality_checks(scope: Scope, spec: ReconSpec) -> list[dict[str, Any]]:
    """Currency codes, negative amounts and scope per input (row counts and null keys are the
    store's checks, derived from every result)."""
    checks = []
    sides = (("left", scope.processor), ("right", scope.ledger))
    for side, frame in sides:
        currency = normalised(spec, CURRENCY, side)  # as the core compares it
        unknown = frame.filter(currency.is_null() | ~currency.is_in(sorted(ISO_4217)))
        codes = unknown.get_column(spec.column(CURRENCY, side)).unique().sort(nulls_last=True)
        checks.append(
            _check(
                "currency_codes",
                side,
                unknown.height,
                {"not_iso_4217": [c if c is not None else "(empty)" for c in codes.to_list()[:20]]},
            )
        )
        negative = pl.col(spec.column(AMOUNT, side)) < 0
        if side == "left":  # at the processor, refunds and failures are negative by design
            status = pl.col(spec.column(STATUS, side))
            negative &= ~status.is_in([FAILED, "refunded"])
        count = frame.select(negative.sum()).item() or 0
        checks.append(
            _check("negative_amounts", side, int(count), {"rows": frame.height}),
        )
    checks.append(
        {
            "name": "scope",
            "side": "both",
            "passed": True,
            "observed": scope.counts(),
            "expected": None,
            "details": {"why": "rows of other days are excluded, never reported as breaks of D"},
        }
    )
    return checks


def _check(name: str, side: str, count: int, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "side": side,
        "passed": count == 0,
        "observed": count,
        "expected": 0,
        "details": json.loads(json_text(details)),
    }
