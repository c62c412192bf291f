"""The embedded Postgres and MongoDB answer the pipeline's own clients (provider hooks), with
connections from ``AIRFLOW_CONN_*`` only, clean state per test, and external-server overrides."""

from __future__ import annotations

import csv
import json
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from airflow.providers.mongo.hooks.mongo import MongoHook
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import BaseHook

from embedded.mongo import EmbeddedMongo
from embedded.postgres import EmbeddedPostgres

PG_CONN = "recon_postgres"
MONGO_CONN = "recon_mongo"

BREAKS_DDL = """
CREATE SCHEMA IF NOT EXISTS recon;
CREATE TABLE recon.breaks (
    recon text NOT NULL,
    business_date date NOT NULL,
    key text NOT NULL,
    status text NOT NULL,
    amount numeric(18, 2),
    PRIMARY KEY (recon, business_date, key)
)
"""


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# connections -----------------------------------------------------------------------------


def test_hooks_read_the_servers_connections_from_env(
    db_connections: dict[str, str], postgres: EmbeddedPostgres, mongo: EmbeddedMongo
) -> None:
    """AIRFLOW_CONN_* JSON carries each server's address and credentials; no metadata DB."""
    assert set(db_connections) == {"AIRFLOW_CONN_RECON_POSTGRES", "AIRFLOW_CONN_RECON_MONGO"}
    pg_conn = BaseHook.get_connection(PG_CONN)
    assert (pg_conn.conn_type, pg_conn.host, pg_conn.port, pg_conn.schema) == (
        "postgres",
        postgres.host,
        postgres.port,
        postgres.database,
    )
    assert (pg_conn.login, pg_conn.password or "") == (postgres.login, postgres.password)
    if not postgres.is_external:
        assert (postgres.login, postgres.database) == ("recon", "recon")
        assert postgres.password != ""  # like production: the connection carries a password
    user, database, port = PostgresHook(postgres_conn_id=PG_CONN).get_first(
        "SELECT current_user, current_database(), inet_server_port()"
    )
    assert (user, database, port) == (postgres.login, postgres.database, postgres.port)

    mongo_conn = json.loads(db_connections["AIRFLOW_CONN_RECON_MONGO"])
    assert mongo_conn["port"] == mongo.port and mongo_conn["schema"] == mongo.database
    with MongoHook(mongo_conn_id=MONGO_CONN) as hook:
        if not mongo.is_external:
            assert hook.uri == f"mongodb://127.0.0.1:{mongo.port}/recon"
        assert hook.get_conn().admin.command("ping")["ok"] == 1


def test_postgres_password_is_checked(postgres: EmbeddedPostgres) -> None:
    """The login role needs its password on TCP, as in production (trust is for the admin)."""
    if postgres.is_external:
        pytest.skip("RECON_TEST_POSTGRES_URL: that server's authentication is its own")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host=postgres.host,
            port=postgres.port,
            user=postgres.login,
            password="not-the-password",
            dbname=postgres.database,
        )
    with postgres.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


# Postgres through PostgresHook -----------------------------------------------------------


def test_postgres_insert_rows_copy_and_read_back(
    pg_clean: EmbeddedPostgres, db_connections: dict[str, str], tmp_path: Path
) -> None:
    """insert_rows and COPY FROM/TO STDIN land in one table and read back exactly."""
    hook = PostgresHook(postgres_conn_id=PG_CONN)
    hook.run(BREAKS_DDL)
    fields = ["recon", "business_date", "key", "status", "amount"]
    hook.insert_rows(
        "recon.breaks",
        [
            ("cams", "2024-03-28", "F1", "mismatched", 10.5),
            ("cams", "2024-03-28", "F2", "left_only", None),
        ],
        target_fields=fields,
    )
    source = tmp_path / "breaks.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [("cams", "2024-03-28", f"F{i}", "right_only", f"{i}.25") for i in range(3, 53)]
        )
    hook.copy_expert(
        "COPY recon.breaks (recon, business_date, key, status, amount) FROM STDIN WITH (FORMAT csv)",
        str(source),
    )

    count, total = hook.get_first("SELECT count(*), sum(amount) FROM recon.breaks")
    assert count == 52
    assert total == Decimal("10.50") + sum(Decimal(f"{i}.25") for i in range(3, 53))
    rows = hook.get_records(
        "SELECT key, status, amount::text FROM recon.breaks WHERE key IN (%s, %s) ORDER BY key",
        parameters=("F1", "F2"),
    )
    assert [tuple(r) for r in rows] == [("F1", "mismatched", "10.50"), ("F2", "left_only", None)]

    dump = tmp_path / "dump.csv"
    hook.copy_expert(
        "COPY (SELECT key FROM recon.breaks ORDER BY key) TO STDOUT WITH (FORMAT csv)", str(dump)
    )
    assert sorted(dump.read_text().split()) == sorted(f"F{i}" for i in range(1, 53))


