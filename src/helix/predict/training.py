"""Point-in-time training sets: features as of each observation date, outcomes after it.

An observation is one active account on one observation date D. Its features
are the daily signals stored for D (``account_signals``, computed only from
data before D) plus the account's segment; its labels say what its MRR did
between D and D + horizon (:func:`helix.health.outcomes.outcomes`): churned
(fell to zero), contracted (fell, not to zero) or expanded (rose). Only dates
whose whole horizon has passed are labelled. The join runs in the warehouse
through Ibis; only the finished rows come back as a frame.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd

from helix.errors import UserError
from helix.health.data import signal_dates
from helix.health.outcomes import labelled_dates, outcomes
from helix.signals._join import left_join
from helix.warehouse import Warehouse
from helix.warehouse.schema import ACCOUNT_SIGNALS

__all__ = [
    "Target",
    "TARGETS",
    "LABEL",
    "feature_columns",
    "training_frame",
    "scoring_frame",
    "CATEGORICAL",
]

Target = Literal["churn", "expansion", "contraction"]
TARGETS: tuple[Target, ...] = ("churn", "expansion", "contraction")
LABEL = {"churn": "churned", "expansion": "expanded", "contraction": "contracted"}
"""The outcome column of each target."""
CATEGORICAL = ("segment",)
"""Account attributes used as categories (absent values become their own category)."""


def feature_columns() -> list[str]:
    """The numeric signals used as features, in the signal registry's order."""
    return [
        c.name
        for c in ACCOUNT_SIGNALS.columns
        if c.kind == "double" and c.name not in ("account_id", "score_date")
    ]


def training_frame(
    wh: Warehouse, horizon_days: int, *, last_day: date | None = None
) -> pd.DataFrame:
    """Every labelled observation: ``account_id, score_date``, the features, the
    categories and the three 0/1 labels, sorted by date then account.

    ``last_day`` is "today" for labelling (default: the last stored signal date).
    """
    days = signal_dates(wh)
    if not days:
        raise UserError("no signals yet", hint="run `helix run` first")
    usable = labelled_dates(days, horizon_days, last_day or days[-1])
    if len(usable) < 3:
        raise UserError(
            f"not enough history for a {horizon_days}-day horizon: {len(usable)} labelled "
            f"observation date(s) between {days[0]} and {days[-1]}",
            hint="use a shorter --horizon-days or import more history",
        )
    sig = wh.table(ACCOUNT_SIGNALS.name)
    sig = sig.filter(sig.score_date.isin(usable)).select(
        "account_id", "score_date", *feature_columns()
    )
    out = outcomes(wh.table("subscriptions"), usable, horizon_days).select(
        "account_id", "score_date", *LABEL.values()
    )
    j = sig.join(out, ["account_id", "score_date"])
    acc = wh.table("accounts").select("account_id", *CATEGORICAL)
    j = left_join(j, acc, "account_id")
    df = j.to_pyarrow().to_pandas()
    for c in CATEGORICAL:
        df[c] = df[c].fillna("(none)").astype(str)
    return df.sort_values(["score_date", "account_id"], kind="stable").reset_index(drop=True)


def scoring_frame(wh: Warehouse, day: date) -> pd.DataFrame:
    """The features of every account with signals on ``day`` (no labels: the future)."""
    sig = wh.table(ACCOUNT_SIGNALS.name)
    sig = sig.filter(sig.score_date == day).select("account_id", "score_date", *feature_columns())
    acc = wh.table("accounts").select("account_id", *CATEGORICAL)
    df = left_join(sig, acc, "account_id").to_pyarrow().to_pandas()
    for c in CATEGORICAL:
        df[c] = df[c].fillna("(none)").astype(str)
    return df.sort_values("account_id", kind="stable").reset_index(drop=True)
