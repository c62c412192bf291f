"""A day of shop orders for the example config recon (``config/recons/orders_s3_vs_ledger.yaml``).

The ledger goes to Postgres as ``ledger.orders`` (every day in one table, read per business
date by ``booked_at``); the shop's export of the day goes to S3 as a CSV. Differences are
planted on purpose and :func:`orders_day` returns the truth: each order's status as the core
must report it (``matched``, ``mismatched``, ``left_only`` = export only, ``right_only`` =
ledger only, ``duplicate``). Some differences must *not* break: an amount within the spec's
tolerance, a status in another case, a currency with spaces. Orders booked the day before
and after are in the ledger too: the query must leave them out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import psycopg
from psycopg import Connection, sql

if TYPE_CHECKING:
    from embedded.stack import LocalStack

EXAMPLE: Final = Path(__file__).resolve().parents[2] / "config/recons/orders_s3_vs_ledger.yaml"
SCHEMA: Final = "ledger"
TABLE: Final = "orders"
STATUSES: Final = ("PAID", "SHIPPED", "DELIVERED", "REFUNDED")
CURRENCIES: Final = ("USD", "EUR", "GBP")
_DDL: Final = """
CREATE TABLE IF NOT EXISTS {table} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id text NOT NULL,
    amount numeric(18, 2) NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,
    booked_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {booked_index} ON {table} (booked_at);
"""


@dataclass(frozen=True)
class OrdersDay:
    """One business day: the export's CSV text, the ledger's rows and the truth per order."""

    business_date: dt.date
    export_csv: str
    ledger: list[dict[str, Any]]  # order_id, amount (Decimal), currency, status, booked_at
    truth: dict[str, str]  # order_id -> status (core words; other days' orders left out)


def orders_day(business_date: dt.date, orders: int = 40) -> OrdersDay:
    """The day's orders with every planted difference (deterministic: no randomness)."""
    day = dt.datetime.combine(business_date, dt.time(), tzinfo=dt.UTC)
    ids = [f"O-{business_date:%Y%m%d}-{n:04d}" for n in range(1, orders + 1)]
    export: list[list[str]] = []
    ledger: list[dict[str, Any]] = []
    truth: dict[str, str] = {}
    for n, order_id in enumerate(ids):
        amount = Decimal(1000 + 37 * n) / 100
        currency, status = CURRENCIES[n % 3], STATUSES[n % 4]
        booked = day + dt.timedelta(minutes=30 * n + 7)
        ledger.append(_booking(order_id, amount, currency, status, booked))
        export.append([order_id, str(amount), currency, status])
        truth[order_id] = "matched"
    # amounts off by a cent, by 5 and by 100: mismatched
    for i, delta in ((1, "0.01"), (2, "-5.00"), (3, "100.00")):
        export[i][1] = str(Decimal(export[i][1]) + Decimal(delta))
        truth[ids[i]] = "mismatched"
    export[4][1] = export[4][1] + "4"  # 0.004 more: within the 0.005 tolerance, matched
    export[5][3] = export[5][3].capitalize()  # "Shipped" against "SHIPPED": matched
    export[6][2] = f" {export[6][2].lower()} "  # " gbp " normalised to "GBP": matched
    export[7][0] = f" {export[7][0].lower()}"  # the key normalised too (strip, upper): matched
    for i in (8, 9):  # booked, never exported: ledger only
        export[i] = []
        truth[ids[i]] = "right_only"
    for i in (10, 11):  # exported, never booked: export only
        ledger[i] = {}
        truth[ids[i]] = "left_only"
    export.append(list(export[12]))  # exported twice: a duplicate key of the export
    truth[ids[12]] = "duplicate"
    # other days' bookings, and a booking a second before midnight (still the day's)
    ledger[13]["booked_at"] = day + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    for offset, name in ((-1, "O-DAY-BEFORE"), (1, "O-DAY-AFTER")):
        other = day + dt.timedelta(days=offset, hours=12)
        ledger.append(_booking(name, Decimal("99.00"), "USD", "PAID", other))
    ledger.append(_booking("O-MIDNIGHT", Decimal("1.00"), "USD", "PAID", day + dt.timedelta(1)))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["order_id", "amount", "currency", "status"])
    writer.writerows(row for row in export if row)
    return OrdersDay(business_date, text.getvalue(), [b for b in ledger if b], truth)


def _booking(
    order_id: str, amount: Decimal, currency: str, status: str, booked_at: dt.datetime
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "amount": amount,
        "currency": currency,
        "status": status,
        "booked_at": booked_at,
    }


def seed_orders(
    conn: Connection[Any], s3_client: Any, day: OrdersDay, *, bucket: str, key: str
) -> int:
    """Replace ``ledger.orders`` with the day's bookings (one transaction) and put the export
    at ``s3://bucket/key``; return how many bookings the table holds."""
    table = sql.Identifier(SCHEMA, TABLE)
    columns = ("order_id", "amount", "currency", "status", "booked_at")
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
        cur.execute(
            sql.SQL(_DDL).format(table=table, booked_index=sql.Identifier(f"{TABLE}_booked_at"))
        )
        cur.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(table))
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table,
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join([sql.Placeholder()] * len(columns)),
        )
        cur.executemany(insert, [tuple(b[c] for c in columns) for b in day.ledger])
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
        row = cur.fetchone()
    s3_client.put_object(Bucket=bucket, Key=key, Body=day.export_csv.encode("utf-8"))
    return int(row[0]) if row else 0


def seed_example(stack: LocalStack, business_date: dt.date) -> OrdersDay:
    """The example definition's day on a running stack, where its YAML says it is read."""
    from recon.definitions import load_recon_definition
    from recon.definitions.patterns import render_pattern

    export = load_recon_definition(EXAMPLE).left.s3
    if export is None:
        raise ValueError(f"{EXAMPLE}: the example's left side is no longer an S3 export")
    day = orders_day(business_date)
    key = render_pattern(export.key, business_date)
    with closing(psycopg.connect(stack.postgres.dsn)) as conn:
        booked = seed_orders(conn, stack.s3.client(), day, bucket=export.bucket, key=key)
    print(
        f"  seeded: {booked} ledger orders in Postgres (ledger.orders), the shop's export at "
        f"s3://{export.bucket}/{key} ({EXAMPLE.name})"
    )
    return day


__all__ = ["EXAMPLE", "OrdersDay", "orders_day", "seed_example", "seed_orders"]
