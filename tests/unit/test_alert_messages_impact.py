"""The run summary of a classified recon: financial impact, break types, compliance.

A payments summary carries ``classification`` and ``financial_impact`` (see the payments
contract); the email and Slack message show them per source, the combined ``ALL`` source
included, while a summary without them (AUM) renders exactly as before.
"""

from __future__ import annotations

from typing import Any

import pytest

from recon_airflow.notifiers.messages import needs_alert, summary_email, summary_slack
from recon_airflow.outcome import Outcome
from worlds.classified import BREAK_TYPE_ORDER
from worlds.outcomes import CAMS_F1_BREAK, CAMS_XLSX_LINK, DATE, aum_source

RECON = "payments_recon"
ORDER = list(BREAK_TYPE_ORDER)
LABELS = {kind: kind.replace("_", " ") for kind in ORDER} | {
    "missing_at_processor": "missing at processor",
    "missing_in_ledger": "missing in ledger",
}
LIMIT_FAILURE = "break rate 1.60% is over the 1.00% limit"


def link(source: str) -> str:
    return f"https://s3.example.test/recon-reports/{source}/report.html?X-Amz-Signature=ab&x=1"


def payments(
    source: str,
    types: dict[str, int],
    *,
    volume: float = 1_234_567.89,
    discrepancy: float = 2345.67,
    failures: tuple[str, ...] = (),
    risk: str = "LOW",
    unconverted: tuple[str, ...] = (),
    impact: bool = True,
    classified: bool = True,
) -> Outcome:
    """A classified source of 1,000 payments: ``types`` are its breaks by type (timing too)."""
    counts = dict.fromkeys(ORDER, 0) | types
    breaks = sum(counts.values())
    core = breaks - counts["timing"]  # a timing break is a matched key settled late
    compliant = not failures
    summary: dict[str, Any] = {
        "labels": {"left": "processor", "right": "ledger"},
        "counts": {
            "matched": 1000 - core,
            "mismatched": core,
            "left_only": 0,
            "right_only": 0,
            "duplicate": 0,
            "invalid": 0,
        },
        "total_keys": 1000,
        "records": 1000,
        "breaks": core,
        "break_rate": core / 1000,
        "discrepancy_amount": 9999.0,  # native amounts summed: the impact's figure is the one
        "risk_level": risk,
        "threshold_passed": compliant,
    }
    if classified:
        summary["classification"] = {
            "column": "break_type",
            "matched": "matched",
            "order": ORDER,
            "labels": LABELS,
            "counts": {"matched": 1000 - breaks, **counts},
            "amounts": dict.fromkeys(ORDER, 0.0),
            "breaks": breaks,
        }
    if impact:
        summary["financial_impact"] = {
            "reporting_currency": "USD",
            "volume": volume,
            "discrepancy_amount": discrepancy,
            "discrepancy_rate": discrepancy / volume,
            "break_rate": core / 1000,
            "risk_level": risk,
            "compliance_status": "COMPLIANT" if compliant else "NON_COMPLIANT",
            "compliance_failures": list(failures),
            "by_currency": {},
            "unconverted": list(unconverted),
        }
    return Outcome(
        recon=RECON,
        source=source,
        business_date=DATE,
        spec="payments",
        labels={"left": "processor", "right": "ledger"},
        keys=["payment_id"],
        amount_field="amount",
        result_dir=f"/srv/recon/{source}",
        inputs={},
        reports={"html": f"/srv/recon/{source}/report.html"},
        report_links={"html": link(source)},
        summary=summary,
        started_at="",
        finished_at="",
    )


def stripe(**kwargs: Any) -> Outcome:
    types = {"missing_in_ledger": 12, "amount": 3, "fee_mismatch": 1, "timing": 5}
    return payments("STRIPE", types, failures=(LIMIT_FAILURE,), risk="HIGH", **kwargs)


def run() -> list[Outcome]:
    """STRIPE not compliant, PAYPAL compliant with late settlements only, and ALL of them."""
    return [
        stripe(),
        payments("PAYPAL", {"timing": 2}, volume=5000.0, discrepancy=0.0),
        payments(
            "ALL",
            {"missing_in_ledger": 12, "amount": 3, "fee_mismatch": 1, "timing": 7},
            volume=1_239_567.89,
            failures=(LIMIT_FAILURE,),
            risk="HIGH",
        ),
    ]


