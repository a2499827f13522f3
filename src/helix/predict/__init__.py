"""Prediction: point-in-time training sets, candidate models, calibration, backtests."""

from helix.predict.backtest import backtest
from helix.predict.training import TARGETS, Target, training_frame

__all__ = [
    "backtest",
    "training_frame",
    "TARGETS",
    "Target",
    "run_backtest",
    "run_train",
    "account_predictions",
    "run_drift",
]


def run_backtest(platform, target: Target = "churn", horizon_days: int = 90) -> dict:  # type: ignore[no-untyped-def]
    """Backtest ``target`` over the warehouse of ``platform`` (see :func:`backtest`)."""
    from helix.health.active import active_model

    frame = training_frame(platform.warehouse, horizon_days)
    return backtest(frame, target, horizon_days, active_model(platform.store))


def run_train(
    platform, target: Target = "churn", horizon_days: int = 90, *, with_backtest: bool = True
) -> dict:  # type: ignore[no-untyped-def]
    """Train, backtest and register a new model version; returns its metadata."""
    from helix.health.active import active_model
    from helix.predict.registry import train_model

    info = train_model(
        platform.warehouse,
        platform.settings.home,
        target,
        horizon_days,
        active_model(platform.store),
        with_backtest=with_backtest,
    )
    return info.to_dict()


def account_predictions(  # type: ignore[no-untyped-def]
    wh,
    *,
    target: str | None = None,
    limit: int = 50,
    account_id: str | None = None,
    owner: str | None = None,
) -> list[dict]:
    """The latest predictions, riskiest first (one account's history with ``account_id``;
    only the accounts ``owner`` owns, when given)."""
    import json

    from helix.warehouse.schema import PREDICTIONS

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


def run_drift(platform) -> dict:  # type: ignore[no-untyped-def]
    """Drift of the latest scored rows from each active model's training data."""
    from helix.errors import UserError
    from helix.health.data import signal_dates
    from helix.predict.registry import drift

    days = signal_dates(platform.warehouse)
    if not days:
        raise UserError("no signals yet", hint="run `helix run` first")
    models = drift(platform.settings.home, platform.warehouse, days[-1])
    return {"score_date": days[-1].isoformat(), "models": models}
