"""Time to churn: a Cox proportional-hazards model ("likely to churn within ~4 months").

Observations are the point-in-time training rows of :mod:`helix.predict.training`
(features as of each observation date D). Each gets a **duration**: the days
from D to the first day the account's MRR is zero (the end of its paid stint),
or, when that has not happened yet, to the last day of data (censored), capped
at :data:`MAX_DAYS` (censored there too: beyond a year the signals of D say
little). The model is lifelines' ``CoxPHFitter`` with a ridge penalty on the
features of the logistic candidate (median-imputed, signed-log, standardised),
so every account gets a survival curve S(t) = P(still a customer t days after D).

From the curve: ``p_churn_90`` / ``_180`` / ``_365`` = 1 - S(t), and
``months_to_churn`` = the first whole month m at which 1 - S(30.4 m) >= 0.5
(None when that is beyond twelve months: "not expected to churn within a
year").

:func:`backtest_survival` checks the model honestly: it is fitted on the
observation dates at least :data:`MAX_DAYS` before a cut-off, with every
duration censored at the cut-off (no outcome after it is seen), and tested on
the observation dates from the cut-off on. It reports the concordance index
(the share of comparable pairs whose predicted risk order matches the order
in which they churned) against the health score alone, and the calibration of
``p_churn_90`` on the test rows whose 90 days have passed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from helix.errors import UserError
from helix.health.model import HealthModel
from helix.health.scoring import score_frame
from helix.metrics.movements import FAR_FUTURE
from helix.predict.metrics import expected_calibration_error
from helix.predict.models import _signed_log
from helix.predict.training import model_features, training_frame
from helix.warehouse import Warehouse

__all__ = [
    "MAX_DAYS",
    "SurvivalModel",
    "stint_ends",
    "survival_frame",
    "fit_survival",
    "backtest_survival",
]

MAX_DAYS = 365
HORIZONS = (90, 180, 365)
_MONTH = 365.25 / 12


def stint_ends(wh: Warehouse) -> pd.DataFrame:
    """``(account_id, ended_on)``: every day an account's MRR fell to zero (the end of a paid
    stint: a positive row ends and no other positive row covers that day)."""
    s = wh.table("subscriptions")
    s = s.filter(s.mrr > 0)
    rows = s.select(
        "account_id", "start_date", end=ibis.coalesce(s.end_date, ibis.date(FAR_FUTURE))
    )
    ends = rows.filter(rows.end < ibis.date(FAR_FUTURE)).select("account_id", ended_on=rows.end)
    ends = ends.distinct()
    other = rows.rename(o_account="account_id", o_start="start_date", o_end="end")
    gone = ends.anti_join(
        other,
        [
            ends.account_id == other.o_account,
            other.o_start <= ends.ended_on,
            other.o_end > ends.ended_on,
        ],
    )
    out = gone.to_pandas()
    out["ended_on"] = pd.to_datetime(out["ended_on"]).dt.date
    return out


def survival_frame(
    wh: Warehouse, *, last_day: date | None = None, horizon_days: int = 30
) -> pd.DataFrame:
    """The training rows (features as of each observation date) with ``duration`` (days)
    and ``event`` (1 = the account churned then, 0 = censored)."""
    frame = training_frame(wh, horizon_days, last_day=last_day)
    last = last_day or max(frame["score_date"]) + timedelta(days=horizon_days)
    return with_durations(frame, stint_ends(wh), last)


def with_durations(frame: pd.DataFrame, ends: pd.DataFrame, last_day: date) -> pd.DataFrame:
    """``frame`` with ``duration`` and ``event`` from the stint ends known up to ``last_day``."""
    obs = frame[["account_id", "score_date"]].reset_index()
    known = ends[ends["ended_on"] <= last_day]
    j = obs.merge(known, on="account_id", how="left")
    j = j[j["ended_on"].isna() | (j["ended_on"] > j["score_date"])]
    first = j.groupby("index")["ended_on"].min()
    out = frame.copy()
    churn_on = first.reindex(out.index)
    days_to_end = np.array([(last_day - d).days for d in out["score_date"]], dtype=float)
    days_to_churn = np.array(
        [
            np.nan if pd.isna(c) else (c - d).days
            for c, d in zip(churn_on, out["score_date"], strict=True)
        ],
        dtype=float,
    )
    limit = np.minimum(days_to_end, MAX_DAYS)
    churned = ~np.isnan(days_to_churn) & (days_to_churn <= limit)
    out["duration"] = np.where(churned, days_to_churn, limit).clip(min=1.0)
    out["event"] = churned.astype(int)
    out = out[out["duration"] > 0].reset_index(drop=True)
    out.attrs = {**frame.attrs, "last_day": last_day}
    return out


@dataclass
class SurvivalModel:
    """A fitted Cox model with its feature preparation."""

    numeric: list[str]
    center: dict[str, float]
    scale: dict[str, float]
    median: dict[str, float]
    fitter: Any = field(repr=False)
    concordance_train: float | None = None

    def design(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The standardised features of ``frame`` as the model takes them."""
        x = pd.DataFrame(index=frame.index)
        for c in self.numeric:
            v = pd.to_numeric(frame[c], errors="coerce").astype(float).fillna(self.median[c])
            x[c] = (_signed_log(v.to_numpy()) - self.center[c]) / self.scale[c]
        return x

    def curves(self, frame: pd.DataFrame, days: list[float]) -> np.ndarray:
        """S(t) for each row (rows) at each of ``days`` (columns)."""
        sf = self.fitter.predict_survival_function(self.design(frame), times=days)
        return np.asarray(sf.T.to_numpy(), dtype=float)

    def risk(self, frame: pd.DataFrame) -> np.ndarray:
        """Partial hazard: higher means churn sooner."""
        return np.asarray(self.fitter.predict_partial_hazard(self.design(frame)), dtype=float)

    def timing(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``p_churn_90/180/365`` and ``months_to_churn`` for each row of ``frame``."""
        months = [m * _MONTH for m in range(1, 13)]
        s = self.curves(frame, [*map(float, HORIZONS), *months])
        out = pd.DataFrame({"account_id": frame["account_id"].to_numpy()})
        for i, h in enumerate(HORIZONS):
            out[f"p_churn_{h}"] = np.round(1 - s[:, i], 6)
        churn_by = 1 - s[:, len(HORIZONS) :]
        hit = churn_by >= 0.5
        first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)
        out["months_to_churn"] = [int(m) if m else None for m in first]
        return out


def fit_survival(frame: pd.DataFrame, *, penalizer: float = 0.1) -> SurvivalModel:
    """Fit the Cox model on ``frame`` (from :func:`survival_frame`)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    if int(frame["event"].sum()) < 5:
        raise UserError(
            f"too few churns to learn time to churn: {int(frame['event'].sum())}",
            hint="import more history",
        )
    numeric = model_features(frame)
    median, center, scale, keep = {}, {}, {}, []
    for c in numeric:
        v = pd.to_numeric(frame[c], errors="coerce").astype(float)
        med = float(v.median()) if v.notna().any() else 0.0
        z = _signed_log(v.fillna(med).to_numpy())
        sd = float(np.std(z))
        if sd < 1e-9:
            continue  # a constant says nothing about time to churn
        keep.append(c)
        median[c], center[c], scale[c] = med, float(np.mean(z)), sd
    model = SurvivalModel(keep, center, scale, median, fitter=None)
    data = model.design(frame)
    data["duration"] = frame["duration"].to_numpy()
    data["event"] = frame["event"].to_numpy()
    fitter = CoxPHFitter(penalizer=penalizer)
    with warnings.catch_warnings():
        # lifelines warns when a column alone separates churned from retained rows (small
        # companies: a handful of churns). The ridge penalty is what keeps such a fit
        # finite, so that advice does not apply; a fit that did not converge is refused.
        warnings.filterwarnings(
            "ignore", message=r"(?s).*low variance", category=ConvergenceWarning
        )
        warnings.filterwarnings("error", message=r"(?s).*converge", category=ConvergenceWarning)
        try:
            fitter.fit(data, duration_col="duration", event_col="event")
        except (ConvergenceWarning, ConvergenceError) as exc:
            raise UserError(
                f"the time-to-churn model did not converge (ridge penalty {penalizer}, "
                f"{int(frame['event'].sum())} churns in {len(frame)} rows)",
                hint="import more history; a company this small gives too few churns",
            ) from exc
    model.fitter = fitter
    model.concordance_train = float(fitter.concordance_index_)
    return model


def _concordance(duration: np.ndarray, risk: np.ndarray, event: np.ndarray) -> float | None:
    from lifelines.utils import concordance_index

    if event.sum() == 0 or len(duration) < 2:
        return None
    return float(concordance_index(duration, -risk, event))


def _split(frame: pd.DataFrame, cut: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows before ``cut`` with every outcome after it censored, and rows from ``cut`` on."""
    train = frame[frame["score_date"] < cut].copy()
    left = np.array([(cut - d).days for d in train["score_date"]], dtype=float)
    late = train["duration"].to_numpy() > left
    train["event"] = np.where(late, 0, train["event"])
    train["duration"] = np.minimum(train["duration"].to_numpy(), left)
    train = train[train["duration"] > 0]
    train.attrs = frame.attrs
    return train, frame[frame["score_date"] >= cut]


PENALTIES = (0.01, 0.1, 1.0)


def choose_penalizer(frame: pd.DataFrame) -> float:
    """The ridge penalty with the best concordance on the last 30% of ``frame``'s dates,
    fitted on the earlier ones (a time split inside the training data only)."""
    days = sorted(set(frame["score_date"]))
    if len(days) < 4:
        return 0.1
    train, valid = _split(frame, days[int(len(days) * 0.7)])
    best, best_c = 0.1, -1.0
    for pen in PENALTIES:
        try:
            m = fit_survival(train, penalizer=pen)
        except UserError:
            continue  # too few churns, or no convergence with this penalty
        c = _concordance(valid["duration"].to_numpy(), m.risk(valid), valid["event"].to_numpy())
        if c is not None and c > best_c:
            best, best_c = pen, c
    return best


def backtest_survival(
    frame: pd.DataFrame, health_model: HealthModel | None = None, *, test_share: float = 0.3
) -> dict[str, Any]:
    """Fit on early observation dates (outcomes censored at the cut-off), test on later ones;
    the health score of the same rows (by ``health_model``) is the baseline ordering."""
    days = sorted(set(frame["score_date"]))
    last = frame.attrs.get("last_day") or max(days) + timedelta(days=1)
    # test dates early enough for their 90 days to be seen, so calibration can be judged
    judged = [d for d in days if d + timedelta(days=90) <= last] or days
    if len(judged) < 4:
        raise UserError("not enough observation dates for a time-split backtest")
    cut = judged[int(len(judged) * (1 - test_share))]
    train, test = _split(frame, cut)  # nothing after the cut-off is known when training
    penalizer = choose_penalizer(train)
    model = fit_survival(train, penalizer=penalizer)
    risk = model.risk(test)
    c_model = _concordance(test["duration"].to_numpy(), risk, test["event"].to_numpy())
    c_health = None
    if health_model is not None:
        health = pd.Series(score_frame(test, health_model)["score"].to_numpy(dtype=float))
        if health.notna().any():
            h = health.fillna(health.median()).to_numpy()
            # a higher score should mean a later churn: its risk is the negative score
            c_health = _concordance(test["duration"].to_numpy(), -h, test["event"].to_numpy())
    # calibration of P(churn within 90 days) where those 90 days are observed
    seen = np.array([d + timedelta(days=90) <= last for d in test["score_date"]], dtype=bool)
    y90 = ((test["event"] == 1) & (test["duration"] <= 90)).to_numpy()[seen].astype(int)
    p90 = 1 - model.curves(test[seen], [90.0])[:, 0] if seen.any() else np.array([])
    return {
        "cutoff": cut.isoformat(),
        "n_train": len(train),
        "n_test": len(test),
        "events_train": int(train["event"].sum()),
        "events_test": int(test["event"].sum()),
        "concordance": c_model,
        "health_score_concordance": c_health,
        "concordance_train": model.concordance_train,
        "p_churn_90_mean": float(p90.mean()) if len(p90) else None,
        "churn_90_rate": float(y90.mean()) if len(y90) else None,
        "ece_90": expected_calibration_error(y90, p90) if len(p90) else None,
        "penalizer": penalizer,
        "max_days": MAX_DAYS,
    }
