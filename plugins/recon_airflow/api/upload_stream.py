"""Receive a multipart upload straight into a folder, refusing a file the moment it is too big.

Starlette's own form parsing spools every file to a temporary file first and has no size limit
for files; here each file part is written as it arrives (in a worker thread, so the API server's
event loop never blocks on disk) to ``<folder>/<field>.part``, counted and hashed on the way,
and the upload is refused with 413 as soon as one file passes ``RECON_UPLOAD_MAX_BYTES``.
A file's own name is kept as text, never used as a path.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from recon_airflow.api.problems import ApiProblem

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_BYTES_ENV: Final = "RECON_UPLOAD_MAX_BYTES"
DEFAULT_MAX_BYTES: Final = 100 * 1024 * 1024
MAX_FIELD_BYTES: Final = 16 * 1024  # a text field (key list, tolerances, ...)
MAX_FIELDS: Final = 40
FORM_OVERHEAD: Final = 1024 * 1024  # text fields and part headers around the files


def max_upload_bytes() -> int:
    """The size limit per file: ``RECON_UPLOAD_MAX_BYTES`` (bytes), default 100 MiB."""
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{MAX_BYTES_ENV} must be a positive number of bytes, not {raw!r}")
    return value


def described_size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


@dataclass
class ReceivedFile:
    """One uploaded file, on disk at ``path``."""

    field: str
    filename: str  # as the client named it: shown to people, never a path
    path: Path
    size: int = 0
    sha256: str = ""


@dataclass
class ReceivedForm:
    fields: dict[str, list[str]] = field(default_factory=dict)  # a field may be repeated
    files: dict[str, ReceivedFile] = field(default_factory=dict)


async def receive_form(
    request: Request, folder: Path, *, file_fields: Collection[str], max_file_bytes: int
) -> ReceivedForm:
    """Stream ``request``'s multipart body into ``folder``; ApiProblem on any trouble.

    The caller owns ``folder`` and removes it when this raises.
    """
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data":
        raise ApiProblem(
            415, "send the upload as multipart/form-data (e.g. curl -F source_file=@a.csv ...)"
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiProblem(400, "multipart body without a boundary in its Content-Type")
    declared = request.headers.get("content-length", "")
    limit = len(file_fields) * max_file_bytes + FORM_OVERHEAD
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(f"the upload ({described_size(int(declared))})", max_file_bytes)
    receiver = _Receiver(folder, set(file_fields), max_file_bytes)
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if receiver.pending:
                await run_in_threadpool(receiver.flush)
        parser.finalize()
        await run_in_threadpool(receiver.flush)
    except MultipartParseError as exc:
        raise ApiProblem(400, f"malformed multipart body: {exc}") from None
    finally:
        receiver.close()
    if not receiver.complete:
        raise ApiProblem(400, "the multipart body ended before its closing boundary")
    return receiver.form


def _too_large(what: str, limit: int) -> ApiProblem:
    return ApiProblem(
        413,
        f"{what} is larger than the limit of {described_size(limit)} per file "
        f"({MAX_BYTES_ENV} on the server)",
    )


class _Receiver:
    """python-multipart callbacks: text fields kept in memory, file parts queued for disk."""

    def __init__(self, folder: Path, file_fields: set[str], max_file_bytes: int) -> None:
        self.folder = folder
        self.file_fields = file_fields
        self.max_file_bytes = max_file_bytes
        self.form = ReceivedForm()
        self.pending: list[tuple[str, bytes]] = []  # (file field, bytes) not yet on disk
        self.complete = False
        self._handles: dict[str, BinaryIO] = {}
        self._digests: dict[str, Any] = {}
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._file: ReceivedFile | None = None
        self._name = ""
        self._text = bytearray()
        self._fields = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._disposition, self._file, self._name = b"", None, ""
        self._text = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        raw_name = options.get(b"name")
        if raw_name is None:
            raise ApiProblem(400, "a multipart part has no field name (Content-Disposition name)")
        name = self._name = raw_name.decode("utf-8", "replace")
        if b"filename" not in options:
            if name in self.file_fields:
                raise ApiProblem(422, f"{name} must be a file (e.g. curl -F {name}=@data.csv)")
            self._fields += 1
            if self._fields > MAX_FIELDS:
                raise ApiProblem(422, f"too many form fields (more than {MAX_FIELDS})")
            return
        if name not in self.file_fields:
            expected = " and ".join(sorted(self.file_fields))
            raise ApiProblem(422, f"unexpected file field `{name}`: send {expected}")
        if name in self.form.files:
            raise ApiProblem(422, f"{name} was sent twice: send one file per field")
        filename = options[b"filename"].decode("utf-8", "replace")
        self._file = ReceivedFile(name, filename, self.folder / f"{name}.part")
        self.form.files[name] = self._file
        self._handles[name] = self._file.path.open("wb")
        self._digests[name] = hashlib.sha256()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = bytes(data[start:end])
        if self._file is None:
            if len(self._text) + len(chunk) > MAX_FIELD_BYTES:
                raise ApiProblem(
                    413, f"form field `{self._name}` is longer than {MAX_FIELD_BYTES} bytes"
                )
            self._text += chunk
            return
        self._file.size += len(chunk)
        if self._file.size > self.max_file_bytes:
            what = f"{self._file.field} `{self._file.filename}`"
            raise _too_large(what, self.max_file_bytes)
        self.pending.append((self._file.field, chunk))

    def _part_end(self) -> None:
        if self._file is None:
            try:
                value = self._text.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiProblem(422, f"form field `{self._name}` is not UTF-8 text") from None
            self.form.fields.setdefault(self._name, []).append(value)

    def _end(self) -> None:
        self.complete = True

    def flush(self) -> None:
        """Write and hash what has arrived (called in a worker thread)."""
        pending, self.pending = self.pending, []
        for name, chunk in pending:
            self._handles[name].write(chunk)
            self._digests[name].update(chunk)

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        for name, received in self.form.files.items():
            received.sha256 = self._digests[name].hexdigest()


__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_BYTES_ENV",
    "ReceivedFile",
    "ReceivedForm",
    "described_size",
    "max_upload_bytes",
    "receive_form",
]
