"""Point-in-time training sets: features as of each observation date, outcomes after it.

An observation is one active account on one observation date D. Its features
are the daily signals stored for D (``account_signals``, computed only from
data before D), per-event-type usage counts, the account's segment, industry
and region, and its main plan on D; its labels say what its MRR did
between D and D + horizon (:func:`helix.health.outcomes.outcomes`): churned
(fell to zero), contracted (fell, not to zero) or expanded (rose). Only dates
whose whole horizon has passed are labelled. The join runs in the warehouse
through Ibis; only the finished rows come back as a frame.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from helix.errors import UserError
from helix.health.data import signal_dates
from helix.health.outcomes import labelled_dates, outcomes
from helix.metrics.movements import FAR_FUTURE
from helix.signals._join import left_join
from helix.signals.dates import dates_table, observation_dates
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
    "ACCOUNT_CATEGORIES",
    "main_plans",
]

Target = Literal["churn", "expansion", "contraction"]
TARGETS: tuple[Target, ...] = ("churn", "expansion", "contraction")
LABEL = {"churn": "churned", "expansion": "expanded", "contraction": "contracted"}
"""The outcome column of each target."""
ACCOUNT_CATEGORIES = ("segment", "industry", "region")
"""Account attributes of the data contract used as categories."""
CATEGORICAL = (*ACCOUNT_CATEGORIES, "plan")
"""Categories of an observation: the account's attributes and its main plan on the date
(the plan of its largest subscription line in force); absent values are a category too."""


def feature_columns() -> list[str]:
    """The numeric signals used as features, in the signal registry's order."""
    return [
        c.name
        for c in ACCOUNT_SIGNALS.columns
        if c.kind == "double" and c.name not in ("account_id", "score_date")
    ]


def model_features(frame: pd.DataFrame) -> list[str]:
    """The numeric features of a frame from :func:`training_frame` or :func:`scoring_frame`:
    the signals, then the event-type features of the types it was built with."""
    from helix.predict.event_features import event_feature_names

    return [*feature_columns(), *event_feature_names(frame.attrs.get("event_types", []))]


def _with_event_features(
    wh: Warehouse, j: ir.Table, days: list[date], types: list[str] | None
) -> tuple[ir.Table, list[str]]:
    from helix.predict.event_features import event_feature_names, event_features, top_event_types

    types = top_event_types(wh) if types is None else types
    ev = event_features(wh, days, types)
    if ev is None:
        return j, types
    j = left_join(j, ev, ["account_id", "score_date"])
    counts = {
        n: j[n].fill_null(0.0) for n, (_, w) in event_feature_names(types).items() if w is not None
    }
    return j.mutate(**counts), types


def training_frame(
    wh: Warehouse,
    horizon_days: int,
    *,
    last_day: date | None = None,
    event_types: list[str] | None = None,
) -> pd.DataFrame:
    """Every labelled observation: ``account_id, score_date``, the features, the
    categories and the three 0/1 labels, sorted by date then account.

    ``last_day`` is "today" for labelling (default: the last stored signal date).
    ``event_types`` get features of their own (default: the most frequent ones);
    the frame's ``attrs["event_types"]`` says which (see :func:`model_features`).
    """
    days = signal_dates(wh)
    if not days:
        raise UserError("no signals yet", hint="run `helix run` first")
    usable = labelled_dates(observation_dates(days), horizon_days, last_day or days[-1])
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
    j, types = _with_event_features(wh, j, usable, event_types)
    return _finish(wh, j, types, usable, ["score_date", "account_id"])


def main_plans(wh: Warehouse, days: list[date]) -> ir.Table:
    """``account_id, score_date, plan``: the plan of each account's largest subscription line
    in force on each date (ties: the first plan name)."""
    s = wh.table("subscriptions")
    s = s.filter((s.mrr > 0) & s.plan.notnull())
    dates = dates_table(sorted(set(days)))
    live = s.join(
        dates,
        [
            s.start_date <= dates.score_date,
            ibis.coalesce(s.end_date, ibis.date(FAR_FUTURE)) > dates.score_date,
        ],
    )
    line = live.group_by(["account_id", "score_date", "plan"]).aggregate(mrr=live.mrr.sum())
    top = line.group_by(["account_id", "score_date"]).aggregate(top=line.mrr.max())
    best = line.join(top, ["account_id", "score_date"]).filter(lambda t: t.mrr == t.top)
    return best.group_by(["account_id", "score_date"]).aggregate(plan=best.plan.min())


def _finish(
    wh: Warehouse, j: ir.Table, types: list[str], days: list[date], order: list[str]
) -> pd.DataFrame:
    acc = wh.table("accounts").select("account_id", *ACCOUNT_CATEGORIES)
    j = left_join(j, acc, "account_id")
    j = left_join(j, main_plans(wh, days), ["account_id", "score_date"])
    df = j.to_pyarrow().to_pandas()
    for c in CATEGORICAL:
        df[c] = df[c].fillna("(none)").astype(str)
    df = df.sort_values(order, kind="stable").reset_index(drop=True)
    df.attrs["event_types"] = list(types)
    return df


def scoring_frame(wh: Warehouse, day: date, event_types: list[str] | None = None) -> pd.DataFrame:
    """The features of every account with signals on ``day`` (no labels: the future);
    ``event_types`` as in :func:`training_frame` (a model passes the ones it learnt)."""
    sig = wh.table(ACCOUNT_SIGNALS.name)
    sig = sig.filter(sig.score_date == day).select("account_id", "score_date", *feature_columns())
    j, types = _with_event_features(wh, sig, [day], event_types)
    return _finish(wh, j, types, [day], ["account_id"])
