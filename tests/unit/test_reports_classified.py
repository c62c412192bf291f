"""Reports of a classified (payments) result: breaks grouped and named by ``break_type``, and a
financial impact section, per the contract in recon.reports.labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from recon.engine.reconcile import reconcile
from recon.errors import SchemaError
from recon.reports import write_reports
from recon.reports.xlsx import write_xlsx
from worlds.classified import BREAK_TYPE_ORDER, payments_spec

SCRIPT = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"
ORDER = list(BREAK_TYPE_ORDER)
LABELS = {value: value.replace("_", " ") for value in ORDER}
# key -> break type, as the payments pipeline would classify these rows
BREAK_TYPES = {
    "P1": "matched",
    "P2": "timing",  # matched by the core: settled after midnight, inside the window
    "P3": "amount",
    "P4": "missing_in_ledger",
    "P7": "missing_in_ledger",
    FORMULA: "currency",
    SCRIPT: "missing_at_processor",
}
FX = {"USD": 1.0, "EUR": 1.1}  # no JPY rate: P7's impact is unknown
FINANCIAL_IMPACT = {
    "reporting_currency": "USD",
    "volume": 1234567.89,
    "discrepancy_amount": 2345.67,
    "discrepancy_rate": 0.0019,
    "break_rate": 0.012,
    "risk_level": "LOW",
    "compliance_status": "NON_COMPLIANT",
    "compliance_failures": ["break rate 1.20% is over the 1.00% limit"],
    "by_currency": {
        "USD": {
            "transactions": 900,
            "volume": 98765.43,
            "discrepancy_amount": 12.5,
            "discrepancy_rate": 0.000127,
        },
        "EUR": {
            "transactions": 12,
            "volume": 4321.0,
            "discrepancy_amount": 30.0,
            "discrepancy_rate": 0.0069,
        },
    },
    "unconverted": ["JPY"],
}
SHEETS = {  # sheet -> rows: a sheet per break type present, in the classification's order
    "missing at processor": 1,
    "missing in ledger": 2,
    "amount": 1,
    "currency": 1,
    "timing": 1,
}


def classified_result() -> tuple[pl.DataFrame, dict[str, Any]]:
    """A payments partition by hand: the core's result plus break_type, currency, impact."""
    spec = payments_spec("payments_demo", "txn_id", abs_tol=0.01)
    processor = pl.LazyFrame(
        {
            "txn_id": ["P1", "P2", "P3", "P4", "P7", FORMULA],
            "amount": [100.0, 20.0, 50.0, 30.0, 900.0, 8.0],
            "currency": ["USD", "USD", "USD", "EUR", "JPY", "USD"],
        }
    )
    ledger = pl.LazyFrame(
        {
            "txn_id": ["P1", "P2", "P3", FORMULA, SCRIPT],
            "amount": [100.0, 20.0, 45.0, 8.0, 7.0],
            "currency": ["USD", "USD", "USD", "EUR", "USD"],
        }
    )
    result = reconcile(processor, ledger, spec)
    frame = result.results.with_columns(
        pl.col("txn_id").replace_strict(BREAK_TYPES, return_dtype=pl.String).alias("break_type"),
        pl.coalesce("right_currency", "left_currency").alias("currency"),
    ).with_columns(
        (
            pl.col("break_amount")
            * pl.col("currency").replace_strict(FX, default=None, return_dtype=pl.Float64)
        ).alias("impact_amount")
    )
    per_type = frame.group_by("break_type").agg(pl.len(), pl.col("break_amount").sum())
    counts = dict(zip(per_type["break_type"], per_type["len"], strict=True))
    amounts = dict(zip(per_type["break_type"], per_type["break_amount"], strict=True))
    summary = {
        **result.summary,
        "classification": {
            "column": "break_type",
            "matched": "matched",
            "order": ORDER,
            "labels": LABELS,
            "counts": {value: counts.get(value, 0) for value in ["matched", *ORDER]},
            "amounts": {value: amounts.get(value, 0.0) for value in ORDER},
            "breaks": frame.height - counts["matched"],
        },
        "financial_impact": FINANCIAL_IMPACT,
        "risk_level": FINANCIAL_IMPACT["risk_level"],  # the core keys follow the impact
        "threshold_passed": False,
        "thresholds": {
            "max_break_rate": 0.01,
            "max_discrepancy_rate": 0.005,
            "high_value_amount": 1000.0,
            "risk": {"medium": 0.02, "high": 0.05},
        },
    }
    return frame, summary


@pytest.fixture(scope="module")
def classified() -> tuple[pl.DataFrame, dict[str, Any]]:
    return classified_result()


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory, classified: tuple[pl.DataFrame, dict[str, Any]]
) -> dict[str, Path]:
    frame, summary = classified
    return write_reports(frame, summary, tmp_path_factory.mktemp("classified"))