def row_of(html: str, source: str) -> str:
    start = html.index(f"<td><b>{source}</b></td>")
    return html[start : html.index("</tr>", start)]


# --- email ------------------------------------------------------------------------------------


def test_email_shows_each_sources_financial_impact_and_compliance() -> None:
    _, html = summary_email(run(), recon=RECON, business_date=DATE)

    for header in ("Volume", "Discrepancy", "Discrepancy rate", "Break rate", "Compliance"):
        assert f">{header}</th>" in html
    cams = row_of(html, "STRIPE")
    for figure in ("1,000", "979", "16", "1,234,567.89 USD", "2,345.67 USD", "0.19%", "1.60%"):
        assert f">{figure}</td>" in cams
    assert "<b>HIGH</b>" in cams and ">NON_COMPLIANT</b>" in cams
    assert ">COMPLIANT</td>" in row_of(html, "PAYPAL")
    assert ">1,239,567.89 USD</td>" in row_of(html, "ALL")
    assert "9,999.00" not in html  # the native sum is not the discrepancy in USD
    assert f"<li><b>STRIPE</b>: {LIMIT_FAILURE}</li>" in html
    assert f"<li><b>ALL</b>: {LIMIT_FAILURE}</li>" in html
    # timing (listed by type) is no break: 16 of STRIPE's 21 classified rows, none of PAYPAL's
    assert "<p>16 breaks; NON_COMPLIANT: STRIPE, ALL.</p>" in html


def test_email_counts_breaks_by_type_in_order_with_labels_and_no_zeros() -> None:
    _, html = summary_email(run(), recon=RECON, business_date=DATE)

    assert "<td>missing in ledger: 12<br>amount: 3<br>fee mismatch: 1<br>timing: 5</td>" in row_of(
        html, "STRIPE"
    )
    assert "<td>timing: 2</td>" in row_of(html, "PAYPAL")
    # the break types replace the core status counts
    assert ">Mismatched</th>" not in html and "processor only" not in html
    assert "currency: 0" not in html and "missing at processor" not in html


def test_email_links_every_sources_reports_the_combined_one_too() -> None:
    _, html = summary_email(run(), recon=RECON, business_date=DATE)

    for source in ("STRIPE", "PAYPAL", "ALL"):
        assert f'<a href="{link(source).replace("&", "&amp;")}">{source} html</a>' in html


def test_email_says_which_currencies_had_no_exchange_rate() -> None:
    _, html = summary_email(
        [payments("PAYPAL", {}, unconverted=("JPY", "KRW"))], recon=RECON, business_date=DATE
    )

    assert "PAYPAL: no exchange rate for JPY, KRW" in html


def test_the_largest_breaks_say_their_break_type() -> None:
    top = {
        "STRIPE": [
            {
                "payment_id": "pi_1",
                "status": "right_only",
                "break_type": "missing_at_processor",
                "right_amount": 120.0,
                "break_amount": 120.0,
            }
        ]
    }
    _, html = summary_email([stripe()], recon=RECON, business_date=DATE, top_breaks=top)

    assert "<td>pi_1</td><td>missing at processor</td><td>amount</td>" in html


@pytest.mark.parametrize(
    ("outcomes", "subject"),
    [
        (
            run(),
            f"[recon] {RECON} {DATE}: 16 breaks (STRIPE 16) — HIGH — NON_COMPLIANT (STRIPE, ALL)",
        ),
        (
            [payments("PAYPAL", {"timing": 2}), payments("SQUARE", {})],
            f"[recon] {RECON} {DATE}: all matched",  # late settlements are no breaks
        ),
        ([payments("SQUARE", {})], f"[recon] {RECON} {DATE}: all matched"),
        (
            [payments("SQUARE", {}, failures=("discrepancy rate over the limit",))],
            f"[recon] {RECON} {DATE}: all matched — NON_COMPLIANT (SQUARE)",
        ),
    ],
    ids=["non-compliant", "timing-breaks-only", "all-matched", "non-compliant-without-breaks"],
)
def test_subject_counts_breaks_by_type_and_names_non_compliant_sources(
    outcomes: list[Outcome], subject: str
) -> None:
    assert summary_email(outcomes, recon=RECON, business_date=DATE)[0] == subject


