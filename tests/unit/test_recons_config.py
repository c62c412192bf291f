"""Recon definitions (``config/recons/*.yaml``): defaults, placeholders, schedules, and every
mistake reported at once with its file, YAML path, line and hint — also by ``recon validate``."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from recon.cli import EXIT_BAD_INPUT, EXIT_OK, main
from recon.definitions import ReconConfigError, is_recon_definition, load_recon_definition
from recon.definitions.patterns import pattern_problem, render_pattern
from recon.definitions.sources import FILE_SUFFIXES
from recon.readers.tables import FORMATS
from worlds.definitions import against_the_ledger

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "recons" / "orders_s3_vs_ledger.yaml"
DAY = dt.date(2026, 11, 20)
MINIMAL = against_the_ledger(
    """\
schedule: "@daily"
left:
  label: shop
  s3: {bucket: recon-staging, key: "exports/{date}.csv"}
"""
)


def write(tmp_path: Path, text: str, name: str = "daily_orders.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ReconConfigError) as caught:
        load_recon_definition(path)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_example_is_valid() -> None:
    recon = load_recon_definition(EXAMPLE)
    assert (recon.dag_id, recon.source, recon.spec.name) == (
        "orders_s3_vs_ledger",
        "orders",
        "orders_s3_vs_ledger",
    )
    assert (recon.left.kind, recon.right.kind) == ("s3", "sql")
    assert recon.left.s3 is not None and recon.right.sql is not None
    assert recon.left.s3.location(DAY) == "s3://recon-staging/exports/orders/2026-11-20.csv"
    assert recon.right.sql.parameters(DAY) == {"business_date": "2026-11-20"}
    assert (recon.spec.left.label, recon.spec.right.label) == ("export", "ledger")


def test_defaults(tmp_path: Path) -> None:
    recon = load_recon_definition(write(tmp_path, MINIMAL))
    assert recon.dag_id == recon.source == recon.spec.name == "daily_orders"  # the file's stem
    assert (recon.timezone, recon.days_before, recon.owner) == ("UTC", 1, "recon-ops")
    assert recon.start_date == dt.date(2026, 1, 1) and recon.tags == ()
    assert (recon.spec.left.label, recon.spec.right.label) == ("shop", "ledger")  # the sides'
    assert recon.left.s3 is not None and recon.left.s3.conn_id == "recon_s3"
    assert recon.right.sql is not None and recon.right.sql.conn_id == "recon_postgres"
    assert recon.results.postgres == "recon_postgres" and recon.results.mongo is None
    assert recon.results.reports.formats == ("html", "csv", "xlsx", "json")
    assert (recon.results.reports.s3_conn_id, recon.results.reports.bucket) == (
        "recon_s3",
        "recon-reports",
    )
    assert recon.alerts.email == ("ops@example.test",)  # one address may be a string
    assert (recon.alerts.smtp_conn_id, recon.alerts.slack_conn_id) == ("recon_smtp", "recon_slack")


def test_every_mistake_at_once_with_path_line_and_hint(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        dag_id: Orders-Daily
        schedule: "61 7 * * *"
        timezone: Europe/Londn
        shedule: x
        left:
          label: shop
          s3: {bucket: recon-staging, key: "exports/{day}.csv", encoding: utf-9}
        right:
          label: ledger
          sql: {query: orders_ledgr.sql}
          mongo_x: 1
        spec:
          keys: [order_id]
          compare:
            amount: {abs_tl: 0.01}
        alerts:
          email: [nobody]
        """,
    )
    with pytest.raises(ReconConfigError) as caught:
        load_recon_definition(path)
    where = f"{path}: "
    assert [str(p).removeprefix(where) for p in caught.value.problems] == [
        "dag_id, line 1: `Orders-Daily` is not a usable dag_id: lowercase letters, digits and "
        "`_`, starting with a letter, at most 64 characters",
        "schedule, line 2: `61 7 * * *` is not a cron expression (minute hour day month "
        "weekday, e.g. `0 7 * * *` for 07:00 every day, `30 6 * * 1-5` on weekdays)",
        "timezone, line 3: unknown time zone `Europe/Londn` (did you mean `Europe/London`?)",
        "shedule, line 4: unknown setting `shedule` (did you mean `schedule`?)",
        "left.s3.encoding, line 7: unknown text encoding `utf-9` (e.g. utf-8, cp1252)",
        "left.s3.key, line 7: `exports/{day}.csv`: unknown placeholder `{day}` (placeholders: "
        "{date} (2026-11-20) or {date:<strftime>} such as {date:%Y%m%d}; write {{ and }} for "
        "literal braces)",
        "right.sql.query, line 10: no query file include/sql/orders_ledgr.sql "
        "(did you mean `orders_ledger.sql`?)",
        "right.mongo_x, line 11: unknown setting `mongo_x` (did you mean `mongo`?)",
        "spec.compare.amount.abs_tl, line 15: unknown setting `abs_tl` (did you mean `abs_tol`?)",
        "alerts.email, line 17: not e-mail addresses: nobody",
    ]
    message = str(caught.value)
    assert message.startswith(f"invalid recon definition {path}: 10 problems: ")
    assert "\n" not in message  # one line: the CLI prints it as it is


