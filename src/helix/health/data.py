"""Loading what the health model needs from the warehouse: signal rows and outcomes."""

from __future__ import annotations

from datetime import date

import pandas as pd

from helix.errors import UserError
from helix.health.outcomes import labelled_dates, outcomes
from helix.signals.dates import observation_dates
from helix.warehouse import Warehouse
from helix.warehouse.schema import ACCOUNT_SIGNALS

__all__ = ["signal_dates", "load_signals", "load_labelled"]


def signal_dates(wh: Warehouse) -> list[date]:
    """The scoring dates present in ``account_signals`` (sorted)."""
    if not wh.has_table(ACCOUNT_SIGNALS.name):
        return []
    t = wh.table(ACCOUNT_SIGNALS.name)
    days = t.select("score_date").distinct().to_pyarrow()["score_date"].to_pylist()
    return sorted(days)


def load_signals(wh: Warehouse, days: list[date]) -> pd.DataFrame:
    """Signal rows of the given dates (score_date as ``datetime.date``)."""
    t = wh.table(ACCOUNT_SIGNALS.name)
    df = t.filter(t.score_date.isin(days)).to_pyarrow().to_pandas()
    return df.sort_values(["score_date", "account_id"], kind="stable").reset_index(drop=True)


def load_labelled(wh: Warehouse, horizon_days: int) -> pd.DataFrame:
    """Signal rows of every date whose horizon has passed, with ``churned`` / ``contracted``.

    The last stored scoring date stands for "today": a date D is labelled when
    D + horizon <= that date. The dates are the observation sample of the daily
    history (:func:`helix.signals.dates.observation_dates`).
    """
    days = signal_dates(wh)
    if not days:
        raise UserError("no health signals yet", hint="run `helix run` first")
    usable = labelled_dates(observation_dates(days), horizon_days, days[-1])
    if len(usable) < 2:
        raise UserError(
            f"not enough history for a {horizon_days}-day horizon "
            f"(signals from {days[0]} to {days[-1]})",
            hint="use a shorter --horizon-days or import more history",
        )
    sig = load_signals(wh, usable)
    out = outcomes(wh.table("subscriptions"), usable, horizon_days).to_pyarrow().to_pandas()
    merged = sig.merge(
        out[["account_id", "score_date", "churned", "contracted"]],
        on=["account_id", "score_date"],
        how="inner",
    )
    return merged.reset_index(drop=True)
