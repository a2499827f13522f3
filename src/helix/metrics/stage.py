"""Stage `mrr_movements` of `helix run`: builds the MRR movements ledger, incrementally by date.

A full rebuild computes every month from the first subscription to ``as_of``.
When the previous run's inputs are unchanged and only ``as_of`` moved forward,
the months before the previous as-of's month cannot have changed (their
windows and every input are the same), so only the months from the previous
as-of's month onwards are recomputed and the older rows are kept.
"""

from __future__ import annotations

import json
from datetime import date

import ibis
import ibis.expr.types as ir

from helix.metrics.movements import first_positive_start, positive_rows
from helix.metrics.mrr import empty_ledger, ledger_parts
from helix.metrics.periods import month_start
from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.warehouse import Warehouse
from helix.warehouse.connection import STAGE_RUNS_TABLE
from helix.warehouse.schema import MRR_MOVEMENTS

__all__ = ["STAGE", "build_ledger", "incremental_cutoff", "stored_ledger"]

STAGE_NAME = "mrr_movements"
INPUTS = ("subscriptions", "churn_reasons", "payments", "accounts")


def _last_signature(wh: Warehouse) -> dict[str, object] | None:
    if not wh.has_table(STAGE_RUNS_TABLE):
        return None
    t = wh.table(STAGE_RUNS_TABLE)
    mine = t.filter(t.stage == STAGE_NAME).order_by(ibis.desc("started_at")).limit(1)
    rows = mine.select("inputs").to_pyarrow().to_pylist()
    if not rows:
        return None
    parsed = json.loads(rows[0]["inputs"])
    return parsed if isinstance(parsed, dict) else None


def incremental_cutoff(
    wh: Warehouse, as_of: date, last_as_of: date | None, full: bool
) -> date | None:
    """The first month to recompute, or None when the whole ledger must be rebuilt.

    Incremental only when: not ``full``; a previous run exists with ``last_as_of``
    on or before ``as_of``; the stored ledger was built as of ``last_as_of``; and
    none of the input tables changed since that run.
    """
    if full or last_as_of is None or as_of < last_as_of:
        return None
    if not wh.has_table(MRR_MOVEMENTS.name):
        return None
    t = wh.table(MRR_MOVEMENTS.name)
    stored = t.as_of.max().to_pyarrow().as_py()
    if stored is not None and stored != last_as_of:
        return None
    if _unchanged_signature(wh) is None:
        return None
    return month_start(last_as_of)


def _unchanged_signature(wh: Warehouse) -> dict[str, object] | None:
    """The last run's input signature, if no input table has changed since; else None."""
    signature = _last_signature(wh)
    if signature is None:
        return None
    versions = wh.table_versions()
    if any(signature.get(name) != versions.get(name, 0) for name in INPUTS):
        return None
    return signature


def stored_ledger(wh: Warehouse) -> tuple[ir.Table, date] | None:
    """The stored ledger and its as-of date, when it is current: built by the last
    run of this stage, with none of its inputs changed since. None otherwise."""
    if not wh.has_table(MRR_MOVEMENTS.name):
        return None
    signature = _unchanged_signature(wh)
    if signature is None:
        return None
    t = wh.table(MRR_MOVEMENTS.name)
    as_of = t.as_of.max().to_pyarrow().as_py()
    if as_of is None or signature.get("as_of") not in (None, as_of.isoformat()):
        return None
    return t, as_of


ROW_MONTHS_PER_PART = 100_000_000
"""Subscription rows x months the ledger computes in one query: about 2.3 GB at a
million accounts (3.5M rows, 3 queries of 28 months), within DuckDB's default
memory limit; one query for any company of up to ~800k subscription rows."""


def months_per_part(subscription_rows: int) -> int | None:
    """How many months to compute per ledger query (None: all in one).

    Each part has a fixed cost, so small companies get one query; large ones get
    parts small enough that the memory a query needs stays bounded.
    """
    if subscription_rows * 120 <= ROW_MONTHS_PER_PART:
        return None
    return max(1, ROW_MONTHS_PER_PART // max(subscription_rows, 1))


def build_ledger(wh: Warehouse, as_of: date, cutoff: date | None = None) -> int:
    """Write ``mrr_movements`` as of ``as_of``; recompute only months from ``cutoff`` if given.

    Returns the number of rows in the table.
    """
    per_part = months_per_part(wh.count("subscriptions"))
    scratch = None
    if per_part is not None:  # several queries: each account's first start, computed once
        rows = positive_rows(wh.table("subscriptions"))
        scratch = wh.create_scratch("first_starts", first_positive_start(rows))
    try:
        first = wh.table(scratch) if scratch else None
        parts: list[ir.Table] = ledger_parts(
            wh, as_of, since=cutoff, months_per_part=per_part, first_starts=first
        )
        return _write_ledger(wh, as_of, cutoff, parts)
    finally:
        if scratch:
            wh.drop(scratch)


def _write_ledger(wh: Warehouse, as_of: date, cutoff: date | None, parts: list[ir.Table]) -> int:
    if cutoff is not None:
        old = wh.table(MRR_MOVEMENTS.name)
        kept = old.filter(old.month < cutoff).mutate(as_of=ibis.literal(as_of))
        schema = MRR_MOVEMENTS.ibis_schema()
        kept = kept.select(*[kept[c].cast(t).name(c) for c, t in schema.items()])
        parts.insert(0, kept)
    wh.write_parts(MRR_MOVEMENTS.name, parts or [empty_ledger()])
    return wh.count(MRR_MOVEMENTS.name)


def _run(ctx: StageContext) -> StageResult:
    wh = ctx.warehouse
    cutoff = incremental_cutoff(wh, ctx.as_of, ctx.last_as_of, ctx.full)
    how = "full rebuild" if cutoff is None else f"months from {cutoff.isoformat()} recomputed"
    ctx.progress(0.1, f"MRR ledger ({how})")
    rows = build_ledger(wh, ctx.as_of, cutoff)
    ctx.progress(1.0, "MRR ledger")
    return StageResult(rows={MRR_MOVEMENTS.name: rows}, notes=[how])


STAGE = register(
    Stage(
        name=STAGE_NAME,
        order=20,
        inputs=INPUTS,
        outputs=(MRR_MOVEMENTS.name,),
        run=_run,
        description="The MRR movements ledger: each account's movement in each month.",
    )
)