@pytest.mark.parametrize(
    ("side", "words"),
    [
        (
            "  label: shop\n  s3: {bucket: b-1, key: a.csv}\n  sql: {query: orders_ledger.sql}\n",
            "needs exactly one reader of s3, sftp, sql, mongo, http; found `s3` and `sql`",
        ),
        ("  label: shop\n", "needs exactly one reader of s3, sftp, sql, mongo, http; found none"),
        (
            "  label: shop\n  sftp: {path: out/orders.csv}\n",
            "`out/orders.csv`: an SFTP path is absolute and names a file",
        ),
        (
            '  label: shop\n  s3: {bucket: b-1, key: "exports/{date}.json"}\n',
            "cannot read `.json` files",
        ),
        (
            "  label: shop\n  s3: {bucket: b-1, key: x.csv, format: xlsx}\n",
            "format `xlsx` but `x.csv` ends in `.csv`, read as csv",
        ),
        (
            "  label: shop\n  sql: {query: ../secrets.sql}\n",
            "is not a .sql file name in include/sql",
        ),
        (
            "  label: shop\n  mongo: {database: d, collection: c, pipeline: [{$out: x}]}\n",
            "stage 0: `$out` writes to MongoDB; an extract reads",
        ),
        (
            "  label: shop\n  mongo: {database: d, collection: c, pipeline: [{a: 1, b: 2}]}\n",
            "stage 0 must be one `$stage: ...` mapping, got ['a', 'b']",
        ),
    ],
    ids=[
        "two-readers",
        "no-reader",
        "relative-sftp",
        "unreadable",
        "format",
        "outside",
        "out",
        "stage",
    ],
)
def test_side_mistakes(tmp_path: Path, side: str, words: str) -> None:
    text = MINIMAL.replace(
        '  label: shop\n  s3: {bucket: recon-staging, key: "exports/{date}.csv"}\n', side
    )
    found = problems_of(write(tmp_path, text))
    assert len(found) == 1 and words in found[0] and ": left" in found[0], found


def test_mongo_pipeline_placeholders_render_in_string_values_only(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  sql: {query: orders_ledger.sql}\n",
        textwrap.indent(
            textwrap.dedent(
                """\
                mongo:
                  database: shop
                  collection: orders
                  pipeline:
                    - $match: {day: "{date}", compact: "{date:%Y%m%d}", "{date}": 1, n: 7}
                    - $project: {_id: 0, order_id: 1, amount: 1}
                """
            ),
            "  ",
        ),
    )
    recon = load_recon_definition(write(tmp_path, text))
    assert recon.right.mongo is not None
    assert recon.right.mongo.rendered_pipeline(DAY) == [
        {"$match": {"day": "2026-11-20", "compact": "20261120", "{date}": 1, "n": 7}},
        {"$project": {"_id": 0, "order_id": 1, "amount": 1}},
    ]


def test_mongo_pipeline_placeholder_mistakes_are_located(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  sql: {query: orders_ledger.sql}\n",
        "  mongo:\n    database: shop\n    collection: orders\n    pipeline:\n"
        '      - $match: {day: "{dat}"}\n'
        '      - $match: {code: {$regex: "^A{3}"}}\n',
    )
    found = problems_of(write(tmp_path, text))
    assert [p.split(": ", 2)[1] for p in found] == [
        "right.mongo.pipeline.0.$match.day, line 11",
        "right.mongo.pipeline.1.$match.code.$regex, line 12",
    ]
    assert "unknown placeholder `{dat}` (did you mean `date`?" in found[0]
    assert "unknown placeholder `{3}`" in found[1] and "write {{ and }}" in found[1]


