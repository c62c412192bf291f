"""The shape of a reconciliation result: ``results.parquet`` columns and ``summary.json`` keys.

results.parquet has one row per key (matched included), except ``invalid`` rows, which are
one per rejected input row:

- the key columns, under their canonical names (``spec.keys[i].name``)
- ``status``: one of STATUSES, whatever the side labels are
- ``mismatched_fields``: list of compare fields that differ (empty unless ``mismatched``)
- ``left_<field>`` / ``right_<field>`` for every compare field, and ``diff_<field>`` for
  numeric fields (left minus right) and date fields (days, left minus right)
- ``left_rows`` / ``right_rows``: how many input rows of each side this row stands for
  (``sum(left_rows) == left input rows`` is the row-conservation check)
- ``side``: ``left`` / ``right`` / ``both`` for ``duplicate`` and ``invalid`` rows
- ``row``: the 1-based input data row of an ``invalid`` row (first row of a ``duplicate``)
- ``reason``: why a row is ``duplicate`` or ``invalid``
- ``break_amount``: the money at stake (|diff| of the amount field for ``mismatched``, the
  present side's |amount| for one-sided rows, 0 for ``matched``); reports sort by it
"""

from __future__ import annotations

from typing import Final

MATCHED: Final = "matched"
MISMATCHED: Final = "mismatched"
LEFT_ONLY: Final = "left_only"
RIGHT_ONLY: Final = "right_only"
DUPLICATE: Final = "duplicate"
INVALID: Final = "invalid"

STATUSES: Final = (MATCHED, MISMATCHED, LEFT_ONLY, RIGHT_ONLY, DUPLICATE, INVALID)
BREAK_STATUSES: Final = STATUSES[1:]

RESULTS_FILE: Final = "results.parquet"
SUMMARY_FILE: Final = "summary.json"
