"""The plugin's side of the source-kind registry: every kind the core registers has its one
extract operator (``recon_airflow.pipelines.config_recons.EXTRACTS``), built from its reader."""

from __future__ import annotations

from typing import Any

from recon.definitions.sides import SOURCE_KINDS


def test_every_registered_kind_has_its_extract() -> None:
    from airflow.sdk import BaseOperator

    from recon_airflow.pipelines.config_recons import EXTRACTS

    wanted = {reader.operator for reader in SOURCE_KINDS.values()}
    assert set(EXTRACTS) == wanted  # no kind without an operator, no operator without a kind
    for task in EXTRACTS.values():
        assert issubclass(task.operator, BaseOperator)


def test_an_extract_is_built_from_its_reader_alone() -> None:
    from recon.definitions.sources import SqlReader
    from recon_airflow.pipelines.config_recons import EXTRACTS, SideTask

    reader = SqlReader(conn_id="ledger_pg", query="orders_ledger.sql")
    read: Any = {"business_date": "2026-11-20"}
    arguments = EXTRACTS[reader.operator].arguments(reader, SideTask("right", read, ["a"]))
    assert arguments == {
        "sql": "orders_ledger.sql",
        "parameters": read,
        "postgres_conn_id": "ledger_pg",
    }
