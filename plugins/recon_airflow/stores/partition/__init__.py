"""One reconciled partition's outcome, read and checked before it is stored: no database here.

``read_outcome`` finds an outcome's ``results.parquet`` and ``summary.json``, checks them against
the outcome and each other, and returns a ``Partition`` ready to load; bad input (a missing or
unreadable file, a result that does not match its outcome) raises ``BadOutcomeError`` listing
every problem. ``break_rows`` turns the results into the rows the Postgres store copies, with
the one-sided statuses under the sides' labels (``labelled_statuses``, shared by both stores).

A summary may carry a ``classification`` (e.g. the payments break types, recon.payments): then
a break is a row whose classification column is not its ``matched`` value (a ``timing`` row is
one though its core status is ``matched``), and that column is the break's type. Without one, a
break is a row whose status is not ``matched`` and its type is the stored status. ``currency``
and ``impact_amount`` columns of the results are stored when present.

Data-quality checks are those ``quality_checks`` derives from summary.json and the results,
plus checks made elsewhere: ``read_outcome``'s ``extra_checks`` argument and
``outcome["summary"]["checks"]`` (how an upstream task, e.g. the extract's report-date check,
hands its checks to the load). Each is a mapping ``{"name", "side": "left"|"right"|"both",
"passed", "observed", "expected", "details"}`` with JSON values.

The package: ``outcome`` (``read_outcome``, ``Partition``), ``checks`` (``quality_checks``) and
``breaks`` (``break_rows``).
"""

from __future__ import annotations

from recon_airflow.stores.partition.breaks import break_rows
from recon_airflow.stores.partition.checks import QualityCheck, quality_checks
from recon_airflow.stores.partition.outcome import (
    BadOutcomeError,
    Partition,
    labelled_statuses,
    read_outcome,
)

__all__ = [
    "BadOutcomeError",
    "Partition",
    "QualityCheck",
    "break_rows",
    "labelled_statuses",
    "quality_checks",
    "read_outcome",
]
