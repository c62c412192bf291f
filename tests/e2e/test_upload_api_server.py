"""The upload API through a real ``airflow api-server``, with a scheduler and a dag-processor.

Airflow runs as three processes (``api-server``, ``scheduler``, ``dag-processor``) on a
throwaway AIRFLOW_HOME (SQLite, LocalExecutor, parallelism 4), wired to the embedded servers
with the login and settings ``make airflow`` uses (``recon_local.airflow.standalone_env``).
The test is what an API client does: a token from ``POST /auth/token``, ``file_recon``
unpaused through ``/api/v2``, two CSV files with known differences uploaded, the job polled
until complete, every report downloaded and read.
"""

from __future__ import annotations

import io
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openpyxl
import pytest

from embedded.base import connection_env, free_port
from recon_local.airflow import PASSWORD, USER, _stop, standalone_env

pytestmark = pytest.mark.slow

COMPONENTS = ("api-server", "scheduler", "dag-processor")
JOBS = "/recon/api/v1/reconciliations"
SOURCE = b"""txn_id,amount,status
T1,10.00,paid
T2,20.00,paid
T3,30.00,paid
T4,40.00,paid
T5,50.00,void
"""
TARGET = b"""txn_id,amount,status
T1,10.00,paid
T2,20.00,PAID
T3,30.005,paid
T4,45.00,paid
T6,60.00,paid
"""
# with amounts within 0.01 and text compared without case: T1-T3 match, T4 is 5.00 apart,
# T5 is only in the source file, T6 only in the target file
EXPECTED = {
    "matched": 3,
    "mismatched": 1,
    "left_only": 1,
    "right_only": 1,
    "duplicate": 0,
    "invalid": 0,
}
T = TypeVar("T")


@contextmanager
def airflow_servers(home: Path, env: dict[str, str]) -> Iterator[dict[str, Path]]:
    """Migrate the metadata DB, run the three components, stop every process group after."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    migrated = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=180
    )
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    logs = {name: home / f"{name}.log" for name in COMPONENTS}
    with ExitStack() as stack:
        for name, log in logs.items():
            handle = stack.enter_context(log.open("wb"))
            proc = subprocess.Popen(
                [airflow, name],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: _stop ends its children too
            )
            stack.callback(_stop, proc)
        yield logs


def wait_for(what: str, check: Callable[[], T | None], timeout: float, logs: dict[str, Path]) -> T:
    """``check()``'s first non-None answer, polled each second; fail with the logs' tails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(1)
    tails = "\n".join(f"--- {n}\n{p.read_text(errors='replace')[-3000:]}" for n, p in logs.items())
    pytest.fail(f"{what}: not within {timeout:.0f} s\n{tails}")


def answer_or_none(call: Callable[[], httpx.Response], status: int) -> httpx.Response | None:
    try:
        answer = call()
    except httpx.TransportError:
        return None
    return answer if answer.status_code == status else None


def test_upload_reconcile_and_download_through_the_api_server(
    tmp_path: Path,
    pg_clean: Any,
    s3_clean: Any,
    smtp_clean: Any,
    slack_clean: Any,
) -> None:
    home = tmp_path / "airflow"
    port = free_port()
    # what file_recon uses: results in Postgres, reports archived to S3, e-mail, Slack alerts
    stack_env = connection_env(pg_clean, s3_clean, smtp_clean, slack_clean)
    env = {
        **standalone_env(home, stack_env, port),
        # this home's own metadata DB, whatever the test session's Airflow uses
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__API__WORKERS": "1",
    }
    base = f"http://127.0.0.1:{port}"
    with airflow_servers(home, env) as logs, httpx.Client(base_url=base, timeout=60) as http:
        wait_for(
            "the API server",
            lambda: answer_or_none(lambda: http.get("/api/v2/monitor/health"), 200),
            180,
            logs,
        )
        login = http.post("/auth/token", json={"username": USER, "password": PASSWORD})
        assert login.status_code == 201, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

        # the plugin's app is mounted and refuses anonymous callers as Airflow's API would
        anonymous = http.get(f"{JOBS}/")
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"
        assert http.get("/recon/openapi.json").status_code == 200

        wait_for(
            "file_recon parsed by the dag-processor",
            lambda: answer_or_none(
                lambda: http.get("/api/v2/dags/file_recon", headers=headers), 200
            ),
            180,
            logs,
        )
        unpaused = http.patch("/api/v2/dags/file_recon", headers=headers, json={"is_paused": False})
        assert unpaused.status_code == 200, unpaused.text

        created = http.post(
            f"{JOBS}/",
            headers=headers,
            files={
                "source_file": ("bank.csv", SOURCE, "text/csv"),
                "target_file": ("ledger.csv", TARGET, "text/csv"),
            },
            data={
                "unique_fields": "txn_id",
                "tolerances": "amount=0.01",
                "case_insensitive": "true",
                "email": "analyst@example.test",
            },
        )
        assert created.status_code == 202, created.text
        job_id = created.json()["job_id"]
        status_url = created.headers["Location"]

        def finished() -> dict[str, Any] | None:
            body: dict[str, Any] = http.get(status_url, headers=headers).json()
            return body if body["status"] in ("complete", "failed") else None

        job = wait_for("the job", finished, 300, logs)
        assert job["status"] == "complete", job
        assert job["report"]["summary"]["counts"] == EXPECTED
        # the inputs' column comparison reaches the API's JSON too (issue 18, item 3)
        assert job["report"]["summary"]["schema"] == {
            "left_only": [], "right_only": [], "type_differences": [], "match": True,
        }  # fmt: skip
        assert job["request"]["source_file"]["name"] == "bank.csv"
        assert set(job["links"]["reports"]) == {"html", "csv", "xlsx", "json"}

        reports = {
            fmt: http.get(link, headers=headers) for fmt, link in job["links"]["reports"].items()
        }
        assert {fmt: r.status_code for fmt, r in reports.items()} == dict.fromkeys(reports, 200)
        assert reports["csv"].headers["content-type"].startswith("text/csv")
        csv_rows = reports["csv"].text.splitlines()
        assert any(row.startswith("T4,") for row in csv_rows), csv_rows
        assert "T5" in reports["csv"].text and "T6" in reports["csv"].text
        assert "T1," not in reports["csv"].text  # matched keys are not breaks
        assert "<html" in reports["html"].text.lower() and "T4" in reports["html"].text
        workbook = openpyxl.load_workbook(io.BytesIO(reports["xlsx"].content), read_only=True)
        assert len(workbook.sheetnames) >= 2  # a summary and the breaks
        assert reports["json"].json() == job["report"]

        listed = http.get(f"{JOBS}/", headers=headers).json()
        assert [(j["job_id"], j["status"]) for j in listed["jobs"]] == [(job_id, "complete")]
        # the UI's session cookie, through the API server's own middleware, works as well
        from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

        cookie = {COOKIE_NAME_JWT_TOKEN: login.json()["access_token"]}
        with httpx.Client(base_url=base, cookies=cookie) as browser:
            assert browser.get(f"{JOBS}/{job_id}").json()["status"] == "complete"

    # what operations and the requester see besides the API
    with pg_clean.connect() as conn:
        rows = conn.execute(
            "select source, matched, mismatched, left_only, right_only from recon.runs "
            "where recon = 'file_recon'"
        ).fetchall()
    assert rows == [(job_id, 3, 1, 1, 1)]
    (mail,) = smtp_clean.wait_for(1)
    assert mail.rcpt_tos == ("analyst@example.test",)