def test_postgres_failed_transaction_leaves_nothing(
    pg_clean: EmbeddedPostgres, db_connections: dict[str, str]
) -> None:
    """A partition replace that fails half-way rolls back: the old rows stay, no new ones."""
    hook = PostgresHook(postgres_conn_id=PG_CONN)
    hook.run(BREAKS_DDL)
    hook.run(
        "INSERT INTO recon.breaks VALUES ('cams', '2024-03-28', 'OLD', 'left_only', 1)",
    )
    replace = [
        "DELETE FROM recon.breaks WHERE recon = 'cams' AND business_date = '2024-03-28'",
        "INSERT INTO recon.breaks VALUES ('cams', '2024-03-28', 'NEW', 'left_only', 2)",
        # the same key again: a primary-key violation after the first two statements ran
        "INSERT INTO recon.breaks VALUES ('cams', '2024-03-28', 'NEW', 'left_only', 3)",
    ]
    with pytest.raises(psycopg.errors.UniqueViolation):
        hook.run(replace)
    assert [tuple(r) for r in hook.get_records("SELECT key FROM recon.breaks")] == [("OLD",)]

    with pytest.raises(ZeroDivisionError), hook.get_conn() as conn:
        conn.execute("DELETE FROM recon.breaks")
        raise ZeroDivisionError  # any error inside the block: psycopg rolls back
    assert hook.get_first("SELECT count(*) FROM recon.breaks") == (1,)


def test_postgres_state_written_here(pg_clean: EmbeddedPostgres) -> None:
    """Writes a schema and table that the next test must not see."""
    with pg_clean.connect() as conn:
        conn.execute("CREATE SCHEMA recon; CREATE TABLE recon.leftover (x int)")
        conn.execute("CREATE TABLE public.leftover (x int); INSERT INTO public.leftover VALUES (1)")


def test_postgres_state_is_clean_in_the_next_test(pg_clean: EmbeddedPostgres) -> None:
    """pg_clean leaves only an empty public schema, usable by the login role."""
    with pg_clean.connect() as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
            " AND nspname <> 'information_schema'"
        ).fetchall()
        conn.execute("CREATE TABLE usable (x int)")
    assert tables == [] and schemas == [("public",)]


# MongoDB through MongoHook ---------------------------------------------------------------

# (folio, side, units): F0-F2 mostly buy, F3-F6 mostly sell, so nets of both signs
TRADES = [
    (f"F{i % 7}", "BUY" if (i % 7 < 3) != (i % 5 == 0) else "SELL", (i * 37) % 101)
    for i in range(300)
]


def test_mongo_insert_and_signed_sums_by_aggregation(
    mongo_clean: EmbeddedMongo, db_connections: dict[str, str]
) -> None:
    """$group with $cond nets BUY minus SELL per folio exactly as Python does."""
    expected: dict[str, dict[str, int]] = {}
    for folio, side, units in TRADES:
        entry = expected.setdefault(folio, {"net": 0, "n": 0})
        entry["net"] += units if side == "BUY" else -units
        entry["n"] += 1

    with MongoHook(mongo_conn_id=MONGO_CONN) as hook:
        result = hook.insert_many(
            "trades", [{"folio": f, "side": s, "units": u} for f, s, u in TRADES]
        )
        assert len(result.inserted_ids) == len(TRADES)
        pipeline: list[dict[str, Any]] = [
            {
                "$group": {
                    "_id": "$folio",
                    "net": {
                        "$sum": {
                            "$cond": [
                                {"$eq": ["$side", "BUY"]},
                                "$units",
                                {"$multiply": [-1, "$units"]},
                            ]
                        }
                    },
                    "n": {"$sum": 1},
                }
            },
            {"$sort": {"_id": 1}},
        ]
        got = {d["_id"]: {"net": d["net"], "n": d["n"]} for d in hook.aggregate("trades", pipeline)}
    assert got == expected
    assert {v["net"] > 0 for v in got.values()} == {True, False}  # both $cond branches count


