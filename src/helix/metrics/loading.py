"""Put plain rows into warehouse tables with the contract schema (tests, benchmarks, notebooks).

This is not the importer (no validation, no upsert): it replaces a table's
contents with the rows given, typed by the table's spec, so that metric code
can be exercised on hand-written or generated histories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pyarrow as pa

from helix.warehouse import Warehouse
from helix.warehouse.schema import spec

__all__ = ["arrow_rows", "load_rows", "load_frame"]


def _value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def arrow_rows(table: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """An Arrow table with the stored schema of ``table``; missing columns are null.

    Floats and ints given for decimal columns are converted exactly
    (``12.5`` becomes ``Decimal("12.5")``).
    """
    schema = spec(table).ibis_schema().to_pyarrow()
    decimal_cols = {f.name for f in schema if pa.types.is_decimal(f.type)}
    records = []
    for row in rows:
        unknown = set(row) - set(schema.names)
        if unknown:
            raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
        records.append(
            {
                name: (_value(row.get(name)) if name in decimal_cols else row.get(name))
                for name in schema.names
            }
        )
    return pa.Table.from_pylist(records, schema=schema)


def load_rows(wh: Warehouse, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Replace the contents of ``table`` with ``rows``; return how many were written."""
    data = arrow_rows(table, rows)
    wh.write_table(table, data)
    return data.num_rows


def load_frame(wh: Warehouse, table: str, data: pa.Table) -> int:
    """Replace ``table`` with Arrow ``data``, cast to the table's schema (absent columns null)."""
    schema = spec(table).ibis_schema().to_pyarrow()
    columns = []
    for f in schema:
        if f.name in data.column_names:
            columns.append(data.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(data.num_rows, f.type))
    wh.write_table(table, pa.Table.from_arrays(columns, schema=schema))
    return data.num_rows
