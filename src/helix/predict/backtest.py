"""`helix predict backtest`: train on earlier observation dates, test on later ones.

Rolling origin: for each of the last few labelled observation dates T (the test
dates), the candidates are compared, chosen, fitted and calibrated using only
observations whose horizon ended on or before T (so no outcome the test will
judge was seen in training, and no account-date appears on both sides), then
predict the accounts active on T. Figures are computed over all test rows
together, for the chosen model, for the logistic baseline, and for the health
score alone (the active health model's score of the same rows).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from helix.errors import UserError
from helix.health.model import HealthModel
from helix.health.scoring import score_frame
from helix.predict.metrics import reliability, scores
from helix.predict.models import (
    CANDIDATES,
    both_outcomes,
    select_and_fit,
    trained_before,
    validation_origins,
)
from helix.predict.training import LABEL, Target, model_features

__all__ = ["backtest", "TEST_DATES"]

TEST_DATES = 3
"""How many of the latest labelled observation dates are test dates."""


def _test_dates(days: list[Any], horizon_days: int, n: int) -> list[Any]:
    """The latest ``n`` dates whose earlier, fully-labelled dates leave room for
    validation inside the training period."""
    out = []
    for t in sorted(days, reverse=True):
        train_days = [d for d in days if d + timedelta(days=horizon_days) <= t]
        if len(validation_origins(train_days, horizon_days)) >= 1:
            out.append(t)
        if len(out) == n:
            break
    return sorted(out)


def backtest(
    frame: pd.DataFrame,
    target: Target,
    horizon_days: int,
    health_model: HealthModel,
    *,
    test_dates: int = TEST_DATES,
) -> dict[str, Any]:
    """The backtest document (see the module docstring) of ``frame``
    (:func:`helix.predict.training.training_frame`)."""
    label = LABEL[target]
    numeric = model_features(frame)
    days = sorted(set(frame["score_date"]))
    tests = _test_dates(days, horizon_days, test_dates)
    if not tests:
        raise UserError(
            f"not enough history to backtest a {horizon_days}-day horizon "
            f"({len(days)} labelled observation dates)",
            hint="use a shorter --horizon-days or import more history",
        )
    parts: list[pd.DataFrame] = []
    origins: list[dict[str, Any]] = []
    n_train = 0
    for t in tests:
        train = trained_before(frame, t, horizon_days)
        test = frame[frame["score_date"] == t]
        if not both_outcomes(train[label].to_numpy()):
            continue
        fitted = select_and_fit(train, label, numeric, horizon_days)
        n_train = len(train)
        part = test[["account_id", "score_date", label]].copy()
        part["p"] = fitted.predict(test)
        part["p_raw"] = fitted.predict_candidate(test, fitted.name)
        for name in CANDIDATES:
            part[f"p_{name}"] = fitted.predict_candidate(test, name)
        health = score_frame(test, health_model)["score"].to_numpy(dtype=float)
        # a low score means risk of churn or contraction; a high one, room to expand
        part["health_risk"] = health if target == "expansion" else -health
        parts.append(part)
        origins.append(
            {
                "test_date": t.isoformat(),
                "train_until": max(train["score_date"]).isoformat(),
                "n_train": len(train),
                "n_test": len(test),
                "active": fitted.name,
                "calibration": fitted.calibration,
                "candidates": {
                    n: {"validation_auc": _r(r["validation_auc"])}
                    for n, r in fitted.validation.items()
                },
            }
        )
    if not parts:
        raise UserError(
            f"no training window holds both outcomes of {target}", hint="import more history"
        )
    res = pd.concat(parts, ignore_index=True)
    y = res[label].to_numpy(dtype=float)
    d = res["score_date"].to_numpy()
    main = scores(y, res["p"].to_numpy(), d)
    base = scores(y, res["p_logistic"].to_numpy(), d)
    candidates = {n: scores(y, res[f"p_{n}"].to_numpy(), d) for n in CANDIDATES}
    raw = scores(y, res["p_raw"].to_numpy(), d)
    ok = ~np.isnan(res["health_risk"].to_numpy())
    health = scores(y[ok], _rank01(res["health_risk"].to_numpy()[ok]), d[ok]) if ok.any() else {}
    return {
        "target": target,
        "horizon_days": horizon_days,
        **{k: _r(v) for k, v in main.items()},
        "baseline_auc": _r(base["auc"]),
        "health_score_auc": _r(health.get("auc")),
        "n_train": n_train,
        "n_test": int(len(res)),
        "base_rate": _r(float(y.mean())),
        "test_dates": [t.isoformat() for t in tests],
        "reliability": reliability(y, res["p"].to_numpy()),
        "uncalibrated": {k: _r(raw[k]) for k in ("brier", "ece")},
        "baseline": {k: _r(v) for k, v in base.items()},
        "health_score": {k: _r(health.get(k)) for k in ("auc", "pr_auc", "top_decile_lift")},
        # every candidate, refitted at each origin, on the same test rows (uncalibrated)
        "candidates": {n: {k: _r(v) for k, v in c.items()} for n, c in candidates.items()},
        "origins": origins,
    }


def _rank01(x: np.ndarray) -> np.ndarray:
    """Values ranked into (0, 1]: the health score as an ordering, not a probability."""
    return pd.Series(x).rank(pct=True).to_numpy()


def _r(x: Any, digits: int = 4) -> Any:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), digits)
