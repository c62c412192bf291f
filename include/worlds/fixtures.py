"""pytest fixtures of generated worlds, made in the test module that reads them:

    day = payments_day_fixture(DAY, per_processor=150, seed=11)

One world per test module (module scope), written to a temporary folder of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from worlds.payments import PaymentsDay, generate_payments_day


def payments_day_fixture(business_date: dt.date, **options: Any) -> Any:
    """A module fixture: :func:`~worlds.payments.generate_payments_day` of ``business_date``,
    ``options`` (``per_processor``, ``seed``, ``settlement_window``) as it takes them."""

    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> PaymentsDay:
        out = tmp_path_factory.mktemp("payments")
        return generate_payments_day(out, business_date=business_date, **options)

    fixture.__doc__ = f"A generated payments day, {business_date}."
    return fixture


__all__ = ["payments_day_fixture"]
