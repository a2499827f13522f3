"""Duplicate records inside one file.

* Keyed tables (``merge="upsert"``): rows with the same key and the same values
  are one record (the rest count as duplicates); rows with the same key and
  different values are all rejected, because Helix cannot know which is right.
* Identity tables (``merge="dedupe"``, e.g. events): rows equal on the identity
  are one record, the first in the file wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.ingest.sources import ROW
from helix.warehouse.schema import ATTRIBUTES, TableSpec


@dataclass
class Deduplicated:
    unique: ir.Table  # one row per record, stored columns + _row
    duplicate_rows: ir.Table  # _row of rows dropped as duplicates
    conflicts: ir.Table  # _row, column, reason of rows rejected for conflicting keys


def stored_columns(spec: TableSpec) -> list[str]:
    """Columns written to the warehouse for a contract table."""
    return [*spec.column_names, ATTRIBUTES]


def identity_partition(spec: TableSpec, t: ir.Table, keyless: bool = False) -> list[ir.Value]:
    """Expressions that put equal records in one window partition (nulls compare equal).

    ``keyless``: the file has no key column at all, so every row is identified by
    the fallback key (the same partition, more cheaply).
    """
    if not spec.fallback_key:
        return [t[k] for k in spec.key]
    if keyless:
        return [t[c] for c in spec.fallback_key]
    has_key = t[spec.key[0]].notnull()
    fallback = [ibis.ifelse(has_key, None, t[c]) for c in spec.fallback_key]
    return [*(t[k] for k in spec.key), *fallback]


HASH = "_h"
"""Column holding the identity hash of a record (see :func:`identity_hash`)."""


@ibis.udf.scalar.builtin(name="hash")
def _duckdb_hash(value) -> dt.uint64:  # type: ignore[no-untyped-def]
    """DuckDB's own ``hash``: files are always staged in DuckDB, whatever the warehouse."""


def identity_hash(spec: TableSpec, t: ir.Table, keyless: bool = False) -> ir.IntegerValue:
    """A 64-bit hash of each row's identity: equal records hash alike (collisions possible).

    DuckDB's unsigned hash is used as it is: Ibis's portable ``hash()`` converts it
    to a signed integer through a bit string, which costs as much as the hashing.
    """
    parts = identity_partition(spec, t, keyless)
    return _duckdb_hash(ibis.struct({f"k{i}": p for i, p in enumerate(parts)}))


def deduplicate(
    valid: ir.Table,
    spec: TableSpec,
    materialise: Callable[[str, ir.Table], ir.Table] | None = None,
    keyless: bool = False,
    hash_over: ir.Table | None = None,
) -> Deduplicated:
    """Split valid rows into unique records, duplicates and conflicting keys.

    Identity tables use the ``_h`` column of ``valid`` when it has one (the
    importer computes it while checking the file). ``materialise(hint, expr)`` stores an intermediate result and returns it as a
    table; the importer passes one so that the set of shared identity hashes is
    computed once, not once per use of ``unique`` and ``duplicate_rows``, and
    skips the exact comparison when no hash is shared. ``keyless``: see
    :func:`identity_partition`. ``hash_over``: rows to look for shared hashes in,
    ``valid`` and perhaps more (all rows of the file, when telling valid rows
    apart costs more than hashing a few extra); an extra row can only send a
    valid one to the exact comparison, never change the result.
    """
    cols = stored_columns(spec)
    conflicts = valid.select(ROW, column=ibis.literal(spec.key[0]), reason=ibis.literal("")).limit(0)
    if spec.merge == "upsert":
        versions = valid.select(*cols).distinct().group_by(list(spec.key)).aggregate(n=ibis._.count())
        clashing = versions.filter(versions.n > 1).select(*spec.key)
        bad = valid.semi_join(clashing, list(spec.key))
        key_words = " and ".join(spec.key)
        conflicts = bad.select(
            ROW,
            column=ibis.literal(spec.key[0]),
            reason=ibis.literal(f"another row of this file has the same {key_words} ")
            + bad[spec.key[0]].cast("string").name("k")
            + ibis.literal(" with different values: keep one row per key"),
        )
        valid = valid.anti_join(clashing, list(spec.key))
    if spec.merge == "dedupe":
        # Most rows are unique: find candidate duplicates by a hash of the identity
        # (cheap to group), then compare candidates exactly, so a hash collision
        # can never merge two different records.
        def hashed_rows(t: ir.Table) -> ir.Table:
            return t if HASH in t.columns else t.mutate(**{HASH: identity_hash(spec, t, keyless)})

        hashed = hashed_rows(valid)
        pool = hashed if hash_over is None else hashed_rows(hash_over)
        counts = pool.group_by(HASH).aggregate(_n=ibis._.count())
        shared = counts.filter(counts._n > 1).select("_h")
        if materialise is not None:
            shared = materialise(f"shared_{spec.name}", shared)
            if int(shared.count().execute()) == 0:  # the usual case: no duplicates at all
                return Deduplicated(
                    unique=valid.select(*cols, ROW),
                    duplicate_rows=valid.select(ROW).limit(0),
                    conflicts=conflicts,
                )
        singles = hashed.anti_join(shared, "_h").select(*cols, ROW)
        candidates = hashed.semi_join(shared, "_h")
        if materialise is not None:
            candidates = materialise(f"candidates_{spec.name}", candidates)
        exact_unique, dups = _rank_first(
            candidates, identity_partition(spec, candidates, keyless), cols
        )
        # a stored table may report a type's precision differently from the expression
        exact_unique = exact_unique.cast(singles.schema())
        return Deduplicated(
            unique=singles.union(exact_unique), duplicate_rows=dups, conflicts=conflicts
        )
    unique, dups = _rank_first(valid, identity_partition(spec, valid, keyless), cols)
    return Deduplicated(unique=unique, duplicate_rows=dups, conflicts=conflicts)


def _rank_first(
    t: ir.Table, partition: list[ir.Value], cols: list[str]
) -> tuple[ir.Table, ir.Table]:
    """(first row of each partition by file order, the later rows' ``_row``)."""
    ranked = t.mutate(_rank=ibis.row_number().over(group_by=partition, order_by=t[ROW]))
    return ranked.filter(ranked._rank == 0).select(*cols, ROW), ranked.filter(
        ranked._rank > 0
    ).select(ROW)
