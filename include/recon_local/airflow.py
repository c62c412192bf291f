"""`make airflow`: Airflow standalone (UI + scheduler) wired to the embedded servers.

Starts Postgres, MongoDB, SFTP, S3, SMTP, the Slack recorder and the processor APIs, seeds the
last ``--days`` business days up to ``--last-date`` for ``aum_recon`` (CAMS and KARVY files on
SFTP, one ledger in MongoDB; breaks persist, clear and appear from one date to the next) and
for ``payments_recon`` (Stripe, PayPal and Square behind the local APIs, the ledger in
Postgres), and the last date for ``orders_s3_vs_ledger``; then runs ``airflow standalone`` with
a fixed login (admin / admin) and small parallelism for 2 cores. Ctrl-C or SIGTERM (``kill``,
a service manager, or ``make`` itself being killed) stops Airflow and every server, prints the
closing lines and exits 0. State lives in ``.airflow-local/`` (removed on start).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from embedded import orders_seed
from embedded.airflow_settings import REPO_ROOT, airflow_settings
from embedded.base import ServiceError
from embedded.stack import LocalStack
from recon.pipeline_config.aum import load_aum_config
from recon_local import demo_aum, demo_payments
from recon_local.demo import BUSINESS_DATE

USER, PASSWORD = "admin", "admin"
DAYS = 5  # business dates seeded by default: a week to backfill and watch breaks age
PR_SET_PDEATHSIG = 1  # prctl(2): a signal for us when our parent (make) exits


class Stopped(Exception):  # not an error: how a stop request unwinds
    """SIGINT or SIGTERM arrived: unwind every ``with`` block that stops a server."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def standalone_env(home: Path, stack_env: dict[str, str], port: int) -> dict[str, str]:
    """Everything ``airflow standalone`` needs: settings, connections, login, recon folders."""
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.parent.mkdir(parents=True, exist_ok=True)
    passwords.write_text(json.dumps({USER: PASSWORD}))
    return {
        **os.environ,
        **airflow_settings(home),
        **stack_env,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "RECON_STAGING_DIR": str(home / "recon" / "staging"),
        "RECON_REPORTS_DIR": str(home / "recon" / "reports"),
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("include", "plugins")),
        # standalone starts its components as `airflow ...` subprocesses: this venv's first
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_local.airflow", description=__doc__)
    parser.add_argument("--home", type=Path, default=REPO_ROOT / ".airflow-local")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--positions", type=int, default=500)
    parser.add_argument("--payments", type=int, default=1000, help="payment cases per processor")
    parser.add_argument(
        "--days", type=int, default=DAYS, help=f"business dates to seed (default {DAYS})"
    )
    parser.add_argument(
        "--last-date",
        type=dt.date.fromisoformat,
        default=BUSINESS_DATE,
        help=f"the last business date seeded (default {BUSINESS_DATE})",
    )
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    # Ctrl-C and a plain `kill` both unwind the `with` blocks that stop the servers (a shell
    # that starts us in the background hands us SIGINT ignored); so does make being killed,
    # which otherwise would leave us running without it
    signal.signal(signal.SIGINT, _stop_requested)
    signal.signal(signal.SIGTERM, _stop_requested)
    _stop_with_parent()
    dates = seeded_dates(args.last_date, args.days)
    try:
        return serve(args.home.resolve(), args.port, args.positions, args.payments, dates)
    except ServiceError as err:
        print(f"make airflow: error: {err.summary}", file=sys.stderr)
        return 2


def seeded_dates(last: dt.date, days: int) -> list[dt.date]:
    """The ``days`` business dates up to ``last`` (the registrars' calendar: no weekends or
    holidays), oldest first."""
    calendar = load_aum_config().volume.for_source("CAMS").calendar
    return sorted(calendar.business_days_before(last + dt.timedelta(days=1), days))


