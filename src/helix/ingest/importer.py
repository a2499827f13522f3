"""`helix import`: contract files in, validated, merged into the warehouse atomically.

The steps, for every file in table order (accounts first, so that foreign keys
resolve):

1. read the file as Arrow batches (streaming, bounded memory) and stage it;
2. type and check every value (:mod:`helix.ingest.validate`), then drop or
   reject duplicates (:mod:`helix.ingest.duplicates`);
3. write rejected rows, untouched, to a quarantine file and their reasons to
   an errors file.

Only when every file has been staged does one warehouse transaction merge all
tables (:mod:`helix.ingest.loader`). A file that cannot be read fails the whole
import before anything is written; a crash leaves only scratch tables, which
the warehouse removes the next time it opens.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helix.errors import ContractError, RowError
from helix.ingest.duplicates import HASH, deduplicate, identity_hash
from helix.ingest.loader import merge
from helix.ingest.mapping import Mapping
from helix.ingest.report import MAX_ERRORS_SHOWN, ImportReport, TableReport
from helix.ingest.sources import ROW, SUFFIXES, SourceFile, detect_format, read_batches, read_columns
from helix.ingest.validate import checked_table, row_errors, valid_rows
from helix.warehouse import CONTRACT_TABLES, Warehouse, open_warehouse
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import ATTRIBUTES

Progress = Callable[[str, float], None]

_REFERENCED = {"accounts": "account_id", "contacts": "contact_id"}


def new_import_id() -> str:
    """A sortable, unique id for an import run."""
    return f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def plan_files(path: Path, *, table: str | None, mapping: Mapping) -> list[SourceFile]:
    """The files to import from ``path`` (a directory, or one file), in table order."""
    if not path.exists():
        raise ContractError("does not exist", file=str(path), hint="check the path")
    if path.is_file():
        name = table or path.name.split(".", 1)[0]
        if name not in CONTRACT_TABLES:
            raise ContractError(
                f"{name!r} is not a table of the data contract",
                file=str(path),
                hint=f"pass --table with one of: {', '.join(CONTRACT_TABLES)}",
            )
        return [SourceFile(path, name, detect_format(path))]
    if table is not None:
        raise ContractError(
            "is a directory; --table is only for a single file", file=str(path)
        )
    found: dict[str, SourceFile] = {}
    mapped_files = {m.file: t for t, m in mapping.tables.items() if m.file}
    for child in sorted(path.iterdir()):
        if not child.is_file() or child.suffix.lower() not in SUFFIXES:
            continue  # READMEs, mapping files and the like are not data
        name = mapped_files.get(child.name) or child.name[: -len(child.suffix)]
        if name not in CONTRACT_TABLES:
            raise ContractError(
                f"{name!r} is not a table of the data contract",
                file=str(child),
                hint=f"name it after one of: {', '.join(CONTRACT_TABLES)}, "
                "or map it in a --mapping file",
            )
        if name in found:
            raise ContractError(
                f"holds the table {name!r}, which {found[name].name} holds too",
                file=str(child),
                hint="keep one file per table",
            )
        found[name] = SourceFile(child, name, detect_format(child))
    for mapped, name in mapped_files.items():
        if name not in found:
            raise ContractError(
                f"is named in the mapping for {name!r} but is not in the directory",
                file=str(path / mapped),
            )
    if not found:
        raise ContractError(
            "holds no contract files",
            file=str(path),
            hint="put <table>.csv or <table>.parquet files in it (accounts, subscriptions, ...)",
        )
    return [found[t] for t in CONTRACT_TABLES if t in found]


@dataclass
class _Prepared:
    src: SourceFile
    rename: dict[str, str]  # source column -> contract column
    extras: list[str]  # columns kept as custom attributes (contract-side names)
    source_names: list[str]


def _prepare(src: SourceFile, mapping: Mapping) -> _Prepared:
    spec = CONTRACT_TABLES[src.table]
    columns = read_columns(src)
    tm = mapping.for_table(src.table)
    to_contract = tm.source_to_contract()
    missing_sources = [s for s in to_contract if s not in columns]
    if missing_sources:
        raise ContractError(
            f"has no column {missing_sources[0]!r}, which the mapping names",
            file=str(src.path),
            hint=f"the file's columns are: {', '.join(columns)}",
        )
    rename: dict[str, str] = {}
    for col in columns:
        if col == ROW:
            raise ContractError(f"uses the reserved column name {ROW!r}", file=str(src.path))
        target = to_contract.get(col, col)
        if col not in to_contract and col in tm.columns and tm.columns[col] != col:
            target = f"{col} (source)"  # a same-named column shadowed by the mapping
        rename[col] = target
    targets = list(rename.values())
    missing = [c for c in spec.required_columns if c not in targets]
    if missing:
        raise ContractError(
            f"lacks the required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            file=str(src.path),
            hint="add the column, or map your column onto it with --mapping",
        )
    extras = [t for t in targets if t not in spec.column_names and t != ATTRIBUTES]
    return _Prepared(src, rename, extras, columns)


def _file_schema(prep: _Prepared) -> pa.Schema:
    """The file's own columns and types (CSV columns are text)."""
    if prep.src.fmt == "parquet":
        return pq.read_schema(prep.src.path).remove_metadata()
    return pa.schema([(c, pa.string()) for c in prep.source_names])


