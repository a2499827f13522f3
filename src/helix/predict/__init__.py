"""Prediction: point-in-time training sets, candidate models, calibration, backtests."""

from helix.predict.backtest import backtest
from helix.predict.training import TARGETS, Target, training_frame

__all__ = ["backtest", "training_frame", "TARGETS", "Target", "run_backtest"]


def run_backtest(platform, target: Target = "churn", horizon_days: int = 90) -> dict:  # type: ignore[no-untyped-def]
    """Backtest ``target`` over the warehouse of ``platform`` (see :func:`backtest`)."""
    from helix.health.active import active_model

    frame = training_frame(platform.warehouse, horizon_days)
    return backtest(frame, target, horizon_days, active_model(platform.store))