def test_a_classified_source_without_financial_impact_shows_its_break_types() -> None:
    _, html = summary_email(
        [payments("SQUARE", {"amount": 4}, impact=False)], recon=RECON, business_date=DATE
    )

    row = row_of(html, "SQUARE")
    assert "<td>amount: 4</td>" in row
    assert ">9,999.00</td>" in row and ">passed</td>" in row  # the core figures stand in


def test_a_financial_impact_without_classification_shows_the_core_breaks() -> None:
    outcome = payments("SQUARE", {"amount": 4}, classified=False)
    subject, html = summary_email([outcome], recon=RECON, business_date=DATE)

    assert "<td>mismatched: 4</td>" in row_of(html, "SQUARE")
    assert ">2,345.67 USD</td>" in row_of(html, "SQUARE")
    assert subject.endswith(": 4 breaks (SQUARE 4) — LOW")


def test_odd_values_in_the_impact_show_as_dashes() -> None:
    outcome = payments("SQUARE", {"amount": 1})
    outcome["summary"]["financial_impact"].update(
        volume=None, discrepancy_rate=float("nan"), compliance_failures=None
    )
    outcome["summary"]["classification"]["labels"] = None

    _, html = summary_email([outcome], recon=RECON, business_date=DATE)
    text = summary_slack([outcome], recon=RECON, business_date=DATE)

    assert ">—</td>" in row_of(html, "SQUARE") and "<td>amount: 1</td>" in html
    assert "(— of — volume)" in text


# --- Slack ------------------------------------------------------------------------------------


def test_slack_gives_each_source_its_compliance_risk_discrepancy_and_top_break_types() -> None:
    outcomes = run()
    assert needs_alert(outcomes)

    lines = summary_slack(outcomes, recon=RECON, business_date=DATE).splitlines()

    assert lines[0] == (
        f":rotating_light: *[recon] {RECON} {DATE}: 16 breaks (STRIPE 16) — HIGH "
        "— NON_COMPLIANT (STRIPE, ALL)*"
    )
    assert lines[1] == (
        "• *STRIPE*: NON_COMPLIANT, HIGH risk — discrepancy 2,345.67 USD "
        "(0.19% of 1,234,567.89 USD volume), break rate 1.60% — 16 breaks, by type: "
        "12 missing in ledger, 5 timing, 3 amount (+1 more type) — "
        f"<{link('STRIPE').replace('&', '&amp;')}|html>"
    )
    assert lines[2] == f"    ↳ {LIMIT_FAILURE}"
    assert lines[3].startswith("• *PAYPAL*: COMPLIANT, LOW risk — discrepancy 0.00 USD")
    assert "no breaks, by type: 2 timing —" in lines[3]
    assert lines[4].startswith("• *ALL*: NON_COMPLIANT, HIGH risk")
    assert lines[5] == f"    ↳ {LIMIT_FAILURE}"


def test_a_compliant_run_with_only_timing_breaks_stays_off_slack() -> None:
    assert not needs_alert([payments("PAYPAL", {"timing": 2})])


# --- escaping ---------------------------------------------------------------------------------


def test_hostile_source_labels_and_failures_are_escaped_in_email_and_slack() -> None:
    hostile = payments(
        "<!channel> & <script>x</script>",
        {"amount": 2},
        failures=("<img src=x onerror=alert(1)> & <!here>",),
    )
    hostile["summary"]["classification"]["labels"]["amount"] = "<b>amount</b> & co"
    hostile["summary"]["financial_impact"]["reporting_currency"] = "<U$D>"

    _, html = summary_email([hostile], recon=RECON, business_date=DATE)
    text = summary_slack([hostile], recon=RECON, business_date=DATE)

    assert "<script>" not in html and "<img" not in html and "<b>amount</b>" not in html
    assert "<td><b>&lt;!channel&gt; &amp; &lt;script&gt;x&lt;/script&gt;</b></td>" in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;!here&gt;" in html
    assert "&lt;b&gt;amount&lt;/b&gt; &amp; co: 2" in html
    assert "2,345.67 &lt;U$D&gt;" in html
    assert "<!" not in text and "<b>" not in text and "<img" not in text
    assert "*&lt;!channel&gt; &amp; &lt;script&gt;x&lt;/script&gt;*" in text
    assert "    ↳ &lt;img src=x onerror=alert(1)&gt; &amp; &lt;!here&gt;" in text
    assert "2 &lt;b&gt;amount&lt;/b&gt; &amp; co" in text and "&lt;U$D&gt;" in text


