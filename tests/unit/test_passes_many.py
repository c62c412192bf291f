"""The many-to-many pass: daily totals per currency on both sides, matched when the sums agree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal

from recon.passes.many import run_many_to_many
from recon.passes.outcome import ID, MATCH_SCHEMA, ROW, OpenRows, PassOutcome
from recon.spec.passes import ManyToManyPass, PassSpec


def spec(abs_tol: float = 0.01) -> PassSpec:
    return PassSpec.model_validate(
        {
            "name": "daily",
            "ids": {"left": "entry", "right": "line"},
            "fields": {"amount": {"type": "number"}, "date": {"type": "date"}, "currency": {}},
            "passes": [
                {
                    "name": "daily_totals",
                    "kind": "many_to_many",
                    "group_by": ["date", "currency"],
                    "amount": {"field": "amount", "abs_tol": abs_tol},
                }
            ],
        }
    )


SPEC = spec()
D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)


def side(rows: list[tuple[str, dt.date | None, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            ID: [r[0] for r in rows],
            ROW: list(range(1, len(rows) + 1)),
            "date": [r[1] for r in rows],
            "currency": [r[2] for r in rows],
            "amount": [None if r[3] is None else Decimal(r[3]) for r in rows],
        },
        schema_overrides={"amount": pl.Decimal(12, 2), "date": pl.Date},
    )


def run(left: pl.DataFrame, right: pl.DataFrame, pass_spec: PassSpec = SPEC) -> PassOutcome:
    match_pass = pass_spec.passes[0]
    assert isinstance(match_pass, ManyToManyPass)
    return run_many_to_many(OpenRows(left, right, pass_spec), match_pass)


LEDGER = side(
    [
        ("L1", D1, "EUR", "100.00"),
        ("L2", D1, "EUR", "50.25"),
        ("L3", D1, "USD", "70.00"),
        ("L4", D2, "EUR", "10.00"),
        ("L5", D2, "EUR", "5.00"),
        ("L6", None, "EUR", "1.00"),  # no date: in no group
    ]
)
BANK = side(
    [
        ("B1", D1, "EUR", "150.25"),
        ("B2", D1, "USD", "30.00"),
        ("B3", D1, "USD", "40.00"),
        ("B4", D2, "EUR", "15.50"),  # short by 0.50: the day does not balance
        ("B5", D2, "USD", "9.00"),  # no ledger group
    ]
)


def test_daily_totals_per_currency_match_with_all_their_members() -> None:
    outcome = run(LEDGER, BANK)
    expected = pl.DataFrame(
        [
            (["L1", "L2"], ["B1"], "matched", 1.0, []),
            (["L3"], ["B2", "B3"], "matched", 1.0, []),
        ],
        schema=MATCH_SCHEMA,
        orient="row",
    )
    assert_frame_equal(outcome.matches, expected)
    assert outcome.flagged.is_empty()  # L4, L5, L6, B4, B5 stay open


def test_sums_within_the_tolerance_match_with_a_lower_score() -> None:
    bank = BANK.with_columns(
        pl.when(pl.col(ID) == "B1")
        .then(pl.lit(Decimal("150.24")))
        .otherwise("amount")
        .cast(pl.Decimal(12, 2))
        .alias("amount")
    )
    outcome = run(LEDGER, bank)
    assert outcome.matches.select("right_ids", "score").rows() == [
        (["B1"], 0.5),
        (["B2", "B3"], 1.0),
    ]


def test_a_member_without_an_amount_leaves_its_group_open() -> None:
    ledger = LEDGER.with_columns(
        pl.when(pl.col(ID) == "L2").then(None).otherwise("amount").alias("amount")
    )
    assert run(ledger, BANK).matches.get_column("right_ids").to_list() == [["B2", "B3"]]


def test_decimal_sums_are_exact() -> None:
    pass_spec = spec(abs_tol=0.0)
    left = side([("a", D1, "EUR", "0.1"), ("b", D1, "EUR", "0.2")])
    right = side([("c", D1, "EUR", "0.3")])
    assert run(left, right, pass_spec).matches.select("left_ids", "right_ids").rows() == [
        (["a", "b"], ["c"])
    ]


def test_the_result_does_not_depend_on_row_order() -> None:
    expected = run(LEDGER, BANK)
    for seed in (1, 2, 3):
        outcome = run(
            LEDGER.sample(fraction=1, shuffle=True, seed=seed),
            BANK.sample(fraction=1, shuffle=True, seed=seed + 10),
        )
        assert_frame_equal(outcome.matches, expected.matches)
