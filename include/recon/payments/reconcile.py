"""One processor's payments day reconciled: scope, the core's match, classification."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from recon.engine.reconcile import ReconResult, reconcile, write_summary
from recon.files import replaced_atomically
from recon.payments.checks import quality_checks
from recon.payments.classify import classify
from recon.payments.impact import payments_summary
from recon.payments.model import Day, check_spec
from recon.payments.scope import scope_of
from recon.result import (
    RESULTS_FILE,
)
from recon.spec import ReconSpec


def reconcile_payments(
    processor: pl.LazyFrame,
    ledger: pl.LazyFrame,
    spec: ReconSpec,
    *,
    processor_name: str,
    day: Day,
    out_dir: Path,
    inputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> ReconResult:
    """Reconcile one processor's day into ``out_dir`` (results.parquet + summary.json).

    ``processor``: the processor's normalised transactions (``created_at`` in UTC);
    ``ledger``: ledger bookings around D, every processor (``processor``, ``booked_at``).
    Files appear only when everything succeeded; bad input raises a ``ReconError``.
    """
    started = time.perf_counter()
    check_spec(spec)
    scope = scope_of(processor, ledger, processor_name, day, spec)
    given = {side: dict(v) for side, v in (inputs or {}).items()}
    names = (
        str(given.get("left", {}).get("file", spec.label("left"))),
        str(given.get("right", {}).get("file", spec.label("right"))),
    )
    core = reconcile(
        scope.processor.lazy(),
        scope.ledger.lazy(),
        spec,
        sources=names,
        inputs=given,
    )
    results = classify(core.results, scope, spec, day)
    summary = {
        **core.summary,
        **payments_summary(results, core.summary, spec),
        "scope": scope.describe(day),
        "checks": quality_checks(scope, spec),
    }
    summary["seconds"] = round(time.perf_counter() - started, 3)
    out_dir.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(out_dir / RESULTS_FILE) as staged:
        results.write_parquet(staged, compression="zstd")
    write_summary(out_dir, summary)
    return ReconResult(summary, path=out_dir / RESULTS_FILE)