# --- AUM: unchanged ---------------------------------------------------------------------------


# rendered by the messages module before classification and financial impact were added
AUM_EMAIL = """\
<!doctype html>
<html><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 8px">aum_recon — 2026-11-20</h2>
<p>20 breaks; thresholds failed for CAMS.</p>
<table cellpadding="6" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ccc">
<thead><tr style="background:#f2f2f2">
<th align="left">Source</th>
<th align="right">Keys</th><th align="right">Matched</th><th align="right">Mismatched</th><th align="right">dbf only</th><th align="right">mongo only</th><th align="right">Duplicate</th><th align="right">Invalid</th><th align="right">Break rate</th><th align="right">Discrepancy</th><th align="left">Risk</th><th align="left">Thresholds</th>
</tr></thead>
<tbody>
<tr>
<td><b>CAMS</b></td>
<td align="right">1,000</td><td align="right">980</td><td align="right">10</td><td align="right">10</td><td align="right">0</td><td align="right">0</td><td align="right">0</td><td align="right">2.00%</td><td align="right">1,234.50</td><td style="color:#c62828"><b>HIGH</b></td>
<td><b style="color:#c62828">FAILED</b></td>
</tr>
<tr>
<td><b>KARVY</b></td>
<td align="right">1,000</td><td align="right">1,000</td><td align="right">0</td><td align="right">0</td><td align="right">0</td><td align="right">0</td><td align="right">0</td><td align="right">0.00%</td><td align="right">1,234.50</td><td style="color:#2e7d32"><b>LOW</b></td>
<td>passed</td>
</tr>
</tbody></table>
<h3 style="margin:16px 0 6px">Largest breaks: CAMS</h3>
<table cellpadding="5" cellspacing="0" border="1" style="border-collapse:collapse;border-color:#ccc">
<thead><tr style="background:#f2f2f2"><th align="left">Key</th><th align="left">Type</th>
<th align="left">Field</th><th align="right">dbf</th><th align="right">mongo</th>
<th align="right">Difference</th><th align="left">Note</th></tr></thead>
<tbody>
<tr><td>F1 / P1</td><td>mismatched</td><td>units</td>
<td align="right">1,250.5</td><td align="right">1,000</td>
<td align="right">250.5</td><td>units</td></tr>
</tbody></table>
<h3 style="margin:16px 0 6px">Reports</h3>
<ul>
<li><a href="https://s3.example.test/recon-reports/CAMS/report.xlsx?X-Amz-Expires=86400&amp;X-Amz-Signature=ab">CAMS xlsx</a>
 (attached)</li>
<li>CAMS html: <code>/srv/r/CAMS/report.html</code></li>
</ul>
</body></html>"""
AUM_SLACK = """\
:rotating_light: *[recon] aum_recon 2026-11-20: 20 breaks (CAMS 20) — HIGH*
• *CAMS*: 1,000 keys, 980 matched, 10 mismatched, 10 dbf only, 0 mongo only, 0 duplicate, 0 invalid — break rate 2.00%, HIGH, thresholds FAILED — <https://s3.example.test/recon-reports/CAMS/report.xlsx?X-Amz-Expires=86400&amp;X-Amz-Signature=ab|xlsx> html: `/srv/r/CAMS/report.html`
• *KARVY*: 1,000 keys, 1,000 matched, 0 mismatched, 0 dbf only, 0 mongo only, 0 duplicate, 0 invalid — break rate 0.00%, LOW, within thresholds"""


def test_an_aum_summary_renders_exactly_as_before() -> None:
    cams = aum_source(
        "CAMS",
        20,
        passed=False,
        risk="HIGH",
        links={"xlsx": CAMS_XLSX_LINK, "html": "/srv/r/CAMS/report.html"},
    )
    karvy = aum_source("KARVY", 0, passed=True, risk="LOW", links={})
    top = {"CAMS": [CAMS_F1_BREAK]}

    subject, html = summary_email(
        [cams, karvy],
        recon="aum_recon",
        business_date=DATE,
        top_breaks=top,
        attached=[cams["reports"]["xlsx"]],
    )

    assert subject == "[recon] aum_recon 2026-11-20: 20 breaks (CAMS 20) — HIGH"
    assert html == AUM_EMAIL
    assert summary_slack([cams, karvy], recon="aum_recon", business_date=DATE) == AUM_SLACK
