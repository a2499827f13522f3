"""The renewal forecast: buckets, calibrated probabilities, expected ARR, and its own accuracy.

For every renewal in a period (see :mod:`helix.predict.renewals`):

1. **Evidence** as of the forecast date: the latest health score and colour on
   or before it, and the latest churn prediction of an active model
   (renewal probability from the model = 1 - churn probability).
2. **Bucket** (:func:`bucket_for`): with a model probability p, ``committed``
   when p >= 0.90, ``likely`` when p >= 0.70, ``at_risk`` when p >= 0.40, else
   ``critical``; without one, by colour (green likely, yellow at risk, red
   critical; no score at risk). Health caps the bucket: a yellow account is at
   best likely, a red one at best at risk. Only a recorded override (a person,
   a reason) puts an account in another bucket.
3. **Probability**: each bucket starts from the textbook rates (committed 95%,
   likely 80%, at risk 50%, critical 20%) and is recalibrated from what
   actually renewed in this company: ``(renewed + w x prior) / (n + w)`` over
   the bucket's past renewals whose outcome is known, with ``w = 20``
   pseudo-renewals, so a few outcomes move it a little and hundreds decide it.
4. **Totals**: expected ARR = sum of ARR x probability, with a 90% interval
   from the renewals' independent outcomes (normal approximation, clipped to
   [0, total ARR at stake]).

Past forecasts are stored daily by the ``renewal_forecast`` stage (table
``renewal_forecasts``); :func:`accuracy` compares them with what happened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from helix.predict.renewals import GRACE_DAYS, outcomes, renewals
from helix.warehouse import Warehouse

__all__ = [
    "BUCKETS",
    "PRIOR_RATES",
    "ForecastRules",
    "Override",
    "bucket_for",
    "calibrated_rates",
    "evidence",
    "bucketed",
    "with_rates",
    "past_outcomes",
    "summarise",
    "accuracy",
]

BUCKETS = ("committed", "likely", "at_risk", "critical")
PRIOR_RATES: dict[str, float] = {
    "committed": 0.95,
    "likely": 0.80,
    "at_risk": 0.50,
    "critical": 0.20,
}
_CAP = {"green": "committed", "yellow": "likely", "red": "at_risk"}
_BY_COLOUR = {"green": "likely", "yellow": "at_risk", "red": "critical"}
_Z90 = 1.6448536269514722  # two-sided 90%


@dataclass(frozen=True)
class ForecastRules:
    """The thresholds of the forecast (defaults as documented in docs/forecast.md)."""

    committed_from: float = 0.90
    likely_from: float = 0.70
    at_risk_from: float = 0.40
    prior_weight: float = 20.0
    grace_days: int = GRACE_DAYS
    lead_days: int = 30
    priors: Mapping[str, float] = field(default_factory=lambda: dict(PRIOR_RATES))

    def to_dict(self) -> dict[str, Any]:
        """The rules as JSON-ready values."""
        return {**asdict(self), "priors": dict(self.priors)}


@dataclass(frozen=True)
class Override:
    """A person's bucket for one renewal (from the app store's ``renewal_overrides``)."""

    account_id: str
    renewal_date: date
    bucket: str
    reason: str
    actor: str
    created_at: Any = None


def bucket_for(model_renewal: float | None, colour: str | None, rules: ForecastRules) -> str:
    """The bucket of one renewal from its model probability and health colour (no override)."""
    if model_renewal is None or (isinstance(model_renewal, float) and math.isnan(model_renewal)):
        bucket = _BY_COLOUR.get(colour or "", "at_risk")
    elif model_renewal >= rules.committed_from:
        bucket = "committed"
    elif model_renewal >= rules.likely_from:
        bucket = "likely"
    elif model_renewal >= rules.at_risk_from:
        bucket = "at_risk"
    else:
        bucket = "critical"
    cap = _CAP.get(colour or "")
    if cap is not None and BUCKETS.index(bucket) < BUCKETS.index(cap):
        bucket = cap
    return bucket


def evidence(wh: Warehouse, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (forecast_date, account_id, ...) with the health score, colour and model
    renewal probability known on each forecast date (None where there is none)."""
    out = frame.copy()
    out["health_score"] = np.nan
    out["color"] = None
    out["model_probability"] = np.nan
    if out.empty:
        return out
    keys = ibis.memtable(out[["forecast_date", "account_id"]].drop_duplicates()).rename(
        k_date="forecast_date", k_account="account_id"
    )
    keys = keys.mutate(k_date=keys.k_date.cast("date"))
    if wh.has_table("health_scores"):
        h = wh.table("health_scores")
        j = keys.join(h, [keys.k_account == h.account_id, h.score_date <= keys.k_date])
        j = j.filter(j.score.notnull())
        last = j.group_by(["k_date", "k_account"]).aggregate(day=j.score_date.max())
        hit = j.join(last, ["k_date", "k_account"]).filter(lambda t: t.score_date == t.day)
        got = hit.select("k_date", "k_account", "score", "color").to_pandas()
        out = _merge(out, got, {"score": "health_score", "color": "color"})
    if wh.has_table("predictions"):
        p = wh.table("predictions")
        p = p.filter(p.target == "churn")
        j = keys.join(p, [keys.k_account == p.account_id, p.score_date <= keys.k_date])
        last = j.group_by(["k_date", "k_account"]).aggregate(day=j.score_date.max())
        hit = j.join(last, ["k_date", "k_account"]).filter(lambda t: t.score_date == t.day)
        # several horizons on the same day: the longest one says most about a renewal
        g = hit.group_by(["k_date", "k_account"]).aggregate(
            churn=hit.probability.argmax(hit.horizon_days)
        )
        got = g.to_pandas()
        got["churn"] = 1.0 - got["churn"].astype(float)
        out = _merge(out, got, {"churn": "model_probability"})
    return out


