"""Match passes at scale: recon's group and rule passes against DuckDB doing the same, one run.

Generated data (seeded numpy, ``bench/data/passes-<N>/``, reused when the manifest matches):

- group: N balance transactions (``txn_id``, ``payout_id``, ``account``, ``currency``, ``date``
  over 30 days, ``amount`` in cents) in N/20 payouts; a payout's amount is the exact net of its
  transactions, paid 0..2 days after the last one; 4% of payouts are off by 0.50 to 20.00 (they
  must stay open), 2% never arrive, 1% of transactions carry no payout id.
- rule: N ledger entries and N bank lines (``account`` of 100, ``currency`` of 3, ``date``,
  ``amount``); a line books its entry 0..3 days later, 10% within the 0.01 tolerance, 3% of
  entries have no line and 3% of lines no entry.

Each contender runs as its own process under ``bench/measure.py`` (wall time, CPU, peak RSS):

| pass  | recon                                                  | DuckDB                                      |
|-------|--------------------------------------------------------|---------------------------------------------|
| group | ``run_passes``' steps (prepare, group by payout_id, exact sums, candidate_pairs, select_pairs, statuses) | GROUP BY + join on payout and currency + sum within 0.01 + date window + tie counts by window functions |
| rule  | ``run_passes``' steps (equal account/currency, amount 0.01, date 0..3 days) | the same join blocked on account, currency and amount/date buckets (range filter after), ROW_NUMBER/COUNT ranking, mutual unique best |

Both write their matches to Parquet; the matched groups/pairs are checked against the truth (the
counts printed). recon also gives every input row its status and writes the summary; the time of
the pass runner alone is printed beside (``pass_s``). The table goes to stdout and ``bench/results/passes-<N>.json``.

    .venv/bin/python bench/bench_passes.py [--rows 1000000] [--passes group,rule]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "include"))

DAYS = 30
ABS_TOL = 0.01
AFTER_DAYS = 3
SEED = 13


# -- data ---------------------------------------------------------------------------------


def generate(rows: int, folder: Path) -> None:
    import numpy as np
    import polars as pl

    manifest = folder / "manifest.json"
    params = {"rows": rows, "seed": SEED, "version": 1}
    if manifest.exists() and json.loads(manifest.read_text()) == params:
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    start = np.datetime64("2024-03-01")

    # group: transactions in payouts
    payouts = rows // 20
    payout_of = rng.integers(0, payouts, rows)
    p_account = rng.integers(0, 100, payouts)
    p_currency = rng.integers(0, 3, payouts)
    cents = rng.integers(-5_000, 200_000, rows)  # refunds and fees are negative
    day = rng.integers(0, DAYS - AFTER_DAYS, rows)
    txns = pl.DataFrame(
        {
            "txn_id": [f"txn_{i:09d}" for i in rng.permutation(rows)],
            "payout_id": [f"po_{p:07d}" for p in payout_of],
            "account": [f"acct_{a:03d}" for a in p_account[payout_of]],
            "currency": np.array(["usd", "eur", "gbp"])[p_currency[payout_of]],
            "date": start + day,
            "cents": cents,
        }
    ).with_columns(
        pl.when(pl.int_range(pl.len()) % 100 == 7)
        .then(None)
        .otherwise(pl.col("payout_id"))
        .alias("payout_id")
    )
    sums = (
        txns.filter(pl.col("payout_id").is_not_null())
        .group_by("payout_id")
        .agg(
            pl.col("cents").sum(),
            pl.col("date").max(),
            pl.col("account").first(),
            pl.col("currency").first(),
        )
        .sort("payout_id")
    )
    n = sums.height
    off = rng.integers(50, 2_000, n) * np.where(rng.random(n) < 0.5, -1, 1)
    kind = rng.random(n)
    paid = sums.with_columns(
        pl.Series("off", np.where(kind < 0.04, off, 0)),
        pl.Series("late", rng.integers(0, 3, n)),
        pl.Series("kind", kind),
    ).filter(pl.col("kind") < 0.98)  # 2% of payouts never arrive
    payout_frame = paid.select(
        pl.col("payout_id").alias("po_id"),
        "account",
        "currency",
        (pl.col("date") + pl.duration(days=pl.col("late"))).alias("date"),
        ((pl.col("cents") + pl.col("off")) / 100).alias("amount"),
    )
    txns.select(
        "txn_id",
        "payout_id",
        "account",
        "currency",
        "date",
        (pl.col("cents") / 100).alias("amount"),
    ).sample(fraction=1, shuffle=True, seed=SEED).write_parquet(folder / "txns.parquet")
    payout_frame.sample(fraction=1, shuffle=True, seed=SEED).write_parquet(
        folder / "payouts.parquet"
    )
    paid.filter(pl.col("off") == 0).select(pl.col("payout_id").alias("po_id")).write_parquet(
        folder / "group_truth.parquet"
    )

    # rule: ledger entries and the bank lines that book them
    entry_cents = rng.integers(100, 1_000_000, rows)
    entries = pl.DataFrame(
        {
            "entry_id": [f"le_{i:09d}" for i in range(rows)],
            "account": [f"acct_{a:03d}" for a in rng.integers(0, 100, rows)],
            "currency": np.array(["usd", "eur", "gbp"])[rng.integers(0, 3, rows)],
            "date": start + rng.integers(0, DAYS - AFTER_DAYS, rows),
            "amount": entry_cents / 100,
        }
    )
    booked = rng.random(rows) >= 0.03
    slip = np.where(rng.random(rows) < 0.10, rng.choice([-0.004, 0.003, 0.006], rows), 0.0)
    lines = entries.with_columns(
        pl.col("entry_id").str.replace("le_", "bl_").alias("line_id"),
        (pl.col("date") + pl.duration(days=pl.Series(rng.integers(0, AFTER_DAYS + 1, rows)))),
        (pl.col("amount") + pl.Series(slip)).round(3),
    ).filter(pl.Series(booked))
    extra = rows * 3 // 100
    stray = pl.DataFrame(
        {
            "line_id": [f"bx_{i:09d}" for i in range(extra)],
            "account": [f"acct_{a:03d}" for a in rng.integers(0, 100, extra)],
            "currency": np.array(["usd", "eur", "gbp"])[rng.integers(0, 3, extra)],
            "date": start + rng.integers(0, DAYS, extra),
            "amount": rng.integers(100, 1_000_000, extra) / 100,
        }
    )
    entries.sample(fraction=1, shuffle=True, seed=SEED).write_parquet(folder / "ledger.parquet")
    pl.concat([lines.select(stray.columns), stray]).sample(
        fraction=1, shuffle=True, seed=SEED
    ).write_parquet(folder / "bank.parquet")
    manifest.write_text(json.dumps(params))


# -- contenders (each runs in its own process) --------------------------------------------

GROUP_SPEC = {
    "name": "bench_group",
    "ids": {"left": "txn_id", "right": "po_id"},
    "fields": {
        "amount": {"type": "number"},
        "date": {"type": "date"},
        "currency": {},
        "payout": {"left": "payout_id", "right": "po_id"},
    },
    "passes": [
        {
            "name": "payout_net",
            "kind": "group",
            "many": "left",
            "group_by": ["payout"],
            "equal": ["currency", "payout"],
            "amount": {"field": "amount", "abs_tol": ABS_TOL},
            "date": {"field": "date", "before": 0, "after": AFTER_DAYS},
        }
    ],
}
RULE_SPEC = {
    "name": "bench_rule",
    "ids": {"left": "entry_id", "right": "line_id"},
    "fields": {
        "amount": {"type": "number"},
        "date": {"type": "date"},
        "currency": {},
        "account": {},
    },
    "passes": [
        {
            "name": "amount_date",
            "kind": "rule",
            "equal": ["account", "currency"],
            "amount": {"field": "amount", "abs_tol": ABS_TOL},
            "date": {"field": "date", "before": 0, "after": AFTER_DAYS},
        }
    ],
}
FILES = {"group": ("txns.parquet", "payouts.parquet"), "rule": ("ledger.parquet", "bank.parquet")}


def run_recon(pass_kind: str, folder: Path, out: Path) -> dict[str, Any]:
    """``run_passes``' two steps, timed apart, and the pass runner's own time within them."""
    import polars as pl

    from recon.passes import run as passes_run
    from recon.passes.prepare import prepare_sides
    from recon.spec.passes import PassSpec

    spec = PassSpec.model_validate(GROUP_SPEC if pass_kind == "group" else RULE_SPEC)
    kind = spec.passes[0].kind
    runner = passes_run.runner_for(kind)
    timings: dict[str, float] = {}

    def timed(rows: Any, match_pass: Any) -> Any:
        started = time.perf_counter()
        outcome = runner(rows, match_pass)
        timings["pass_s"] = round(time.perf_counter() - started, 3)
        return outcome

    passes_run.RUNNERS[kind] = timed
    left, right = (pl.scan_parquet(folder / name) for name in FILES[pass_kind])
    started = time.perf_counter()
    prepared = prepare_sides(left, right, spec)
    timings["prepare_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    result = passes_run.run_prepared(prepared, spec)
    timings["run_prepared_s"] = round(time.perf_counter() - started, 3)
    result.matches.select("match_id", "left_ids", "right_ids", "score").write_parquet(out)
    statuses = result.rows.group_by("status").len().sort("status").rows()
    return {"matches": result.matches.height, "statuses": dict(statuses), **timings}


DUCKDB_GROUP = """
WITH g AS (
    SELECT payout_id, min(currency) AS currency, sum(amount) AS total, max(date) AS last_date,
           list(txn_id ORDER BY txn_id) AS members
    FROM read_parquet('{txns}') WHERE payout_id IS NOT NULL
    GROUP BY payout_id
    HAVING count(DISTINCT currency) = 1 AND count(amount) = count(*)
), pairs AS (
    SELECT g.payout_id, p.po_id, g.members,
           (1 - 0.5 * least(abs(g.total - p.amount) / {tol}, 1)
            + 1 - 0.5 * (p.date - g.last_date) / {after}) / 2 AS score
    FROM g JOIN read_parquet('{payouts}') p
      ON p.po_id = g.payout_id AND p.currency = g.currency
    WHERE abs(g.total - p.amount) <= {tol} + 1e-9
      AND p.date BETWEEN g.last_date AND g.last_date + {after}
), ranked AS (
    SELECT *,
           count(*) OVER (PARTITION BY payout_id) AS per_group,
           count(*) OVER (PARTITION BY po_id) AS per_payout
    FROM pairs
)
SELECT po_id, members, score FROM ranked WHERE per_group = 1 AND per_payout = 1
"""

# blocked as recon blocks: left in its 3 amount buckets and 2 date buckets, equality joins, then
# the exact range filter; mutual unique best by window functions (one round)
DUCKDB_RULE = """
WITH l AS (
    SELECT entry_id, account, currency, date, amount, ab, db
    FROM read_parquet('{ledger}'),
         unnest([floor(amount / {width})::BIGINT - 1, floor(amount / {width})::BIGINT,
                 floor(amount / {width})::BIGINT + 1]) AS t(ab),
         unnest(list_distinct([(date - DATE '1970-01-01') // {dwidth},
                               (date - DATE '1970-01-01' + {after}) // {dwidth}])) AS u(db)
), r AS (
    SELECT line_id, account, currency, date, amount, floor(amount / {width})::BIGINT AS ab,
           (date - DATE '1970-01-01') // {dwidth} AS db
    FROM read_parquet('{bank}')
), pairs AS (
    SELECT DISTINCT l.entry_id, r.line_id,
           (1 - 0.5 * least(abs(l.amount - r.amount) / {tol}, 1)
            + 1 - 0.5 * (r.date - l.date) / {after}) / 2 AS score
    FROM l JOIN r ON l.account = r.account AND l.currency = r.currency AND l.ab = r.ab
                 AND l.db = r.db
    WHERE abs(l.amount - r.amount) <= {tol} + 1e-9 AND r.date BETWEEN l.date AND l.date + {after}
), ranked AS (
    SELECT *,
           max(score) OVER (PARTITION BY entry_id) AS best_l,
           max(score) OVER (PARTITION BY line_id) AS best_r
    FROM pairs
), best AS (
    SELECT *,
           count(*) FILTER (WHERE score = best_l) OVER (PARTITION BY entry_id) AS ties_l,
           count(*) FILTER (WHERE score = best_r) OVER (PARTITION BY line_id) AS ties_r,
           row_number() OVER (PARTITION BY entry_id ORDER BY score DESC, line_id) AS rank_l
    FROM ranked
)
SELECT entry_id, line_id, score FROM best
WHERE score = best_l AND score = best_r AND ties_l = 1 AND ties_r = 1 AND rank_l = 1
"""


def run_duckdb(pass_kind: str, folder: Path, out: Path) -> dict[str, Any]:
    import duckdb

    if pass_kind == "group":
        query = DUCKDB_GROUP.format(
            txns=folder / "txns.parquet",
            payouts=folder / "payouts.parquet",
            tol=ABS_TOL,
            after=AFTER_DAYS,
        )
    else:
        query = DUCKDB_RULE.format(
            ledger=folder / "ledger.parquet",
            bank=folder / "bank.parquet",
            tol=ABS_TOL,
            after=AFTER_DAYS,
            width=ABS_TOL * 1.000001,
            dwidth=AFTER_DAYS + 1,
        )
    con = duckdb.connect()
    con.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet)")
    matches = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()
    return {"matches": matches[0] if matches else 0}


# -- harness ------------------------------------------------------------------------------


def measured(contender: str, pass_kind: str, folder: Path, timeout: float) -> dict[str, Any]:
    out = folder / f"{contender}-{pass_kind}.parquet"
    report = folder / f"{contender}-{pass_kind}.json"
    measure = folder / f"{contender}-{pass_kind}.measure.json"
    command = [
        sys.executable, "-S", str(HERE / "measure.py"), "--json", str(measure),
        "--timeout", str(timeout), "--",
        sys.executable, str(Path(__file__)), "--child", contender, "--pass", pass_kind,
        "--folder", str(folder), "--out", str(out), "--report", str(report),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    figures = json.loads(measure.read_text())
    if figures["exit_code"] == 0:
        figures.update(json.loads(report.read_text()))
    return figures


def check(pass_kind: str, folder: Path) -> dict[str, int]:
    """Right matches of each contender against the truth (group: the balanced payouts)."""
    import polars as pl

    found = {}
    for contender in ("recon", "duckdb"):
        frame = pl.read_parquet(folder / f"{contender}-{pass_kind}.parquet")
        if pass_kind == "group":
            ids = frame.select(
                (
                    pl.col("right_ids").list.first() if contender == "recon" else pl.col("po_id")
                ).alias("po_id")
            )
            truth = pl.read_parquet(folder / "group_truth.parquet")
            found[contender] = ids.join(truth, on="po_id", how="semi").height
        else:
            pairs = frame.select(
                (pl.col("left_ids").list.first() if contender == "recon" else pl.col("entry_id"))
                .str.slice(3)
                .alias("n"),
                (pl.col("right_ids").list.first() if contender == "recon" else pl.col("line_id"))
                .str.slice(3)
                .alias("m"),
            )
            found[contender] = pairs.filter(pl.col("n") == pl.col("m")).height
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--passes", default="group,rule")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--child", choices=("recon", "duckdb"))
    parser.add_argument("--pass", dest="pass_kind", choices=("group", "rule"))
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    if args.child:
        runner = run_recon if args.child == "recon" else run_duckdb
        args.report.write_text(json.dumps(runner(args.pass_kind, args.folder, args.out)))
        return

    folder = HERE / "data" / f"passes-{args.rows}"
    started = time.perf_counter()
    generate(args.rows, folder)
    print(f"data: {folder} ({time.perf_counter() - started:.1f} s)")
    results: dict[str, Any] = {"rows": args.rows}
    for pass_kind in args.passes.split(","):
        figures = {c: measured(c, pass_kind, folder, args.timeout) for c in ("recon", "duckdb")}
        figures["right_matches"] = check(pass_kind, folder)
        results[pass_kind] = figures
        recon, duck = figures["recon"], figures["duckdb"]
        print(f"\n{pass_kind} pass, {args.rows:,} rows per side")
        print(f"{'':8}{'wall s':>9}{'cpu s':>9}{'peak MB':>9}{'matches':>10}{'right':>10}")
        for name in ("recon", "duckdb"):
            f = figures[name]
            print(
                f"{name:8}{f['wall_s']:9.2f}{f['cpu_s']:9.2f}{f['peak_rss_mb']:9.0f}"
                f"{f.get('matches', -1):10,}{figures['right_matches'][name]:10,}"
            )
        print(
            f"recon / duckdb: wall {recon['wall_s'] / duck['wall_s']:.2f}x, "
            f"peak RSS {recon['peak_rss_mb'] / duck['peak_rss_mb']:.2f}x"
        )
        if "statuses" in recon:
            print(f"recon statuses: {recon['statuses']}")
            print(
                f"recon in-process: prepare {recon['prepare_s']:.2f} s, run_prepared "
                f"{recon['run_prepared_s']:.2f} s, of which the {pass_kind} pass itself "
                f"{recon['pass_s']:.2f} s (the rest: statuses of every row, amounts, summary)"
            )
    out = HERE / "results" / f"passes-{args.rows}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
