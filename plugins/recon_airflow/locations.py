"""Where an input file is, and fetching it to a local path: the ad-hoc recons' file locations.

Three forms, one line each in a trigger form or an API call:

- ``s3://<bucket>/<key>``: through the Amazon provider's S3Hook (connection ``recon_s3`` unless
  told otherwise);
- ``sftp://<conn_id>/<absolute path>``: through the SFTP provider's hook, the server's host key
  verified (a connection that skips the check is refused);
- ``staging:<relative path>`` (or a bare relative path): a file in the staging store, never
  outside it.

A fetch writes a temporary file beside the target and renames it once complete, so a failed
fetch leaves nothing behind. Not-found and connection troubles raise ``FileNotFoundError`` /
``ConnectionError`` (retryable); a malformed location or an insecure connection raises
``BadInputError`` (a ``ValueError``, not retryable).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final, Literal

from recon_airflow.errors import BadInputError, ServiceUnavailableError

if TYPE_CHECKING:
    from recon_airflow.hooks.sftp import BoundedSFTPHook

Scheme = Literal["s3", "sftp", "staging"]
FORMS: Final = "s3://<bucket>/<key>, sftp://<conn_id>/<path> or staging:<relative path>"


@dataclass(frozen=True)
class Location:
    scheme: Scheme
    container: str  # the bucket (s3), the connection id (sftp), "" (staging)
    path: str  # the key (s3), the absolute remote path (sftp), the relative path (staging)

    def __str__(self) -> str:
        if self.scheme == "staging":
            return f"staging:{self.path}"
        return f"{self.scheme}://{self.container}/{self.path.lstrip('/')}"

    @property
    def name(self) -> str:
        """The file's name (what reports and the audit trail call the input)."""
        return PurePosixPath(self.path).name


def parse_location(text: str) -> Location:
    """``text`` as a Location; ValueError says what is wrong and which forms are accepted."""
    raw = (text or "").strip()
    if not raw:
        raise BadInputError(f"no file location given; use {FORMS}")
    if "://" in raw:
        scheme, _, rest = raw.partition("://")
        container, _, path = rest.partition("/")
        if scheme not in ("s3", "sftp"):
            raise BadInputError(f"{raw!r}: unknown scheme {scheme!r}; use {FORMS}")
        if not container or not path or path.endswith("/"):
            what = "bucket and key" if scheme == "s3" else "connection id and file path"
            raise BadInputError(f"{raw!r}: needs a {what}; use {FORMS}")
        if scheme == "s3":
            return Location("s3", container, path)
        return Location("sftp", container, "/" + path)
    relative = raw.removeprefix("staging:")
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise BadInputError(f"{raw!r}: a staging file is a relative path inside the staging store")
    return Location("staging", "", relative)


def fetch(location: Location, dest: Path, *, staging: Path, s3_conn_id: str = "recon_s3") -> Path:
    """Copy the file at ``location`` to ``dest`` (atomically); return ``dest``."""
    from recon.files import replaced_atomically

    dest.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(dest) as staged:
        if location.scheme == "s3":
            _s3_download(location, staged, s3_conn_id)
        elif location.scheme == "sftp":
            sftp_download(location.container, location.path, staged)
        else:
            source = staging / location.path
            if not source.resolve().is_relative_to(staging.resolve()):
                raise BadInputError(f"{location}: points outside the staging store")
            if not source.is_file():
                raise FileNotFoundError(f"{location}: no such file in the staging store")
            shutil.copyfile(source, staged)
    return dest


def verified_sftp_hook(conn_id: str, **options: Any) -> BoundedSFTPHook:
    """The SFTP hook of ``conn_id``, refused (no retry) if the connection skips the host key
    check: the one path every SFTP touch (downloads, the sensor) goes through."""
    from recon_airflow.hooks.sftp import BoundedSFTPHook

    hook = BoundedSFTPHook(ssh_conn_id=conn_id, **options)
    if hook.no_host_key_check or hook.allow_host_key_change:
        raise BadInputError(
            f"SFTP connection {conn_id!r} skips host key verification; remove "
            "no_host_key_check/allow_host_key_change and set its `host_key` extra to the "
            "server's public key (ssh-keyscan -p PORT HOST)"
        )
    return hook


def sftp_download(conn_id: str, remote: str, local: Path, *, conn_retry_attempts: int = 1) -> None:
    """Fetch ``remote`` over an SFTP connection whose host key is verified."""
    import paramiko

    hook = verified_sftp_hook(conn_id, conn_retry_attempts=conn_retry_attempts)
    try:
        hook.retrieve_file(remote, str(local))
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{remote} is not on SFTP connection {conn_id!r} ({exc.strerror})"
        ) from exc
    except TimeoutError as exc:  # one SFTP request unanswered: the server is frozen or gone
        raise ServiceUnavailableError(
            f"cannot fetch {remote} over SFTP connection {conn_id!r} ({hook.remote_host}:"
            f"{hook.port}): no answer within read_timeout {hook.read_timeout:g} s; the task "
            "will be retried"
        ) from exc
    except (paramiko.SSHException, OSError) as exc:
        raise ServiceUnavailableError(
            f"cannot fetch {remote} over SFTP connection {conn_id!r} ({hook.remote_host}:"
            f"{hook.port}, conn_timeout {hook.conn_timeout:g} s, banner_timeout "
            f"{hook.banner_timeout:g} s): {type(exc).__name__}: {exc}"
        ) from exc


def _s3_download(location: Location, local: Path, conn_id: str) -> None:
    from botocore.exceptions import ClientError

    from recon_airflow.hooks.s3 import s3_hook, s3_unavailable_as_retryable

    hook = s3_hook(conn_id)
    try:
        with s3_unavailable_as_retryable(hook, f"fetching {location}"):
            hook.get_conn().download_file(location.container, location.path, str(local))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NoSuchBucket"):
            raise FileNotFoundError(f"{location}: no such object ({code})") from exc
        raise ConnectionError(f"cannot fetch {location}: {exc}") from exc


__all__ = ["FORMS", "Location", "fetch", "parse_location", "sftp_download", "verified_sftp_hook"]
