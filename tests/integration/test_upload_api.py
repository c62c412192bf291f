"""The upload API as an app: real Airflow tokens, the real metadata DB, the real file_recon DAG.

The app is mounted at ``/recon`` beside the simple auth manager's own ``/auth`` app (as the API
server mounts them); tokens come from its ``POST /auth/token``. ``dags/file_recon.py`` is
parsed and written into the metadata DB the way the dag-processor does (``sync_bag_to_db``), so
uploads trigger real DAG runs. A run's completion is simulated here (state set through the ORM,
report files written where the run writes them); the run itself is covered end to end by
``tests/e2e/test_upload_api_server.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from embedded.airflow_settings import REPO_ROOT

JOBS = "/recon/api/v1/reconciliations"
SOURCE = b"txn_id,amount,status\nT1,10.00,paid\nT2,20.00,paid\nT3,30.00,void\n"
TARGET = b"txn_id,amount,status\nT1,10.00,paid\nT2,20.50,paid\nT4,40.00,paid\n"
USERS = {"admin": ("admin", "ADMIN"), "viewer": ("viewer", "VIEWER")}  # name: (password, role)


@pytest.fixture(scope="module")
def auth_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Two Airflow users (admin, viewer) of the simple auth manager, passwords in a file."""
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps({name: pw for name, (pw, _) in USERS.items()}))
    with pytest.MonkeyPatch.context() as patch:
        # a key as long as HS512 wants (the generated default is shorter and warns)
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "recon-upload-api-tests-" + "k" * 48)
        users = ",".join(f"{name}:{role}" for name, (_, role) in USERS.items())
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", users)
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))
        yield


@pytest.fixture(scope="module")
def file_recon_dag(airflow_db: None) -> str:
    """``dags/file_recon.py`` parsed and written to the metadata DB as the dag-processor does."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    from recon_airflow.file_jobs import DAG_ID

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    bundle = manager.get_bundle("dags-folder")
    bag = DagBag(
        dag_folder=str(REPO_ROOT / "dags" / f"{DAG_ID}.py"),
        bundle_path=bundle.path,
        bundle_name=bundle.name,
    )
    assert bag.import_errors == {}
    assert DAG_ID in bag.dags
    sync_bag_to_db(bag, bundle.name, None)
    return DAG_ID


@pytest.fixture(scope="module")
def client(auth_env: None, file_recon_dag: str) -> Iterator[TestClient]:
    """The API server's mounts that matter here: ``/auth`` (tokens) and ``/recon`` (this API)."""
    from airflow.api_fastapi.app import init_auth_manager, purge_cached_app

    from recon_airflow.api.app import URL_PREFIX, app

    root = FastAPI()
    auth_app = init_auth_manager(root).get_fastapi_app()
    assert auth_app is not None
    root.mount("/auth", auth_app)
    root.mount(URL_PREFIX, app)
    with TestClient(root) as test_client:
        yield test_client
    purge_cached_app()  # later tests start from an uninitialised auth manager, as before


@pytest.fixture(scope="module")
def tokens(client: TestClient) -> dict[str, str]:
    """A JWT per user from ``POST /auth/token``, as any API client gets one."""
    found = {}
    for name, (password, _) in USERS.items():
        answer = client.post("/auth/token", json={"username": name, "password": password})
        assert answer.status_code == 201, answer.text
        found[name] = answer.json()["access_token"]
    return found


