"""Reading back what an import quarantined: the rejected rows with the reasons for each.

An import writes, per table with rejected rows, ``<table>.rejected.csv`` (or
``.parquet``: the rows untouched, in file order) and ``<table>.errors.csv``
(``file, row, column, reason``; ``row`` is the 1-based data row of the source
file) under its report directory. The n-th rejected row is the n-th smallest
row number in the errors file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helix.errors import NotFoundError

__all__ = ["quarantined_rows"]


def _read(path: Path) -> pa.Table:
    if path.suffix == ".parquet":
        return pq.read_table(path)
    with pacsv.open_csv(path) as reader:  # the header, to read every column as written
        names = reader.schema.names
    as_text = pacsv.ConvertOptions(column_types={n: pa.string() for n in names})
    return pacsv.read_csv(path, convert_options=as_text)


def quarantined_rows(
    report: dict[str, Any], table: str, *, imports_dir: Path, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """The rejected rows of ``table`` in an import ``report`` (``ImportReport.to_dict()``).

    Returns ``{"table", "file", "total", "rows": [{"row", "values", "errors"}]}``;
    :class:`NotFoundError` when that table had no rejected rows.
    """
    entry = (report.get("tables") or {}).get(table)
    qfile = entry.get("quarantine") if entry else None
    if not qfile:
        raise NotFoundError(f"the import quarantined no rows of {table!r}")
    path = Path(qfile).resolve()
    root = Path(imports_dir).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFoundError(f"the quarantine file of {table!r} is no longer there")
    errors = pacsv.read_csv(
        path.parent / f"{table}.errors.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={
                "file": pa.string(),
                "row": pa.int64(),
                "column": pa.string(),
                "reason": pa.string(),
            }
        ),
    ).to_pylist()
    by_row: dict[int, list[dict[str, Any]]] = {}
    for e in errors:
        by_row.setdefault(int(e["row"]), []).append({"column": e["column"], "reason": e["reason"]})
    numbers = sorted(by_row)
    data = _read(path)
    rows = []
    for i in range(offset, min(len(numbers), data.num_rows, offset + limit)):
        values = {name: data.column(name)[i].as_py() for name in data.column_names}
        rows.append({"row": numbers[i], "values": values, "errors": by_row[numbers[i]]})
    return {"table": table, "file": entry.get("file"), "total": len(numbers), "rows": rows}
