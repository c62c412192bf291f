"""Spec loading: every accepted form, and every mistake reported at once with path, line, hint."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from recon.engine.reconcile import reconcile
from recon.errors import SpecError
from recon.spec import KeySpec, load_spec, parse_spec

FULL = """
name: cams_holdings
left:  {label: dbf}
right: {label: mongo}
keys: [folio_no, {left: PRODCODE, right: product_code, name: product}]
normalize:
  folio_no: [strip, upper]
  trade_date: {date_formats: ["%d/%m/%Y", "%Y-%m-%d"]}
  amount: [strip, {number: {thousands: ".", decimal: ","}}]
compare:
  units:  {abs_tol: 0.001}
  amount: {abs_tol: 0.01, rel_tol: 0}
  status: {case: insensitive}
  trade_date: {window_days: 1}
aggregate:
  right:
    group_by: [folio_no, product_code]
    sum: [units, amount]
    sign: {column: side, negative: [SELL]}
amount: amount
thresholds: {max_break_rate: 0.001, risk: {medium: 0.005, high: 0.02}}
"""


def test_full_spec_parses_every_form() -> None:
    spec = parse_spec(
        FULL.replace("  status: {case: insensitive}\n  trade_date: {window_days: 1}\n", "")
    )
    assert spec.keys == (
        KeySpec(left="folio_no", right="folio_no", name="folio_no"),
        KeySpec(left="PRODCODE", right="product_code", name="product"),
    )
    assert [s.rule for s in spec.normalize["folio_no"]] == ["strip", "upper"]
    assert spec.normalize["trade_date"][0].date_formats == ("%d/%m/%Y", "%Y-%m-%d")
    number = spec.normalize["amount"][1].number
    assert number is not None and (number.thousands, number.decimal) == (".", ",")
    assert spec.compare["units"].abs_tol == 0.001
    assert spec.aggregate.right is not None and spec.aggregate.right.sign is not None
    assert spec.aggregate.right.sign.negative == ("SELL",)
    assert spec.amount_field() == "amount"
    assert spec.column("product", "right") == "product_code"


def test_amount_field_defaults_to_first_toleranced_field() -> None:
    spec = parse_spec("name: x\nkeys: [id]\ncompare: {ccy: {}, units: {abs_tol: 0.1}}\n")
    assert spec.amount_field() == "units"


def test_compare_as_list_means_exact() -> None:
    spec = parse_spec("name: x\nkeys: [id]\ncompare: [a, b]\n")
    assert spec.compare["a"].abs_tol == 0 and spec.compare["b"].case == "sensitive"


def test_every_mistake_reported_at_once_with_line_and_hint() -> None:
    text = """name: bad
keys: [id]
normalize:
  id: [strip, uper]
compare:
  units: {abs_tol: -1, tolerence: 3}
  status: {case: insensitiv}
