"""Two uploaded CSV files checked and stored for a job, all or nothing.

An upload streams into ``{staging}/uploads/.incoming-<job>-<random>/`` (a hidden folder no job
id can name). There each file must be a CSV the core can read (text, a header of distinct
names, rows as wide as the header, at least one data row), the form's options must be valid, and
every key, compare and date field must be a column of both files: every problem found is
answered at once, in one line. Only then is the folder renamed to ``uploads/<job>/`` (one atomic
step), holding ``source.<ext>``, ``target.<ext>`` and ``upload.json`` (the original names,
sizes and SHA-256). On any failure the folder is removed: nothing is ever half-stored.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from recon_airflow.api.form import form_options
from recon_airflow.api.problems import ApiProblem, joined
from recon_airflow.api.upload_stream import ReceivedFile, ReceivedForm, receive_form
from recon_airflow.file_jobs import FileReconRequest, adhoc_options, upload_dir

SIDES: Final = {"source_file": "source", "target_file": "target"}  # form field -> stored name
CSV_SUFFIXES: Final = (".csv", ".txt", ".tsv")
MANIFEST: Final = "upload.json"
INCOMING: Final = ".incoming-"
STALE_AFTER: Final = dt.timedelta(days=1)  # an incoming folder a crashed server left behind
_SNIFF: Final = 8192
_SIGNATURES: Final = {
    b"PK\x03\x04": "a ZIP archive or an Excel workbook: save it as CSV first",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook: save it as CSV first",
    b"PAR1": "a Parquet file",
}


@dataclass(frozen=True)
class StagedUpload:
    """A job's two files in place and the request that reconciles them."""

    job_id: str
    folder: Path
    request: FileReconRequest
    manifest: dict[str, Any]


async def stage_upload(
    request: Request, *, job_id: str, business_date: dt.date, max_file_bytes: int
) -> StagedUpload:
    """Receive, check and store the upload in ``request`` as job ``job_id``; ApiProblem if not."""
    uploads = upload_dir(job_id).parent
    uploads.mkdir(parents=True, exist_ok=True)
    await run_in_threadpool(sweep_incoming, uploads)
    incoming = Path(tempfile.mkdtemp(prefix=f"{INCOMING}{job_id}-", dir=uploads))
    try:
        form = await receive_form(
            request, incoming, file_fields=SIDES, max_file_bytes=max_file_bytes
        )
        # a worker thread finishes even if the client goes away, so cleaning up below never
        # races with it
        return await run_in_threadpool(_check_and_store, form, incoming, job_id, business_date)
    except BaseException:
        discard(job_id, incoming)
        raise


def discard(job_id: str, *folders: Path) -> None:
    """Remove a job's stored upload (and any of its incoming folders)."""
    for folder in (*folders, upload_dir(job_id)):
        shutil.rmtree(folder, ignore_errors=True)