@pytest.mark.parametrize(
    ("pattern", "rendered"),
    [
        ("exports/{date}.csv", "exports/2026-11-20.csv"),
        ("/out/o_{date:%Y%m%d}.csv", "/out/o_20261120.csv"),
        ("{date:%Y}/{date:%m}/{{raw}}.csv", "2026/11/{raw}.csv"),
        ("latest.csv", "latest.csv"),
    ],
)
def test_placeholders_render(pattern: str, rendered: str) -> None:
    assert pattern_problem(pattern) is None
    assert render_pattern(pattern, DAY) == rendered


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("{day}.csv", "unknown placeholder `{day}`"),
        ("{}.csv", "unknown placeholder `{}`"),
        ("{date!r}.csv", "is not {date}"),
        ("{date:Ymd}.csv", "is not {date}"),
        ("{date.csv", "expected '}'"),
        ("date}.csv", "Single '}'"),
    ],
)
def test_placeholder_mistakes(pattern: str, words: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and words in problem


@pytest.mark.parametrize(
    ("schedule", "ok"),
    [
        ("0 7 * * *", True),
        ("30 6 * * 1-5", True),
        ("*/15 * * * *", True),
        ("0 7 * * mon-fri", True),
        ("@daily", True),
        ("@quarterly", True),
        ("61 7 * * *", False),
        ("0 7 * *", False),
        ("every day", False),
        ("@dayly", False),
        ("@once", False),
    ],
)
def test_schedules(tmp_path: Path, schedule: str, ok: bool) -> None:
    path = write(tmp_path, MINIMAL.replace('"@daily"', f'"{schedule}"'))
    if ok:
        assert load_recon_definition(path).schedule == schedule
        return
    (found,) = problems_of(path)
    assert "schedule, line 1:" in found
    if schedule == "@dayly":
        assert "unknown schedule preset `@dayly` (did you mean `@daily`?)" in found


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Kolkata", "America/New_York"])
def test_timezones(tmp_path: Path, timezone: str) -> None:
    path = write(tmp_path, MINIMAL + f"timezone: {timezone}\n")
    assert load_recon_definition(path).timezone == timezone


def test_spec_problems_are_prefixed_and_located_in_the_file(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  compare: {amount: {abs_tol: 0.01}}\n",
        "  compare: {amount: {abs_tol: -1}}\n  normalize: {order_id: [uper]}\n  left: {label: x}\n",
    )
    found = problems_of(write(tmp_path, text))
    assert [p.split(": ", 2)[1] for p in found] == [
        "spec.compare.amount.abs_tol, line 10",
        "spec.normalize.order_id.0, line 11",
        "spec.left.label, line 12",
    ]
    assert "unknown normalisation rule `uper` (did you mean `upper`?)" in found[1]
    assert "the spec labels the left side `x` but left.label is `shop`" in found[2]


def test_both_sides_with_one_label(tmp_path: Path) -> None:
    (found,) = problems_of(write(tmp_path, MINIMAL.replace("label: ledger", "label: shop")))
    assert "right.label, line 6: left and right are both labelled `shop`" in found


def test_a_file_name_that_is_no_dag_id(tmp_path: Path) -> None:
    (found,) = problems_of(write(tmp_path, MINIMAL, name="Daily-Orders.yaml"))
    assert "dag_id: no dag_id, and the file name is not one: `Daily-Orders`" in found
    assert "(rename the file or set `dag_id:`)" in found
    fixed = write(tmp_path, "dag_id: daily_orders\n" + MINIMAL, name="Daily-Orders.yaml")
    assert load_recon_definition(fixed).dag_id == "daily_orders"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("schedule: [unclosed\n", "1 problem: .*, line 2: not valid YAML"),
        ("- a list\n", "a recon definition is a YAML mapping"),
    ],
)
def test_not_a_definition(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ReconConfigError, match=words):
        load_recon_definition(write(tmp_path, text))


def test_file_suffixes_follow_the_readers() -> None:
    """The definition checks suffixes without importing the readers (polars): same table."""
    assert FILE_SUFFIXES == FORMATS


def test_definitions_and_specs_are_told_apart(tmp_path: Path) -> None:
    assert is_recon_definition(EXAMPLE)
    assert not is_recon_definition(REPO / "config" / "specs" / "payments.yaml")
    assert not is_recon_definition(tmp_path / "missing.yaml")


# -- recon validate ----------------------------------------------------------------------


def test_validate_a_good_definition(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == EXIT_OK
    out = capsys.readouterr().out.strip()
    assert out == (
        f"{EXAMPLE}: ok (recon orders_s3_vs_ledger: export (s3) vs ledger (sql), schedule "
        "`0 7 * * *` UTC; spec orders_s3_vs_ledger: 1 key(s), 3 field(s))"
    )


def test_validate_a_bad_definition_lists_every_problem_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fields = "".join(f"    f{i}: {{abs_tol: -{i + 1}}}\n" for i in range(25))
    text = MINIMAL.replace("  compare: {amount: {abs_tol: 0.01}}\n", "  compare:\n" + fields)
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"recon: error: invalid recon definition {path}: 25 problems: ")
    assert "and 5 more" not in line
    for i in range(25):
        assert f"spec.compare.f{i}.abs_tol, line {11 + i}:" in line


def test_validate_still_checks_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(REPO / "config" / "specs" / "payments.yaml")]) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"{REPO / 'config' / 'specs' / 'payments.yaml'}: ok")
