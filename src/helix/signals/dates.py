"""Scoring dates: which days get a row of signals, and the table of their windows.

Cadence (documented in docs/health.md): the first day of every month over the
whole history, every 7 days back from the as-of date over the latest 91 days,
and the as-of date itself. Later runs add every day since the last stored date
(:func:`catch_up_dates`), so the history is daily from the first run on. A
24-month backfill is about 37 dates (the 10k-account benchmark company stored 35
dates, 232k rows).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

__all__ = ["scoring_dates", "catch_up_dates", "dates_table", "WINDOWS", "DAILY_CATCH_UP_DAYS"]

WINDOWS = (7, 30, 60, 90, 120, 180, 365)
"""Look-back windows in days; ``dates_table`` has a column ``_d<n>`` = date - n days."""


def scoring_dates(start: date, as_of: date, *, recent_days: int = 91, step_days: int = 7) -> list[date]:
    """The backfill dates from ``start`` to ``as_of`` (inclusive), sorted and distinct."""
    if start > as_of:
        return [as_of]
    days: set[date] = {as_of}
    month = date(start.year, start.month, 1)
    if month < start:
        month = _next_month(month)
    while month <= as_of:
        days.add(month)
        month = _next_month(month)
    d = as_of
    while d >= max(start, as_of - timedelta(days=recent_days)):
        days.add(d)
        d -= timedelta(days=step_days)
    return sorted(days)


DAILY_CATCH_UP_DAYS = 92
"""An incremental run adds every day since the last stored date when the gap is at most this."""


def catch_up_dates(start: date, as_of: date) -> list[date]:
    """The dates an incremental run adds after a stored history that ends the day before ``start``.

    Every day up to ``as_of`` when the gap is short (a daily or weekly schedule
    that missed some days), otherwise the backfill cadence of :func:`scoring_dates`.
    """
    if start > as_of:
        return [as_of]
    if (as_of - start).days < DAILY_CATCH_UP_DAYS:
        return [start + timedelta(days=i) for i in range((as_of - start).days + 1)]
    return scoring_dates(start, as_of)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def dates_table(days: list[date], horizon_days: int | None = None) -> ir.Table:
    """An Ibis memtable of scoring dates with their window starts (and horizon end).

    Window bounds are precomputed here so that expressions compare plain dates
    on every backend (no backend-specific date arithmetic).
    """
    cols: dict[str, pa.Array] = {"score_date": pa.array(days, pa.date32())}
    for n in WINDOWS:
        cols[f"_d{n}"] = pa.array([d - timedelta(days=n) for d in days], pa.date32())
    if horizon_days is not None:
        cols["_horizon"] = pa.array([d + timedelta(days=horizon_days) for d in days], pa.date32())
    return ibis.memtable(pa.table(cols))