def read_manifest(job_id: str) -> dict[str, Any]:
    """A stored job's ``upload.json`` (the files' original names, sizes, hashes), or ``{}``."""
    try:
        manifest: dict[str, Any] = json.loads((upload_dir(job_id) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest


def sweep_incoming(uploads: Path, older_than: dt.timedelta = STALE_AFTER) -> None:
    """Remove incoming folders that a stopped server left behind."""
    limit = time.time() - older_than.total_seconds()
    for folder in uploads.glob(f"{INCOMING}*"):
        if folder.is_dir() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)


def _check_and_store(
    form: ReceivedForm, incoming: Path, job_id: str, business_date: dt.date
) -> StagedUpload:
    options, problems = form_options(form.fields)
    status = 422
    columns: dict[str, list[str]] = {}
    for field, side in SIDES.items():
        received = form.files.get(field)
        if received is None:
            problems.append(f"{field}: missing: upload a CSV file as {field}")
            continue
        try:
            columns[field] = csv_columns(received, incoming / side, options)
        except ApiProblem as problem:
            if problem.status != 422:  # a file that is not CSV at all: 415 wins
                status = problem.status
            problems.append(problem.detail)
    if len(columns) == len(SIDES) and options.get("unique_fields"):
        problems += column_problems(options, form.files, columns)
    if problems:
        raise ApiProblem(status, joined(problems))
    stored = {field: form.files[field].path.name for field in SIDES}
    request = FileReconRequest.model_validate(
        {
            **options,
            "left": f"staging:uploads/{job_id}/{stored['source_file']}",
            "right": f"staging:uploads/{job_id}/{stored['target_file']}",
            "left_label": "source",
            "right_label": "target",
            "job_id": job_id,
            "business_date": business_date,
        }
    )
    manifest = {
        "job_id": job_id,
        "files": {
            field: {
                "name": form.files[field].filename,
                "stored_as": stored[field],
                "bytes": form.files[field].size,
                "sha256": form.files[field].sha256,
                "columns": columns[field],
            }
            for field in SIDES
        },
    }
    (incoming / MANIFEST).write_text(json.dumps(manifest, indent=2))
    final = upload_dir(job_id)
    if final.exists():
        raise ApiProblem(409, f"job {job_id} already has an upload")
    incoming.rename(final)  # the one step that makes the upload visible
    return StagedUpload(job_id, final, request, manifest)


def csv_columns(received: ReceivedFile, stem: Path, options: Mapping[str, Any]) -> list[str]:
    """Check one uploaded file is a CSV the core reads; move it to ``stem.<ext>``; its columns."""
    from recon.errors import InputFileError
    from recon.readers.tables import ReadOptions, scan_table

    label = f"{received.field} `{received.filename}`"
    suffix = PurePath(received.filename).suffix.lower()
    if suffix not in CSV_SUFFIXES:
        raise ApiProblem(
            415, f"{label}: not a CSV file name (upload {', '.join(CSV_SUFFIXES)} files)"
        )
    if received.size == 0:
        raise ApiProblem(422, f"{label}: the file is empty (0 bytes)")
    with received.path.open("rb") as handle:
        head = handle.read(_SNIFF)
    for signature, what in _SIGNATURES.items():
        if head.startswith(signature):
            raise ApiProblem(415, f"{label}: not CSV text: looks like {what}")
    if b"\x00" in head:
        raise ApiProblem(
            415, f"{label}: not CSV text: a binary file (NUL byte at offset {head.index(0)})"
        )
    path = received.path.rename(stem.with_suffix(suffix))
    received.path = path
    read = ReadOptions(encoding=options.get("encoding"), delimiter=options.get("delimiter"))
    try:
        names = scan_table(path, read).collect_schema().names()
    except InputFileError as exc:
        raise ApiProblem(422, f"{label}: {_reason(exc)}") from None
    if all(_is_number(name) for name in names):
        raise ApiProblem(
            422,
            f"{label}: no header row: the first line ({', '.join(names[:5])}) holds numbers, "
            "not column names",
        )
    return names


def column_problems(
    options: Mapping[str, Any],
    files: Mapping[str, ReceivedFile],
    columns: Mapping[str, list[str]],
) -> list[str]:
    """Every key, compare or date field missing from a file, and every clash, as the DAG sees it."""
    from recon.spec.adhoc import column_problems as adhoc_problems

    wanted = adhoc_options(options)
    names = tuple(f"{field} `{files[field].filename}`" for field in SIDES)
    found = adhoc_problems(
        wanted, columns["source_file"], columns["target_file"], files=(names[0], names[1])
    )
    return [str(problem) for problem in found]


def _reason(exc: Any) -> str:
    where = f"row {exc.row}: " if exc.row else ""
    hint = exc.hint if exc.hint and "allow_empty" not in exc.hint else None
    return f"{where}{exc.reason}" + (f" ({hint})" if hint else "")


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


__all__ = [
    "MANIFEST",
    "SIDES",
    "StagedUpload",
    "csv_columns",
    "discard",
    "read_manifest",
    "stage_upload",
]
