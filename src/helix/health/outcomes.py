"""Outcomes for learning and backtesting: did an account churn or contract within N days?

Churn: MRR above zero on the scoring date D and zero on D + horizon.
Contraction: MRR on D + horizon above zero but below MRR on D. Expansion: MRR
on D + horizon above MRR on D. Both come from
the subscriptions table as Ibis expressions; only dates whose horizon has
fully passed (D + horizon <= the last day of data) are labelled.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.signals import dates_table, mrr_on
from helix.signals._join import flag, left_join

__all__ = ["outcomes", "labelled_dates"]


def labelled_dates(days: list[date], horizon_days: int, last_day: date) -> list[date]:
    """The ``days`` whose whole horizon is in the past as of ``last_day``."""
    return sorted(d for d in set(days) if d + timedelta(days=horizon_days) <= last_day)


def _01(condition: ir.BooleanValue) -> ir.IntegerValue:
    return flag(condition).cast(dt.int64)


def outcomes(subscriptions: ir.Table, days: list[date], horizon_days: int) -> ir.Table:
    """Per (account_id, score_date) active on the date: ``churned``, ``contracted`` and
    ``expanded`` (0/1)."""
    dates = dates_table(sorted(set(days)), horizon_days)
    now = mrr_on(subscriptions, dates, "score_date")
    now = now.filter(now.mrr > 0)
    later = mrr_on(subscriptions, dates, "_horizon").rename(mrr_later="mrr")
    j = left_join(now, later, ["account_id", "score_date"])
    m = j.mrr_later.fill_null(0)
    return j.select(
        "account_id",
        "score_date",
        # (0/1 through flag(): PostgreSQL casts no boolean to bigint)
        churned=_01(m <= 0),
        contracted=_01((m > 0) & (m < j.mrr)),
        expanded=_01(m > j.mrr),
        mrr=j.mrr,
        mrr_later=m.cast(dt.float64),
        horizon_days=ibis.literal(horizon_days, dt.int64),
    )
