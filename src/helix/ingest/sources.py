"""Reading contract files (CSV or Parquet) as a stream of Arrow batches.

Every batch carries a ``_row`` column: the 1-based number of the data record in
its file (the CSV header is not counted, so in a spreadsheet the record sits on
line ``_row + 1``). CSV values are read as text, untouched, so that validation
can say exactly which value was wrong; Parquet keeps its own types.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helix.errors import ContractError

ROW = "_row"
BATCH_ROWS = 256 * 1024
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class SourceFile:
    """One input file and the contract table it feeds."""

    path: Path
    table: str
    fmt: str  # "csv" or "parquet"

    @property
    def name(self) -> str:
        return self.path.name


def detect_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the file name; a clear error otherwise."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ContractError(
            "is neither CSV nor Parquet",
            file=str(path),
            hint="name contract files <table>.csv or <table>.parquet",
        )
    return fmt


def read_columns(src: SourceFile) -> list[str]:
    """The column names of a file, checked for emptiness and duplicates."""
    if src.fmt == "parquet":
        try:
            names = list(pq.read_schema(src.path).names)
        except Exception as exc:
            raise ContractError(
                f"cannot be read as Parquet ({exc})",
                file=str(src.path),
                hint="export the table again as Parquet, or as CSV",
            ) from exc
    else:
        try:
            with open(src.path, encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh), None)
        except UnicodeDecodeError as exc:
            raise ContractError(
                f"is not UTF-8 text (byte {exc.start} of the header)",
                file=str(src.path),
                hint="save the file as UTF-8 (in Excel: CSV UTF-8)",
            ) from exc
        if not header:
            raise ContractError(
                "is empty: a header row is required",
                file=str(src.path),
                hint="the first line must name the columns",
            )
        names = header
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ContractError(
                f"has the column {name!r} twice",
                file=str(src.path),
                hint="give every column a distinct name",
            )
        seen.add(name)
    return names


def read_batches(src: SourceFile, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Stream the file's records as Arrow batches with a ``_row`` column."""
    start = 1
    for batch in _raw_batches(src, columns):
        n = batch.num_rows
        rows = pa.array(range(start, start + n), pa.int64())
        start += n
        yield pa.RecordBatch.from_arrays([*batch.columns, rows], names=[*batch.schema.names, ROW])


def _raw_batches(src: SourceFile, columns: list[str]) -> Iterator[pa.RecordBatch]:
    if src.fmt == "parquet":
        pf = pq.ParquetFile(src.path)
        yield from pf.iter_batches(batch_size=BATCH_ROWS)
        return
    read_opts = pacsv.ReadOptions(
        column_names=columns, skip_rows=1, block_size=16 << 20, encoding="utf8"
    )
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=False,
    )
    parse = pacsv.ParseOptions(newlines_in_values=True)
    try:
        # the header (and a BOM before it) is skipped: names come from read_columns
        reader = pacsv.open_csv(
            str(src.path), read_options=read_opts, parse_options=parse, convert_options=convert
        )
        for batch in reader:
            yield batch
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "UTF8" in msg or "utf8" in msg.lower():
            raise ContractError(
                "is not valid UTF-8 text",
                file=str(src.path),
                hint="save the file as UTF-8 (in Excel: CSV UTF-8)",
            ) from exc
        raise ContractError(
            f"is not a well-formed CSV file ({msg})",
            file=str(src.path),
            hint="check quoting (RFC 4180) and that every row has as many fields as the header",
        ) from exc
