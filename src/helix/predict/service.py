"""What the CLI and the API call: backtest, train, list predictions, check drift."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from helix.errors import UserError
from helix.health.active import active_model
from helix.health.data import signal_dates
from helix.platform import Platform
from helix.predict.backtest import backtest
from helix.predict.forecast import (
    ForecastRules,
    accuracy,
    bucketed,
    calibrated_rates,
    past_outcomes,
    summarise,
    with_rates,
)
from helix.predict.forecast_stage import stored_snapshots
from helix.predict.overrides import add_override, list_overrides
from helix.predict.registry import drift, train_model
from helix.predict.survival import backtest_survival, survival_frame
from helix.predict.survival_registry import train_survival
from helix.predict.training import Target, training_frame
from helix.warehouse import Warehouse
from helix.warehouse.schema import CHURN_TIMING, PREDICTIONS

__all__ = [
    "run_backtest",
    "run_train",
    "account_predictions",
    "run_drift",
    "data_as_of",
    "forecast_renewals",
    "forecast_accuracy",
    "record_override",
    "run_survival_backtest",
    "run_survival_train",
    "churn_timing",
]


def run_backtest(
    platform: Platform, target: Target = "churn", horizon_days: int = 90
) -> dict[str, Any]:
    """Backtest ``target`` over the warehouse of ``platform`` (see :func:`backtest`)."""
    frame = training_frame(platform.warehouse, horizon_days)
    return backtest(frame, target, horizon_days, active_model(platform.store))


def run_train(
    platform: Platform,
    target: Target = "churn",
    horizon_days: int = 90,
    *,
    with_backtest: bool = True,
) -> dict[str, Any]:
    """Train, backtest and register a new model version; returns its metadata."""
    info = train_model(
        platform.warehouse,
        platform.settings.home,
        target,
        horizon_days,
        active_model(platform.store),
        with_backtest=with_backtest,
    )
    return info.to_dict()


def in_book(wh: Warehouse, t: ir.Table, owner: str | None) -> ir.Table:
    """The rows of ``t`` (with ``account_id``) of accounts ``owner`` owns; all when None."""
    if owner is None:
        return t
    acc = wh.table("account_summary")
    mine = acc.filter(acc.owner_email.lower() == owner.lower()).select("account_id")
    return t.semi_join(mine, "account_id")


def account_predictions(
    wh: Warehouse,
    *,
    target: str | None = None,
    limit: int = 50,
    account_id: str | None = None,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """The latest predictions, riskiest first (one account's history with ``account_id``;
    only the accounts ``owner`` owns, when given)."""
    t = in_book(wh, wh.table(PREDICTIONS.name), owner)
    if target is not None:
        t = t.filter(t.target == target)
    if account_id is not None:
        t = t.filter(t.account_id == account_id).order_by([t.score_date.desc(), t.target])
    else:
        latest = t.score_date.max().to_pyarrow().as_py()
        if latest is None:
            return []
        t = t.filter(t.score_date == latest).order_by([t.probability.desc(), t.account_id])
    rows = t.limit(limit).to_pyarrow().to_pylist()
    for r in rows:
        r["drivers"] = json.loads(r["drivers"] or "[]")
        r["score_date"] = r["score_date"].isoformat()
        r["computed_at"] = r["computed_at"].isoformat() if r["computed_at"] else None
    return rows


def run_drift(platform: Platform) -> dict[str, Any]:
    """Drift of the latest scored rows from each active model's training data."""
    days = signal_dates(platform.warehouse)
    if not days:
        raise UserError("no signals yet", hint="run `helix run` first")
    models = drift(platform.settings.home, platform.warehouse, days[-1])
    return {"score_date": days[-1].isoformat(), "models": models}


# -- renewal forecast ------------------------------------------------------------------------


def data_as_of(wh: Warehouse) -> date:
    """The as-of date of the last `helix run` (``account_summary``), else today (UTC)."""
    if wh.has_table("account_summary"):
        value = wh.table("account_summary").as_of.max().to_pyarrow().as_py()
        if value is not None:
            return value
    return datetime.now(UTC).date()


def _rules(lead_days: int | None = None) -> ForecastRules:
    return ForecastRules() if lead_days is None else ForecastRules(lead_days=lead_days)


def _judged(platform: Platform, as_of: date, rules: ForecastRules) -> pd.DataFrame:
    return past_outcomes(platform.warehouse, stored_snapshots(platform.warehouse), as_of, rules)


