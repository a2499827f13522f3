"""The candidate models, their time-split comparison, and probability calibration.

Two candidates per target:

* ``lightgbm``: gradient-boosted trees on the raw features (missing values and
  the segment category handled by LightGBM itself);
* ``logistic``: an L2-regularised logistic regression on signed-log-scaled,
  standardised features (missing values imputed with the training median) and
  one-hot categories: the simple, transparent baseline.

:func:`select_and_fit` compares them by rolling time-split validation inside
the training dates (train on dates whose horizon ends before a validation
date, validate on that date; several origins), keeps the one with the better
mean validation AUC, refits it on all training dates, and calibrates its
probabilities on the out-of-time validation predictions with isotonic or
sigmoid (Platt) scaling, whichever gives the lower Brier score on the later
half of those predictions.
"""

from __future__ import annotations

import os

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from helix.predict.training import CATEGORICAL

__all__ = ["CANDIDATES", "FittedModel", "make_candidate", "select_and_fit", "validation_origins"]

CANDIDATES = ("lightgbm", "logistic")
Calibration = Literal["isotonic", "sigmoid"]
PROBABILITY_FLOOR = 0.005
VALIDATION_ORIGINS = 3
"""How many later training dates serve, one at a time, as validation dates."""


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def model_threads() -> int:
    """Threads LightGBM may use: ``HELIX_MODEL_THREADS`` if set, else every CPU (at most 8).

    Test runs with several workers set it to 1: OpenMP threads that outnumber the
    cores spin against each other and make each fit many times slower.
    """
    value = os.environ.get("HELIX_MODEL_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(8, os.cpu_count() or 1))


def make_candidate(name: str, numeric: list[str], seed: int = 0) -> Any:
    """An unfitted scikit-learn-compatible classifier for candidate ``name``."""
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=300,
            learning_rate=0.03,
            num_leaves=15,
            min_child_samples=40,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            random_state=seed,
            n_jobs=model_threads(),
            verbose=-1,
        )
    if name == "logistic":
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

        num = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            FunctionTransformer(_signed_log, feature_names_out="one-to-one"),
            StandardScaler(),
        )
        cat = OneHotEncoder(handle_unknown="ignore")
        prep = ColumnTransformer([("num", num, numeric), ("cat", cat, list(CATEGORICAL))])
        return Pipeline([("prep", prep), ("model", LogisticRegression(C=0.5, max_iter=3000))])
    raise ValueError(f"unknown candidate {name!r}")


