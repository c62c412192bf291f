"""Spec loading: every accepted form, and every mistake reported at once with path, line, hint."""

from __future__ import annotations

from pathlib import Path

import pytest

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
