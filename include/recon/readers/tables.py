"""Open any supported input (CSV, Parquet, XLSX, DBF, bank statements) as a LazyFrame, refusing
bad files clearly."""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.errors import InputFileError, first_line, shown
from recon.readers.csv_shape import check_field_counts
from recon.readers.xlsx_guard import MAX_BYTES, MAX_CELLS, check_xlsx_size
from recon.statements.formats import statement_suffixes

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
FORMATS = {
    **{s: "csv" for s in CSV_SUFFIXES},
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".dbf": "dbf",
    **statement_suffixes(),  # MT940, camt.053, BAI2: their lines in recon.statements' schema
}
STATEMENT_KINDS = frozenset(statement_suffixes().values())
DELIMITERS = (",", ";", "\t", "|")
_UTF8 = ("utf8", "utf-8", "utf_8", "utf-8-sig", "utf_8_sig")


@dataclass(frozen=True)
class ReadOptions:
    """How to read one input; ``None`` means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    allow_empty: bool = False
    # how the caller sets this input's encoding, named in hints (the CLI: --left-encoding)
    encoding_option: str = "encoding"
    max_xlsx_cells: int = MAX_CELLS  # a sheet larger than this is refused before it is read
    max_xlsx_bytes: int = MAX_BYTES


DEFAULT_READ = ReadOptions()


def file_format(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise InputFileError(
            str(path), f"unsupported file type `{suffix or '(none)'}`", hint=f"use one of {known}"
        ) from None


def scan_table(path: str | os.PathLike[str], options: ReadOptions = DEFAULT_READ) -> pl.LazyFrame:
    """Open ``path`` lazily; CSV and XLSX columns come as strings so parsing can report rows."""
    path = Path(path)
    kind = file_format(path)
    if path.is_dir():
        raise InputFileError(str(path), "is a directory, not a file", hint="name the file in it")
    if not path.is_file():
        raise InputFileError(str(path), "file not found", hint="check the path")
    if path.stat().st_size == 0:
        raise InputFileError(str(path), "file is empty (0 bytes)", hint="was the export complete?")
    if kind == "csv":
        frame = _scan_csv(path, options)
    elif kind == "parquet":
        frame = _scan_parquet(path)
    elif kind == "xlsx":
        frame = _read_xlsx(path, options).lazy()
    elif kind in STATEMENT_KINDS:
        from recon.statements.read import scan_statements

        frame = scan_statements(path, allow_empty=options.allow_empty)
    else:
        from recon.readers.dbf import scan_dbf

        frame = scan_dbf(path, encoding=options.encoding, encoding_option=options.encoding_option)
    return frame


def _scan_parquet(path: Path) -> pl.LazyFrame:
    try:
        frame = pl.scan_parquet(path)
        frame.collect_schema()
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise InputFileError(
            str(path), f"not a readable Parquet file: {first_line(exc)}", hint="is it truncated?"
        ) from None
    return frame


def _scan_csv(path: Path, options: ReadOptions) -> pl.LazyFrame:
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    encoding = (options.encoding or "utf-8").lower()
    if not encoding.startswith(("utf-16", "utf_16", "utf16", "utf-32", "utf_32", "utf32")):
        _refuse_wide_text(path, head, options.encoding_option)
    text_head = _decode_head(path, head, encoding, options.encoding_option)
    if b"\r" in head and b"\n" not in head:
        raise InputFileError(
            str(path),
            "its lines end in CR alone (old Mac style), so it reads as one line",
            hint="convert the line endings to LF or CRLF first, e.g. tr '\\r' '\\n'",
        )
    header_line = text_head.lstrip("\ufeff").splitlines()[0] if text_head.strip() else ""
    if not header_line.strip():
        raise InputFileError(str(path), "no header row (the first line is blank)")
    delimiter = options.delimiter or _sniff_delimiter(header_line)
    header = header_line.split(delimiter)
    blank = [i + 1 for i, name in enumerate(header) if not name.strip()]
    if blank:
        raise InputFileError(
            str(path),
            f"header has blank column name(s) at position {blank}",
            row=0,
            hint="every column needs a name in the first line",
        )
    refuse_repeated_names(path, header)
    transcoded: bytes | None = None
    if encoding not in _UTF8:  # polars reads only UTF-8: transcode once, in memory
        transcoded = _transcode(path, encoding, options.encoding_option)
    check_field_counts(path, transcoded, delimiter)
    source: Path | io.BytesIO = path if transcoded is None else io.BytesIO(transcoded)
    frame = pl.scan_csv(
        source,
        separator=delimiter,
        infer_schema=False,
        encoding="utf8",
        raise_if_empty=False,
    )
    try:
        schema = frame.collect_schema()
    except pl.exceptions.ComputeError as exc:
        raise InputFileError(str(path), f"not a readable CSV: {first_line(exc)}") from None
    try:
        empty = frame.head(1).collect().height == 0
    except pl.exceptions.PolarsError as exc:
        locate_csv_error(path, options, str(exc))
        raise InputFileError(str(path), f"not a readable CSV: {first_line(exc)}") from None
    if empty and not options.allow_empty:
        raise InputFileError(
            str(path),
            f"has a header ({', '.join(shown(n) for n in schema.names()[:5])}) but no data rows",
            hint="pass allow_empty (--allow-empty) to reconcile an empty side on purpose",
        )
    return frame


def refuse_repeated_names(path: Path, header: Sequence[str]) -> None:
    """A header that names a column twice is refused, naming both positions (readers would
    silently keep one, or rename the other)."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header, start=1):
        positions.setdefault(name.strip().strip('"'), []).append(index)
    repeated = [(name, where) for name, where in positions.items() if len(where) > 1]
    if not repeated:
        return
    name, where = repeated[0]
    more = f" (and {len(repeated) - 1} more repeated)" if len(repeated) > 1 else ""
    raise InputFileError(
        str(path),
        f"header names column `{shown(name)}` more than once, at positions "
        f"{', '.join(map(str, where))}{more}",
        row=0,
        hint="rename one of them: recon cannot tell which one to compare",
    )