def _design(frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    x = frame[[*numeric, *CATEGORICAL]].copy()
    for c in CATEGORICAL:
        x[c] = x[c].astype("category")
    return x


def model_input(
    name: str, frame: pd.DataFrame, numeric: list[str], model: Any = None
) -> pd.DataFrame:
    """The rows of ``frame`` as candidate ``name`` takes them: categories as text for the
    logistic model; for a fitted LightGBM (``model``), the categories it learnt, in order."""
    x = _design(frame, numeric)
    if name == "logistic":
        return x.astype({c: str for c in CATEGORICAL})
    if model is not None:
        for i, c in enumerate(CATEGORICAL):
            x[c] = pd.Categorical(x[c], categories=model.booster_.pandas_categorical[i])
    return x


def _fit(name: str, frame: pd.DataFrame, y: np.ndarray, numeric: list[str]) -> Any:
    model = make_candidate(name, numeric)
    model.fit(model_input(name, frame, numeric), y)
    return model


def _predict(model: Any, name: str, frame: pd.DataFrame, numeric: list[str]) -> np.ndarray:
    x = model_input(name, frame, numeric, model)
    return np.asarray(model.predict_proba(x)[:, 1], dtype=float)


def trained_before(frame: pd.DataFrame, day: Any, horizon_days: int) -> pd.DataFrame:
    """The observations whose horizon ended on or before ``day``: all a model judged
    on ``day`` may learn from."""
    return frame[frame["score_date"] + timedelta(days=horizon_days) <= day]


def both_outcomes(y: np.ndarray) -> bool:
    """Whether ``y`` holds both outcomes (a model needs both to learn anything)."""
    return 0 < y.sum() < len(y)


def validation_origins(
    days: list[date], horizon_days: int, n: int = VALIDATION_ORIGINS
) -> list[date]:
    """The latest ``n`` dates that leave at least two earlier dates whose horizon
    ends on or before them (so there is something to train on)."""
    out = []
    for d in sorted(days, reverse=True):
        earlier = [x for x in days if x + timedelta(days=horizon_days) <= d]
        if len(earlier) >= 2:
            out.append(d)
        if len(out) == n:
            break
    return sorted(out)


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if both_outcomes(y) else None


@dataclass
class FittedModel:
    """A trained, calibrated model and what led to it."""

    name: str
    model: Any
    numeric: list[str]
    calibration: Calibration | None
    calibrator: Any
    validation: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_types: list[str] = field(default_factory=list)  # the types its event features are of

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities for the rows of ``frame``, within [0.005, 0.995]:
        isotonic steps can reach 0 or 1 on a handful of extreme validation rows, and
        no prediction of a customer's future is certain."""
        raw = _predict(self.model, self.name, frame, self.numeric)
        if self.calibrator is not None:
            raw = _apply(self.calibration or "sigmoid", self.calibrator, raw)
        return np.clip(raw, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)

    def predict_candidate(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        """Uncalibrated probabilities of another candidate refitted on the same rows."""
        fitted = self.validation[name].get("_model")
        return _predict(fitted, name, frame, self.numeric)


def _calibrators(raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    sig = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return {"isotonic": iso, "sigmoid": sig}


def _apply(kind: str, cal: Any, raw: np.ndarray) -> np.ndarray:
    if kind == "isotonic":
        return np.asarray(cal.predict(raw), dtype=float)
    return np.asarray(cal.predict_proba(raw.reshape(-1, 1))[:, 1], dtype=float)


def choose_calibration(
    raw: np.ndarray, y: np.ndarray, days: np.ndarray
) -> tuple[Calibration | None, Any]:
    """Isotonic or sigmoid, by Brier score on the later half of out-of-time
    predictions after fitting on the earlier half; then refitted on all of them."""
    order = np.argsort(days, kind="stable")
    raw, y, days = raw[order], y[order], days[order]
    cut = len(raw) // 2
    if not (both_outcomes(y[:cut]) and both_outcomes(y[cut:])):
        return None, None
    fitted = _calibrators(raw[:cut], y[:cut])
    brier = {k: float(np.mean((_apply(k, c, raw[cut:]) - y[cut:]) ** 2)) for k, c in fitted.items()}
    best: Calibration = "isotonic" if brier["isotonic"] <= brier["sigmoid"] else "sigmoid"
    return best, _calibrators(raw, y)[best]


def select_and_fit(
    frame: pd.DataFrame, label: str, numeric: list[str], horizon_days: int
) -> FittedModel:
    """Compare the candidates by rolling time-split validation on ``frame``, fit
    the better one on all of it, calibrate it (see the module docstring)."""
    days = sorted(set(frame["score_date"]))
    origins = validation_origins(days, horizon_days)
    y_all = frame[label].to_numpy()
    results: dict[str, dict[str, Any]] = {}
    oof: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {c: [] for c in CANDIDATES}
    for name in CANDIDATES:
        aucs = []
        for origin in origins:
            train = trained_before(frame, origin, horizon_days)
            valid = frame[frame["score_date"] == origin]
            y_tr = train[label].to_numpy()
            if not both_outcomes(y_tr):
                continue
            model = _fit(name, train, y_tr, numeric)
            p = _predict(model, name, valid, numeric)
            y_va = valid[label].to_numpy()
            a = _auc(y_va, p)
            if a is not None:
                aucs.append(a)
            oof[name].append((p, y_va, valid["score_date"].to_numpy()))
        results[name] = {
            "validation_auc": float(np.mean(aucs)) if aucs else None,
            "validation_origins": [d.isoformat() for d in origins],
        }
    scored = {n: r["validation_auc"] for n, r in results.items() if r["validation_auc"] is not None}
    best = max(scored, key=lambda n: scored[n]) if scored else "logistic"
    if not both_outcomes(y_all):
        raise ValueError("the training rows hold only one outcome")
    for name in CANDIDATES:
        results[name]["_model"] = _fit(name, frame, y_all, numeric)
        results[name]["active"] = name == best
    calibration, calibrator = None, None
    if oof[best]:
        raw = np.concatenate([p for p, _, _ in oof[best]])
        yv = np.concatenate([y for _, y, _ in oof[best]])
        dv = np.concatenate([d for _, _, d in oof[best]])
        calibration, calibrator = choose_calibration(raw, yv, dv)
    results[best]["calibration"] = calibration
    return FittedModel(
        best,
        results[best]["_model"],
        numeric,
        calibration,
        calibrator,
        results,
        event_types=list(frame.attrs.get("event_types", [])),
    )