def _names(wh: Warehouse, frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty or not wh.has_table("account_summary"):
        return frame.assign(name=None, owner_email=None, segment=None)
    acc = wh.table("account_summary").select("account_id", "name", "owner_email", "segment")
    return frame.merge(acc.to_pandas(), on="account_id", how="left")


def forecast_renewals(
    platform: Platform,
    start: date,
    end: date,
    *,
    as_of: date | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Every renewal in ``[start, end]`` as of ``as_of``, with buckets, probabilities and totals."""
    if end < start:
        raise UserError("the forecast period is empty", hint="give --from on or before --to")
    wh = platform.warehouse
    day = as_of or data_as_of(wh)
    rules = _rules()
    with platform.store.session() as session:
        overrides = list_overrides(session)
    frame = bucketed(wh, [day], rules=rules, overrides=overrides, live=day, start=start, end=end)
    rates = calibrated_rates(_judged(platform, day, rules), rules)
    frame = _names(wh, with_rates(frame, rates))
    if owner is not None:
        frame = frame[frame["owner_email"].fillna("").str.lower() == owner.lower()]
    cols = [
        "account_id",
        "name",
        "owner_email",
        "segment",
        "renewal_date",
        "source",
        "arr",
        "health_score",
        "color",
        "model_probability",
        "bucket",
        "probability",
        "expected_arr",
        "override_reason",
        "override_by",
    ]
    rows = frame.sort_values(["renewal_date", "account_id"])[cols]
    rows = rows.astype(object).where(pd.notna(rows), None)
    return {
        "as_of": day.isoformat(),
        "from": start.isoformat(),
        "to": end.isoformat(),
        **summarise(frame),
        "calibration": rates,
        "rules": rules.to_dict(),
        "items": [
            {**r, "renewal_date": r["renewal_date"].isoformat()} for r in rows.to_dict("records")
        ],
    }


def forecast_accuracy(
    platform: Platform,
    *,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
    lead_days: int | None = None,
) -> dict[str, Any]:
    """Stored forecasts against what renewed: per bucket, per quarter and overall."""
    wh = platform.warehouse
    day = as_of or data_as_of(wh)
    rules = _rules(lead_days)
    judged = _judged(platform, day, rules)
    if start is not None:
        judged = judged[judged["renewal_date"] >= start]
    if end is not None:
        judged = judged[judged["renewal_date"] <= end]
    return {
        "as_of": day.isoformat(),
        "lead_days": rules.lead_days,
        "grace_days": rules.grace_days,
        "snapshots": int(stored_snapshots(wh)["forecast_date"].nunique()),
        **accuracy(judged),
        "recalibrated": calibrated_rates(judged, rules),
    }


def record_override(
    platform: Platform,
    account_id: str,
    renewal_date: date,
    bucket: str,
    reason: str,
    actor: str,
) -> dict[str, Any]:
    """Store a person's bucket for one renewal (see :mod:`helix.predict.overrides`)."""
    with platform.store.session() as session:
        return add_override(
            session,
            account_id=account_id,
            renewal_date=renewal_date,
            bucket=bucket,
            reason=reason,
            actor=actor,
        )


# -- time to churn -------------------------------------------------------------------------


def run_survival_backtest(platform: Platform) -> dict[str, Any]:
    """The time-split backtest of the survival model (see :func:`backtest_survival`)."""
    frame = survival_frame(platform.warehouse)
    return backtest_survival(frame, active_model(platform.store))


def run_survival_train(platform: Platform, *, with_backtest: bool = True) -> dict[str, Any]:
    """Train and store a new survival model version; returns its metadata."""
    return train_survival(
        platform.warehouse,
        platform.settings.home,
        active_model(platform.store),
        with_backtest=with_backtest,
    )


def churn_timing(
    wh: Warehouse,
    *,
    limit: int = 50,
    account_id: str | None = None,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """The latest time-to-churn estimates, soonest first (one account's history with
    ``account_id``; only ``owner``'s accounts when given)."""
    if not wh.has_table(CHURN_TIMING.name):
        return []
    t = in_book(wh, wh.table(CHURN_TIMING.name), owner)
    if account_id is not None:
        t = t.filter(t.account_id == account_id).order_by(t.score_date.desc())
    else:
        latest = t.score_date.max().to_pyarrow().as_py()
        if latest is None:
            return []
        t = t.filter(t.score_date == latest).order_by([t.p_churn_180.desc(), t.account_id])
    rows = t.limit(limit).to_pyarrow().to_pylist()
    for r in rows:
        m = r["months_to_churn"]
        r["summary"] = (
            f"likely to churn within ~{m} month{'s' if m != 1 else ''}"
            if m is not None
            else "not expected to churn within 12 months"
        )
        r["score_date"] = r["score_date"].isoformat()
        r["computed_at"] = r["computed_at"].isoformat() if r["computed_at"] else None
    return rows
