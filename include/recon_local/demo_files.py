"""The ad-hoc part of ``make demo``: two CSV files reconciled by ``file_recon``.

A bank statement and a ledger export of the same orders are written with known differences.
When an Airflow API server answers (``make airflow`` in another terminal, or
``RECON_API_URL``), the pair goes through the upload API like an analyst's would: upload, poll,
fetch the reports. Otherwise the demo stages the pair and runs ``file_recon`` itself. Either
way the result is checked against what was planted and the report's location is printed, with
the curl commands that do the same by hand.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOB_ID = "demo-bank-vs-ledger"
OPTIONS = {
    "unique_fields": ["order_id"],
    "tolerances": {"amount": 0.01},
    "case_insensitive": True,
    "left_label": "bank",
    "right_label": "ledger",
}
API_URL = os.environ.get("RECON_API_URL", "http://127.0.0.1:8080")
API_USER = os.environ.get("RECON_API_USER", "admin")
API_PASSWORD = os.environ.get("RECON_API_PASSWORD", "admin")
UPLOADS = "/recon/api/v1/reconciliations"


@dataclass(frozen=True)
class FilePair:
    bank: Path
    ledger: Path
    expected: dict[str, int]  # status -> rows the reconciliation must report


def write_pair(folder: Path, orders: int = 400, seed: int = 5) -> FilePair:
    """A bank statement and a ledger export with planted differences, and what they must give."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {"order_id": f"ORD-{n:05d}", "amount": f"{rng.uniform(5, 900):.2f}", "status": "paid"}
        for n in range(1, orders + 1)
    ]
    bank = [dict(r) for r in rows]
    ledger = [dict(r) for r in rows]
    for r in ledger[10:20]:  # ten amounts booked wrong in the ledger
        r["amount"] = f"{float(r['amount']) + rng.choice([-1, 1]) * rng.uniform(1, 50):.2f}"
    for r in ledger[20:30]:  # ten within the 0.01 tolerance: matched
        r["amount"] = f"{float(r['amount']) + 0.004:.3f}"
    for r in bank[30:35]:  # text case is ignored: matched
        r["status"] = "PAID"
    missing_in_ledger = ledger[40:45]
    del ledger[40:45]
    missing_in_bank = bank[50:54]
    del bank[50:54]
    ledger.append(dict(ledger[60]))  # one order booked twice in the ledger
    expected = Counter(
        matched=orders - 10 - len(missing_in_ledger) - len(missing_in_bank) - 1,
        mismatched=10,
        left_only=len(missing_in_ledger),
        right_only=len(missing_in_bank),
        duplicate=1,
        invalid=0,
    )
    pair = FilePair(folder / "bank.csv", folder / "ledger.csv", dict(expected))
    for path, table in ((pair.bank, bank), (pair.ledger, ledger)):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["order_id", "amount", "status"])
            writer.writeheader()
            writer.writerows(table)
    return pair


def run(
    pair: FilePair,
    env: dict[str, str],
    run_dag: Callable[[str, dict[str, Any]], bool],
) -> tuple[dict[str, int] | None, str]:
    """Reconcile the pair through the API if a server answers, else with ``file_recon`` here.

    :returns: the counts the run reported (None if it failed) and where its reports are.
    """
    token = api_token()
    if token is not None:
        print(f"  an Airflow API server answers at {API_URL}: uploading through the API")
        return upload_and_wait(pair, token)
    print(f"  no Airflow API server at {API_URL} (start `make airflow` to use the upload API);")
    print("  staging the pair and running file_recon here instead")
    staged = Path(env["RECON_STAGING_DIR"]) / "uploads" / JOB_ID
    staged.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pair.bank, staged / "bank.csv")
    shutil.copyfile(pair.ledger, staged / "ledger.csv")
    conf = {
        **OPTIONS,
        "left": f"staging:uploads/{JOB_ID}/bank.csv",
        "right": f"staging:uploads/{JOB_ID}/ledger.csv",
        "job_id": JOB_ID,
    }
    if not run_dag("file_recon", conf):
        return None, ""
    reports = sorted(Path(env["RECON_REPORTS_DIR"]).glob(f"file_recon/*/{JOB_ID}"))
    report = json.loads((reports[-1] / "report.json").read_text(encoding="utf-8"))
    return dict(report["summary"]["counts"]), str(reports[-1])


def api_token() -> str | None:
    """A token from the API server's ``/auth/token``, or None when no server answers."""
    body = json.dumps({"username": API_USER, "password": API_PASSWORD}).encode()
    request = urllib.request.Request(
        f"{API_URL}/auth/token",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as answer:
            return str(json.load(answer)["access_token"])
    except (OSError, KeyError, ValueError):
        return None


def upload_and_wait(
    pair: FilePair, token: str, timeout: float = 300
) -> tuple[dict[str, int] | None, str]:
    """Upload the pair, poll the job until it ends, and keep its reports beside the pair."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=API_URL, headers=headers, timeout=30) as client,
        pair.bank.open("rb") as bank,
        pair.ledger.open("rb") as ledger,
    ):
        answer = client.post(
            f"{UPLOADS}/",
            files={"source_file": ("bank.csv", bank), "target_file": ("ledger.csv", ledger)},
            data={
                "unique_fields": "order_id",
                "tolerances": "amount=0.01",
                "case_insensitive": "true",
            },
        )
        if answer.status_code != 202:
            print(f"  the upload was refused: {answer.status_code} {answer.text}")
            return None, ""
        job = answer.json()["job_id"]
        print(f"  job {job} accepted; waiting for file_recon (the scheduler must run it) ...")
        _unpause(client)
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = client.get(f"{UPLOADS}/{job}").json()
            if status.get("status") in ("complete", "failed"):
                break
            time.sleep(2)
        if status.get("status") != "complete":
            print(
                f"  job {job} did not complete: {status.get('status')} {status.get('reason', '')}"
            )
            return None, ""
        folder = pair.bank.parent / job
        folder.mkdir(exist_ok=True)
        for fmt in ("html", "csv", "xlsx"):
            got = client.get(f"{UPLOADS}/{job}/{fmt}")
            if got.status_code == 200:
                (folder / f"report.{fmt}").write_bytes(got.content)
        return dict(status["report"]["summary"]["counts"]), str(folder)


def _unpause(client: Any) -> None:
    """New DAGs start paused: the job would wait forever."""
    client.patch("/api/v2/dags/file_recon", json={"is_paused": False})


def curl_lines() -> list[str]:
    """The upload API by hand (what the README shows too)."""
    return [
        f"TOKEN=$(curl -s -X POST {API_URL}/auth/token -H 'Content-Type: application/json' \\",
        '        -d \'{"username": "admin", "password": "admin"}\' | jq -r .access_token)',
        f'curl -s -H "Authorization: Bearer $TOKEN" {API_URL}{UPLOADS}/ \\',
        "     -F source_file=@bank.csv -F target_file=@ledger.csv -F unique_fields=order_id \\",
        "     -F tolerances=amount=0.01 -F report_format=html,csv,xlsx,json",
        f'curl -s -H "Authorization: Bearer $TOKEN" {API_URL}{UPLOADS}/<job_id>',
        f'curl -s -H "Authorization: Bearer $TOKEN" -o report.xlsx {API_URL}{UPLOADS}/<job_id>/xlsx',
    ]
