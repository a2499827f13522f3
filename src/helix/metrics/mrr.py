"""MRR at a date and the MRR movements ledger (one row per account and month).

The ledger is :func:`helix.metrics.movements.period_movements` over calendar
months (computed by :func:`~helix.metrics.movements.monthly_movements`, which
gives the same rows faster): for month M the window is ``[first day of M, first day of M+1)``, cut
at ``as_of`` for the month holding it. Because MRR is measured at the two
instants, a change effective on the 1st of a month is a movement of the
*previous* month (it is already in force at that month's closing instant),
and the ledger rolls forward exactly: each month's ``end_mrr`` is the next
month's ``start_mrr``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from helix.metrics.movements import (
    Sources,
    monthly_movements,
    period_movements,
    positive_rows,
    to_cents,
)
from helix.metrics.periods import Period, cents, check_window, month_periods
from helix.warehouse import Warehouse
from helix.warehouse.schema import MRR_MOVEMENTS

__all__ = [
    "first_activity",
    "mrr_at",
    "total_mrr",
    "ledger",
    "empty_ledger",
    "rollforward",
    "account_ledger",
    "window_ledger",
    "LEDGER_AMOUNTS",
]

LEDGER_AMOUNTS = (
    "start_mrr",
    "new_mrr",
    "reactivation_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "end_mrr",
)


def first_activity(src: Sources) -> date | None:
    """The first day any (selected) account had positive MRR, or None without data."""
    rows = positive_rows(src.subscriptions)
    value = rows.start_date.min().to_pyarrow().as_py()
    return value


def mrr_at(src: Sources, day: date) -> ir.Table:
    """``(account_id, mrr)``: every account's MRR at ``day`` (exact), for accounts with MRR > 0."""
    rows = positive_rows(src.subscriptions)
    live = rows.filter((rows.start_date <= day) & (rows.end_date > day))
    return live.group_by("account_id").aggregate(mrr=live.mrr.sum())


def total_mrr(src: Sources, day: date) -> tuple[int, Decimal]:
    """Active accounts and total MRR at ``day`` (sum of per-account MRR rounded to the cent)."""
    m = mrr_at(src, day)
    row = m.aggregate(accounts=m.count(), mrr=to_cents(m.mrr).sum()).to_pyarrow().to_pylist()[0]
    return int(row["accounts"] or 0), cents(row["mrr"])


def empty_ledger() -> ir.Table:
    """A ledger with no rows (the schema of ``mrr_movements``)."""
    return ibis.memtable(MRR_MOVEMENTS.ibis_schema().to_pyarrow().empty_table())


def ledger(
    wh: Warehouse,
    as_of: date,
    *,
    since: date | None = None,
    account_id: str | None = None,
    segment: str | None = None,
) -> ir.Table:
    """The monthly MRR movements ledger up to ``as_of``, shaped like the ``mrr_movements`` table.

    Months run from the month whose window first sees positive MRR (the month
    holding the day before the first start: a start on the 1st is in force at
    the previous month's end) or the month of ``since``, if later, to the month
    holding the day before ``as_of``. The first month therefore opens at zero.
    """
    parts = ledger_parts(
        wh, as_of, since=since, account_id=account_id, segment=segment, months_per_part=None
    )
    return parts[0] if parts else empty_ledger()


def ledger_parts(
    wh: Warehouse,
    as_of: date,
    *,
    since: date | None = None,
    account_id: str | None = None,
    segment: str | None = None,
    months_per_part: int | None = 12,
    first_starts: ir.Table | None = None,
) -> list[ir.Table]:
    """The rows of :func:`ledger` as consecutive runs of ``months_per_part`` months.

    Each month's rows depend only on the inputs, not on the other months, so
    the parts can be computed and written one after another: the work (and the
    memory it needs) grows with accounts x months_per_part, not with the whole
    history. ``None`` gives one part with every month; no months give no parts.
    ``first_starts``: see :func:`~helix.metrics.movements.period_movements`.
    """
    src = Sources.of(wh, segment=segment, account_id=account_id)
    first = first_activity(src)
    if first is None:
        return []
    # a start on the 1st is already in force at the previous month's closing instant
    first = first - timedelta(days=1)
    if since is not None and since > first:
        first = since
    periods = month_periods(first, as_of)
    size = months_per_part or max(len(periods), 1)
    return [
        _ledger_rows(src, periods[i : i + size], as_of, first_starts)
        for i in range(0, len(periods), size)
    ]


def _ledger_rows(
    src: Sources, periods: Sequence[Period], as_of: date, first_starts: ir.Table | None
) -> ir.Table:
    m = monthly_movements(src, periods, first_starts=first_starts)
    schema = MRR_MOVEMENTS.ibis_schema()
    out = m.select(
        account_id=m.account_id,
        month=m.period_start,
        period_start=m.period_start,
        period_end=m.period_end,
        complete=ibis.ifelse(m.period_end.month() != m.period_start.month(), 1, 0),
        active_start=m.active_start,
        active_end=m.active_end,
        start_mrr=m.start_mrr,
        end_mrr=m.end_mrr,
        new_mrr=m.new_mrr,
        reactivation_mrr=m.reactivation_mrr,
        expansion_mrr=m.expansion_mrr,
        contraction_mrr=m.contraction_mrr,
        churned_mrr=m.churned_mrr,
        movement=m.movement,
        movement_type=m.movement_type,
        churn_date=m.churn_date,
        as_of=ibis.literal(as_of),
    )
    return out.select(*[out[name].cast(dtype).name(name) for name, dtype in schema.items()])


def rollforward(led: ir.Table) -> ir.Table:
    """Monthly totals of a ledger: start, the five movements, end, and account counts."""
    return (
        led.group_by("month")
        .aggregate(
            accounts_start=led.active_start.sum(),
            accounts_end=led.active_end.sum(),
            **{name: led[name].sum() for name in LEDGER_AMOUNTS},
        )
        .order_by("month")
    )


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in LEDGER_AMOUNTS:
        if name in out:
            out[name] = cents(out[name])
    return out


def account_ledger(wh: Warehouse, account_id: str, as_of: date) -> list[dict[str, Any]]:
    """The ledger rows of one account, oldest month first (computed from the subscriptions)."""
    led = ledger(wh, as_of, account_id=account_id).order_by("month")
    cols = ["month", "period_end", *LEDGER_AMOUNTS, "movement", "movement_type", "churn_date"]
    return [_jsonable(r) for r in led.select(*cols).to_pyarrow().to_pylist()]


def window_ledger(
    wh: Warehouse, start: date, end: date, *, account_id: str | None = None
) -> list[dict[str, Any]]:
    """Each account's movement over one arbitrary window ``[start, end)`` (accounts sorted)."""
    check_window(start, end)
    src = Sources.of(wh, account_id=account_id)
    m = period_movements(src, [Period(start, end)])
    cols = ["account_id", *LEDGER_AMOUNTS, "movement", "movement_type", "churn_date"]
    rows = m.select(*cols).order_by("account_id").to_pyarrow().to_pylist()
    return [_jsonable(r) for r in rows]