thresholds: {risk: {medium: 0.5, high: 0.1}}
"""
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="bad.yaml")
    message = str(info.value)
    assert "5 problems" in message
    assert (
        "normalize.id.1, line 4: unknown normalisation rule `uper` (did you mean `upper`?)"
        in message
    )
    assert "compare.units.abs_tol, line 6" in message and "greater than or equal to 0" in message
    assert "unknown setting `tolerence` (did you mean `abs_tol`?)" not in message  # not close
    assert "compare.units.tolerence, line 6: unknown setting `tolerence`" in message
    assert "compare.status.case, line 7" in message and "'insensitive'" in message
    assert "thresholds.risk, line 8: risk.medium (0.5) must not exceed risk.high (0.1)" in message
    assert len(info.value.problems) == 5


def test_unknown_top_level_setting_gets_did_you_mean() -> None:
    with pytest.raises(SpecError, match=r"unknown setting `compar` \(did you mean `compare`\?\)"):
        parse_spec("name: x\nkeys: [id]\ncompar: {a: {}}\n")


def test_missing_required_settings() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec("left: {label: a}\n")
    message = str(info.value)
    assert "name" in message and "keys" in message and "required setting is missing" in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("name: x\nkeys: []\n", "keys", id="no-keys"),
        pytest.param(
            "name: x\nkeys: [id]\ncompare: {id: {}}\n",
            "key column(s) ['id'] cannot also be compared",
            id="key-compared",
        ),
        pytest.param(
            "name: x\nleft: {label: a}\nright: {label: a}\nkeys: [id]\n",
            "both `a`",
            id="same-labels",
        ),
        pytest.param(
            "name: x\nkeys: [id]\ncompare: {amt: {abs_tol: 1}}\namount: amount\n",
            "`amount` is not a compare field",
            id="amount-not-compared",
        ),
        pytest.param(
            "name: x\nkeys: [id]\ncompare: {s: {type: string, abs_tol: 1}}\n",
            "a tolerance needs a number field",
            id="tolerance-on-string",
        ),
        pytest.param(
            "name: x\nkeys: [id]\ncompare: {units: {}}\n"
            "aggregate: {right: {group_by: [folio], sum: [units]}}\n",
            "must contain the key column(s) ['id']",
            id="aggregate-without-key",
        ),
        pytest.param(
            "name: x\nkeys: [id]\ncompare: {units: {}, ccy: {}}\n"
            "aggregate: {right: {group_by: [id], sum: [units]}}\n",
            "compare field `ccy` (column `ccy`) is neither grouped nor summed",
            id="aggregate-drops-field",
        ),
        pytest.param(
            "name: x\nkeys: [id]\nnormalize: {a: {number: {thousands: ',', decimal: ','}}}\n",
            "thousands and decimal separators must differ",
            id="same-separators",
        ),
        pytest.param("name: 'a b'\nkeys: [id]\n", "name", id="bad-name"),
    ],
)
def test_cross_field_mistakes(text: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    assert words in str(info.value)
    assert "(top level)" not in str(info.value)


def test_cross_field_problems_are_listed_separately_with_lines() -> None:
    text = "name: x\nleft: {label: a}\nright: {label: a}\nkeys: [id]\ncompare: {id: {}}\n"
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="s.yaml")
    assert len(info.value.problems) == 2
    assert "s.yaml: left.label, line 2: left.label and right.label are both `a`" in str(info.value)
    assert "s.yaml: compare, line 5:" in str(info.value)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(SpecError, match=r"bad.yaml: line 3: not valid YAML"):
        parse_spec("name: x\nkeys: [id\ncompare: {\n", source="bad.yaml")


def test_spec_must_be_a_mapping() -> None:
    with pytest.raises(SpecError, match="must be a YAML mapping"):
        parse_spec("- a\n- b\n")


def test_load_spec_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_load_spec_reads_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nkeys: [id]\n")
    assert load_spec(path).name == "x"


# -- map rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param("{map: {paid: succeeded, void: failed}}", id="mapping"),
        pytest.param("[strip, {map: {paid: succeeded, void: failed}}]", id="in-a-list"),
    ],
)
def test_map_rule_parses_from_yaml(steps: str) -> None:
    spec = parse_spec(f"name: x\nkeys: [id]\nnormalize:\n  status: {steps}\ncompare: [status]\n")
    step = spec.normalize["status"][-1]
    assert step.rule == "map"
    assert step.mapping == {"paid": "succeeded", "void": "failed"}


def test_map_rule_replaces_listed_values_and_keeps_the_others() -> None:
    spec = parse_spec(
        "name: x\nkeys: [id]\n"
        "normalize:\n  status: [strip, lower, {map: {paid: succeeded}}]\n"
        "compare: [status]\n"
    )
    left = pl.DataFrame(
        {"id": ["a", "b", "c", "d"], "status": ["succeeded", "pending", "x", "paid"]}
    )
    right = pl.DataFrame({"id": ["a", "b", "c", "d"], "status": [" PAID", "pending", "y", "paid"]})
    out = reconcile(left.lazy(), right.lazy(), spec).results.sort("id")
    assert out["right_status"].to_list() == ["succeeded", "pending", "y", "succeeded"]
    assert out["left_status"].to_list() == ["succeeded", "pending", "x", "succeeded"]  # both sides
    assert out["status"].to_list() == ["matched", "matched", "mismatched", "matched"]


def test_map_rule_on_a_key_maps_before_matching() -> None:
    spec = parse_spec("name: x\nkeys: [id]\nnormalize:\n  id: {map: {OLD-1: NEW-1}}\n")
    left, right = pl.DataFrame({"id": ["OLD-1", "B"]}), pl.DataFrame({"id": ["NEW-1", "B"]})
    out = reconcile(left.lazy(), right.lazy(), spec).results
    assert dict(zip(out["id"], out["status"], strict=True)) == {"NEW-1": "matched", "B": "matched"}


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param("{map: {}}", id="empty-mapping"),
        pytest.param("[strip, map]", id="bare-word"),
    ],
)
def test_map_rule_without_values_is_refused(steps: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(f"name: x\nkeys: [id]\nnormalize:\n  status: {steps}\n", source="s.yaml")
    assert "s.yaml: normalize.status" in str(info.value)
    assert "line 4: `map` needs the values to replace, e.g. {map: {paid: succeeded}}" in str(
        info.value
    )
    assert len(info.value.problems) == 1


def test_misspelt_map_rule_gets_did_you_mean() -> None:
    with pytest.raises(
        SpecError, match=r"unknown normalisation rule `mapp` \(did you mean `map`\?\)"
    ):
        parse_spec("name: x\nkeys: [id]\nnormalize: {status: [mapp]}\n")


# -- impact and the new thresholds ----------------------------------------------------------


def test_payments_spec_loads_its_impact_and_thresholds() -> None:
    spec = load_spec(Path(__file__).parents[2] / "config" / "specs" / "payments.yaml")
    assert spec.impact.reporting_currency == "USD"
    assert spec.impact.fx_rates == {
        "USD": 1.0,
        "EUR": 1.08,
        "GBP": 1.27,
        "CAD": 0.72,
        "JPY": 0.0066,
    }
    assert spec.thresholds.max_discrepancy_rate == 0.005
    assert spec.thresholds.high_value_amount == 500
    assert spec.normalize["status"][0].mapping == {"paid": "succeeded"}


def test_impact_and_new_thresholds_default_to_none() -> None:
    spec = parse_spec("name: x\nkeys: [id]\n")
    assert (spec.impact.reporting_currency, spec.impact.fx_rates) == ("USD", {})
    assert spec.thresholds.max_discrepancy_rate is None
    assert spec.thresholds.high_value_amount is None
    assert spec.thresholds.model_dump()["max_discrepancy_rate"] is None


@pytest.mark.parametrize(
    ("rates", "wrong"),
    [
        pytest.param("{usd: 1.0, EUR: 1.08}", "['usd']", id="lowercase"),
        pytest.param("{USD: 1.0, EUR: 0}", "['EUR']", id="zero-rate"),
        pytest.param("{USD: 1.0, EUR: -1.08}", "['EUR']", id="negative-rate"),
        pytest.param("{USD: 1.0, EURO: 1.08}", "['EURO']", id="four-letters"),
    ],
)
def test_fx_rates_need_iso_codes_and_positive_rates(rates: str, wrong: str) -> None:
    text = f"name: x\nkeys: [id]\nimpact:\n  reporting_currency: USD\n  fx_rates: {rates}\n"
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="s.yaml")
    assert (
        f"s.yaml: impact.fx_rates, line 5: fx_rates: {wrong} need ISO 4217 codes and rates above 0"
        in str(info.value)
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param(
            "impact: {reporting_currency: usd}",
            "impact.reporting_currency, line 3: String should match pattern",
            id="lowercase-reporting-currency",
        ),
        pytest.param(
            "impact: {fx_rate: {USD: 1}}",
            "unknown setting `fx_rate` (did you mean `fx_rates`?)",
            id="misspelt-fx-rates",
        ),
        pytest.param(
            "thresholds: {max_discrepancy_rate: 1.5}",
            "thresholds.max_discrepancy_rate, line 3: Input should be less than or equal to 1",
            id="discrepancy-rate-over-one",
        ),
        pytest.param(
            "thresholds: {high_value_amount: -1}",
            "thresholds.high_value_amount, line 3: Input should be greater than or equal to 0",
            id="negative-high-value",
        ),
    ],
)
def test_impact_and_threshold_mistakes(text: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(f"name: x\nkeys: [id]\n{text}\n", source="s.yaml")
    assert words in str(info.value)
