"""Ad-hoc specs: the few choices of a trigger form or an upload, turned into a core spec."""

from __future__ import annotations

import polars as pl
import pytest

from recon.engine.reconcile import reconcile
from recon.errors import SchemaError
from recon.spec.adhoc import AdhocOptions, adhoc_spec

LEFT = ["order_id", "amount", "status", "booked_on"]
RIGHT = ["order_id", "amount", "status", "booked_on", "note"]


def test_defaults_compare_every_shared_column_trimmed() -> None:
    spec = adhoc_spec(AdhocOptions(keys=["order_id"]), LEFT, RIGHT)
    assert [k.name for k in spec.keys] == ["order_id"]
    assert list(spec.compare) == ["amount", "status", "booked_on"]  # `note` is right-only
    assert all(step.rule == "strip" for steps in spec.normalize.values() for step in steps)


def test_tolerances_dates_and_case() -> None:
    spec = adhoc_spec(
        AdhocOptions(
            keys=["order_id"],
            compare_fields=["amount", "status", "booked_on"],
            tolerances={"amount": 0.01},
            case_insensitive=True,
            date_fields=["booked_on"],
            date_formats=["%d/%m/%Y"],
            labels=("bank", "ledger"),
        ),
        LEFT,
        RIGHT,
    )
    assert (spec.compare["amount"].type, spec.compare["amount"].abs_tol) == ("number", 0.01)
    assert spec.compare["status"].case == "insensitive"
    assert spec.compare["booked_on"].type == "date"
    assert [s.rule for s in spec.normalize["order_id"]] == ["strip", "upper"]
    assert spec.normalize["booked_on"][1].date_formats == ("%d/%m/%Y",)
    assert (spec.left.label, spec.right.label) == ("bank", "ledger")
    assert spec.amount_field() == "amount"


def test_every_mistake_at_once_with_file_and_hint() -> None:
    options = AdhocOptions(
        keys=["orderid"],
        compare_fields=["amount", "fee"],
        tolerances={"amont": 0.01, "amount": -1},
        date_fields=["booked_on"],
    )
    with pytest.raises(SchemaError) as caught:
        adhoc_spec(options, LEFT, RIGHT, files=("bank.csv", "ledger.csv"))
    text = str(caught.value)
    assert "bank.csv: key field `orderid` is not a column (did you mean `order_id`?)" in text
    assert "ledger.csv: key field `orderid`" in text
    assert "compare field `fee` is not a column" in text
    assert "tolerance for `amont`, which is not compared (did you mean `amount`?)" in text
    assert "tolerance for `amount` is -1" in text
    assert "date fields given without date formats" in text
    assert len(caught.value.problems) == 7


def test_no_shared_column_is_refused() -> None:
    with pytest.raises(SchemaError, match="share no column besides the keys"):
        adhoc_spec(AdhocOptions(keys=["id"]), ["id", "a"], ["id", "b"])


def test_key_and_compare_field_clash() -> None:
    with pytest.raises(SchemaError, match="cannot be both key and compare"):
        adhoc_spec(AdhocOptions(keys=["id"], compare_fields=["id"]), ["id", "a"], ["id", "a"])


def test_the_spec_reconciles_as_asked() -> None:
    left = pl.LazyFrame(
        {"id": [" a1", "A2", "a3"], "amount": ["10.00", "5.004", "7"], "status": ["PAID"] * 3}
    )
    right = pl.LazyFrame(
        {"id": ["A1", "a2", "A4"], "amount": ["10.00", "5.00", "1"], "status": ["paid"] * 3}
    )
    options = AdhocOptions(keys=["id"], tolerances={"amount": 0.01}, case_insensitive=True)
    result = reconcile(
        left, right, adhoc_spec(options, ["id", "amount", "status"], ["id", "amount", "status"])
    )
    statuses = dict(result.results.select("id", "status").iter_rows())
    assert statuses == {"A1": "matched", "A2": "matched", "A3": "left_only", "A4": "right_only"}
