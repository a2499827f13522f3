"""Scoring dates: which days get a row of signals, and the table of their windows.

The history is daily: the first run stores every day from the start of the
history to the as-of date, later runs every day since the last stored one
(documented in docs/health.md). The usage look-backs are range windows over
day numbers, so a daily history costs little more than a sparse one.

Models and backtests learn from a sample of those days
(:func:`observation_dates`): the first day of every month, and every 7 days back
from the last day over its latest 91 days. Consecutive days of one account are
nearly the same observation, and this keeps the training sets the size they
had when only those days were stored.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

__all__ = ["scoring_dates", "catch_up_dates", "observation_dates", "batches", "dates_table", "WINDOWS"]

WINDOWS = (7, 30, 60, 90, 120, 180, 365)
"""Look-back windows in days; ``dates_table`` has a column ``_d<n>`` = date - n days."""


def scoring_dates(start: date, as_of: date) -> list[date]:
    """Every day from ``start`` to ``as_of`` (inclusive); just ``as_of`` when start is later."""
    if start > as_of:
        return [as_of]
    return [start + timedelta(days=i) for i in range((as_of - start).days + 1)]


def catch_up_dates(start: date, as_of: date) -> list[date]:
    """The dates an incremental run adds after a history that ends the day before ``start``."""
    return scoring_dates(start, as_of)


def observation_dates(days: list[date], *, recent_days: int = 91, step_days: int = 7) -> list[date]:
    """The sample of stored ``days`` that models and backtests observe (sorted).

    Month starts over the whole history, and every ``step_days`` back from the
    last day over its latest ``recent_days``.
    """
    if not days:
        return []
    stored = sorted(set(days))
    last = stored[-1]
    recent = {last - timedelta(days=i) for i in range(0, recent_days + 1, step_days)}
    return [d for d in stored if d.day == 1 or d in recent]


def batches(days: list[date], accounts: int, *, rows: int = 2_000_000) -> list[list[date]]:
    """``days`` (sorted) in consecutive runs of about ``rows`` account-days each.

    Bounds the memory of one signals or scoring query however long the history.
    """
    size = max(1, rows // max(1, accounts))
    ordered = sorted(set(days))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


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