def _merge(out: pd.DataFrame, got: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    got = got.rename(columns={"k_date": "forecast_date", "k_account": "account_id", **names})
    got["forecast_date"] = pd.to_datetime(got["forecast_date"]).dt.date
    out = out.drop(columns=list(names.values())).merge(
        got, on=["forecast_date", "account_id"], how="left"
    )
    return out


def calibrated_rates(
    history: pd.DataFrame, rules: ForecastRules
) -> dict[str, dict[str, float | int]]:
    """Each bucket's renewal probability from past renewals with known outcomes.

    ``history`` has one row per past renewal with ``bucket`` and ``renewed``.
    """
    rates: dict[str, dict[str, float | int]] = {}
    for bucket in BUCKETS:
        mine = history[history["bucket"] == bucket] if not history.empty else history
        n = len(mine)
        renewed = int(mine["renewed"].sum()) if n else 0
        prior = float(rules.priors[bucket])
        w = rules.prior_weight
        rates[bucket] = {
            "prior": prior,
            "observed": n,
            "renewed": renewed,
            "observed_rate": renewed / n if n else None,  # type: ignore[dict-item]
            "probability": (renewed + w * prior) / (n + w),
        }
    return rates


def _latest_overrides(overrides: Iterable[Override]) -> dict[tuple[str, date], Override]:
    latest: dict[tuple[str, date], Override] = {}
    for o in overrides:  # given oldest first: the latest wins
        latest[(o.account_id, o.renewal_date)] = o
    return latest


def bucketed(
    wh: Warehouse,
    forecast_dates: Sequence[date],
    *,
    rules: ForecastRules,
    overrides: Iterable[Override] = (),
    live: date | None = None,
    horizon_days: int = 365,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Every renewal of the window with its evidence and bucket (probabilities not yet set).

    An override applies to a forecast date on or after the day it was recorded,
    and always to the ``live`` date (today's forecast takes every standing call).
    """
    frame = renewals(wh, forecast_dates, horizon_days=horizon_days, start=start, end=end)
    frame = evidence(wh, frame)
    latest = _latest_overrides(overrides)
    buckets, reasons, by = [], [], []
    for r in frame.itertuples(index=False):
        model = None if pd.isna(r.model_probability) else float(r.model_probability)
        bucket = bucket_for(model, r.color, rules)
        o = latest.get((r.account_id, r.renewal_date))
        standing = o is not None and (
            r.forecast_date == live
            or o.created_at is None
            or o.created_at.date() <= r.forecast_date
        )
        if o is not None and standing:
            bucket = o.bucket
        buckets.append(bucket)
        reasons.append(o.reason if o is not None and standing else None)
        by.append(o.actor if o is not None and standing else None)
    frame["bucket"] = buckets
    frame["override_reason"] = reasons
    frame["override_by"] = by
    return frame


def with_rates(frame: pd.DataFrame, rates: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """``frame`` with each renewal's calibrated ``probability`` and ``expected_arr``."""
    out = frame.copy()
    out["probability"] = [float(rates[b]["probability"]) for b in out["bucket"]]
    out["expected_arr"] = (out["arr"] * out["probability"]).round(2)
    return out


def _no_history() -> pd.DataFrame:
    return pd.DataFrame({"bucket": pd.Series(dtype=str), "renewed": pd.Series(dtype="int64")})


def summarise(frame: pd.DataFrame) -> dict[str, Any]:
    """Totals of a forecast: per bucket and overall, with a 90% interval on expected ARR."""
    buckets = {}
    for b in BUCKETS:
        mine = frame[frame["bucket"] == b]
        buckets[b] = {
            "renewals": len(mine),
            "arr": round(float(mine["arr"].sum()), 2),
            "expected_arr": round(float(mine["expected_arr"].sum()), 2),
            "probability": float(mine["probability"].iloc[0]) if len(mine) else None,
        }
    total = float(frame["arr"].sum())
    expected = float((frame["arr"] * frame["probability"]).sum())
    sd = math.sqrt(
        float((frame["arr"] ** 2 * frame["probability"] * (1 - frame["probability"])).sum())
    )
    return {
        "renewals": len(frame),
        "arr": round(total, 2),
        "expected_arr": round(expected, 2),
        "interval_90": [
            round(max(0.0, expected - _Z90 * sd), 2),
            round(min(total, expected + _Z90 * sd), 2),
        ],
        "buckets": buckets,
    }


def past_outcomes(
    wh: Warehouse,
    snapshots: pd.DataFrame,
    as_of: date,
    rules: ForecastRules,
    known: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Past renewals with known outcome, each judged by the forecast made before it.

    For each (account, renewal date) whose grace period ended before ``as_of``,
    the latest stored snapshot made at least ``rules.lead_days`` before the
    renewal date is the forecast to judge; its outcome comes from the
    subscriptions (:func:`~helix.predict.renewals.outcomes`), or from ``known``
    when the caller computed them already.
    """
    if snapshots.empty:
        return snapshots.assign(renewed=pd.Series(dtype="int64"), actual_arr=pd.Series(dtype=float))
    s = snapshots
    ended = s["renewal_date"] + timedelta(days=rules.grace_days) < as_of
    early = s["forecast_date"] <= s["renewal_date"] - timedelta(days=rules.lead_days)
    s = s[ended & early]
    if s.empty:
        return s.assign(renewed=pd.Series(dtype="int64"), actual_arr=pd.Series(dtype=float))
    s = (
        s.sort_values("forecast_date")
        .groupby(["account_id", "renewal_date"], as_index=False)
        .last()
    )
    res = known if known is not None else outcomes(wh, s, rules.grace_days)
    return s.merge(res, on=["account_id", "renewal_date"], how="left")


def accuracy(judged: pd.DataFrame) -> dict[str, Any]:
    """Forecast against outcome, per bucket, per quarter of the renewal date, and overall."""

    def block(part: pd.DataFrame) -> dict[str, Any]:
        n = len(part)
        forecast = float((part["arr"] * part["probability"]).sum())
        renewed_arr = float((part["arr"] * part["renewed"]).sum())
        return {
            "renewals": n,
            "forecast_rate": float(part["probability"].mean()) if n else None,
            "actual_rate": float(part["renewed"].mean()) if n else None,
            "arr": round(float(part["arr"].sum()), 2),
            "forecast_arr": round(forecast, 2),
            "renewed_arr": round(renewed_arr, 2),
            "actual_arr_after": round(float(part["actual_arr"].sum()), 2),
            "error_pct": round((forecast - renewed_arr) / renewed_arr * 100, 2)
            if renewed_arr
            else None,
            "brier": float(((part["probability"] - part["renewed"]) ** 2).mean()) if n else None,
        }

    if judged.empty:
        return {"overall": block(judged), "buckets": {}, "quarters": []}
    quarters = judged.assign(
        quarter=[f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in judged["renewal_date"]]
    )
    return {
        "overall": block(judged),
        "buckets": {b: block(judged[judged["bucket"] == b]) for b in BUCKETS},
        "quarters": [
            {"quarter": q, **block(part)} for q, part in quarters.groupby("quarter", sort=True)
        ],
    }
