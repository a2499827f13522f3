"""Streaming writers: one Parquet or CSV file per table, appended chunk by chunk.

Each table has a fixed Arrow schema (the contract's columns in contract order, then
the generator's custom columns). Parquet files get one row group per written batch;
CSV files are written with RFC 4180 quoting and ISO-8601 timestamps
(``2024-03-01T14:05:09``, milliseconds for events).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from helix.testing.demo.tables.common import MONEY, TIMESTAMP

Format = Literal["parquet", "csv"]

_TYPES = {
    "str": pa.string(),
    "ts": TIMESTAMP,
    "date": pa.date32(),
    "money": MONEY,
    "int": pa.int64(),
    "float": pa.float64(),
}


def _schema(spec: str) -> pa.Schema:
    """``"name other:ts ..."``: column names in order, with a type (default ``str``)."""
    fields = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        fields.append(pa.field(name, _TYPES[kind or "str"]))
    return pa.schema(fields)


SCHEMAS: dict[str, pa.Schema] = {
    "accounts": _schema(
        "account_id name created_at:ts segment industry region owner_email parent_account_id"
        " domain employees:int plan_tier_at_signup billing_period acquisition_channel"
    ),
    "subscriptions": _schema(
        "subscription_id account_id product plan start_date:date end_date:date mrr:money"
        " quantity:int currency contract_end_date:date term pricing"
    ),
    "contacts": _schema(
        "contact_id account_id name email title role started_at:date ended_at:date"
    ),
    "events": _schema("account_id event_time:ts event_type user_id value:float event_id"),
    "activities": _schema(
        "activity_id account_id occurred_at:ts kind contact_id direction summary"
    ),
    "tickets": _schema(
        "ticket_id account_id created_at:ts resolved_at:ts priority status subject body csat:int"
    ),
    "survey_responses": _schema(
        "response_id account_id contact_id responded_at:ts survey score:int comment"
    ),
    "churn_reasons": _schema("account_id churned_on:date churn_type reason"),
    "payments": _schema("account_id due_date:date amount:money status paid_at:ts"),
}
"""The file schema of every table the generator writes (contract columns first)."""

TABLES = tuple(SCHEMAS)


_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_ENCODED = ("account_id", "event_type", "user_id")
_EVENTS_FILE = pa.schema(
    [pa.field(f.name, _DICTIONARY if f.name in _ENCODED else f.type) for f in SCHEMAS["events"]]
)
"""Events are written dictionary-encoded (read back as plain strings: no Arrow schema is stored)."""


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string() if f.type == TIMESTAMP else f.type) for f in schema]
    )


def _iso(column: pa.ChunkedArray | pa.Array, millis: bool) -> pa.Array:
    unit = "ms" if millis else "s"
    coarse = pc.cast(column, pa.timestamp(unit), safe=False)
    return pc.strftime(coarse, format="%Y-%m-%dT%H:%M:%S")


class TableSink:
    """Open writers for every table in a directory; ``write`` appends, ``close`` finishes."""

    def __init__(self, directory: Path, fmt: Format) -> None:
        self.directory = directory
        self.fmt = fmt
        self.rows: dict[str, int] = {name: 0 for name in TABLES}
        self._writers: dict[str, pq.ParquetWriter | pa_csv.CSVWriter] = {}
        for name, schema in SCHEMAS.items():
            path = directory / f"{name}.{fmt}"
            if fmt == "parquet":
                file_schema = _EVENTS_FILE if name == "events" else schema
                self._writers[name] = pq.ParquetWriter(
                    path, file_schema, compression="zstd", store_schema=False
                )
            else:
                self._writers[name] = pa_csv.CSVWriter(path, _csv_schema(schema))

    def write(self, name: str, table: pa.Table) -> None:
        """Append ``table`` (its columns in any order, extra columns not allowed) to ``name``."""
        schema = SCHEMAS[name]
        if self.fmt == "parquet" and name == "events":
            schema = _EVENTS_FILE
        table = table.select(schema.names).cast(schema)
        if table.num_rows == 0:
            return
        if self.fmt == "csv":
            for i, field in enumerate(schema):
                if field.type == TIMESTAMP:
                    table = table.set_column(i, field.name, _iso(table.column(i), name == "events"))
        self._writers[name].write_table(table)
        self.rows[name] += table.num_rows

    def close(self) -> None:
        """Finish every file (footers, buffers)."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
