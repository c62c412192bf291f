"""aum_recon outcomes made up for the tests of what reads them: the alert words and the alerts.

An outcome is what a reconcile task hands the report, load and alert tasks (the keys of
``recon_airflow.outcome.Outcome``); these carry the business date as the ISO text :data:`DATE`,
as the alert tests give it.

- :func:`aum_outcome`: a registrar's outcome around the summary a test writes;
- :func:`aum_source`: one of 1,000 keys, half its breaks mismatched and the rest dbf-only;
- :data:`CAMS_F1_BREAK`: CAMS's largest break as the report task lists it (units 1,250.5 in the
  DBF against 1,000 in MongoDB), and :data:`CAMS_XLSX_LINK`, a presigned link to its workbook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

DATE: Final = "2026-11-20"
STARTED_AT: Final = "2026-11-21T02:00:00+00:00"
CAMS_XLSX_LINK: Final = (
    "https://s3.example.test/recon-reports/CAMS/report.xlsx?X-Amz-Expires=86400&X-Amz-Signature=ab"
)
CAMS_F1_BREAK: Final[Mapping[str, Any]] = {
    "folio_no": "F1",
    "product_code": "P1",
    "status": "mismatched",
    "mismatched_fields": ["units"],
    "left_units": 1250.5,
    "right_units": 1000.0,
    "diff_units": 250.5,
    "break_amount": 250.5,
}


def aum_outcome(
    source: str,
    summary: dict[str, Any],
    *,
    result_dir: str,
    reports: dict[str, str],
    report_links: dict[str, str],
    finished_at: str,
    labels: tuple[str, str] = ("dbf", "mongo"),
) -> dict[str, Any]:
    """aum_recon's outcome for registrar ``source`` on :data:`DATE`, started at
    :data:`STARTED_AT` (spec ``aum_<source>``, keys folio and product, amount field units)."""
    return {
        "recon": "aum_recon",
        "source": source,
        "business_date": DATE,
        "spec": f"aum_{source.lower()}",
        "labels": {"left": labels[0], "right": labels[1]},
        "keys": ["folio_no", "product_code"],
        "amount_field": "units",
        "result_dir": result_dir,
        "inputs": {},
        "reports": reports,
        "report_links": report_links,
        "summary": summary,
        "started_at": STARTED_AT,
        "finished_at": finished_at,
    }


def aum_source(
    source: str,
    breaks: int,
    *,
    passed: bool | None = True,
    risk: str = "LOW",
    links: dict[str, str] | None = None,
    labels: tuple[str, str] = ("dbf", "mongo"),
) -> dict[str, Any]:
    """A reconciled source of 1,000 keys: half its breaks mismatched, the rest one-sided; its
    reports under ``/srv/recon/reports`` (linked there too unless ``links`` are given); no
    ``threshold_passed`` when ``passed`` is None."""
    mismatched, left_only = breaks // 2, breaks - breaks // 2
    folder = f"/srv/recon/reports/aum_recon/{DATE}/{source}"
    summary: dict[str, Any] = {
        "counts": {
            "matched": 1000 - breaks,
            "mismatched": mismatched,
            "left_only": left_only,
            "right_only": 0,
            "duplicate": 0,
            "invalid": 0,
        },
        "total_keys": 1000,
        "breaks": breaks,
        "break_rate": breaks / 1000,
        "match_rate": 1 - breaks / 1000,
        "discrepancy_amount": 1234.5,
        "risk_level": risk,
    }
    if passed is not None:
        summary["threshold_passed"] = passed
    reports = {"html": f"{folder}/report.html", "xlsx": f"{folder}/report.xlsx"}
    return aum_outcome(
        source,
        summary,
        result_dir=folder,
        reports=reports,
        report_links=dict(reports) if links is None else links,
        finished_at="2026-11-21T02:00:05+00:00",
        labels=labels,
    )


__all__ = [
    "CAMS_F1_BREAK",
    "CAMS_XLSX_LINK",
    "DATE",
    "STARTED_AT",
    "aum_outcome",
    "aum_source",
]
