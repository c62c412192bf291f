"""Reports from one result: CSV, XLSX, HTML and JSON, safe against formulas and markup."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recon.errors import ReconError, SchemaError
from recon.reports import REPORT_FORMATS, write_reports
from recon.reports.chart import bar_chart
from recon.reports.safe import neutralize_formulas
from recon.reports.xlsx import write_xlsx

FIELDS = ("amount", "currency", "value_date")
SCHEMA: dict[str, pl.DataType] = {
    "txn_id": pl.String(),
    "status": pl.String(),
    "mismatched_fields": pl.List(pl.String()),
    "left_amount": pl.Float64(),
    "left_currency": pl.String(),
    "left_value_date": pl.Date(),
    "right_amount": pl.Float64(),
    "right_currency": pl.String(),
    "right_value_date": pl.Date(),
    "diff_amount": pl.Float64(),
    "diff_value_date": pl.Int64(),
    "left_rows": pl.UInt32(),
    "right_rows": pl.UInt32(),
    "side": pl.String(),
    "row": pl.Int64(),
    "reason": pl.String(),
    "break_amount": pl.Float64(),
}
DAY = dt.date(2026, 11, 20)


def result_row(txn_id: str | None, status: str, **values: Any) -> dict[str, Any]:
    """One results.parquet row per the contract, with the columns a status leaves empty."""
    row: dict[str, Any] = dict.fromkeys(SCHEMA)
    row.update(txn_id=txn_id, status=status, mismatched_fields=[], left_rows=0, right_rows=0)
    if status in ("matched", "mismatched", "left_only"):
        row.update(left_amount=10.0, left_currency="USD", left_value_date=DAY, left_rows=1)
    if status in ("matched", "mismatched", "right_only"):
        row.update(right_amount=10.0, right_currency="USD", right_value_date=DAY, right_rows=1)
    if status in ("matched", "mismatched"):
        row.update(diff_amount=0.0, diff_value_date=0)
    row["break_amount"] = {"left_only": 10.0, "right_only": 10.0}.get(status, 0.0)
    row.update(values)
    return row


def results_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SCHEMA, orient="row")


@pytest.fixture
def summary() -> dict[str, Any]:
    return {
        "recon": "stripe_vs_ledger",
        "labels": {"left": "processor", "right": "ledger"},
        "keys": ["txn_id"],
        "compare_fields": list(FIELDS),
        "amount_field": "amount",
        "inputs": {
            "left": {"path": "/data/stripe.csv", "rows": 9},
            "right": {"path": "/data/ledger.parquet", "rows": 7},
        },
        "counts": {
            "matched": 1,
            "mismatched": 3,
            "left_only": 1,
            "right_only": 1,
            "duplicate": 1,
            "invalid": 1,
        },
        "total_keys": 7,
        "breaks": 7,
        "break_rate": 0.875,
        "match_rate": 0.125,
        "match_rate_by_amount": 0.5,
        "totals": {"left_amount": 1234567.5, "right_amount": 1230000.25, "matched_amount": 10.0},
        "discrepancy_amount": 45678.9,
        "risk_level": "HIGH",
        "threshold_passed": False,
        "thresholds": {"max_break_rate": 0.001, "risk": {"medium": 0.005, "high": 0.02}},
        "mismatched_by_field": {"amount": 2, "currency": 1, "value_date": 1},
        "break_amount_by_status": {
            "mismatched": 1234.5,
            "left_only": 300.0,
            "right_only": 144.4,
            "duplicate": 0.0,
            "invalid": 0.0,
        },
        "row_conservation": {
            "ok": True,
            "left": {"input_rows": 9, "accounted": 9},
            "right": {"input_rows": 7, "accounted": 7},
        },
        "generated_at": "2026-11-21T12:00:00+00:00",
        "duration_seconds": 0.41,
    }


@pytest.fixture
def results() -> pl.DataFrame:
    """Every status once or more; formula-looking text where a spreadsheet would bite."""
    return results_frame(
        result_row("T-matched", "matched"),
        result_row(
            "=cmd|' /C calc'!A0",
            "mismatched",
            mismatched_fields=["amount", "currency"],
            left_amount=-5.0,
            right_amount=5.0,
            diff_amount=-10.0,
            left_currency="+1",
            right_currency="-1",
            break_amount=10.0,
        ),
        result_row(
            "T-date",
            "mismatched",
            mismatched_fields=["value_date"],
            right_value_date=DAY - dt.timedelta(days=3),
            diff_value_date=3,
            break_amount=0.0,
        ),
        result_row(
            "T-big",
            "mismatched",
            mismatched_fields=["amount"],
            left_amount=1500.0,
            right_amount=265.5,
            diff_amount=1234.5,
            break_amount=1234.5,
        ),
        result_row("@x", "left_only", left_amount=300.0, break_amount=300.0),
        result_row("T-right", "right_only", right_amount=144.4, break_amount=144.4),
        result_row(
            "T-dup", "duplicate", left_rows=2, side="left", row=4, reason="key repeated 2 times"
        ),
        result_row(
            None, "invalid", left_rows=1, side="left", row=9, reason="\tbad date '31/02/2026'"
        ),
    )


BREAK_ORDER = [  # break_amount desc, then key (nulls last)
    "T-big",
    "@x",
    "T-right",
    "=cmd|' /C calc'!A0",
    "T-date",
    "T-dup",
    None,
]


def read_breaks_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


# --- format selection ---------------------------------------------------------------------------


def test_writes_every_format_by_default(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    written = write_reports(results, summary, tmp_path / "out")

    assert list(written) == list(REPORT_FORMATS)
    assert {path.name for path in written.values()} == {
        "report.html",
        "breaks.csv",
        "report.xlsx",
        "report.json",
    }
    assert all(path.is_file() and path.parent == tmp_path / "out" for path in written.values())
    assert not list((tmp_path / "out").glob(".*partial*"))


def test_writes_only_the_chosen_formats(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    written = write_reports(results.lazy(), summary, tmp_path, ["json", "csv"])

    assert written == {"csv": tmp_path / "breaks.csv", "json": tmp_path / "report.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["breaks.csv", "report.json"]


def test_a_single_format_string_is_one_format(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    assert list(write_reports(results, summary, tmp_path, "csv")) == ["csv"]


@pytest.mark.parametrize(
    ("formats", "words"),
    [
        pytest.param(["xlsxx"], ["`xlsxx`", "did you mean `xlsx`?"], id="typo"),
        pytest.param(["pdf"], ["`pdf`", "choose from html, csv, xlsx, json"], id="unknown"),
        pytest.param(["htm", "jsn"], ["2 problems", "`htm`", "`jsn`"], id="all-at-once"),
    ],
)
def test_unknown_format_is_named(
    tmp_path: Path,
    results: pl.DataFrame,
    summary: dict[str, Any],
    formats: list[str],
    words: list[str],
) -> None:
    with pytest.raises(ReconError) as caught:
        write_reports(results, summary, tmp_path, formats)

    for word in words:
        assert word in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_results_without_status_are_refused(tmp_path: Path, summary: dict[str, Any]) -> None:
    with pytest.raises(SchemaError, match="no `status` column"):
        write_reports(pl.DataFrame({"txn_id": ["a"]}), summary, tmp_path)


def test_a_summary_with_no_optional_keys_still_reports(
    tmp_path: Path, results: pl.DataFrame
) -> None:
    written = write_reports(results, {}, tmp_path)

    html = written["html"].read_text()
    assert "left only" in html
    assert "right only" in html
    assert json.loads(written["json"].read_text())["summary"] == {}
    assert openpyxl.load_workbook(written["xlsx"]).sheetnames[0] == "Summary"


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_holds_exactly_the_breaks_largest_first(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    path = write_reports(results, summary, tmp_path, ["csv"])["csv"]
    breaks = read_breaks_csv(path)

    assert breaks.columns == results.columns
    assert "matched" not in breaks["status"].to_list()
    keys = [key.removeprefix("'") if key else key for key in breaks["txn_id"].to_list()]
    assert keys == BREAK_ORDER
    assert breaks.filter(pl.col("txn_id") == "T-big")["break_amount"].to_list() == ["1234.5"]


def test_csv_is_plain_header_then_rows(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    lines = write_reports(results, summary, tmp_path, ["csv"])["csv"].read_text().splitlines()

    assert lines[0] == ",".join(results.columns)
    assert len(lines) == 1 + 7


def test_csv_neutralises_formulas_but_keeps_numbers(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    breaks = read_breaks_csv(write_reports(results, summary, tmp_path, ["csv"])["csv"])
    row = breaks.filter(pl.col("status") == "mismatched").row(1, named=True)

    assert row["txn_id"] == "'=cmd|' /C calc'!A0"
    assert row["left_currency"] == "'+1"
    assert row["right_currency"] == "'-1"
    assert row["left_amount"] == "-5.0"  # a Float column: a number, not text to neutralise
    assert row["diff_amount"] == "-10.0"
    assert row["mismatched_fields"] == "amount|currency"
    assert "'@x" in breaks["txn_id"].to_list()
    invalid = breaks.filter(pl.col("status") == "invalid").row(0, named=True)
    assert invalid["reason"] == "'\tbad date '31/02/2026'"


def test_csv_with_no_breaks_has_only_the_header(tmp_path: Path, summary: dict[str, Any]) -> None:
    only_matched = results_frame(result_row("a", "matched"), result_row("b", "matched"))

    written = write_reports(only_matched, summary, tmp_path)

    assert written["csv"].read_text().splitlines() == [",".join(only_matched.columns)]
    assert "No breaks: every key matched." in written["html"].read_text()
    assert openpyxl.load_workbook(written["xlsx"]).sheetnames == ["Summary"]
    assert json.loads(written["json"].read_text())["breaks"] == []


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        pytest.param("=1+1", "'=1+1", id="equals"),
        pytest.param("+1", "'+1", id="plus"),
        pytest.param("-1", "'-1", id="minus"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage-return"),
        pytest.param("a=1", "a=1", id="inner-equals"),
        pytest.param("", "", id="empty"),
        pytest.param(None, None, id="null"),
    ],
)
def test_neutralize_formulas(text: str | None, safe: str | None) -> None:
    frame = pl.LazyFrame(
        {"text": [text], "number": [-5.0], "count": [-3]},
        schema={"text": pl.String, "number": pl.Float64, "count": pl.Int64},
    )

    assert_frame_equal(
        neutralize_formulas(frame).collect(),
        pl.DataFrame(
            {"text": [safe], "number": [-5.0], "count": [-3]},
            schema={"text": pl.String, "number": pl.Float64, "count": pl.Int64},
        ),
    )


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_has_summary_and_a_sheet_per_break_type(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    book = openpyxl.load_workbook(write_reports(results, summary, tmp_path, ["xlsx"])["xlsx"])

    assert book.sheetnames == [
        "Summary",
        "mismatched",
        "processor only",
        "ledger only",
        "duplicate",
        "invalid",
    ]
    rows = {name: book[name].max_row - 1 for name in book.sheetnames[1:]}
    assert rows == {
        "mismatched": 3,
        "processor only": 1,
        "ledger only": 1,
        "duplicate": 1,
        "invalid": 1,
    }


def test_xlsx_summary_sheet_labels_the_figures(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    sheet = openpyxl.load_workbook(write_reports(results, summary, tmp_path, ["xlsx"])["xlsx"])[
        "Summary"
    ]
    figures: dict[tuple[str, str], Any] = {}
    section = ""
    for label, value in sheet.iter_rows(min_row=2, values_only=True):
        if label and value is None:
            section = label
        elif label:
            figures[section, label] = value

    assert figures["Results", "processor only"] == 1
    assert figures["Results", "ledger only"] == 1
    assert figures["Break amount by type", "processor only"] == 300.0
    assert figures["Mismatched by field", "amount"] == 2
    assert sheet["A1"].value == "Reconciliation stripe_vs_ledger"
    assert figures["Results", "Match rate by amount"] == 0.5
    assert figures["Amounts", "processor amount"] == 1234567.5
    assert figures["Amounts", "Discrepancy amount"] == 45678.9
    assert figures["Risk", "Risk level"] == "HIGH"
    assert figures["Risk", "Threshold passed"] == "no"
    assert figures["Inputs", "processor file"] == "/data/stripe.csv"
    assert figures["Row conservation", "Every input row accounted for"] == "yes"
    assert figures["Run", "Generated at"] == "2026-11-21T12:00:00+00:00"


def test_xlsx_cells_keep_their_types(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    sheet = openpyxl.load_workbook(write_reports(results, summary, tmp_path, ["xlsx"])["xlsx"])[
        "mismatched"
    ]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]

    assert header[:5] == [
        "txn_id",
        "mismatched fields",
        "processor amount",
        "ledger amount",
        "amount difference",
    ]
    assert [row["txn_id"].value for row in rows] == ["T-big", "'=cmd|' /C calc'!A0", "T-date"]
    formula = rows[1]["txn_id"]
    assert formula.data_type == "s"
    assert formula.value.startswith("'")
    assert rows[1]["processor currency"].value == "'+1"
    assert rows[1]["processor amount"].data_type == "n"
    assert rows[1]["processor amount"].value == -5.0
    assert rows[2]["ledger value_date"].value == dt.datetime(2026, 11, 17)
    assert rows[2]["ledger value_date"].is_date
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}4"
    assert all(cell.font.b for cell in sheet[1])


def test_xlsx_splits_a_break_type_over_sheets(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    many = pl.concat(
        [
            results,
            results_frame(
                *(
                    result_row(f"M{i}", "mismatched", mismatched_fields=["amount"], break_amount=i)
                    for i in range(1, 5)
                )
            ),
        ]
    )
    path = write_xlsx(many.lazy(), summary, tmp_path / "report.xlsx", max_rows_per_sheet=3)
    book = openpyxl.load_workbook(path)

    parts = ["mismatched", "mismatched (2)", "mismatched (3)", "mismatched (4)"]
    assert [name for name in book.sheetnames if name.startswith("mismatched")] == parts
    keys = [row[0] for name in parts for row in book[name].iter_rows(min_row=2, values_only=True)]
    assert keys == ["T-big", "'=cmd|' /C calc'!A0", "M4", "M3", "M2", "M1", "T-date"]
    assert [book[name].max_row for name in parts] == [3, 3, 3, 2]
    assert all(book[name]["A1"].value == "txn_id" for name in parts)


def test_xlsx_sheet_names_are_valid_and_unique(tmp_path: Path, results: pl.DataFrame) -> None:
    summary = {"labels": {"left": "EU/[card]: settlements*? feed 2026", "right": "ledger"}}
    many = pl.concat(
        [results, results_frame(result_row("X2", "left_only"), result_row("X3", "left_only"))]
    )
    path = write_xlsx(many.lazy(), summary, tmp_path / "report.xlsx", max_rows_per_sheet=2)
    names = openpyxl.load_workbook(path).sheetnames

    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in names)
    assert len({name.lower() for name in names}) == len(names)
    assert [name for name in names if name.startswith("EU")] == [
        "EU__card__ settlements__ feed 2",
        "EU__card__ settlements__ fe (2)",
        "EU__card__ settlements__ fe (3)",
    ]


def test_xlsx_same_labels_fall_back_to_status_names(tmp_path: Path, results: pl.DataFrame) -> None:
    summary = {"labels": {"left": "ledger", "right": "Ledger"}}
    names = openpyxl.load_workbook(
        write_xlsx(results.lazy(), summary, tmp_path / "r.xlsx")
    ).sheetnames

    assert names[2:4] == ["ledger only", "right_only"]


def test_xlsx_refuses_a_row_limit_without_room_for_data(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    with pytest.raises(ReconError, match="max_rows_per_sheet"):
        write_xlsx(results.lazy(), summary, tmp_path / "r.xlsx", max_rows_per_sheet=1)


# --- HTML ---------------------------------------------------------------------------------------


def test_html_shows_counts_labels_and_charts(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    html = write_reports(results, summary, tmp_path, ["html", "csv"])["html"].read_text()

    assert "<h1>stripe_vs_ledger</h1>" in html
    assert "processor vs ledger" in html
    assert "/data/stripe.csv (9 rows)" in html
    assert "processor only" in html and "ledger only" in html
    assert "1,234,567.50" not in html  # totals belong to the XLSX summary, not the cards
    assert "45,678.90" in html
    assert "12.50%" in html and "50.00%" in html
    assert 'class="card risk-high"' in html
    assert 'class="card verdict-failed"' in html
    assert html.count("<svg") == 2
    assert "Breaks by type" in html and "Break amount by type" in html
    assert "1,234.50" in html
    assert "<td>value_date</td>" in html
    assert html.count('<tr class="break">') == 7
    assert "all 7 breaks" in html
    assert "full list in" not in html
    assert "<script" not in html


def test_html_highlights_the_differing_fields(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    html = write_reports(results, summary, tmp_path, ["html"])["html"].read_text()
    big = next(line for line in html.splitlines() if ">T-big<" in line)

    assert big.count('class="num hl"') == 3  # processor, ledger and difference of amount
    assert '<td class="num">' in big  # value_date diff: same on both sides, not highlighted
    assert "differs: amount" in big


def test_html_escapes_everything_from_the_data(tmp_path: Path, summary: dict[str, Any]) -> None:
    script = "<script>alert(1)</script>"
    summary = {
        **summary,
        "recon": script,
        "labels": {"left": script, "right": "ledger"},
        "counts": None,
        "mismatched_by_field": {script: 1},
        "break_amount_by_status": None,
    }
    frame = results_frame(
        result_row(script, "left_only", left_currency=script),
        result_row("d", "duplicate", side="left", row=2, reason=script),
    )

    html = write_reports(frame, summary, tmp_path, ["html"])["html"].read_text()

    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    svg = html[html.index("<svg") : html.rindex("</svg>")]
    assert "&lt;script&gt;" in svg  # the side label inside the chart


def test_html_says_where_the_rest_is_when_truncated(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    html = write_reports(results, summary, tmp_path, html_top_n=2)["html"].read_text()

    assert html.count('<tr class="break">') == 2
    assert (
        'showing the 2 largest of 7 breaks — full list in <a href="breaks.csv">breaks.csv</a>'
        in html
    )


def test_bar_chart_escapes_and_scales() -> None:
    svg = str(bar_chart([("<b>&", 2.0), ("half", 1.0), ("nan", math.nan)], "a < b", ",.1f"))

    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg
    assert "a &lt; b" in svg
    assert svg.count("<rect") == 3
    assert 'width="320.0"' in svg and 'width="160.0"' in svg and 'width="0.0"' in svg
    assert ">2.0<" in svg


def test_bar_chart_with_nothing_to_show() -> None:
    assert "nothing to show" in bar_chart([], "empty", ",.0f")


# --- JSON ---------------------------------------------------------------------------------------


def test_json_is_strict_with_summary_and_top_breaks(
    tmp_path: Path, results: pl.DataFrame, summary: dict[str, Any]
) -> None:
    frame = results.with_columns(
        pl.when(pl.col("txn_id") == "T-dup")
        .then(float("nan"))
        .otherwise(pl.col("left_amount"))
        .alias("left_amount")
    )
    summary = {**summary, "match_rate": float("nan"), "totals": {"left_amount": float("inf")}}

    text = write_reports(frame, summary, tmp_path, ["json"], html_top_n=5)["json"].read_text()
    document = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))

    assert document["summary"]["recon"] == "stripe_vs_ledger"
    assert document["summary"]["match_rate"] is None
    assert document["summary"]["totals"] == {"left_amount": None}
    assert document["breaks_total"] == 7
    assert [row["txn_id"] for row in document["breaks"]] == BREAK_ORDER[:5]
    mismatched = document["breaks"][3]
    assert mismatched["left_currency"] == "+1"  # machines get the data as it is
    assert mismatched["mismatched_fields"] == ["amount", "currency"]
    assert mismatched["left_value_date"] == "2026-11-20"


def test_json_nan_in_data_becomes_null(tmp_path: Path, summary: dict[str, Any]) -> None:
    frame = results_frame(result_row("n", "left_only", left_amount=float("nan"), break_amount=1.0))

    document = json.loads(write_reports(frame, summary, tmp_path, ["json"])["json"].read_text())

    assert document["breaks"][0]["left_amount"] is None


# --- scale --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_many_breaks_stream_to_csv_and_only_the_top_reach_html(
    tmp_path: Path, summary: dict[str, Any]
) -> None:
    n = 200_000
    ids = pl.int_range(0, n, eager=True)
    frame = pl.DataFrame(
        {
            "txn_id": ids.cast(pl.String).str.zfill(7),
            "status": pl.Series(["left_only", "right_only", "mismatched"])
            .gather(ids % 3)
            .alias("status"),
            "mismatched_fields": pl.Series([[]] * n, dtype=pl.List(pl.String)),
            "left_amount": (ids % 9973).cast(pl.Float64),
            "right_amount": pl.Series([None] * n, dtype=pl.Float64),
            "left_rows": pl.Series([1] * n, dtype=pl.UInt32),
            "right_rows": pl.Series([0] * n, dtype=pl.UInt32),
            "break_amount": (ids % 9973).cast(pl.Float64),
        }
    ).lazy()
    summary = {**summary, "counts": None, "compare_fields": ["amount"]}

    written = write_reports(frame, summary, tmp_path, ["html", "csv", "json"])

    html = written["html"].read_text()
    assert html.count('<tr class="break">') == 1000
    assert "showing the 1,000 largest of 200,000 breaks — full list in" in html
    csv = pl.scan_csv(written["csv"]).select(pl.len(), pl.col("break_amount").first()).collect()
    assert csv.row(0) == (n, 9972.0)
    assert len(json.loads(written["json"].read_text())["breaks"]) == 1000


def test_a_failed_csv_write_is_an_os_error_with_its_errno(tmp_path: Path) -> None:
    from recon.reports.csv import _with_errno

    error = _with_errno(OSError("File too large (os error 27)"), tmp_path / "breaks.csv")

    assert (error.errno, error.strerror, error.filename) == (
        27,
        "File too large",
        str(tmp_path / "breaks.csv"),
    )