@pytest.fixture
def folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, file_recon_dag: str
) -> dict[str, Path]:
    """Staging and reports folders of this test, and no upload jobs left from other tests."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    found = {"staging": tmp_path / "staging", "reports": tmp_path / "reports"}
    monkeypatch.setenv("RECON_STAGING_DIR", str(found["staging"]))
    monkeypatch.setenv("RECON_REPORTS_DIR", str(found["reports"]))
    with create_session() as session:
        session.execute(delete(DagRun).where(DagRun.dag_id == file_recon_dag))
    found["uploads"] = found["staging"] / "uploads"
    return found


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(
    client: TestClient,
    token: str,
    *,
    source: tuple[str, bytes] | None = ("bank.csv", SOURCE),
    target: tuple[str, bytes] | None = ("ledger.csv", TARGET),
    **fields: str,
) -> Any:
    files = {}
    if source is not None:
        files["source_file"] = (source[0], source[1], "text/csv")
    if target is not None:
        files["target_file"] = (target[0], target[1], "text/csv")
    data = {"unique_fields": "txn_id", **fields}
    return client.post(f"{JOBS}/", headers=auth(token), files=files, data=data)


def dag_run(job_id: str) -> Any:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.run_id == f"upload__{job_id}"))
        if run is not None:
            session.expunge(run)
        return run


def uploads_left(folders: dict[str, Path]) -> list[str]:
    uploads = folders["uploads"]
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


# ---------------------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/"), ("get", "/"), ("get", "/abc123"), ("get", "/abc123/csv")],
    ids=["create", "list", "status", "report"],
)
@pytest.mark.parametrize(
    ("token", "words"),
    [(None, "not authenticated"), ("garbage", "not valid"), ("expired", "expired")],
    ids=["no-token", "garbage", "expired"],
)
def test_every_endpoint_needs_a_valid_token(
    client: TestClient,
    folders: dict[str, Path],
    method: str,
    path: str,
    token: str | None,
    words: str,
) -> None:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    headers = {}
    if token == "garbage":
        headers = auth("not-a-jwt")
    elif token == "expired":
        user = SimpleAuthManagerUser(username="admin", role="ADMIN")
        headers = auth(get_auth_manager().generate_jwt(user, expiration_time_in_seconds=-60))
    answer = client.request(method.upper(), f"{JOBS}{path}", headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert words in answer.json()["detail"]
    assert "POST /auth/token" in answer.json()["detail"]
    assert uploads_left(folders) == []


def test_a_viewer_reads_jobs_but_may_not_upload(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    assert client.get(f"{JOBS}/", headers=auth(tokens["viewer"])).status_code == 200
    refused = upload(client, tokens["viewer"])
    assert refused.status_code == 403, refused.text
    assert uploads_left(folders) == []


def test_the_ui_session_cookie_is_accepted_too(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    client.cookies.set(COOKIE_NAME_JWT_TOKEN, tokens["viewer"])
    try:
        answer = client.get(f"{JOBS}/")
    finally:
        client.cookies.clear()
    assert answer.status_code == 200, answer.text


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    spec = client.get("/recon/openapi.json").json()
    paths = spec["paths"]
    assert {
        f"{JOBS.removeprefix('/recon')}/",
        f"{JOBS.removeprefix('/recon')}/{{job_id}}",
        *(f"{JOBS.removeprefix('/recon')}/{{job_id}}/{fmt}" for fmt in ("csv", "html", "xlsx")),
    } <= set(paths)
    create = paths[f"{JOBS.removeprefix('/recon')}/"]["post"]
    form = create["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"source_file", "target_file", "unique_fields", "report_format"} <= set(
        form["properties"]
    )
    assert "202" in create["responses"]
    assert "swagger" in client.get("/recon/docs").text.lower()


# ---------------------------------------------------------------------------- an accepted upload


def test_upload_stores_both_files_and_queues_a_file_recon_run(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    from airflow.utils.types import DagRunTriggeredByType

    from recon_airflow.file_jobs import parse_request, upload_dir

    answer = upload(
        client,
        tokens["admin"],
        compare_fields="amount, status",
        tolerances="amount=0.01",
        case_insensitive="yes",
        email="ops@example.test",
        report_format="csv,json",
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    job_id = body["job_id"]
    assert body["status"] == "queued"
    assert answer.headers["Location"] == body["links"]["self"]
    assert body["links"]["self"].endswith(f"{JOBS}/{job_id}")
    assert body["links"]["airflow"].endswith(f"/dags/file_recon/runs/upload__{job_id}")
    assert any("paused" in note for note in body["notes"])  # new DAGs start paused

    folder = upload_dir(job_id)
    assert (folder / "source.csv").read_bytes() == SOURCE
    assert (folder / "target.csv").read_bytes() == TARGET
    assert uploads_left(folders) == [job_id]  # no incoming folder left behind

    run = dag_run(job_id)
    assert run is not None and run.state == "queued"
    assert run.triggered_by == DagRunTriggeredByType.REST_API
    assert run.triggering_user_name == "admin"
    request = parse_request(run.conf)  # the conf is a FileReconRequest, as the DAG reads it
    assert request.left == f"staging:uploads/{job_id}/source.csv"
    assert request.right == f"staging:uploads/{job_id}/target.csv"
    assert (request.left_label, request.right_label) == ("source", "target")
    assert request.unique_fields == ["txn_id"]
    assert request.compare_fields == ["amount", "status"]
    assert request.tolerances == {"amount": 0.01}
    assert (request.trim, request.case_insensitive) == (True, True)
    assert request.report_formats == ["csv", "json"]
    assert request.email == "ops@example.test"
    assert request.job_id == job_id
    assert request.business_date == dt.datetime.now(dt.UTC).date()

    status = client.get(f"{JOBS}/{job_id}", headers=auth(tokens["viewer"])).json()
    assert status["status"] == "queued"
    assert status["triggered_by"] == "admin"
    assert status["request"]["source_file"]["name"] == "bank.csv"
    assert status["request"]["target_file"]["name"] == "ledger.csv"
    assert status["request"]["source_file"]["size_bytes"] == len(SOURCE)
    assert status["request"]["target_file"]["columns"] == ["txn_id", "amount", "status"]
    assert status["request"]["tolerances"] == {"amount": 0.01}
    assert status["report"] is None and status["links"]["reports"] == {}
    assert str(folders["staging"]) not in json.dumps(status)  # no server paths


# ---------------------------------------------------------------------------- refused uploads

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
XLSX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(64)
BAD_UPLOADS = {
    # id: (upload arguments, status, words the detail must hold)
    "empty-file": ({"target": ("ledger.csv", b"")}, 422, ["target_file `ledger.csv`", "empty"]),
    "binary": ({"source": ("bank.csv", PNG)}, 415, ["source_file `bank.csv`", "not CSV", "binary"]),
    "workbook": ({"source": ("bank.csv", XLSX)}, 415, ["not CSV", "Excel", "save it as CSV"]),
    "not-a-csv-name": (
        {"source": ("bank.xlsx", SOURCE)},
        415,
        ["source_file `bank.xlsx`", "not a CSV file name", ".csv"],
    ),
    "not-utf8": (
        {"source": ("bank.csv", "txn_id,amount,status\nT1,10,payé\n".encode("latin-1"))},
        422,
        ["source_file `bank.csv`", "row 1", "not valid utf-8", "pass encoding cp1252"],
    ),
    "header-only": (
        {"target": ("ledger.csv", b"txn_id,amount,status\n")},
        422,
        ["target_file `ledger.csv`", "no data rows"],
    ),
    "blank-column-name": (
        {"source": ("bank.csv", b"txn_id,,status\nT1,1,paid\n")},
        422,
        ["source_file", "blank column name"],
    ),
    "duplicate-column-name": (
        {"source": ("bank.csv", b"txn_id,amount,txn_id\nT1,1,T1\n")},
        422,
        ["source_file", "`txn_id` more than once"],
    ),
    "no-header-row": (
        {"source": ("bank.csv", b"1,10.00,3\n2,20.00,4\n")},
        422,
        ["source_file", "no header row", "numbers"],
    ),
    "malformed-row": (
        {"target": ("ledger.csv", b"txn_id,amount,status\nT1,10.00,paid\nT2,20.00,paid,extra\n")},
        422,
        ["target_file `ledger.csv`", "row 2", "has 4 fields where the header has 3"],
    ),
    "key-missing": (
        {"target": ("ledger.csv", b"txn_ref,amount,status\nT1,10.00,paid\n")},
        422,
        [
            "target_file `ledger.csv`",
            "key field `txn_id` is not a column",
            "did you mean `txn_ref`",
        ],
    ),
    "compare-field-missing": (
        {"compare_fields": "amount,fee"},
        422,
        ["compare field `fee` is not a column", "source_file", "target_file"],
    ),
    "bad-email": ({"email": "ops at example"}, 422, ["email", "not an e-mail address"]),
    "unknown-report-format": (
        {"report_format": "html,pdf,jsn"},
        422,
        ["unknown format `pdf`", "unknown format `jsn`", "did you mean `json`"],
    ),
    "bad-tolerance": (
        {"tolerances": "amount:0.01"},
        422,
        ["tolerances", "`amount:0.01` is not field=number"],
    ),
    "negative-tolerance": ({"tolerances": "amount=-1"}, 422, ["tolerances", "0 or more"]),
    "tolerance-not-compared": (
        {"compare_fields": "status", "tolerances": "amount=0.01"},
        422,
        ["tolerance for `amount`, which is not compared"],
    ),
    "bad-boolean": ({"trim": "maybe"}, 422, ["trim", "not true or false"]),
    "no-key-fields": ({"unique_fields": " , "}, 422, ["unique_fields", "name the key column"]),
    "unknown-field": ({"unique_feilds": "txn_id"}, 422, ["unknown form field", "unique_fields"]),
    "missing-file": ({"target": None}, 422, ["target_file: missing"]),
    "several-at-once": (
        {"email": "nope", "target": ("ledger.csv", b"")},
        422,
        ["2 problems", "email", "empty"],
    ),
    "options-and-columns-at-once": (
        {"email": "nope", "unique_fields": "txn"},
        422,
        ["3 problems", "email", "source_file", "target_file", "did you mean `txn_id`"],
    ),
}


@pytest.mark.parametrize(("arguments", "status", "words"), BAD_UPLOADS.values(), ids=BAD_UPLOADS)
def test_a_bad_upload_is_refused_with_its_reason_and_nothing_stored(
    client: TestClient,
    tokens: dict[str, str],
    folders: dict[str, Path],
    arguments: dict[str, Any],
    status: int,
    words: list[str],
) -> None:
    answer = upload(client, tokens["admin"], **arguments)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    for word in words:
        assert word in detail
    assert uploads_left(folders) == []
    assert client.get(f"{JOBS}/", headers=auth(tokens["admin"])).json()["total"] == 0


def test_a_file_over_the_size_limit_is_refused_while_it_streams(
    client: TestClient,
    tokens: dict[str, str],
    folders: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECON_UPLOAD_MAX_BYTES", str(len(SOURCE) - 1))
    # the body as a whole is within what Content-Length may announce: it is the count of each
    # file's bytes as they arrive that refuses it
    answer = upload(client, tokens["admin"], target=("ledger.csv", TARGET[:20]))
    assert answer.status_code == 413, answer.text
    assert "source_file `bank.csv` is larger than the limit" in answer.json()["detail"]
    assert "RECON_UPLOAD_MAX_BYTES" in answer.json()["detail"]
    assert uploads_left(folders) == []


def test_an_upload_that_is_not_multipart_is_refused(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    answer = client.post(f"{JOBS}/", headers=auth(tokens["admin"]), json={"unique_fields": "id"})
    assert answer.status_code == 415
    assert "multipart/form-data" in answer.json()["detail"]
    assert uploads_left(folders) == []


def test_nothing_is_stored_when_file_recon_cannot_be_triggered(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path], file_recon_dag: str
) -> None:
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    def import_errors(value: bool) -> None:
        with create_session() as session:
            session.execute(
                update(DagModel)
                .where(DagModel.dag_id == file_recon_dag)
                .values(has_import_errors=value)
            )

    import_errors(True)
    try:
        answer = upload(client, tokens["admin"])
    finally:
        import_errors(False)
    assert answer.status_code == 503, answer.text
    assert "import errors" in answer.json()["detail"]
    assert uploads_left(folders) == []


# ---------------------------------------------------------------------------- jobs and reports


def test_jobs_are_listed_newest_first_in_pages(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    made = [upload(client, tokens["admin"]).json()["job_id"] for _ in range(3)]
    headers = auth(tokens["viewer"])
    first = client.get(f"{JOBS}/", headers=headers, params={"limit": 2}).json()
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert [job["job_id"] for job in first["jobs"]] == [made[2], made[1]]
    assert {job["status"] for job in first["jobs"]} == {"queued"}
    assert all(job["created"] and job["updated"] for job in first["jobs"])
    rest = client.get(f"{JOBS}/", headers=headers, params={"limit": 2, "offset": 2}).json()
    assert [job["job_id"] for job in rest["jobs"]] == [made[0]]
    assert client.get(f"{JOBS}", headers=headers).json()["total"] == 3  # no trailing slash

    too_many = client.get(f"{JOBS}/", headers=headers, params={"limit": 501})
    assert too_many.status_code == 422
    assert too_many.json()["detail"].startswith("limit: ")


def test_unknown_jobs_are_404(client: TestClient, tokens: dict[str, str]) -> None:
    headers = auth(tokens["viewer"])
    for path in ("/0123456789abcdef", "/0123456789abcdef/csv", "/not%20a%20job/html"):
        answer = client.get(f"{JOBS}{path}", headers=headers)
        assert answer.status_code == 404, (path, answer.text)
        assert "no job" in answer.json()["detail"]


def set_state(job_id: str, state: str) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.run_id == f"upload__{job_id}"))
        assert run is not None
        run.set_state(state)


def write_reports(job_id: str, formats: list[str]) -> dict[str, bytes]:
    """What a complete run leaves in report_dir (the e2e test checks the real run's)."""
    from recon.reports import REPORT_FILES
    from recon_airflow.file_jobs import report_dir

    contents = {
        "html": b"<html><body>2 breaks</body></html>",
        "csv": b"txn_id,status\nT2,mismatched\n",
        "xlsx": b"PK\x03\x04 a workbook",
        "json": json.dumps({"summary": {"counts": {"matched": 1}}, "breaks_total": 3}).encode(),
    }
    folder = report_dir(dt.datetime.now(dt.UTC).date(), job_id)
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        (folder / REPORT_FILES[fmt]).write_bytes(contents[fmt])
    return {fmt: contents[fmt] for fmt in formats}


def test_reports_are_served_once_the_job_is_complete(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    job_id = upload(client, tokens["admin"]).json()["job_id"]
    headers = auth(tokens["viewer"])
    early = client.get(f"{JOBS}/{job_id}/csv", headers=headers)
    assert early.status_code == 409
    assert f"job {job_id} is queued" in early.json()["detail"]

    written = write_reports(job_id, ["html", "csv", "xlsx", "json"])
    set_state(job_id, "success")
    status = client.get(f"{JOBS}/{job_id}", headers=headers).json()
    assert status["status"] == "complete"
    assert status["report"] == json.loads(written["json"])
    assert set(status["links"]["reports"]) == {"html", "csv", "xlsx", "json"}
    media = {
        "html": "text/html; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json": "application/json",
    }
    for fmt, link in status["links"]["reports"].items():
        answer = client.get(link, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.content == written[fmt]
        assert answer.headers["content-type"] == media[fmt]
        assert f'filename="file_recon_{job_id}_' in answer.headers["content-disposition"]
    assert client.get(f"{JOBS}/", headers=headers).json()["jobs"][0]["status"] == "complete"


def test_a_format_that_was_not_requested_is_404_with_the_reason(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    job_id = upload(client, tokens["admin"], report_format="csv").json()["job_id"]
    write_reports(job_id, ["csv"])
    set_state(job_id, "success")
    headers = auth(tokens["viewer"])
    status = client.get(f"{JOBS}/{job_id}", headers=headers).json()
    assert status["report"] is None
    assert list(status["links"]["reports"]) == ["csv"]
    assert any("json" in note for note in status["notes"])
    for fmt in ("html", "xlsx", "json"):
        answer = client.get(f"{JOBS}/{job_id}/{fmt}", headers=headers)
        assert answer.status_code == 404
        assert f"did not ask for a {fmt} report (report_format was csv)" in answer.json()["detail"]
    assert client.get(f"{JOBS}/{job_id}/csv", headers=headers).status_code == 200


def test_a_failed_job_names_its_failed_task_and_the_error_in_its_log(
    client: TestClient, tokens: dict[str, str], folders: dict[str, Path]
) -> None:
    """The reason is read from the task's log through Airflow's own log reader."""
    from airflow.configuration import conf
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    job_id = upload(client, tokens["admin"]).json()["job_id"]
    with create_session() as session:
        ti = session.scalar(
            select(TaskInstance).where(
                TaskInstance.run_id == f"upload__{job_id}", TaskInstance.task_id == "fetch_left"
            )
        )
        assert ti is not None
        ti.state, ti.try_number = "failed", 1
    log = Path(conf.get("logging", "base_log_folder")) / (
        f"dag_id=file_recon/run_id=upload__{job_id}/task_id=fetch_left/attempt=1.log"
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {"timestamp": "2026-11-21T10:00:00Z", "level": "info", "event": "fetching"},
        {
            "timestamp": "2026-11-21T10:00:01Z",
            "level": "error",
            "event": "Task failed with exception",
            "error_detail": [
                {
                    "exc_type": "AirflowFailException",
                    "exc_value": "source.csv: the staging store is not mounted",
                    "frames": [],
                }
            ],
        },
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    set_state(job_id, "failed")

    status = client.get(f"{JOBS}/{job_id}", headers=auth(tokens["viewer"])).json()
    assert status["status"] == "failed"
    assert [t["task_id"] for t in status["failed_tasks"]] == ["fetch_left"]
    expected = "AirflowFailException: source.csv: the staging store is not mounted"
    assert status["failed_tasks"][0]["reason"] == expected
    assert status["reason"] == f"task fetch_left failed: {expected}"
    answer = client.get(f"{JOBS}/{job_id}/csv", headers=auth(tokens["viewer"]))
    assert answer.status_code == 409
    assert "is failed" in answer.json()["detail"]
