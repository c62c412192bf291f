"""Readers that turn input files into polars frames."""

from recon.readers.dbf import dbf_schema, read_dbf

__all__ = ["dbf_schema", "read_dbf"]