def test_the_hand_built_result_has_a_timing_row_the_core_matched(
    classified: tuple[pl.DataFrame, dict[str, Any]],
) -> None:
    frame, summary = classified

    timing = frame.filter(pl.col("break_type") == "timing").row(0, named=True)
    assert (timing["txn_id"], timing["status"], timing["break_amount"]) == ("P2", "matched", 0.0)
    assert summary["classification"]["breaks"] == 6
    assert summary["breaks"] == 5  # the core's breaks leave the timing row out


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_has_a_sheet_per_break_type_named_by_its_label(written: dict[str, Path]) -> None:
    sheets = pl.read_excel(written["xlsx"], sheet_id=0)

    assert list(sheets) == ["Summary", *SHEETS]
    assert {name: sheets[name].height for name in SHEETS} == SHEETS
    missing = sheets["missing in ledger"]
    # largest impact (USD) first; P7's is unknown (no JPY rate), so it comes last
    assert missing["txn_id"].to_list() == ["P4", "P7"]
    assert "break type" not in missing.columns  # the sheet's name says it
    assert missing["match status"].to_list() == ["left_only", "left_only"]
    assert missing["impact amount"].to_list() == [pytest.approx(33.0), None]


def test_xlsx_lists_the_timing_row(written: dict[str, Path]) -> None:
    timing = pl.read_excel(written["xlsx"], sheet_name="timing")

    assert timing.select("txn_id", "match status", "break amount").rows() == [
        ("P2", "matched", 0.0)
    ]


def test_xlsx_neutralises_formulas_on_break_type_sheets(written: dict[str, Path]) -> None:
    currency = pl.read_excel(written["xlsx"], sheet_name="currency")

    assert currency["txn_id"].to_list() == [f"'{FORMULA}"]
    assert currency["mismatched fields"].to_list() == ["currency"]


