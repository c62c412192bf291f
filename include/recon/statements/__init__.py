"""Bank statements (MT940, camt.053, BAI2) read into one line schema and checked: each
statement adds up, consecutive statements chain, a repeated delivery counts once."""

from __future__ import annotations

from recon.statements.checks import CheckedStatements, DuplicateStatement, check_statements
from recon.statements.formats import StatementFormat, statement_formats, statement_suffixes
from recon.statements.read import StatementRead, read_statement_file, read_statements
from recon.statements.schema import LINE_SCHEMA, Statement, StatementLine, lines_frame

__all__ = [
    "LINE_SCHEMA",
    "CheckedStatements",
    "DuplicateStatement",
    "Statement",
    "StatementFormat",
    "StatementLine",
    "StatementRead",
    "check_statements",
    "lines_frame",
    "read_statement_file",
    "read_statements",
    "statement_formats",
    "statement_suffixes",
]