def _reader(prep: _Prepared) -> pa.RecordBatchReader:
    names = [prep.rename[c] for c in prep.source_names] + [ROW]
    batches = read_batches(prep.src, prep.source_names)
    first = next(batches, None)
    if first is None:
        schema = _file_schema(prep).append(pa.field(ROW, pa.int64()))
        schema = pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)])
        return pa.RecordBatchReader.from_batches(schema, iter(()))
    first = first.rename_columns(names)

    def chain() -> Iterator[pa.RecordBatch]:
        yield first
        for b in batches:
            yield b.rename_columns(names)

    return pa.RecordBatchReader.from_batches(first.schema, chain())


@dataclass
class _Staged:
    prep: _Prepared
    ok: ir.Table  # the unique valid records, in the staging warehouse
    errors: str
    report: TableReport
    scratch: list[str] = field(default_factory=list)


class _Importer:
    def __init__(self, wh: Warehouse, report_dir: Path, progress: Progress | None) -> None:
        self.wh = wh
        self.report_dir = report_dir
        self.progress = progress or (lambda message, fraction: None)
        self.scratch: list[tuple[Warehouse, str]] = []
        self._own_staging: Warehouse | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if wh.backend == "duckdb":
            self.staging = wh
        else:  # stage and validate in a local DuckDB; only valid rows travel to the warehouse
            self._tmpdir = tempfile.TemporaryDirectory(prefix="helix-stage-")
            url = f"duckdb://{Path(self._tmpdir.name) / 'stage.duckdb'}"
            self._own_staging = open_warehouse(url, create=False)
            self.staging = self._own_staging
        self.known: dict[str, ir.Table] = {}
        self._open = contextlib.ExitStack()  # file scans, kept until the merge is done

    # -- helpers ---------------------------------------------------------------
    def _scratch(self, wh: Warehouse, hint: str) -> str:
        name = wh.scratch_name(hint)
        self.scratch.append((wh, name))
        return name

    def _materialise(self, hint: str, expr: ir.Table) -> str:
        name = self.staging.create_scratch(hint, expr)
        self.scratch.append((self.staging, name))
        return name

    def _materialise_table(self, hint: str, expr: ir.Table) -> ir.Table:
        return self.staging.table(self._materialise(hint, expr))

    def _existing_keys(self, table: str) -> ir.Table:
        col = _REFERENCED[table]
        existing = self.wh.table(table).select(col)
        if self.staging is self.wh:
            return existing
        name = self._scratch(self.staging, f"known_{table}")
        self.staging.upload(name, self.wh.con.to_pyarrow_batches(existing), temp=True)
        return self.staging.table(name)

    def _source(self, prep: _Prepared) -> tuple[ir.Table, bool]:
        """The file as a staging table with contract column names and ``_row``.

        Parquet is scanned by the staging engine itself where it can (in parallel),
        and can then be scanned again (the second value is True). CSV, and Parquet
        elsewhere, stream through Arrow and can be read once only. Either stays
        open until the importer closes.
        """
        if prep.src.fmt == "parquet" and "file_row_number" not in prep.source_names:
            scanned = self._open.enter_context(self.staging.scan_parquet(prep.src.path, ROW))
            if scanned is not None:
                named = scanned.select(
                    *[scanned[c].name(prep.rename[c]) for c in prep.source_names], ROW
                )
                return named, True
        streamed = self._open.enter_context(
            self.staging.stream(f"src_{prep.src.table}", _reader(prep))
        )
        return streamed, False

    # -- per file ----------------------------------------------------------------
    def stage(self, prep: _Prepared) -> _Staged:
        src, spec = prep.src, CONTRACT_TABLES[prep.src.table]
        self.progress(f"reading and checking {src.name}", 0.1)
        for ref in {c.references.split(".")[0] for c in spec.columns if c.references}:
            # a table this import does not bring: check against what the warehouse
            # holds (contacts only once there are any, since they are optional)
            if ref not in self.known and ref != src.table and self.wh.count(ref) > 0:
                self.known[ref] = self._existing_keys(ref)
        if src.table == "accounts":
            # parent_account_id may point at an account of this same file, so the
            # file's ids are needed before checking: stage it first (accounts are small)
            raw = self._scratch(self.staging, f"raw_{src.table}")
            self.staging.upload(raw, _reader(prep), temp=True)
            raw_t = self.staging.table(raw)
            ids = raw_t.filter(raw_t.account_id.notnull()).select(
                raw_t.account_id.cast("string").name("account_id")
            )
            self.known["accounts"] = self._existing_keys("accounts").union(ids)
            chk_t = self._materialise_table(
                f"chk_{src.table}", checked_table(raw_t, spec, self.known, prep.extras)
            )
        else:
            raw_t, rescannable = self._source(prep)
            keyless = spec.key[0] not in prep.rename.values()
            checked = checked_table(raw_t, spec, self.known, prep.extras)
            if spec.merge == "dedupe" and rescannable:
                # Events: reading and checking the file again in each pass (errors,
                # duplicates, merge) costs less than storing a checked copy of it.
                view = self.staging.create_scratch_view(f"chk_{src.table}", checked)
                self._open.callback(self.staging.drop_view, view)
                chk_t = self.staging.table(view)
            else:
                # one pass: the file is typed and checked as it is read
                if spec.merge == "dedupe":  # hashed in the same pass, for finding duplicates
                    checked = checked.mutate(**{HASH: identity_hash(spec, checked, keyless)})
                chk_t = self._materialise_table(f"chk_{src.table}", checked)
        self.progress(f"finding duplicates in {src.name}", 0.4)
        st = self.staging
        read = int(chk_t.count().execute())
        if spec.merge == "dedupe":
            # Unique records are nearly the whole file (events): rather than copy them
            # into another table, keep them as an expression over the checked table,
            # count them from the few duplicates, and write them once, in the merge.
            # The valid rows are those without an error row: once the (few) errors are
            # stored, later passes need not check the file again. Shared hashes are
            # looked for among all rows, which needs no checking either; an invalid
            # row only makes its valid twin a candidate, compared exactly.
            errs = self._materialise(f"err_{src.table}", row_errors(chk_t).order_by([ROW, "column"]))
            bad_rows = st.table(errs).select(ROW).distinct()
            rejected = int(bad_rows.count().execute())
            valid = chk_t.anti_join(bad_rows, ROW) if rejected else chk_t
            dedup = deduplicate(
                valid, spec, self._materialise_table, keyless, hash_over=chk_t
            )
            ok: ir.Table = dedup.unique
            loaded = read - rejected - int(dedup.duplicate_rows.count().execute())
        else:
            dedup = deduplicate(valid_rows(chk_t), spec)
            ok = st.table(self._materialise(f"ok_{src.table}", dedup.unique))
            errs = self._materialise(
                f"err_{src.table}", row_errors(chk_t).union(dedup.conflicts).order_by([ROW, "column"])
            )
            rejected = int(st.table(errs)[ROW].nunique().execute())
            loaded = int(ok.count().execute())
        report = TableReport(
            table=src.table, file=str(src.path), read=read, rejected=rejected,
            duplicates=read - rejected - loaded, loaded=loaded,
        )
        if src.table in _REFERENCED:
            col = _REFERENCED[src.table]
            mine = ok.select(col)
            self.known[src.table] = self._existing_keys(src.table).union(mine)
        return _Staged(prep, ok, errs, report)

    def quarantine(self, staged: _Staged, qdir: Path) -> tuple[int, list[RowError]]:
        """Write rejected rows (untouched, re-read from the file) and their reasons.

        Returns the number of problems and the first ones, for the report.
        """
        st, rep, prep = self.staging, staged.report, staged.prep
        if not rep.rejected:
            return 0, []
        back = {v: k for k, v in prep.rename.items()}
        bad = st.con.to_pyarrow(st.table(staged.errors).select(ROW).distinct())[ROW]
        parts = [
            b.filter(pc.is_in(b.column(ROW), value_set=bad))
            for b in read_batches(prep.src, prep.source_names)
        ]
        data = pa.Table.from_batches(
            [p.drop_columns([ROW]) for p in parts if p.num_rows],
            schema=_file_schema(prep),
        )
        suffix = "csv" if prep.src.fmt == "csv" else "parquet"
        qfile = qdir / f"{prep.src.table}.rejected.{suffix}"
        if suffix == "csv":
            pacsv.write_csv(data, qfile)
        else:
            pq.write_table(data, qfile)
        rep.quarantine = str(qfile)
        errs = st.con.to_pyarrow(st.table(staged.errors))
        codes = errs["column"].combine_chunks().dictionary_encode()
        names = pa.array([back.get(v, v) for v in codes.dictionary.to_pylist()], pa.string())
        columns = pa.DictionaryArray.from_arrays(codes.indices, names).cast(pa.string())
        pacsv.write_csv(
            pa.table(
                {
                    "file": pa.array([rep.file] * len(errs), pa.string()),
                    "row": errs[ROW],
                    "column": columns,
                    "reason": errs["reason"],
                }
            ),
            qdir / f"{prep.src.table}.errors.csv",
        )
        first = errs.slice(0, MAX_ERRORS_SHOWN).to_pylist()
        shown = [
            RowError(file=rep.file, row=r[ROW], column=back.get(r["column"], r["column"]), reason=r["reason"])
            for r in first
        ]
        return len(errs), shown

    # -- all files -----------------------------------------------------------------
    def merge_all(self, staged: list[_Staged], import_id: str) -> None:
        with self.wh.transaction():
            for s in staged:
                spec = CONTRACT_TABLES[s.prep.src.table]
                if self.staging is self.wh:
                    incoming = s.ok
                else:
                    name = self._scratch(self.wh, f"in_{spec.name}")
                    self.wh.upload(name, self.staging.con.to_pyarrow_batches(s.ok))
                    incoming = self.wh.table(name)
                self.progress(f"merging {spec.name}", 0.8)
                counts = merge(self.wh, spec, incoming, total=s.report.loaded)
                rep = s.report
                rep.new, rep.updated, rep.unchanged = counts.new, counts.updated, counts.unchanged
                # records the warehouse already had count as duplicates, not as loaded
                rep.duplicates += counts.already_present
                rep.loaded -= counts.already_present
                if counts.changed:
                    self.wh.record_change(spec.name, note=f"import {import_id}")

    def close(self) -> None:
        self._open.close()
        for wh, name in reversed(self.scratch):
            try:
                wh.drop(name)
            except Exception:  # noqa: BLE001 - cleanup must not hide the real error
                pass
        if self._own_staging is not None:
            self._own_staging.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()