def serve(home: Path, port: int, positions: int, payments: int, dates: list[dt.date]) -> int:
    """Start the servers, seed them, run ``airflow standalone`` until it stops or we are told
    to; the closing lines are printed however it ends."""
    shutil.rmtree(home, ignore_errors=True)
    closing = "stopped before the servers started"
    status = 0
    try:
        with LocalStack() as stack:
            try:
                status = _seed_and_run(stack, home, port, positions, payments, dates)
            except Stopped as stop:
                print(f"\n{stop}: stopping Airflow and the servers ...", flush=True)
            finally:
                closing = (
                    f"emails captured: {len(stack.smtp.messages())}, "
                    f"Slack messages: {len(stack.slack.requests())}"
                )
    except Stopped as stop:  # while the servers were starting or stopping
        print(f"\n{stop}: stopping the servers ...", flush=True)
    print(closing)
    print("stopped: Airflow and every local server")
    return status


def _seed_and_run(
    stack: LocalStack, home: Path, port: int, positions: int, payments: int, dates: list[dt.date]
) -> int:
    last = dates[-1]
    demo_aum.seed_days(stack, home, dates, positions)
    demo_payments.seed_days(stack, home, dates, payments)
    orders_seed.seed_example(stack, last)  # config/recons/orders_s3_vs_ledger.yaml
    env = standalone_env(home, stack.env(), port)
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    log = home / "standalone.log"
    first, span = dates[0], f"{dates[0]} to {last}" if len(dates) > 1 else f"{last}"
    backfill = f"--from-date {first + dt.timedelta(days=1)} --to-date {last + dt.timedelta(days=1)}"
    print(
        f"Airflow UI:  http://127.0.0.1:{port}   login {USER} / {PASSWORD}"
        f" (ready in ~45 s; log: {log})\n"
        f"Seeded:      business dates {span} for aum_recon and payments_recon, {last} for "
        "orders_s3_vs_ledger (config/recons).\n"
        f"Trigger one with its business_date, or backfill them all (Airflow's logical dates "
        f"are a day later): Backfill in the UI, or\n"
        f"             airflow backfill create --dag-id aum_recon {backfill}\n"
        "             then watch first_seen_date / age_days in recon.v_open_breaks grow;\n"
        "file_recon takes two files from its form, or from the upload API: "
        f"http://127.0.0.1:{port}/recon/docs (curl commands: README, 'The upload API').\n"
        f"Postgres:    RECON_POSTGRES_URL={stack.postgres.dsn}\n"
        f'             psql "$RECON_POSTGRES_URL" -c "{demo_aum.OPEN_BREAKS_SQL}"\n'
        f'             psql "$RECON_POSTGRES_URL" -c "{demo_payments.HIGH_VALUE_SQL}"\n'
        f"Reports:     {env['RECON_REPORTS_DIR']}\n"
        "Ctrl-C (or SIGTERM) stops Airflow and the servers.",
        flush=True,
    )
    with log.open("w") as handle:
        proc = subprocess.Popen(
            [airflow, "standalone"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = proc.wait()
        finally:
            _stop(proc)
    print(f"airflow standalone exited on its own ({code}); see {log}", flush=True)
    return 0 if code == 0 else 1


_stopping = False


def _stop_requested(signum: int, frame: object) -> None:
    """The first SIGINT / SIGTERM unwinds; later ones must not interrupt the stopping."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    raise Stopped(signum)


def _stop_with_parent() -> None:
    """Ask Linux for a SIGTERM when our parent exits: GNU make, killed with SIGTERM, exits at
    once without passing it on, which would leave Airflow and the servers running."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent went before we asked
        os.kill(os.getpid(), signal.SIGTERM)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop standalone and every process under it (its API server's workers may leave its
    process group, and standalone ignores a plain SIGTERM now and then): SIGTERM to the group
    and to each of them, then SIGKILL to whatever is left after 15 s."""
    import psutil  # an Airflow dependency

    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for child in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(tree, timeout=15)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=5)
    proc.wait()


if __name__ == "__main__":
    raise SystemExit(main())
