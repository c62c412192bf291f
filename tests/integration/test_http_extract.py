"""The ``http`` source kind end to end against a real JSON API on loopback (``embedded.json_api``):
a YAML definition through the loader, the registry and the DAG to ``HttpToStagingOperator``,
which pages through the API and stages its records as text columns; and each way it fails."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from airflow.sdk.exceptions import AirflowFailException

from embedded.json_api import JsonApi
from recon.definitions import load_recon_definition
from recon_airflow.hooks.http import HttpUnavailableError
from recon_airflow.operators.http_to_staging import HttpToStagingOperator
from worlds.definitions import against_the_ledger

DAY = dt.date(2026, 11, 20)
TOKEN = "tok-" + "7" * 24
DEFINITION = against_the_ledger(
    """\
schedule: "@daily"
source: shop
left:
  label: shop
  http:
    path: "/v1/orders/{date}"
    params: {status: all}
    records: data
    next_link: next
"""
)


@pytest.fixture(scope="module")
def server() -> Iterator[JsonApi]:
    with JsonApi(token=TOKEN) as api:
        yield api


@pytest.fixture
def api(server: JsonApi, monkeypatch: pytest.MonkeyPatch) -> JsonApi:
    server.reset()
    connection = server.connection()
    monkeypatch.setenv(connection.env_name(), connection.env_value())
    return server


def orders(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [{"order_id": f"O-{n:04d}", "amount": n * 10 + 0.5} for n in range(start, start + count)]


def extract(tmp_path: Path, request: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    operator = HttpToStagingOperator(
        task_id="extract_left",
        source="shop",
        snapshot_path=str(tmp_path / "left.parquet"),
        request=request,
        backoff=0.01,
        **kwargs,
    )
    return dict(operator.execute({}))  # type: ignore[arg-type]


def test_a_yaml_definition_runs_through_the_loader_the_registry_and_the_dag(
    api: JsonApi, tmp_path: Path
) -> None:
    from recon_airflow.pipelines.config_recons import EXTRACTS, SideTask, recon_dag

    path = tmp_path / "shop_orders.yaml"
    path.write_text(textwrap.dedent(DEFINITION), encoding="utf-8")
    recon = load_recon_definition(path)
    reader = recon.left.reader
    day = DAY.isoformat()
    api.paged(f"/v1/orders/{day}", orders(25), size=10, by="link")

    dag = recon_dag(recon, path)
    task = dag.get_task("extract_left")
    assert isinstance(task, HttpToStagingOperator)
    assert (task.http_conn_id, task.records, task.next_link) == ("recon_http", "data", "next")
    assert task.required_columns == ["order_id", "amount"]
    assert "`GET /v1/orders/{date}?status=all` on `recon_http`" in (dag.doc_md or "")

    # what the task does once plan has rendered the day: the same builder, a concrete request
    planned = reader.plan(DAY)
    assert planned == {"path": f"/v1/orders/{day}", "params": {"status": "all"}}
    built = EXTRACTS[reader.operator]
    operator = built.operator(
        task_id="extract_left",
        source=recon.source,
        snapshot_path=str(tmp_path / "left.parquet"),
        **built.arguments(reader, SideTask("left", planned, recon.spec.columns("left"))),
    )
    snapshot = operator.execute({})  # type: ignore[arg-type]

    assert (snapshot["rows"], snapshot["file"]) == (25, f"recon_http:/v1/orders/{day}")
    frame = pl.read_parquet(snapshot["path"])
    assert frame.schema == pl.Schema({"order_id": pl.String(), "amount": pl.String()})
    assert frame["order_id"].to_list() == [f"O-{n:04d}" for n in range(1, 26)]
    queries = [dict(r.query) for r in api.requests]
    assert queries == [{"status": "all"}, {"cursor": "10"}, {"cursor": "20"}]
    assert {r.headers["authorization"] for r in api.requests} == {f"Bearer {TOKEN}"}


def test_page_numbers_until_an_empty_page_with_the_params_kept(
    api: JsonApi, tmp_path: Path
) -> None:
    api.paged("/orders", orders(7), size=3, by="page", records_key="items")

    snapshot = extract(
        tmp_path,
        {"path": "/orders", "params": {"day": "2026-11-20"}},
        records="items",
        page_param="page",
    )

    assert snapshot["rows"] == 7
    assert [dict(r.query) for r in api.requests] == [
        {"day": "2026-11-20", "page": str(n)} for n in (1, 2, 3, 4)
    ]


def test_values_are_text_exactly_as_the_api_wrote_them(api: JsonApi, tmp_path: Path) -> None:
    api.answer(
        "/orders",
        '[{"order_id": "A", "amount": 100.10, "paid": true, "qty": 3},'
        ' {"order_id": "B", "amount": 1e2, "paid": false, "note": null, "ref": "R-9"}]',
    )

    frame = pl.read_parquet(extract(tmp_path, {"path": "/orders"})["path"])

    assert frame.to_dicts() == [
        {
            "order_id": "A",
            "amount": "100.10",
            "paid": "true",
            "qty": "3",
            "note": None,
            "ref": None,
        },
        {
            "order_id": "B",
            "amount": "1E+2",
            "paid": "false",
            "qty": None,
            "note": None,
            "ref": "R-9",
        },
    ]


def test_a_field_first_seen_on_a_later_page_widens_the_snapshot(
    api: JsonApi, tmp_path: Path
) -> None:
    rows = [{"order_id": "A"}, {"order_id": "B"}, {"order_id": "C", "amount": "5"}]
    api.paged("/orders", rows, size=2, by="link")

    frame = pl.read_parquet(
        extract(tmp_path, {"path": "/orders"}, records="data", next_link="next")["path"]
    )

    assert frame.to_dicts() == [
        {"order_id": "A", "amount": None},
        {"order_id": "B", "amount": None},
        {"order_id": "C", "amount": "5"},
    ]


def test_an_empty_day_is_an_empty_snapshot_with_the_required_columns(
    api: JsonApi, tmp_path: Path
) -> None:
    api.answer("/orders", {"data": []})

    snapshot = extract(
        tmp_path, {"path": "/orders"}, records="data", required_columns=["order_id", "amount"]
    )

    assert snapshot["rows"] == 0
    assert pl.read_parquet(snapshot["path"]).columns == ["order_id", "amount"]


@pytest.mark.parametrize(
    ("body", "kwargs", "words"),
    [
        (
            {"items": []},
            {"records": "data"},
            "shop: HTTP connection 'recon_http': GET /orders: no `data` in the answer: the "
            "answer has items",
        ),
        (
            {"data": [{"order_id": "A", "customer": {"id": 1}}]},
            {"records": "data"},
            "GET /orders: record 1, field `customer` holds an object",
        ),
        (
            {"data": [{"order_id": "A"}], "next": "http://198.51.100.7/orders?cursor=2"},
            {"records": "data", "next_link": "next"},
            "the next link 'http://198.51.100.7/orders?cursor=2' leaves http://127.0.0.1",
        ),
        (
            {"data": [{"order_id": "A"}], "next": "/orders"},
            {"records": "data", "next_link": "next"},
            "GET /orders: the next link '/orders' repeats",
        ),
        (
            {"data": [{"order_id": "A"}], "next": "/orders?cursor=2"},
            {"records": "data", "next_link": "next", "max_pages": 1},
            "GET /orders: more than 1 pages; raise `max_pages` or narrow the request",
        ),
        (
            "<html>maintenance</html>",
            {},
            "HTTP 200: the answer is not JSON: '<html>maintenance</html>'",
        ),
        (
            {"data": [{"amount": "1"}]},
            {"records": "data", "required_columns": ["order_id"]},
            "cannot stage recon_http:/orders",
        ),
    ],
    ids=[
        "no-records",
        "nested",
        "other-host",
        "loop",
        "max-pages",
        "not-json",
        "missing-column",
    ],
)
def test_bad_answers_fail_for_good_saying_why(
    api: JsonApi, tmp_path: Path, body: Any, kwargs: dict[str, Any], words: str
) -> None:
    api.answer("/orders", body)
    (tmp_path / "left.parquet").write_bytes(b"the earlier snapshot")

    with pytest.raises(AirflowFailException) as caught:
        extract(tmp_path, {"path": "/orders"}, **kwargs)

    assert words in str(caught.value)
    assert (tmp_path / "left.parquet").read_bytes() == b"the earlier snapshot"
    assert TOKEN not in str(caught.value)


def test_refused_credentials_fail_at_once(
    api: JsonApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = api.connection().env_value().replace(TOKEN, "not-the-token")
    monkeypatch.setenv("AIRFLOW_CONN_RECON_HTTP", refused)
    api.answer("/orders", [])

    with pytest.raises(AirflowFailException, match="HTTP 401: a valid Bearer token is required"):
        extract(tmp_path, {"path": "/orders"})
    assert len(api.requests) == 1  # no retry: credentials do not heal


def test_an_api_that_stays_unavailable_is_left_to_the_task_retries(
    api: JsonApi, tmp_path: Path
) -> None:
    api.answer("/orders", [])
    api.fail(503, times=3)

    with pytest.raises(HttpUnavailableError, match="'recon_http': HTTP 503"):
        extract(tmp_path, {"path": "/orders"}, max_attempts=3)
    assert len(api.requests) == 3


def test_429_waits_for_retry_after_then_stages(api: JsonApi, tmp_path: Path) -> None:
    api.answer("/orders", [{"order_id": "A"}])
    api.fail(429, retry_after=0)

    assert extract(tmp_path, {"path": "/orders"})["rows"] == 1
    assert len(api.requests) == 2
