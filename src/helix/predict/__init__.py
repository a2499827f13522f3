"""Prediction: point-in-time training sets, candidate models, calibration, backtests,
a model registry and daily predictions (see ``docs/predict.md``)."""

from helix.predict.backtest import backtest
from helix.predict.training import TARGETS, Target, training_frame

__all__ = ["backtest", "training_frame", "TARGETS", "Target"]
