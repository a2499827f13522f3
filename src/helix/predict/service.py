"""What the CLI and the API call: backtest, train, list predictions, check drift."""

from __future__ import annotations

import json
from typing import Any

from helix.errors import UserError
from helix.health.active import active_model
from helix.health.data import signal_dates
from helix.platform import Platform
from helix.predict.backtest import backtest
from helix.predict.registry import drift, train_model
from helix.predict.training import Target, training_frame
from helix.warehouse import Warehouse
from helix.warehouse.schema import PREDICTIONS

__all__ = ["run_backtest", "run_train", "account_predictions", "run_drift"]


def run_backtest(platform: Platform, target: Target = "churn", horizon_days: int = 90) -> dict[str, Any]:
    """Backtest ``target`` over the warehouse of ``platform`` (see :func:`backtest`)."""
    frame = training_frame(platform.warehouse, horizon_days)
    return backtest(frame, target, horizon_days, active_model(platform.store))


def run_train(
    platform: Platform, target: Target = "churn", horizon_days: int = 90, *, with_backtest: bool = True
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
    t = wh.table(PREDICTIONS.name)
    if owner is not None:
        acc = wh.table("account_summary")
        mine = acc.filter(acc.owner_email.lower() == owner.lower()).select("account_id")
        t = t.semi_join(mine, "account_id")
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