def test_xlsx_splits_a_break_type_at_the_row_limit(
    tmp_path: Path, classified: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    frame, summary = classified
    path = write_xlsx(frame.lazy(), summary, tmp_path / "report.xlsx", max_rows_per_sheet=2)
    sheets = pl.read_excel(path, sheet_id=0)

    assert list(sheets) == [
        "Summary",
        "missing at processor",
        "missing in ledger",
        "missing in ledger (2)",
        "amount",
        "currency",
        "timing",
    ]
    assert [sheets[name]["txn_id"].to_list() for name in list(sheets)[2:4]] == [["P4"], ["P7"]]


def test_xlsx_summary_has_break_types_and_the_financial_impact(written: dict[str, Path]) -> None:
    cells = pl.read_excel(
        written["xlsx"], sheet_name="Summary", has_header=False, infer_schema_length=0
    )
    rows = [tuple(value for value in row if value is not None) for row in cells.rows()]
    sections: dict[str, dict[str, str]] = {}
    section = ""
    for row in rows:
        if len(row) == 1:
            section = row[0]
            sections[section] = {}
        elif len(row) == 2:
            sections[section][row[0]] = row[1]

    assert sections["Break types"]["timing"] == "1"
    assert sections["Break types"]["missing in ledger"] == "2"
    assert sections["Break types"]["matched"] == "1"
    assert sections["Break types"]["Breaks by type"] == "6"
    assert sections["Results"]["processor only"] == "2"  # the core's statuses still counted
    assert sections["Break amount by type"]["missing in ledger"] == "930"
    assert float(sections["Impact by type (USD)"]["missing in ledger"]) == pytest.approx(33.0)
    impact = sections["Financial impact"]
    assert impact["Reporting currency"] == "USD"
    assert impact["Volume (USD)"] == "1234567.89"
    assert impact["Discrepancy amount (USD)"] == "2345.67"
    assert impact["Discrepancy rate"] == "0.0019"
    assert impact["Compliance status"] == "NON_COMPLIANT"
    assert impact["Compliance failure"] == "break rate 1.20% is over the 1.00% limit"
    assert impact["Currencies without an fx rate"] == "JPY"
    table = rows[rows.index(("Financial impact by currency",)) + 1 :]
    assert table[:3] == [
        ("Currency", "Transactions", "Volume", "Discrepancy amount", "Discrepancy rate"),
        ("USD", "900", "98765.43", "12.5", "0.000127"),
        ("EUR", "12", "4321", "30", "0.0069"),
    ]


# --- HTML ---------------------------------------------------------------------------------------


def test_html_groups_breaks_by_type_with_labels(written: dict[str, Path]) -> None:
    html = written["html"].read_text()

    assert html.count('<tr class="break">') == 6
    assert "all 6 breaks" in html
    for label in ("missing at processor", "missing in ledger", "timing", "fee mismatch"):
        assert f"<title>{label}: " in html  # a bar in the chart, zeros included
    start = html.index('<table class="overview">')
    overview = html[start : html.index("</table>", start)]
    assert "<th>impact (USD)</th>" in overview
    assert '<td class="badge status-missing_in_ledger">missing in ledger</td>' in overview
    assert '<td class="num">2</td><td class="num">33.33%</td><td class="num">930.00</td>' in (
        overview
    )
    assert '<th rowspan="2">break type</th>' in html


def test_html_lists_the_timing_row_the_core_matched(written: dict[str, Path]) -> None:
    html = written["html"].read_text()
    timing = next(line for line in html.splitlines() if ">P2<" in line)

    assert '<td class="badge status-timing">timing</td>' in timing
    assert "match status: matched" in timing


def test_html_shows_the_financial_impact(written: dict[str, Path]) -> None:
    html = written["html"].read_text()
    impact = html[html.index("<h2>Financial impact</h2>") : html.index("Breaks at a glance")]

    for figure in ("USD", "1,234,567.89", "2,345.67", "0.19%", "1.20%", "limit 0.50%"):
        assert figure in impact
    assert 'class="card risk-low"' in impact
    assert 'class="card verdict-failed"' in impact and "NON_COMPLIANT" in impact
    assert "<li>break rate 1.20% is over the 1.00% limit</li>" in impact
    assert (
        '<tr><td>EUR</td><td class="num">12</td><td class="num">4,321.00</td>'
        '<td class="num">30.00</td><td class="num">0.69%</td></tr>'
    ) in impact
    assert "No fx rate for JPY" in impact


def test_html_escapes_a_planted_key(written: dict[str, Path]) -> None:
    html = written["html"].read_text()

    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_escapes_the_classification_and_impact_words(
    tmp_path: Path, classified: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    frame, summary = classified
    classification = {**summary["classification"], "labels": {**LABELS, "timing": SCRIPT}}
    impact = {**FINANCIAL_IMPACT, "reporting_currency": SCRIPT, "compliance_failures": [SCRIPT]}
    summary = {**summary, "classification": classification, "financial_impact": impact}

    html = write_reports(frame, summary, tmp_path, ["html"])["html"].read_text()

    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_lists_break_rows_with_their_break_type(
    written: dict[str, Path], classified: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    breaks = pl.read_csv(written["csv"], infer_schema=False)

    assert breaks.columns == classified[0].columns
    assert sorted(breaks.select("txn_id", "break_type", "status").rows()) == sorted(
        [
            ("P4", "missing_in_ledger", "left_only"),
            ("P7", "missing_in_ledger", "left_only"),
            (f"'{FORMULA}", "currency", "mismatched"),
            (SCRIPT, "missing_at_processor", "right_only"),
            ("P3", "amount", "mismatched"),
            ("P2", "timing", "matched"),  # listed: a break by type, though the core matched it
        ]
    )
    # largest money at stake in USD first; unknown impact (no fx rate) last
    impacts = [None if v is None else float(v) for v in breaks["impact_amount"].to_list()]
    known = [v for v in impacts if v is not None]
    assert known == sorted(known, reverse=True)
    assert impacts == known + [None] * (len(impacts) - len(known))


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trips_classification_and_financial_impact(
    written: dict[str, Path], classified: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    _, summary = classified
    document = json.loads(written["json"].read_text())

    assert document["classification"] == summary["classification"]
    assert document["financial_impact"] == FINANCIAL_IMPACT
    assert document["summary"]["classification"] == summary["classification"]
    assert document["summary"]["financial_impact"] == FINANCIAL_IMPACT
    assert document["breaks_total"] == 6


def test_json_groups_and_labels_breaks_by_type(written: dict[str, Path]) -> None:
    by_type = json.loads(written["json"].read_text())["breaks_by_type"]

    assert [group["type"] for group in by_type] == ORDER
    groups = {group["type"]: group for group in by_type}
    assert groups["missing_in_ledger"]["label"] == "missing in ledger"
    assert groups["missing_in_ledger"]["rows"] == 2
    assert groups["missing_in_ledger"]["break_amount"] == 930.0
    assert [row["txn_id"] for row in groups["missing_in_ledger"]["breaks"]] == ["P4", "P7"]
    assert [row["status"] for row in groups["timing"]["breaks"]] == ["matched"]
    assert groups["currency"]["breaks"][0]["txn_id"] == FORMULA  # machines get the data as is
    assert groups["fee_mismatch"] == {
        "type": "fee_mismatch",
        "label": "fee mismatch",
        "rows": 0,
        "break_amount": 0.0,
        "breaks": [],
    }


# --- the classification stays optional ------------------------------------------------------------


def test_without_classification_breaks_are_grouped_by_core_status(
    tmp_path: Path, classified: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    frame, summary = classified
    core = {k: v for k, v in summary.items() if k not in ("classification", "financial_impact")}

    written = write_reports(frame, core, tmp_path)

    assert list(pl.read_excel(written["xlsx"], sheet_id=0)) == [
        "Summary",
        "mismatched",
        "processor only",
        "ledger only",
    ]
    assert pl.read_csv(written["csv"], infer_schema=False)["txn_id"].len() == 5
    html = written["html"].read_text()
    assert "Financial impact" not in html and "timing" not in html
    assert "breaks_by_type" not in json.loads(written["json"].read_text())


def test_a_classification_needs_its_column(
    tmp_path: Path, classified: tuple[pl.DataFrame, dict[str, Any]]
) -> None:
    frame, summary = classified

    with pytest.raises(SchemaError) as caught:
        write_reports(frame.drop("break_type"), summary, tmp_path)

    assert "no `break_type` column" in str(caught.value)
    assert "classification" in str(caught.value)
    assert not list(tmp_path.iterdir())
