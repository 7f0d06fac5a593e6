"""Text of DuckDB queries: quoting, typed columns that may be missing, Parquet scans.

Example:
    >>> literal("O'Brien"), identifier('a"b'), column(["phone"], "email", alias="o")
    ("'O''Brien'", '"a""b"', 'CAST(NULL AS VARCHAR)')
"""

from __future__ import annotations

from pathlib import Path


def literal(text: object) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def column(columns: list[str], name: str, kind: str = "VARCHAR", alias: str = "") -> str:
    """``CAST(<alias>.name AS kind)``, or a typed NULL when the source has no such column."""
    prefix = f"{alias}." if alias else ""
    return f"CAST({prefix}{identifier(name)} AS {kind})" if name in columns else f"CAST(NULL AS {kind})"


def scan(path: Path | str) -> str:
    """DuckDB's read of one Parquet file."""
    return f"read_parquet({literal(path)})"
