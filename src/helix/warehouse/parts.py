"""Large tables written in bulk, kept as Parquet parts beside a DuckDB warehouse file.

Events are most of a company's rows and are only ever added to; the MRR ledger
is rebuilt wholesale; the health history grows by a day of scores each run. Writing either into
DuckDB's own storage costs more than computing it (DuckDB compresses every
column as it inserts), so on a DuckDB file warehouse such a table is a set of
Parquet files, one per write, under ``<warehouse>.parts/<table>/``, and the
table itself is a view over them.

Atomicity comes from the list of parts, which is a DuckDB table: a write puts
its file in place first, then lists it and redefines the view in the caller's
transaction. A rollback deletes the new file; a crash leaves a file that no
list names, removed the next time the warehouse opens. Files a committed write
no longer lists (a replaced table, merged parts) are deleted after the commit.

Every other backend keeps these tables as ordinary tables.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends.sql.datatypes import DuckDBType

PARTS_TABLE = "helix_table_parts"
PARTS_SCHEMA = ibis.schema(
    {"table_name": "string", "file": "string", "rows": "int64", "added_at": "timestamp"}
)
MAX_PARTS = 24
"""Past this many parts, the small ones are merged into one (reads open every file)."""
SMALL_PART_ROWS = 4_000_000
"""Parts under this many rows are the ones merged."""
CLUSTER_KEYS: dict[str, tuple[str, ...]] = {
    "events": ("account_id", "event_time"),
    "mrr_movements": ("account_id", "month"),
    "health_scores": ("account_id", "score_date"),
}
"""The order rows are written in, per table. Pages read one account at a time; with a
part's rows ordered by account, each Parquet row group covers a narrow range of
account ids, and DuckDB skips every row group whose min/max statistics exclude the
account asked for (a Customer 360 at 100k accounts reads a few row groups per part
instead of all of them)."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class PartStore:
    """The Parquet parts of the bulk-written tables of one DuckDB warehouse file."""

    def __init__(
        self,
        con: ibis.BaseBackend,
        directory: Path,
        schemas: dict[str, ibis.Schema],
        on_commit: Callable[[Path], None],
        on_rollback: Callable[[Path], None],
    ) -> None:
        self.con = con
        self.directory = directory
        self.schemas = schemas
        self._after_commit = on_commit  # delete this file once the transaction commits
        self._after_rollback = on_rollback  # delete this file if it rolls back

    @property
    def _raw(self):  # type: ignore[no-untyped-def]
        return self.con.con

    def holds(self, name: str) -> bool:
        return name in self.schemas

    # -- the list -----------------------------------------------------------
    def files(self, name: str) -> list[tuple[str, int]]:
        """(file name, rows) of the parts of ``name``, oldest first."""
        rows = self._raw.execute(
            f"SELECT file, rows FROM {PARTS_TABLE} WHERE table_name = ? ORDER BY added_at, file",
            [name],
        ).fetchall()
        return [(str(f), int(n)) for f, n in rows]

    def _path(self, name: str, file: str) -> Path:
        return self.directory / name / file

    def _typed_select(self, name: str, files: list[str]) -> str:
        """SQL reading the part ``files`` of ``name`` with the columns of its schema."""
        cols = ", ".join(
            f'CAST("{c}" AS {DuckDBType.to_string(t)}) AS "{c}"' for c, t in self.schemas[name].items()
        )
        paths = ", ".join(_quote(str(self._path(name, f))) for f in files)
        return f"SELECT {cols} FROM read_parquet([{paths}])"

    def part(self, name: str, file: str) -> ir.Table:
        """The rows of one listed part of ``name``, typed like the table (to summarise a
        part once, see :mod:`helix.signals.event_summary`)."""
        if file not in {f for f, _ in self.files(name)}:
            raise KeyError(f"{name} has no part {file}")
        return self.con.sql(self._typed_select(name, [file]))

    def define_view(self, name: str) -> None:
        """(Re)define the view ``name`` over its listed parts, typed by its schema."""
        schema = self.schemas[name]
        files = [f for f, _ in self.files(name)]
        if files:
            sql = self._typed_select(name, files)
        else:
            empty = ", ".join(
                f'CAST(NULL AS {DuckDBType.to_string(t)}) AS "{c}"' for c, t in schema.items()
            )
            sql = f"SELECT {empty} WHERE false"
        self._raw.execute(f'CREATE OR REPLACE VIEW "{name}" AS {sql}')

    def ensure(self, existing: set[str]) -> list[str]:
        """Create the list and the views that are missing; redefine the rest (the
        directory may have moved); delete files no list names. Returns those created."""
        created = []
        if PARTS_TABLE not in existing:
            self.con.create_table(PARTS_TABLE, schema=PARTS_SCHEMA)
            created.append(PARTS_TABLE)
        for name in self.schemas:
            self.define_view(name)
            if name not in existing:
                created.append(name)
            listed = {f for f, _ in self.files(name)}
            folder = self.directory / name
            if folder.is_dir():
                for path in folder.glob("*.parquet"):
                    if path.name not in listed:  # written by a process that did not commit
                        path.unlink(missing_ok=True)
        return created

    # -- writes (the caller holds a transaction) -------------------------------
    def _write_file(self, name: str, expr: ir.Table) -> tuple[str, int]:
        schema = self.schemas[name]
        typed = expr.select(
            **{
                c: expr[c].cast(t) if c in expr.columns else ibis.null(t)  # absent: null
                for c, t in schema.items()
            }
        )
        keys = [k for k in CLUSTER_KEYS.get(name, ()) if k in typed.columns]
        if keys:
            typed = typed.order_by(keys)
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        file = f"part-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.parquet"
        path = folder / file
        self._after_rollback(path)
        # in-memory tables in the expression must be registered before its SQL runs
        # (what Ibis does itself before executing an expression)
        self.con._run_pre_execute_hooks(typed)
        sql = self.con.compile(typed)
        result = self._raw.execute(f"COPY ({sql}) TO {_quote(str(path))} (FORMAT parquet)")
        rows = int(result.fetchone()[0])
        return file, rows

    def _list(self, name: str, file: str, rows: int) -> None:
        self._raw.execute(
            f"INSERT INTO {PARTS_TABLE} VALUES (?, ?, ?, ?)",
            [name, file, rows, datetime.now(UTC).replace(tzinfo=None)],
        )

    def _unlist(self, name: str, files: list[str]) -> None:
        for file in files:
            self._raw.execute(
                f"DELETE FROM {PARTS_TABLE} WHERE table_name = ? AND file = ?", [name, file]
            )
            self._after_commit(self._path(name, file))

    def append(self, name: str, expr: ir.Table) -> int:
        """Add the rows of ``expr`` as a new part; return how many were added."""
        file, rows = self._write_file(name, expr)
        if rows == 0:
            self._after_commit(self._path(name, file))  # nothing to keep
            return 0
        self._list(name, file, rows)
        self._merge_small_parts(name)
        self.define_view(name)
        return rows

    def replace(self, name: str, parts: list[ir.Table]) -> None:
        """Make the rows of ``parts`` the whole of ``name``."""
        old = [f for f, _ in self.files(name)]
        for part in parts:
            file, rows = self._write_file(name, part)
            self._list(name, file, rows)
        self._unlist(name, old)
        self.define_view(name)

    def clear(self, name: str) -> None:
        """Remove every part of ``name`` (its view stays, empty)."""
        self._unlist(name, [f for f, _ in self.files(name)])
        self.define_view(name)

    def _merge_small_parts(self, name: str) -> None:
        listed = self.files(name)
        if len(listed) <= MAX_PARTS:
            return
        small = [f for f, n in listed if n < SMALL_PART_ROWS]
        if len(small) < 2:
            return
        paths = ", ".join(_quote(str(self._path(name, f))) for f in small)
        merged = self.con.sql(f"SELECT * FROM read_parquet([{paths}])")
        file, rows = self._write_file(name, merged)
        self._list(name, file, rows)
        self._unlist(name, small)


__all__ = ["PartStore", "PARTS_TABLE"]