def _results(run: str, amount_shift: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    docs = [
        {
            "reconciliation_run_id": "cams/2024-03-28",
            "key": f"F{i}",
            "status": "mismatched",
            "difference": i + amount_shift,
            "run": run,
        }
        for i in range(40)
    ]
    filters = [{"reconciliation_run_id": d["reconciliation_run_id"], "key": d["key"]} for d in docs]
    return docs, filters


def test_mongo_bulk_upsert_is_idempotent(
    mongo_clean: EmbeddedMongo, db_connections: dict[str, str]
) -> None:
    """replace_many with upsert on the business key: a re-run replaces, never duplicates."""
    with MongoHook(mongo_conn_id=MONGO_CONN) as hook:
        docs, filters = _results("first", 0)
        first = hook.replace_many("reconciliation_results", docs, filters, upsert=True)
        assert first.upserted_count == 40
        docs, filters = _results("rerun", 100)
        again = hook.replace_many("reconciliation_results", docs, filters, upsert=True)
        assert (again.upserted_count, again.matched_count) == (0, 40)

        collection = hook.get_collection("reconciliation_results")
        assert collection.count_documents({}) == 40
        assert collection.count_documents({"run": "rerun"}) == 40
        assert collection.find_one({"key": "F7"}, {"_id": 0, "difference": 1}) == {
            "difference": 107
        }


def test_mongo_aborted_transaction_leaves_nothing(
    mongo_clean: EmbeddedMongo, db_connections: dict[str, str]
) -> None:
    """A partition replace inside a transaction that fails keeps the old documents."""
    with MongoHook(mongo_conn_id=MONGO_CONN) as hook:
        collection = hook.get_collection("reconciliation_results")
        collection.insert_many([{"key": "OLD", "n": i} for i in range(3)])
        client = hook.get_conn()
        with (
            pytest.raises(ZeroDivisionError),
            client.start_session() as session,
            session.start_transaction(),
        ):
            collection.delete_many({}, session=session)
            collection.insert_one({"key": "NEW"}, session=session)
            raise ZeroDivisionError
        assert sorted(d["key"] for d in collection.find({}, {"_id": 0})) == ["OLD"] * 3


def test_mongo_state_written_here(mongo_clean: EmbeddedMongo) -> None:
    """Writes data (and a second database, on our own server) the next test must not see."""
    client = mongo_clean.client()
    client[mongo_clean.database].leftover.insert_one({"x": 1})
    if not mongo_clean.is_external:
        client.elsewhere.leftover.insert_one({"x": 2})


def test_mongo_state_is_clean_in_the_next_test(mongo_clean: EmbeddedMongo) -> None:
    """mongo_clean leaves only the system databases (on a shared server: not ours)."""
    names = set(mongo_clean.client().list_database_names())
    assert mongo_clean.database not in names
    if not mongo_clean.is_external:
        assert names <= {"admin", "local", "config"}


# lifecycle and overrides -----------------------------------------------------------------


def test_postgres_stop_ends_the_server_and_removes_its_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server of its own: stop() frees the port and deletes the data folder."""
    monkeypatch.delenv("RECON_TEST_POSTGRES_URL", raising=False)
    server = EmbeddedPostgres().start()
    root = server._root
    assert root is not None and listening(server.port)
    server.stop()
    assert not listening(server.port) and not root.exists()
    server.stop()  # idempotent


def test_mongo_stop_ends_the_server_and_removes_its_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server of its own: stop() ends the process and deletes the storage folder."""
    monkeypatch.delenv("RECON_TEST_MONGO_URL", raising=False)
    server = EmbeddedMongo().start()
    root, process = server._root, server._process
    assert root is not None and process is not None and listening(server.port)
    server.stop()
    assert process.poll() is not None and not listening(server.port) and not root.exists()
    server.stop()  # idempotent


def test_postgres_url_override_uses_a_database_of_its_own(
    postgres: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECON_TEST_POSTGRES_URL: no server started; a fresh database created, then dropped."""
    monkeypatch.setenv(
        "RECON_TEST_POSTGRES_URL", f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres"
    )
    databases = "SELECT datname FROM pg_database"
    with EmbeddedPostgres() as borrowed:
        assert borrowed.is_external and borrowed._root is None
        assert borrowed.port == postgres.port and borrowed.database.startswith("recon_test_")
        conn = borrowed.connections()[0]
        monkeypatch.setenv(conn.env_name(), conn.env_value())
        hook = PostgresHook(postgres_conn_id=PG_CONN)
        assert hook.get_first("SELECT current_database()") == (borrowed.database,)
        hook.run("CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
        borrowed.reset()
        assert hook.get_first("SELECT count(*) FROM pg_tables WHERE tablename = 't'") == (0,)
        names = {r[0] for r in PostgresHook(postgres_conn_id=PG_CONN).get_records(databases)}
        assert borrowed.database in names
    with postgres.connect() as admin:
        names = {r[0] for r in admin.execute(databases)}
    assert borrowed.database not in names and postgres.database in names


def test_mongo_url_override_uses_a_database_of_its_own(
    mongo: EmbeddedMongo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECON_TEST_MONGO_URL: no server started; reset and stop touch only its own database."""
    monkeypatch.setenv("RECON_TEST_MONGO_URL", f"mongodb://127.0.0.1:{mongo.port}/")
    mongo.client().bystander.keep.insert_one({"x": 1})
    with EmbeddedMongo() as borrowed:
        assert borrowed.is_external and borrowed._process is None
        assert borrowed.port == mongo.port and borrowed.database.startswith("recon_test_")
        conn = borrowed.connections()[0]
        monkeypatch.setenv(conn.env_name(), conn.env_value())
        with MongoHook(mongo_conn_id=MONGO_CONN) as hook:
            hook.insert_one("docs", {"x": 1})
            assert borrowed.database in mongo.client().list_database_names()
            borrowed.reset()
            assert borrowed.database not in mongo.client().list_database_names()
            hook.insert_one("docs", {"x": 2})
    names = mongo.client().list_database_names()
    assert borrowed.database not in names and "bystander" in names
    mongo.client().drop_database("bystander")
