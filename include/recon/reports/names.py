"""The report formats and the file each is written to (no writer imported: a run with no
reports, or one asking only which files a run writes, loads neither jinja2 nor xlsxwriter)."""

from __future__ import annotations

from typing import Final

HTML_FILE: Final = "report.html"
CSV_FILE: Final = "breaks.csv"
XLSX_FILE: Final = "report.xlsx"
JSON_FILE: Final = "report.json"

REPORT_FORMATS: Final = ("html", "csv", "xlsx", "json")
REPORT_FILES: Final = {"html": HTML_FILE, "csv": CSV_FILE, "xlsx": XLSX_FILE, "json": JSON_FILE}