def _check_required_tables(wh: Warehouse, files: list[SourceFile]) -> None:
    """Every other table points at accounts, so the first import must bring them.

    Subscriptions are required too, but may come in a later import (from billing,
    say); until they do, `helix run` reports their absence as an error finding.
    """
    if "accounts" not in {f.table for f in files} and wh.count("accounts") == 0:
        raise ContractError(
            "the warehouse has no accounts yet and this import does not bring them",
            file="accounts",
            hint="include accounts.csv or accounts.parquet (accounts and subscriptions are required)",
        )


def import_files(
    wh: Warehouse,
    path: Path,
    *,
    imports_dir: Path,
    table: str | None = None,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
    import_id: str | None = None,
) -> ImportReport:
    """Import contract files from ``path`` into ``wh`` and return the report.

    Row problems are reported and quarantined under ``imports_dir/<import_id>/``;
    file problems raise :class:`~helix.errors.ContractError` with nothing written.
    """
    t0 = time.perf_counter()
    mapping = mapping or Mapping()
    import_id = import_id or new_import_id()
    files = plan_files(path, table=table, mapping=mapping)
    prepared = [_prepare(f, mapping) for f in files]
    _check_required_tables(wh, files)
    report = ImportReport(import_id=import_id, source=str(path))
    final_dir = imports_dir / import_id
    imports_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f".{import_id}-", dir=imports_dir))
    imp = _Importer(wh, work_dir, progress)
    try:
        staged = [imp.stage(p) for p in prepared]
        all_errors: list[RowError] = []
        error_count = 0
        for s in staged:
            count, shown = imp.quarantine(s, work_dir)
            error_count += count
            all_errors.extend(shown)
        imp.merge_all(staged, import_id)
        for s in staged:
            report.tables[s.prep.src.table] = s.report
            if s.report.quarantine:
                s.report.quarantine = str(final_dir / Path(s.report.quarantine).name)
        report.errors = all_errors[:MAX_ERRORS_SHOWN]
        report.error_count = error_count
        report.report_dir = str(final_dir)
        report.seconds = time.perf_counter() - t0
        (work_dir / "report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
        work_dir.rename(final_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    finally:
        imp.close()
    return report


__all__ = ["import_files", "plan_files", "new_import_id"]
