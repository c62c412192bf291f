"""Archive a partition's reports to S3 and hand out presigned links; local paths otherwise.

Keys: ``{prefix}/{business_date}/{recon}/{source}/{file}`` (a day's reports of every pipeline
under ``reports/YYYY-MM-DD/``), overwritten on re-run (the same date always names the same
objects). Whether S3 is used is decided by whether the connection
exists, so a laptop without S3 still gets its reports (as local paths).
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from recon_airflow.outcome import Outcome


def s3_configured(conn_id: str) -> bool:
    """True when the Airflow connection exists (secrets backends and env vars included)."""
    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def archive_key(prefix: str, outcome: Outcome, file_name: str) -> str:
    day = str(outcome["business_date"])  # ISO, whether handed on as a date or as text
    parts = (prefix.strip("/"), day, outcome["recon"], outcome["source"])
    return "/".join((*(p for p in parts if p), file_name))


def publish_reports(
    outcome: Outcome, *, s3_conn_id: str, bucket: str, prefix: str, expires_in: int
) -> Outcome:
    """Upload every report of ``outcome`` and return it with ``report_links`` set to URLs."""
    if not s3_configured(s3_conn_id):
        return {
            **outcome,
            "report_links": {f: Path(p).as_uri() for f, p in outcome["reports"].items()},
        }
    from recon_airflow.hooks.s3 import s3_hook, s3_unavailable_as_retryable

    hook = s3_hook(s3_conn_id)  # bounded: a frozen endpoint fails the try (retryable)
    links: dict[str, str] = {}
    for fmt, path in outcome["reports"].items():
        key = archive_key(prefix, outcome, Path(path).name)
        with s3_unavailable_as_retryable(hook, f"archiving s3://{bucket}/{key}"):
            hook.load_file(path, key, bucket_name=bucket, replace=True)
        url = hook.generate_presigned_url(
            "get_object", params={"Bucket": bucket, "Key": key}, expires_in=expires_in
        )
        links[fmt] = url or f"s3://{bucket}/{key}"
    return {**outcome, "report_links": links}
