"""`make airflow`: Airflow standalone (UI + scheduler) wired to the embedded servers.

Starts Postgres, MongoDB, SFTP, S3, SMTP, the Slack recorder and the processor APIs, seeds one
business day for ``aum_recon`` (CAMS and KARVY files on SFTP, the ledger in MongoDB) and for
``payments_recon`` (Stripe, PayPal and Square behind the local APIs, the ledger in Postgres),
and runs
``airflow standalone`` with a fixed login (admin / admin) and small parallelism for 2 cores.
Ctrl-C stops Airflow and every server. State lives in ``.airflow-local/`` (removed on start).
"""

from __future__ import annotations

import argparse
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
from recon_local import demo_aum, demo_payments
from recon_local.demo import BUSINESS_DATE

USER, PASSWORD = "admin", "admin"


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
    args = parser.parse_args(argv)
    # Ctrl-C, and a plain `kill`, must both unwind the `with` blocks that stop the servers
    # (a shell that starts us in the background hands us SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return serve(args.home.resolve(), args.port, args.positions, args.payments)
    except ServiceError as err:
        print(f"make airflow: error: {err.summary}", file=sys.stderr)
        return 2


def serve(home: Path, port: int, positions: int, payments: int) -> int:
    """Start the servers, seed them, run ``airflow standalone`` until it stops or we are told to."""
    shutil.rmtree(home, ignore_errors=True)
    with LocalStack() as stack:
        demo_aum.seed(stack, home, BUSINESS_DATE, positions)
        demo_payments.seed(stack, home, BUSINESS_DATE, payments)
        orders_seed.seed_example(stack, BUSINESS_DATE)  # config/recons/orders_s3_vs_ledger.yaml
        env = standalone_env(home, stack.env(), port)
        airflow = str(Path(sys.executable).with_name("airflow"))
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        log = home / "standalone.log"
        print(
            f"Airflow UI:  http://127.0.0.1:{port}   login {USER} / {PASSWORD}"
            f" (ready in ~45 s; log: {log})\n"
            f"Trigger aum_recon, payments_recon or orders_s3_vs_ledger (config/recons) with "
            f"business_date {BUSINESS_DATE} (seeded), or unpause them; file_recon takes two "
            "files from its form,\n"
            f"or from the upload API: http://127.0.0.1:{port}/recon/docs (curl commands: "
            "README, 'The upload API').\n"
            f"Postgres:    RECON_POSTGRES_URL={stack.postgres.dsn}\n"
            f'             psql "$RECON_POSTGRES_URL" -c "{demo_aum.OPEN_BREAKS_SQL}"\n'
            f'             psql "$RECON_POSTGRES_URL" -c "{demo_payments.HIGH_VALUE_SQL}"\n'
            f"Reports:     {env['RECON_REPORTS_DIR']}\n"
            "Ctrl-C stops Airflow and the servers."
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
                proc.wait()
            except (KeyboardInterrupt, SystemExit):
                print("\nstopping Airflow and the servers ...")
            finally:
                _stop(proc)
        print(
            f"emails captured: {len(stack.smtp.messages())}, Slack messages: {len(stack.slack.requests())}"
        )
    return 0


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """standalone ignores a plain SIGTERM now and then: terminate the group, then kill it."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


if __name__ == "__main__":
    raise SystemExit(main())
