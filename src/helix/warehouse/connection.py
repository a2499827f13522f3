"""The warehouse: one Ibis connection and the few operations Helix needs on it.

Everything that reads or writes the warehouse goes through :class:`Warehouse`.
Computation is written as Ibis expressions by the callers; the backend-specific
pieces (bulk upload, transactions, memory settings) live here and nowhere else.

Backends are chosen by URL: ``duckdb:///path/warehouse.duckdb`` (the default),
``postgres://user@host:5432/db``, or any URL ``ibis.connect`` understands.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv
from ibis.backends.sql.datatypes import DuckDBType, PostgresType

from helix.config import redact_url
from helix.errors import ConfigError, WarehouseBusy
from helix.warehouse.parts import PARTS_TABLE, PartStore
from helix.warehouse.schema import ALL_TABLES, TableSpec

__all__ = ["Warehouse", "open_warehouse", "writer_waiting", "CHANGES_TABLE", "STAGE_RUNS_TABLE"]

CHANGES_TABLE = "helix_table_changes"
STAGE_RUNS_TABLE = "helix_stage_runs"
SCRATCH_PREFIX = "_helix_scratch_"

_META_SCHEMAS: dict[str, ibis.Schema] = {
    CHANGES_TABLE: ibis.schema(
        {"table_name": "string", "version": "int64", "changed_at": "timestamp", "note": "string"}
    ),
    STAGE_RUNS_TABLE: ibis.schema(
        {
            "stage": "string",
            "as_of": "date",
            "inputs": "string",
            "started_at": "timestamp",
            "seconds": "float64",
            "rows": "int64",
        }
    ),
}

PARTED_TABLES = ("events", "mrr_movements", "health_scores")
"""Tables a DuckDB file warehouse keeps as Parquet parts (see :mod:`.parts`): events,
only ever added to, the MRR ledger, rebuilt wholesale, and the daily score history,
added to every day and read one account at a time by the Customer 360."""

ACCOUNT_LOOKUP_TABLES = (
    "accounts", "account_summary", "contacts", "subscriptions", "activities", "tickets",
    "survey_responses", "health_events", "health_latest", "health_recent", "predictions",
)  # fmt: skip
"""Tables the pages read one account at a time. On DuckDB each has an index on
``account_id``, so such a read finds its rows instead of scanning the column (a scan
costs milliseconds per query at 100k accounts, and a Customer 360 makes a dozen)."""

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


Param = str | int | float | date | datetime
_PARAM_TYPES: dict[type, str] = {
    str: "string", int: "int64", float: "float64", date: "date", datetime: "timestamp"
}
_PARAM_MARK = f"helix_param_{secrets.token_hex(6)}_"
"""A string no data holds: the placeholder a parameter is compiled as, then bound."""


def _param_text(value: Param) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe table name: {name!r}")
    return name


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (the warehouse stores naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Warehouse:
    """A connection to the warehouse plus Helix's table conventions."""

    def __init__(self, con: ibis.BaseBackend, url: str) -> None:
        self.con = con
        self.url = url
        self._tx_depth = 0
        self.parts: PartStore | None = None  # set by open_warehouse on a DuckDB file
        self._delete_on_commit: list[Path] = []
        self._delete_on_rollback: list[Path] = []
        # names and Ibis tables, kept on an embedded file warehouse (no other process can
        # change a file this one holds open) and forgotten by every write of this one.
        # Looking them up is a catalog query each; a page asks for a dozen.
        self._names: set[str] | None = None
        self._tables: dict[str, ir.Table] = {}
        self._con_lock = threading.RLock()  # the connection itself: one thread at a time
        self._local = threading.local()
        self._cursors: list[Any] = []
        self.concurrent_reads = False
        """Run :meth:`query` on per-thread cursors (set by a serving app's lease)."""
        self._prepared: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, pa.Schema]] = {}
        self._memo: dict[str, Any] = {}

    def _use_parts(self, directory: Path, create: bool) -> None:
        """Keep :data:`PARTED_TABLES` as Parquet parts under ``directory``.

        A warehouse made before parts existed keeps its ordinary tables.
        """
        kinds = dict(
            self.con.con.execute(
                "SELECT table_name, table_type FROM information_schema.tables"
            ).fetchall()
        )
        if PARTS_TABLE not in kinds and not create:
            return
        names = [n for n in PARTED_TABLES if kinds.get(n, "VIEW") == "VIEW"]
        if not names:
            return
        self.parts = PartStore(
            self.con,
            directory,
            {n: ALL_TABLES[n].ibis_schema() for n in names},
            on_commit=self._delete_on_commit.append,
            on_rollback=self._delete_on_rollback.append,
        )

    def _parted(self, name: str) -> bool:
        return self.parts is not None and self.parts.holds(name)

    @contextlib.contextmanager
    def _as_table(self, obj: ir.Table | pa.Table) -> Iterator[ir.Table]:
        if not isinstance(obj, pa.Table):
            yield obj
            return
        view = self.scratch_name("arrow")
        self.con.con.register(view, obj)
        try:
            yield self.con.table(view)
        finally:
            self.con.con.unregister(view)

    # -- identity ---------------------------------------------------------
    @property
    def backend(self) -> str:
        """Name of the Ibis backend: ``duckdb``, ``postgres``, ``pyspark`` ..."""
        return str(self.con.name)

    def __repr__(self) -> str:
        return f"Warehouse({self.backend}, {redact_url(self.url)})"

    # -- tables -----------------------------------------------------------
    @property
    def _caches_catalog(self) -> bool:
        return self.backend == "duckdb"

    def forget_catalog(self) -> None:
        """Drop the cached table names and schemas (after any change to either)."""
        self._names = None
        self._tables.clear()
        self._prepared.clear()
        self._memo.clear()

    def list_tables(self) -> list[str]:
        if not self._caches_catalog:
            return list(self.con.list_tables())
        with self._con_lock:
            if self._names is None:
                self._names = set(self.con.list_tables())
            return sorted(self._names)

    def has_table(self, name: str) -> bool:
        if not self._caches_catalog:
            return name in self.con.list_tables()
        with self._con_lock:
            if self._names is None:
                self._names = set(self.con.list_tables())
            return name in self._names

    def table(self, name: str) -> ir.Table:
        """The Ibis table ``name``."""
        if not self._caches_catalog:
            return self.con.table(name)
        with self._con_lock:
            got = self._tables.get(name)
            if got is None:
                got = self._tables[name] = self.con.table(name)
            return got

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept until this warehouse's next write on an embedded file
        (where no other process can change the data meanwhile); computed every time
        elsewhere. For facts about the stored data that pages ask on every request."""
        if not self._caches_catalog:
            return compute()
        with self._con_lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]

    def query(self, key: str, build: Callable[..., ir.Table], **params: Param) -> pa.Table:
        """The rows of ``build(**params)``, an Ibis expression of named parameters.

        The builder receives each parameter as an Ibis value of its type (str, int,
        float, date or datetime; no None: a different shape is a different ``key``).
        On an embedded DuckDB warehouse the expression is compiled once per ``key``
        and parameter types, and the SQL is run with the values bound (compiling
        costs more than most page queries); elsewhere it is built with the values
        and run as usual. Cached SQL is forgotten with the catalog.

        With :attr:`concurrent_reads` (a serving app's shared requests), the SQL runs on
        a cursor of the calling thread, so that requests read side by side.
        """
        if not self._caches_catalog:
            return self.run(build(**{k: ibis.literal(v) for k, v in params.items()}))
        kinds = tuple(sorted((k, _PARAM_TYPES[type(v)]) for k, v in params.items()))
        with self._con_lock:
            cached = self._prepared.get((key, kinds))
            if cached is None:
                marks = {k: ibis.literal(f"{_PARAM_MARK}{k}").cast(t) for k, t in kinds}
                expr = build(**marks)
                if expr.op().find(ops.InMemoryTable):  # registered per run by Ibis: not cached
                    return self.run(build(**{k: ibis.literal(v) for k, v in params.items()}))
                sql = str(self.con.compile(expr))
                for k, _ in kinds:
                    quoted = f"'{_PARAM_MARK}{k}'"
                    if quoted not in sql:
                        raise ValueError(f"query {key!r}: parameter {k!r} is not used")
                    sql = sql.replace(quoted, f"${k}")
                if "account_id" in params:
                    sql = _through_account_index(sql)
                cached = self._prepared[(key, kinds)] = (sql, expr.schema().to_pyarrow())
        sql, schema = cached
        values = {k: _param_text(v) for k, v in params.items()}
        if self.concurrent_reads and self._tx_depth == 0:
            return self._cursor().execute(sql, values).to_arrow_table().cast(schema)
        with self._con_lock:
            return self.con.con.execute(sql, values).to_arrow_table().cast(schema)

    def run(self, expr: ir.Table | ir.Scalar) -> Any:
        """Execute an Ibis expression on the connection (the way to run one that is not a
        :meth:`query` while reads may be concurrent): an Arrow table, or a scalar's value."""
        with self._con_lock:
            result = expr.to_pyarrow()
        return result.as_py() if isinstance(result, pa.Scalar) else result

    def _cursor(self) -> Any:
        """This thread's own DuckDB connection to the database (DuckDB's rule for
        threads: one cursor each)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._con_lock:
                cur = self.con.con.cursor()
                for setting in _SESSION_SETTINGS:
                    cur.execute(setting)
                self._cursors.append(cur)
            self._local.cursor = cur
        return cur

    def create_empty(self, name: str, schema: ibis.Schema) -> None:
        """Create the empty table ``name`` with ``schema``."""
        self.forget_catalog()
        self.con.create_table(_check_ident(name), schema=schema)

    def ensure_tables(self, specs: list[TableSpec] | None = None) -> list[str]:
        """Create missing Helix tables (all known ones by default); return those created."""
        self.forget_catalog()
        existing = set(self.con.list_tables())
        created = self.parts.ensure(existing) if self.parts is not None else []
        for spec in specs if specs is not None else list(ALL_TABLES.values()):
            if spec.name not in existing and not self._parted(spec.name):
                self.con.create_table(spec.name, schema=spec.ibis_schema())
                created.append(spec.name)
            elif spec.name in existing and not self._parted(spec.name):
                self._add_missing_columns(spec)
        for name, schema in _META_SCHEMAS.items():
            if name not in existing:
                self.con.create_table(name, schema=schema)
                created.append(name)
        for leftover in existing:
            if leftover.startswith(SCRATCH_PREFIX):
                # a scratch table left by a killed process: never part of the data
                self.con.drop_table(leftover, force=True)
        self.ensure_lookup_indexes()
        return created

    # -- account lookup indexes (DuckDB) ------------------------------------
    def _indexes_lookups(self) -> bool:
        return self.backend == "duckdb"

    def ensure_lookup_indexes(self) -> list[str]:
        """Index ``account_id`` of every :data:`ACCOUNT_LOOKUP_TABLES` table that lacks
        it (DuckDB; a no-op elsewhere); return the tables indexed."""
        if not self._indexes_lookups():
            return []
        with self._con_lock:
            have = {r[0] for r in self.con.con.execute(
                "SELECT index_name FROM duckdb_indexes()").fetchall()}  # fmt: skip
            names = set(self.con.list_tables())
            unindexed = [
                t
                for t in ACCOUNT_LOOKUP_TABLES
                if t in names and not self._parted(t) and _lookup_index(t) not in have
            ]
            for t in unindexed:
                self._add_lookup_index(t)
        return unindexed

    def _add_lookup_index(self, name: str) -> None:
        if self._indexes_lookups() and name in ACCOUNT_LOOKUP_TABLES and not self._parted(name):
            self.con.raw_sql(
                f'CREATE INDEX IF NOT EXISTS "{_lookup_index(name)}" ON "{name}" (account_id)'
            )

    def _drop_lookup_index(self, name: str) -> None:
        # DuckDB cannot rename a table that has an index
        if self._indexes_lookups() and name in ACCOUNT_LOOKUP_TABLES:
            self.con.raw_sql(f'DROP INDEX IF EXISTS "{_lookup_index(name)}"')

    def _add_missing_columns(self, spec: TableSpec) -> None:
        """Columns a newer Helix added to a table, added (null) to an older warehouse's."""
        have = set(self.table(spec.name).columns)
        for col, dtype in spec.ibis_schema().items():
            if col in have:
                continue
            if self.backend not in ("duckdb", "postgres"):
                raise ConfigError(
                    f"the warehouse table {spec.name} lacks the column {col}",
                    hint=f"add it (type {dtype}) or rebuild the table",
                )
            mapper = DuckDBType if self.backend == "duckdb" else PostgresType
            result = self.con.raw_sql(
                f'ALTER TABLE "{_check_ident(spec.name)}" ADD COLUMN "{_check_ident(col)}" '
                f"{mapper.to_string(dtype)}"
            )
            if self.backend == "postgres":  # (DuckDB returns the connection itself)
                result.close()
            self.forget_catalog()

    def count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def write_table(self, name: str, obj: ir.Table | pa.Table) -> None:
        """Replace the contents of ``name`` with ``obj`` (an expression or Arrow table)."""
        self.write_parts(name, [obj])

    def write_parts(self, name: str, parts: list[ir.Table | pa.Table]) -> None:
        """Replace the contents of ``name`` with the rows of ``parts``, written one by one.

        Writing a large result in parts bounds the memory each query needs; the
        table is swapped in only when every part is written, so readers never see
        a partial table.
        """
        self.forget_catalog()
        _check_ident(name)
        if self._parted(name):
            assert self.parts is not None
            with self.transaction(), contextlib.ExitStack() as stack:
                self.parts.replace(name, [stack.enter_context(self._as_table(p)) for p in parts])
            return
        if not parts:
            raise ValueError("write_parts needs at least one part (an empty table is a part)")
        tmp = self.scratch_name(name)
        try:
            self.con.create_table(tmp, parts[0])
            for part in parts[1:]:
                self.append(tmp, part)
        except BaseException:
            self.drop(tmp)
            raise
        with self.transaction():
            if self.has_table(name):
                self.con.drop_table(name, force=True)
            self.rename(tmp, name)

    def append(self, name: str, obj: ir.Table | pa.Table) -> None:
        """Insert the rows of ``obj`` into ``name``."""
        if self._parted(name):
            assert self.parts is not None
            with self.transaction(), self._as_table(obj) as table:
                self.parts.append(name, table)
            return
        self.con.insert(_check_ident(name), obj)

    def drop(self, name: str) -> None:
        """Drop table ``name`` (a table kept in parts is emptied instead)."""
        self.forget_catalog()
        if self._parted(name):
            assert self.parts is not None
            with self.transaction():
                self.parts.clear(name)
            return
        self.con.drop_table(_check_ident(name), force=True)

    def rename(self, old: str, new: str) -> None:
        """Rename a table (Ibis leaves this to backends; DuckDB's lacks it)."""
        self.forget_catalog()
        _check_ident(old)
        _check_ident(new)
        self._drop_lookup_index(old)
        try:
            self.con.rename_table(old, new)
        except NotImplementedError:
            self.con.raw_sql(f'ALTER TABLE "{old}" RENAME TO "{new}"')
        self._add_lookup_index(new)

    def create_scratch(self, hint: str, expr: ir.Table) -> str:
        """Materialise ``expr`` as a working table (temporary where the backend allows)."""
        self.forget_catalog()
        name = self.scratch_name(hint)
        self.con.create_table(name, expr, temp=self.backend == "duckdb")
        return name

    def create_scratch_view(self, hint: str, expr: ir.Table) -> str:
        """Name ``expr`` as a working view: compiled once, evaluated where it is used.

        Queries built on the view compile faster than the expression repeated in
        each of them; drop it with :meth:`drop_view`.
        """
        name = self.scratch_name(hint)
        self.forget_catalog()
        if self.backend == "duckdb":  # session-local, like the scratch tables
            self.con._run_pre_execute_hooks(expr)  # registers in-memory tables it reads
            self.con.con.execute(f'CREATE TEMP VIEW "{name}" AS {self.con.compile(expr)}')
        else:
            self.con.create_view(name, expr)
        return name

    def drop_view(self, name: str) -> None:
        self.forget_catalog()
        self.con.drop_view(_check_ident(name), force=True)

    def scratch_name(self, hint: str) -> str:
        """A unique name for a temporary working table (cleaned up if left behind)."""
        return f"{SCRATCH_PREFIX}{_check_ident(hint)}_{utcnow():%H%M%S%f}"

    # -- bulk upload --------------------------------------------------------
    def upload(
        self, name: str, data: pa.RecordBatchReader | pa.Table, *, temp: bool = False
    ) -> None:
        """Create table ``name`` from Arrow data, streaming batch by batch.

        This is the fast path for loading large inputs; memory stays bounded by
        one batch on DuckDB and PostgreSQL. ``temp`` asks for a session-local
        table where the backend has them (DuckDB: kept in memory, spilled to
        disk past the memory limit, gone if the process dies).
        """
        _check_ident(name)
        self.forget_catalog()
        if isinstance(data, pa.Table):
            data = data.to_reader()
        if self.backend == "duckdb":
            raw = self.con.con
            view = f"_helix_arrow_{name}"
            raw.register(view, data)
            try:
                kind = "TEMP TABLE" if temp else "TABLE"
                raw.execute(f'CREATE {kind} "{name}" AS SELECT * FROM "{view}"')
            finally:
                raw.unregister(view)
        elif self.backend == "postgres":
            schema = ibis.Schema.from_pyarrow(data.schema)
            self.con.create_table(name, schema=schema)
            cols = ", ".join(f'"{c}"' for c in data.schema.names)
            with self.con.begin() as cur:
                with cur.copy(f'COPY "{name}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy:
                    for batch in data:
                        buf = io.BytesIO()
                        pacsv.write_csv(
                            batch, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed")
                        )
                        copy.write(buf.getvalue())
        else:  # any other Ibis backend: correct, not tuned
            first = True
            for batch in data:
                tbl = pa.Table.from_batches([batch])
                if first:
                    self.con.create_table(name, tbl)
                    first = False
                else:
                    self.con.insert(name, tbl)
            if first:
                self.con.create_table(name, schema=ibis.Schema.from_pyarrow(data.schema))

    @contextlib.contextmanager
    def stream(self, name: str, data: pa.RecordBatchReader) -> Iterator[ir.Table]:
        """Expose an Arrow stream as a table for one query (DuckDB reads it once, lazily).

        Other backends get a real table, dropped afterwards.
        """
        _check_ident(name)
        if self.backend == "duckdb":
            view = f"{SCRATCH_PREFIX}{name}_stream"
            self.con.con.register(view, data)
            try:
                yield self.con.table(view)
            finally:
                self.con.con.unregister(view)
        else:
            table = self.scratch_name(name)
            self.upload(table, data)
            try:
                yield self.table(table)
            finally:
                self.drop(table)

    @contextlib.contextmanager
    def scan_parquet(self, path: Path, row_column: str) -> Iterator[ir.Table | None]:
        """A Parquet file as a table for one query, numbered 1.. in ``row_column``.

        DuckDB scans the file itself, in parallel, which is much faster than an
        Arrow stream fed from Python. Other backends yield ``None``: the caller
        then streams the file.
        """
        if self.backend != "duckdb":
            yield None
            return
        view = self.scratch_name("parquet_scan")
        t = self.con.read_parquet(str(path), table_name=view, file_row_number=True)
        try:
            numbered = t.mutate(**{row_column: t.file_row_number + 1}).drop("file_row_number")
            yield numbered
        finally:
            self.con.drop_view(view, force=True)

    # -- transactions ---------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All warehouse writes inside the block commit together or not at all.

        DuckDB and PostgreSQL give real transactions. Backends without them
        (e.g. Spark) run the block as is; Helix then relies on writing scratch
        tables first and swapping them in last.
        """
        if self._tx_depth:  # nested: the outermost block decides
            yield
            return
        self._tx_depth += 1
        try:
            with self._outer_transaction():
                yield
        finally:
            self._tx_depth -= 1

    @contextlib.contextmanager
    def _outer_transaction(self) -> Iterator[None]:
        if self.backend == "duckdb":
            raw = self.con.con
            raw.execute("BEGIN TRANSACTION")
            try:
                try:
                    yield
                except BaseException:
                    raw.execute("ROLLBACK")
                    self.forget_catalog()  # tables made or dropped inside are undone
                    _delete_files(self._delete_on_rollback)
                    raise
                raw.execute("COMMIT")
                _delete_files(self._delete_on_commit)
            finally:
                self._delete_on_commit.clear()
                self._delete_on_rollback.clear()
        elif self.backend == "postgres":
            with self.con.con.transaction():
                yield
        else:
            yield

    # -- change tracking ------------------------------------------------------
    def record_change(self, table: str, note: str = "") -> int:
        """Note that ``table`` changed; return its new version number."""
        self._memo.clear()
        version = self.table_versions().get(table, 0) + 1
        self.append(
            CHANGES_TABLE,
            pa.table(
                {
                    "table_name": [table],
                    "version": [version],
                    "changed_at": pa.array([utcnow()], pa.timestamp("us")),
                    "note": [note],
                }
            ),
        )
        return version

    def table_versions(self) -> dict[str, int]:
        """Current version of every table that has changed at least once."""
        t = self.table(CHANGES_TABLE)
        df = t.group_by("table_name").aggregate(version=t.version.max()).to_pyarrow()
        return dict(zip(df["table_name"].to_pylist(), df["version"].to_pylist(), strict=True))

    # -- lifecycle ------------------------------------------------------------
    def close(self) -> None:
        for cur in self._cursors:
            with contextlib.suppress(Exception):
                cur.close()
        self._cursors.clear()
        with contextlib.suppress(Exception):
            self.con.disconnect()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _delete_files(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _lookup_index(table: str) -> str:
    return f"helix_by_account_{table}"


_LOOKUP_REF = re.compile(r'"(' + "|".join(ACCOUNT_LOOKUP_TABLES) + r')" AS "(t\d+)"')


def _through_account_index(sql: str) -> str:
    """``sql`` (a compiled :meth:`Warehouse.query` of an ``account_id`` parameter) with
    each lookup table it filters by that account read first on its own, through the
    table's index.

    DuckDB scans a table through its index only when the scan has that one filter: a
    further condition, or an ORDER BY ... LIMIT, makes it scan the whole column. A
    MATERIALIZED common table expression holding just the account's rows keeps the
    lookup separate. Only a table whose alias the query filters on
    ``account_id = $account_id`` is rewritten, so the result cannot change.
    """
    ctes: list[str] = []

    def swap(m: re.Match[str]) -> str:
        table, alias = m.groups()
        if f'"{alias}"."account_id" = $account_id' not in sql:
            return m.group(0)
        if table not in ctes:
            ctes.append(table)
        return f'"_one_{table}" AS "{alias}"'

    out = _LOOKUP_REF.sub(swap, sql)
    if not ctes:
        return sql
    with_ = ", ".join(
        f'"_one_{t}" AS MATERIALIZED (SELECT * FROM "{t}" WHERE "account_id" = $account_id)'
        for t in ctes
    )
    return f"WITH {with_}, {out[5:]}" if out.startswith("WITH ") else f"WITH {with_} {out}"


THREADS_ENV = "HELIX_DUCKDB_THREADS"
"""Threads DuckDB may use for one query (default: one per core)."""


def _check_threads(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise ConfigError(
            f"{THREADS_ENV}={value!r} is not a number of threads", hint="use e.g. 1 or 4"
        )
    return int(value)


def _check_memory(limit: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", limit.strip(), re.I):
        raise ConfigError(
            f"HELIX_DUCKDB_MEMORY_LIMIT={limit!r} is not a size", hint="use e.g. 4GB or 512MB"
        )
    return limit.strip()


_SESSION_SETTINGS = (
    "SET TimeZone = 'UTC'",  # timestamps are UTC everywhere in Helix
    "SET enable_progress_bar = false",  # stdout is for --json output
    # Parquet parts are never changed in place (a write makes a new file), so their
    # footers can be kept: a page's point lookups then skip re-reading them.
    "SET parquet_metadata_cache = true",
)
"""DuckDB settings of one connection (each cursor needs them again)."""


def _connect(url: str) -> ibis.BaseBackend:
    if url.startswith("duckdb://"):
        path = url.removeprefix("duckdb://")
        con = ibis.duckdb.connect(path or ":memory:")
        # Order of rows is never relied on (every table has keys or _row), and letting
        # DuckDB drop it keeps memory bounded on large imports.
        con.raw_sql("SET preserve_insertion_order = false")
        for setting in _SESSION_SETTINGS:
            con.raw_sql(setting)
        # Bounded memory: past this DuckDB spills working tables and joins to disk,
        # so an import of any size fits the machine.
        limit = os.environ.get("HELIX_DUCKDB_MEMORY_LIMIT", "4GB")
        con.raw_sql(f"SET memory_limit = '{_check_memory(limit)}'")
        threads = os.environ.get(THREADS_ENV)
        if threads:
            con.raw_sql(f"SET threads = {_check_threads(threads)}")
        return con
    if url.startswith(("postgres://", "postgresql://")):
        return ibis.connect(url.replace("postgresql://", "postgres://", 1))
    return ibis.connect(url)


WAIT_ENV = "HELIX_WAREHOUSE_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 15.0
"""How long opening a DuckDB file that another process holds waits for it by default."""


def _duckdb_path(url: str) -> str | None:
    path = url.removeprefix("duckdb://") if url.startswith("duckdb://") else ""
    return path if path and path != ":memory:" else None


def _marker(path: str) -> Path:
    return Path(f"{path}.waiting-{os.getpid()}")


def writer_waiting(url: str) -> bool:
    """Whether another live process is waiting to open the DuckDB file of ``url`` (it
    leaves a ``<file>.waiting-<pid>`` marker while it waits; markers of processes that
    are gone are removed)."""
    path = _duckdb_path(url)
    if path is None:
        return False
    folder, name = Path(path).parent, Path(path).name + ".waiting-"
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(name)]
    except OSError:
        return False
    waiting = False
    for entry in entries:
        pid = entry.name.removeprefix(name)
        if pid == str(os.getpid()):
            continue
        if pid.isdigit() and Path(f"/proc/{pid}").exists():
            waiting = True
        else:
            Path(entry.path).unlink(missing_ok=True)
    return waiting


def _wait_seconds(wait_s: float | None) -> float:
    if wait_s is not None:
        return wait_s
    try:
        return float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS))
    except ValueError as exc:
        raise ConfigError(f"{WAIT_ENV} is not a number of seconds", hint="e.g. 15") from exc


def _connect_waiting(url: str, wait_s: float) -> ibis.BaseBackend:
    """Connect; while another process holds the file, wait for it (up to ``wait_s``)
    with a marker beside the file saying so (a serving app then lets go of it)."""
    path = _duckdb_path(url)
    deadline = time.monotonic() + wait_s
    marker = None
    pause = 0.02
    try:
        while True:
            try:
                return _connect(url)
            except Exception as exc:
                if path is None or "Could not set lock" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
                if marker is None:
                    marker = _marker(path)
                    marker.touch()
                time.sleep(pause)
                pause = min(0.2, pause * 2)
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


def open_warehouse(url: str, *, create: bool = True, wait_s: float | None = None) -> Warehouse:
    """Open the warehouse at ``url``; create Helix's tables when ``create`` is true.

    A DuckDB file another process holds is waited for, up to ``wait_s`` seconds
    (default ``HELIX_WAREHOUSE_WAIT_SECONDS``, 15), and then a clear busy error."""
    try:
        con = _connect_waiting(url, _wait_seconds(wait_s))
    except ModuleNotFoundError as exc:
        backend = url.split("://", 1)[0]
        raise ConfigError(
            f"the warehouse backend {backend!r} is not installed ({exc.name} is missing)",
            hint=f"pip install 'ibis-framework[{backend}]'",
        ) from exc
    except Exception as exc:  # connection refused, bad URL, a lock held elsewhere ...
        if "Could not set lock" in str(exc):
            holder = re.search(r"\(PID (\d+)\)", str(exc))
            raise WarehouseBusy(
                f"the warehouse {redact_url(url)} is in use by another process"
                + (f" (PID {holder.group(1)})" if holder else ""),
                hint="wait for that import or run to finish, or stop it, then try again",
            ) from exc
        raise ConfigError(
            f"cannot open the warehouse at {redact_url(url)}: {exc}",
            hint="check HELIX_WAREHOUSE_URL",
        ) from exc
    wh = Warehouse(con, url)
    path = url.removeprefix("duckdb://") if url.startswith("duckdb://") else ""
    if path and path != ":memory:":
        wh._use_parts(Path(path + ".parts"), create)
    if create:
        wh.ensure_tables()
    return wh
