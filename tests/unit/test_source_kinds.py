"""The registry of source kinds (``recon.definitions.sides.Side``'s fields, as ``SOURCE_KINDS``): each kind is one
class owning its validation, its plan for a business date and its description."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel

from recon.definitions.sides import READERS, SOURCE_KINDS, Side, source_kinds
from recon.definitions.sources import MongoReader, S3Reader, SftpReader, SourceReader, SqlReader

DAY = dt.date(2026, 11, 20)


def test_every_kind_is_a_reader_class_with_its_keys() -> None:
    assert tuple(SOURCE_KINDS) == READERS == ("s3", "sftp", "sql", "mongo", "http")
    for name, reader in SOURCE_KINDS.items():
        assert issubclass(reader, SourceReader) and reader.operator and reader.planned
        field = Side.model_fields[name]
        assert field.default is None and not field.is_required()  # a side names one of them
    operators = [reader.operator for reader in SOURCE_KINDS.values()]
    assert len(set(operators)) == len(operators)  # each kind maps to its own extract


def test_the_kinds_are_the_reader_fields_of_a_side() -> None:
    class Widened(Side):
        s3_archive: S3Reader | None = None
        note: str | None = None

    assert list(source_kinds(Side)) == ["s3", "sftp", "sql", "mongo", "http"]  # not the label
    assert source_kinds(Widened)["s3_archive"] is S3Reader and "note" not in source_kinds(Widened)
    assert source_kinds(BaseModel) == {}


def test_the_base_cannot_be_a_reader_of_its_own() -> None:
    with pytest.raises(TypeError, match="abstract"):
        SourceReader(conn_id="x")  # type: ignore[abstract]


@pytest.mark.parametrize(
    ("reader", "planned", "described"),
    [
        (
            S3Reader(bucket="recon-staging", key="exports/{date}.csv"),
            "s3://recon-staging/exports/2026-11-20.csv",
            "`s3://recon-staging/exports/{date}.csv`",
        ),
        (
            SftpReader(conn_id="shop_sftp", path="/out/o_{date:%Y%m%d}.csv"),
            "sftp://shop_sftp/out/o_20261120.csv",
            "`sftp://shop_sftp/out/o_{date:%Y%m%d}.csv`",
        ),
        (
            SqlReader(query="orders_ledger.sql"),
            {"business_date": "2026-11-20"},
            "`include/sql/orders_ledger.sql` on `recon_postgres`",
        ),
        (
            MongoReader(
                database="shop", collection="orders", pipeline=[{"$match": {"d": "{date}"}}]
            ),
            [{"$match": {"d": "2026-11-20"}}],
            "aggregation of `shop.orders` on `recon_mongo`",
        ),
    ],
    ids=["s3", "sftp", "sql", "mongo"],
)
def test_each_kind_plans_its_day_and_describes_itself(
    reader: SourceReader, planned: Any, described: str
) -> None:
    assert reader.plan(DAY) == planned
    assert reader.describe() == described


def test_located_problems_are_the_kinds_own() -> None:
    assert S3Reader.located_problems({"key": "{day}.csv"}) == []  # pydantic locates those
    ((path, message),) = MongoReader.located_problems({"pipeline": [{"$match": {"d": "{dat}"}}]})
    assert path == ("pipeline", 0, "$match", "d") and "unknown placeholder `{dat}`" in message