def _refuse_wide_text(path: Path, head: bytes, option: str) -> None:
    """UTF-16/32 text read as UTF-8 fails on its first byte: say what the file is instead."""
    boms = {
        b"\xff\xfe\x00\x00": "utf-32",
        b"\x00\x00\xfe\xff": "utf-32",
        b"\xff\xfe": "utf-16",
        b"\xfe\xff": "utf-16",
    }
    sample = head[:4096]
    kind = next((name for bom, name in boms.items() if sample.startswith(bom)), None)
    if kind is None and len(sample) >= 8 and sample.count(0) * 3 >= len(sample):
        kind = "utf-16"  # every other byte NUL: ASCII text in UTF-16 without a BOM
    # wide text has its line ends as wide characters too (a BOM alone proves nothing)
    codecs_tried = ("utf-32-le", "utf-32-be") if kind == "utf-32" else ("utf-16-le", "utf-16-be")
    if kind is not None and not any("\n" in _lenient(sample, c) for c in codecs_tried):
        kind = None
    if kind is not None:
        how = "a byte-order mark" if head.startswith(tuple(boms)) else "NUL bytes between letters"
        raise InputFileError(
            str(path),
            f"looks like {kind.upper()} text ({how}), not UTF-8",
            hint=f"pass {option} {kind}, or save it as UTF-8",
        )


def _lenient(data: bytes, codec: str) -> str:
    return data[: len(data) - len(data) % 4].decode(codec, errors="replace")


def _decode_head(path: Path, head: bytes, encoding: str, option: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputFileError(str(path), f"unknown encoding `{encoding}`") from None
    try:
        return head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut by our 64 KiB window
            return head[: exc.start].decode(encoding)
        raise _encoding_error(path, head, encoding, exc, option) from None


def _transcode(path: Path, encoding: str, option: str) -> bytes:
    data = path.read_bytes()
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, data, encoding, exc, option) from None


def _encoding_error(
    path: Path, data: bytes, encoding: str, exc: UnicodeDecodeError, option: str
) -> InputFileError:
    row = data.count(b"\n", 0, exc.start)  # 0 = header line, 1 = first data row
    bad = data[exc.start : exc.end]
    guess = "cp1252" if encoding in _UTF8 else "utf-8"
    return InputFileError(
        str(path),
        f"not valid {encoding} text: byte {bad!r} at offset {exc.start}",
        row=row,
        hint=f"pass {option} {guess} (or the file's real encoding)",
    )


def check_utf8(path: Path, option: str = "encoding") -> None:
    """Raise a located encoding error if a UTF-8 CSV has a bad byte (polars only says 'invalid')."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, data, "utf-8", exc, option) from None


def locate_csv_error(path: Path, options: ReadOptions, reason: str) -> None:
    """polars only says 'invalid utf-8': raise the located error (byte, row, hint) instead.

    (A row with the wrong number of fields never gets this far: csv_shape checks every CSV
    when it is opened.)
    """
    if "utf-8" in reason.lower() and options.encoding is None:
        check_utf8(path, options.encoding_option)


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_xlsx(path: Path, options: ReadOptions) -> pl.DataFrame:
    check_xlsx_size(
        path, options.sheet, max_cells=options.max_xlsx_cells, max_bytes=options.max_xlsx_bytes
    )
    try:
        frame = pl.read_excel(
            path,
            sheet_name=options.sheet,
            engine="calamine",
            infer_schema_length=0,
            raise_if_empty=False,
        )
    except Exception as exc:  # calamine raises its own error types; keep the reason
        raise InputFileError(str(path), f"not a readable XLSX file: {first_line(exc)}") from None
    if frame.width == 0:
        raise InputFileError(str(path), "sheet is empty (no header row)")
    names = set(frame.columns)
    if any(n.rpartition("_")[0] in names for n in names if n.rpartition("_")[2].isdigit()):
        _refuse_repeated_xlsx_header(path, options)  # the reader renamed a repeat `x` to `x_1`
    if frame.height == 0 and not options.allow_empty:
        raise InputFileError(
            str(path), "has a header but no data rows", hint="pass --allow-empty on purpose"
        )
    return frame


def _refuse_repeated_xlsx_header(path: Path, options: ReadOptions) -> None:
    import fastexcel

    sheet = fastexcel.read_excel(path).load_sheet(
        options.sheet if options.sheet is not None else 0, header_row=None, n_rows=1
    )
    refuse_repeated_names(path, ["" if v is None else str(v) for v in sheet.to_polars().row(0)])
