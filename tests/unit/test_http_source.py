"""The ``http`` source kind of recon definitions: its settings checked when the YAML is loaded
(every mistake located, with the words a user needs), its plan for a business date, its
description, and how an answer's records and next link are read."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from recon.definitions import ReconConfigError, load_recon_definition
from recon.definitions.http_source import (
    HttpReader,
    at_keys,
    page_link,
    page_records,
    record_columns,
)
from worlds.definitions import against_the_ledger

DAY = dt.date(2026, 11, 20)
DEFINITION = against_the_ledger(
    """\
schedule: "@daily"
left:
  label: shop
  http:
    conn_id: shop_api
    path: "/v1/orders/{date}"
    params: {status: all, since: "{date:%Y%m%d}", limit: 100, test: true}
    records: data.items
    next_link: links.next
"""
)


def load(tmp_path: Path, text: str = DEFINITION) -> HttpReader:
    path = tmp_path / "shop_orders.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    reader = load_recon_definition(path).left.http
    assert reader is not None
    return reader


def problems(tmp_path: Path, old: str, new: str) -> list[str]:
    assert old in DEFINITION
    with pytest.raises(ReconConfigError) as caught:
        load(tmp_path, DEFINITION.replace(old, new))
    return [str(p).split(": ", 1)[1] for p in caught.value.problems]


def test_a_definition_with_an_http_side_loads_plans_and_describes_itself(tmp_path: Path) -> None:
    reader = load(tmp_path)

    assert (reader.conn_id, reader.records, reader.next_link, reader.max_pages) == (
        "shop_api",
        "data.items",
        "links.next",
        1000,
    )
    assert reader.plan(DAY) == {
        "path": "/v1/orders/2026-11-20",
        "params": {"status": "all", "since": "20261120", "limit": 100, "test": True},
    }
    assert reader.describe() == (
        "`GET /v1/orders/{date}?status=all&since={date:%Y%m%d}&limit=100&test=True` on "
        "`shop_api`, records at `data.items`, pages by `links.next`"
    )


def test_the_defaults() -> None:
    reader = HttpReader(path="/orders")
    assert (reader.conn_id, reader.params, reader.records) == ("recon_http", {}, None)
    assert (reader.next_link, reader.page_param) == (None, None)
    assert reader.plan(DAY) == {"path": "/orders", "params": {}}
    assert reader.describe() == "`GET /orders` on `recon_http`"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'path: "/v1/orders/{date}"',
            'path: "v1/orders?day={date}"',
            "left.http.path, line 6: `v1/orders?day={date}`: a path starts with `/` and has no "
            "query (use `params`)",
        ),
        (
            'path: "/v1/orders/{date}"',
            'path: "/v1/orders/{day}"',
            "left.http.path, line 6: `/v1/orders/{day}`: unknown placeholder `{day}`",
        ),
        (
            "records: data.items",
            "records: data..items",
            "left.http.records, line 8: `data..items` is not keys joined by dots",
        ),
        (
            "next_link: links.next",
            "next_link: links.next\n    page_param: page",
            "left.http, line 5: page by `next_link` or by `page_param`, not both",
        ),
        (
            "    records: data.items\n",
            "",
            "left.http, line 5: with `next_link`, say where the records are (`records:`)",
        ),
        (
            "next_link: links.next",
            "page_param: limit",
            "left.http, line 5: `limit` is the page parameter: drop it from `params`",
        ),
        (
            "    next_link: links.next\n",
            "    next_link: links.next\n    max_pages: 0\n",
            "left.http.max_pages, line 10: Input should be greater than or equal to 1",
        ),
        (
            "limit: 100",
            "limit: [1, 2], sort: {by: id}",
            "left.http.params, line 7: `limit`, `sort`: a query parameter is a text, a number "
            "or true/false",
        ),
        (
            "conn_id: shop_api",
            "conn: shop_api",
            "left.http.conn, line 5: unknown setting `conn` (did you mean `conn_id`?)",
        ),
    ],
    ids=[
        "relative-path",
        "placeholder",
        "records",
        "two-pagings",
        "link-without-records",
        "page-in-params",
        "max-pages",
        "param-value",
        "unknown-setting",
    ],
)
def test_mistakes_are_located_with_their_words(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    found = problems(tmp_path, old, new)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_placeholder_mistakes_in_params_are_located_each(tmp_path: Path) -> None:
    found = problems(tmp_path, 'since: "{date:%Y%m%d}"', 'since: "{dat}", until: "{date:Y}"')
    assert [p.split(": ", 1)[0] for p in found] == [
        "left.http.params.since, line 7",
        "left.http.params.until, line 7",
    ]
    assert "unknown placeholder `{dat}` (did you mean `date`?" in found[0]


def test_a_side_names_the_http_kind_among_the_readers(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, "  sql: {query: orders_ledger.sql}\n", "")
    assert "needs exactly one reader of s3, sftp, sql, mongo, http; found none" in found


# reading answers ---------------------------------------------------------------------------


def test_records_and_next_link_are_found_by_their_keys() -> None:
    answer = {"data": {"items": [{"id": 1}, {"id": 2}]}, "links": {"next": "/p?c=2"}}
    assert page_records(answer, "data.items") == [{"id": 1}, {"id": 2}]
    assert page_records([{"id": 1}], None) == [{"id": 1}]
    assert page_link(answer, "links.next") == "/p?c=2"
    for last in ({"links": {"next": None}}, {"links": {"next": ""}}, {"links": {}}, {}):
        assert page_link(last, "links.next") is None


@pytest.mark.parametrize(
    ("answer", "records", "words"),
    [
        ({"items": []}, "data.items", "no `data.items` in the answer: the answer has items"),
        ({"data": {"rows": []}}, "data.items", "no `data.items` in the answer: data has rows"),
        ({"data": "x"}, "data.items", "the answer: data has str 'x'"),
        ({"data": {"items": {"a": 1}}}, "data.items", "`data.items` is an object, not a list"),
        ({"data": [1]}, None, "the answer is an object, not a list of records"),
        ({"data": [1, "x"]}, "data", "record 1 of `data` is int 1, not an object"),
    ],
    ids=["missing", "missing-inside", "not-an-object", "not-a-list", "answer", "record"],
)
def test_an_answer_without_its_records_says_what_it_has(
    answer: object, records: str | None, words: str
) -> None:
    with pytest.raises(ValueError) as caught:
        page_records(answer, records)
    assert words in str(caught.value)


def test_a_next_link_that_is_no_url_is_refused() -> None:
    with pytest.raises(ValueError, match="the next link `next` is int 2, not a URL"):
        page_link({"next": 2}, "next")


def test_records_become_text_columns_in_first_seen_order() -> None:
    records = [
        {"id": 1, "amount": Decimal("100.10"), "paid": True},
        {"id": 2, "note": None, "amount": 7.5, "paid": False, "ref": "A-1"},
    ]
    assert record_columns(records, first_row=11) == {
        "id": ["1", "2"],
        "amount": ["100.10", "7.5"],
        "paid": ["true", "false"],
        "note": [None, None],
        "ref": [None, "A-1"],
    }
    assert at_keys({"a": {"b": [3]}}, "a.b") == [3]


@pytest.mark.parametrize(("value", "what"), [({"x": 1}, "an object"), ([1], "an array")])
def test_a_nested_value_is_refused_naming_its_row_and_field(value: object, what: str) -> None:
    with pytest.raises(ValueError, match=f"record 12, field `customer` holds {what}: "):
        record_columns([{"id": 1}, {"id": 2, "customer": value}], first_row=11)
