"""``report.xlsx``: a Summary sheet, then one sheet per break type, written in bounded memory.

Two engines write the same workbook. ``polars`` (the default) lets xlsxwriter lay out the whole
workbook with each break sheet's header row only (Summary, styles, freeze panes, autofilter,
column formats), then copies it into the final ZIP, filling each break sheet with rows that
polars builds as XML (:mod:`recon.reports.xlsx_cells`) and ISA-L deflates
(:mod:`recon.reports.xlsx_zip`): about 100x faster than cells written one by one.
``xlsxwriter`` writes every cell through xlsxwriter; it is the reference the tests hold the
other to.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl
import pyarrow as pa
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook

from recon.errors import ReconError
from recon.reports.figures import summary_figures
from recon.reports.labels import GROUP, IMPACT_COLUMN, Grouping, Sides
from recon.reports.safe import flat_cells, neutralize_formulas, replacing
from recon.reports.view import (
    break_rows,
    by_break_amount,
    checked_schema,
    compare_fields,
    display_columns,
    figures_by_group,
    key_columns,
)
from recon.reports.xlsx_by_cell import write_by_cell
from recon.reports.xlsx_cells import rows_xml
from recon.reports.xlsx_layout import (
    BOOK_OPTIONS,
    WIDTH_MIN,
    WIDTH_SAMPLE,
    BreakType,
    SheetNames,
    close_book,
    column_number_formats,
    column_widths,
    sheet_rows,
    start_sheet,
)
from recon.reports.xlsx_summary import Formats, write_summary
from recon.reports.xlsx_zip import ZipWriter

EXCEL_MAX_ROWS: Final = 1_048_576  # rows per sheet, header included
BATCH_ROWS: Final = 50_000
XLSX_ENGINES: Final = ("polars", "xlsxwriter")
XlsxEngine = Literal["polars", "xlsxwriter"]


def write_xlsx(
    results: pl.LazyFrame,
    summary: Mapping[str, Any],
    path: Path,
    *,
    max_rows_per_sheet: int = EXCEL_MAX_ROWS,
    batch_rows: int = BATCH_ROWS,
    engine: XlsxEngine = "polars",
) -> Path:
    """Write the Summary sheet and a sheet per break type (the core status, or the summary's
    classification); a type too long for one sheet continues on ``<type> (2)``, ``(3)``, ...

    :param max_rows_per_sheet: rows per sheet including the header (Excel's limit by default).
    :param engine: ``polars`` (fast) or ``xlsxwriter`` (every cell through xlsxwriter).
    """
    if not 2 <= max_rows_per_sheet <= EXCEL_MAX_ROWS:
        raise ReconError(
            f"max_rows_per_sheet must be between 2 and {EXCEL_MAX_ROWS:,}, got {max_rows_per_sheet}"
        )
    if engine not in XLSX_ENGINES:
        raise ReconError(f"unknown XLSX engine `{engine}`: choose from {', '.join(XLSX_ENGINES)}")
    sides = Sides.from_summary(summary)
    grouping = Grouping.from_summary(summary)
    schema = checked_schema(results, grouping)
    keys = key_columns(schema, summary)
    fields = compare_fields(schema, summary)
    overview = grouping.overview(results).collect()
    counts = figures_by_group(grouping.summary_counts(summary), overview, "rows")
    amounts = figures_by_group(grouping.summary_amounts(summary), overview, "amount")
    impacts = (
        figures_by_group(None, overview, "impact")
        if grouping.classified and IMPACT_COLUMN in schema
        else None
    )
    figures = summary_figures(summary, sides, counts, grouping, amounts=amounts, impacts=impacts)
    rows = dict(zip(overview[GROUP].to_list(), overview["rows"].to_list(), strict=True))
    names = SheetNames()
    breaks = break_rows(results, grouping)
    types = []
    for group in grouping.ordered(list(rows)):
        columns = display_columns(schema, keys, fields, group, grouping)
        types.append(
            BreakType(
                base=names.base(grouping.label(group), fallback=str(group)),
                frame=by_break_amount(breaks.filter(grouping.is_group(group)), keys)
                .select(columns)
                .pipe(_sides_named, sides)
                .pipe(flat_cells)
                .pipe(neutralize_formulas),
                headers=[grouping.column_label(name, sides, keys) for name in columns],
                plain=frozenset(name for name in columns if name in keys or name == "row"),
                rows=int(rows[group]),
            )
        )

    def start(book: Workbook) -> Formats:
        formats = Formats(book)
        write_summary(book, formats, summary, figures)
        return formats

    with replacing(path) as partial:
        if engine == "xlsxwriter":
            write_by_cell(partial, start, types, names, max_rows_per_sheet, batch_rows)
        else:
            _write_streamed(partial, start, types, names, max_rows_per_sheet, batch_rows)
    return path


def _sides_named(frame: pl.LazyFrame, sides: Sides) -> pl.LazyFrame:
    """``side`` values as the side labels people know."""
    if "side" not in frame.collect_schema():
        return frame
    return frame.with_columns(pl.col("side").cast(pl.String).replace(sides.side_values()))


# --- engine "polars": xlsxwriter lays the workbook out, polars writes the rows --------------------


def _write_streamed(
    partial: Path,
    start: Callable[[Workbook], Formats],
    types: Sequence[BreakType],
    names: SheetNames,
    max_rows: int,
    batch_rows: int,
) -> None:
    per_sheet = max_rows - 1
    skeleton = io.BytesIO()
    book = xlsxwriter.Workbook(skeleton, {"in_memory": True, **BOOK_OPTIONS})
    formats = start(book)
    plans = []
    for kind in types:
        schema = kind.frame.collect_schema()
        column_formats = column_number_formats(schema, formats, kind.plain)
        sheets = []
        for number, rows in enumerate(sheet_rows(kind.rows, per_sheet), start=1):
            sheet = book.add_worksheet(names.part(kind.base, number))
            widths = [float(WIDTH_MIN)] * len(kind.headers)  # set from the rows, below
            start_sheet(sheet, kind.headers, widths, column_formats, formats, rows)
            sheets.append(f"xl/worksheets/sheet{sheet.index + 1}.xml")
        plans.append((kind, schema, column_formats, sheets))
    close_book(book)
    with zipfile.ZipFile(skeleton) as laid_out, partial.open("wb") as file, ZipWriter(file) as out:
        streamed = {name for *_, sheets in plans for name in sheets}
        for info in laid_out.infolist():
            if info.filename not in streamed:
                out.write(info.filename, laid_out.read(info))
        for kind, schema, column_formats, sheets in plans:
            styles = {
                name: fmt.xf_index if fmt is not None else None
                for name, fmt in zip(schema.names(), column_formats, strict=True)
            }
            layouts = [laid_out.read(name).decode() for name in sheets]
            _stream_rows(out, kind, schema, styles, sheets, layouts, per_sheet, batch_rows)
        out.close()


def _stream_rows(
    out: ZipWriter,
    kind: BreakType,
    schema: pl.Schema,
    styles: Mapping[str, int | None],
    sheets: Sequence[str],
    layouts: Sequence[str],
    per_sheet: int,
    batch_rows: int,
) -> None:
    """One break type's rows into its sheets: each sheet's laid-out XML around its rows."""
    part = -1
    tail = ""
    streamed = 0  # rows of this break type so far
    for batch in kind.frame.collect_batches(chunk_size=batch_rows):
        offset = 0
        while offset < batch.height:
            if streamed // per_sheet != part:
                if part >= 0:
                    out.feed(tail.encode())
                    out.end()
                part = streamed // per_sheet
                rows = min(per_sheet, kind.rows - part * per_sheet)
                sample = batch.slice(offset, WIDTH_SAMPLE)
                head, tail = _around_rows(layouts[part], kind.headers, sample, styles, rows)
                out.begin(sheets[part])
                out.feed(head.encode())
            take = min(batch.height - offset, (part + 1) * per_sheet - streamed)
            first_row = streamed - part * per_sheet + 2  # below the header
            out.feed(_buffer(rows_xml(batch.slice(offset, take), styles, first_row)))
            offset += take
            streamed += take
    if part >= 0:
        out.feed(tail.encode())
        out.end()
    if streamed != kind.rows or part + 1 != len(sheets):
        raise ReconError(
            f"sheet `{kind.base}`: {streamed:,} rows written, {kind.rows:,} counted; "
            "the results changed while the report was written"
        )


def _around_rows(
    layout: str,
    headers: Sequence[str],
    sample: pl.DataFrame,
    styles: Mapping[str, int | None],
    rows: int,
) -> tuple[str, str]:
    """The laid-out sheet split where its rows go, with its dimension and column widths (from
    ``sample``, the sheet's first rows) set."""
    last = f"{xl_col_to_name(len(headers) - 1)}{rows + 1}"
    layout = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', layout, count=1)
    cols = "".join(
        _col_xml(index, width, styles.get(name))
        for index, (name, width) in enumerate(
            zip(sample.columns, column_widths(headers, sample), strict=True)
        )
    )
    layout = re.sub(r"<cols>.*?</cols>", f"<cols>{cols}</cols>", layout, count=1)
    head, _, tail = layout.partition("</sheetData>")
    return head, "</sheetData>" + tail


def _col_xml(index: int, width: float, style: int | None) -> str:
    """``<col>`` as xlsxwriter's ``set_column`` writes it (width in characters via pixels)."""
    pixels = int(width * 7 + 0.5) + 5
    characters = (pixels * 256 // 7) / 256.0
    styled = f' style="{style}"' if style else ""
    return (
        f'<col min="{index + 1}" max="{index + 1}" width="{characters:.16g}"{styled} '
        'customWidth="1"/>'
    )


def _buffer(rows: pl.Series) -> memoryview:
    """The rows' XML, end to end, as the bytes Arrow already holds (no copy)."""
    array = rows.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    offsets = memoryview(array.buffers()[1]).cast("q")
    start, end = offsets[array.offset], offsets[array.offset + len(array)]
    return memoryview(array.buffers()[2])[start:end]
