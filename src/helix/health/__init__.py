"""Customer health: a configurable, versioned, explainable score learned from churn.

    model = default_model()                      # or active_model(store)
    scored = score_frame(signals_frame, model)   # points, groups, score, colour
    report = fit_weights(labelled, model, horizon_days=90)
    result = backtest(labelled, model, horizon_days=90)

The pipeline stages (signals 30, health 35) live in :mod:`helix.health.stage`;
the use cases the CLI and API call are in :mod:`helix.health.service`.
"""

from helix.health.active import MODEL_SETTING, active_model, save_model
from helix.health.backtest import Backtest, backtest
from helix.health.explain import explain
from helix.health.fit import ChurnWeightFitter, FitReport, fit_weights
from helix.health.model import Group, HealthModel, Measure, Response, Scoring, default_model, load_model
from helix.health.scoring import points, score_frame

__all__ = [
    "MODEL_SETTING",
    "Backtest",
    "ChurnWeightFitter",
    "FitReport",
    "Group",
    "HealthModel",
    "Measure",
    "Response",
    "Scoring",
    "active_model",
    "backtest",
    "default_model",
    "explain",
    "fit_weights",
    "load_model",
    "points",
    "save_model",
    "score_frame",
]
