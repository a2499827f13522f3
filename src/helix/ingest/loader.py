"""Merging validated records into the warehouse, idempotently.

Keyed tables are upserted (a row with an existing key replaces it); identity
tables (events, payments) only gain the records they do not have yet. The
caller runs every merge of one import inside one warehouse transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from helix.ingest.duplicates import stored_columns
from helix.warehouse import Warehouse
from helix.warehouse.schema import TableSpec


@dataclass
class MergeCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    already_present: int = 0  # identity tables: records the warehouse had already

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)


def merge_upsert(
    wh: Warehouse, spec: TableSpec, incoming: ir.Table, total: int | None = None
) -> MergeCounts:
    """Upsert ``incoming`` (unique by key; ``total`` records, when known) into ``spec.name``."""
    cols = stored_columns(spec)
    incoming = incoming.select(*cols)
    existing = wh.table(spec.name).select(*cols)
    key = list(spec.key)
    if total is None:
        total = int(incoming.count().execute())
    new = int(incoming.anti_join(existing, key).count().execute())
    unchanged = int(incoming.intersect(existing).count().execute())
    counts = MergeCounts(new=new, updated=total - new - unchanged, unchanged=unchanged)
    if counts.changed:
        merged = existing.anti_join(incoming, key).union(incoming)
        scratch = wh.scratch_name(spec.name)
        wh.con.create_table(scratch, merged)
        wh.drop(spec.name)
        wh.rename(scratch, spec.name)
    return counts


def merge_dedupe(
    wh: Warehouse, spec: TableSpec, incoming: ir.Table, total: int | None = None
) -> MergeCounts:
    """Insert the records of ``incoming`` (``total`` of them, when known) that
    ``spec.name`` does not hold yet."""
    cols = stored_columns(spec)
    incoming = incoming.select(*cols)
    existing = wh.table(spec.name)
    if total is None:
        total = int(incoming.count().execute())
    before = wh.count(spec.name)
    if before == 0:
        fresh = incoming
    elif spec.fallback_key:
        key = spec.key[0]
        with_key = incoming.filter(incoming[key].notnull()).anti_join(existing, [key])
        # rows without a key are compared only with stored rows of the same time span:
        # a daily import of events then touches one day of history, not all of it
        nearby = existing.filter(existing[key].isnull())
        if spec.time_column:
            tcol = spec.time_column
            span = incoming.aggregate(lo=incoming[tcol].min(), hi=incoming[tcol].max())
            lo, hi = span.to_pyarrow().to_pylist()[0].values()
            nearby = nearby.filter(nearby[tcol].between(lo, hi))
        no_key = incoming.filter(incoming[key].isnull())
        no_key = no_key.anti_join(
            nearby, [no_key[c].identical_to(nearby[c]) for c in spec.fallback_key]
        )
        fresh = with_key.union(no_key)
    else:
        fresh = incoming.anti_join(
            existing, [incoming[c].identical_to(existing[c]) for c in spec.key]
        )
    if total:
        wh.append(spec.name, fresh.select(*cols))
    new = wh.count(spec.name) - before
    return MergeCounts(new=new, already_present=total - new)


def merge(
    wh: Warehouse, spec: TableSpec, incoming: ir.Table, total: int | None = None
) -> MergeCounts:
    """Merge by the table's rule (upsert or dedupe); ``total`` saves counting ``incoming``."""
    if spec.merge == "upsert":
        return merge_upsert(wh, spec, incoming, total)
    return merge_dedupe(wh, spec, incoming, total)
