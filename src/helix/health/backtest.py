"""`helix health backtest`: how well the score ranked the accounts that later churned.

For every stored scoring date whose horizon has passed, the active model scores
the signals of that date (so one model is judged over the whole history), and
each account is labelled churned when its MRR fell to zero by date + horizon.
Reported: AUC, churn rate by colour (with the red/green multiple), churn rate
by 10-point score band (calibration), lift of the lowest-scored decile, the same
by segment, and the AUC of a naive usage-only score (active users per licensed
seat) for comparison. :func:`helix.health.charts.backtest_chart` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helix.health.evaluation import auc, calibration, rate_by_color, top_decile_lift
from helix.health.model import HealthModel
from helix.health.scoring import score_frame

__all__ = ["Backtest", "backtest", "baseline_risk"]


def baseline_risk(signals: pd.DataFrame) -> np.ndarray:
    """The naive usage-only score as a risk: minus active users per licensed seat
    (minus events in the last 30 days where seats are unknown, ranked per date)."""
    util = signals["seat_utilisation"].astype("float64")
    fallback = signals["events_30"].astype("float64").groupby(signals["score_date"]).rank(pct=True)
    return -(util.fillna(fallback).to_numpy())


@dataclass
class Backtest:
    """The backtest figures (``to_dict`` gives the `--json` document)."""

    auc: float | None
    baseline_auc: float | None
    churn_rate_by_color: dict[str, float]
    counts_by_color: dict[str, int]
    top_decile_lift: float | None
    n_observations: int
    horizon_days: int
    model_version: str
    dates: list[str]
    base_rate: float
    by_segment: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_date: list[dict[str, Any]] = field(default_factory=list)
    calibration: list[dict[str, Any]] = field(default_factory=list)

    @property
    def red_green_ratio(self) -> float | None:
        red, green = self.churn_rate_by_color.get("red"), self.churn_rate_by_color.get("green")
        if red is None or not green or red != red:
            return None
        return red / green

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures with the keys the issue fixes, plus detail."""
        return {
            "auc": _r(self.auc),
            "churn_rate_by_color": {k: _r(v) for k, v in self.churn_rate_by_color.items()},
            "top_decile_lift": _r(self.top_decile_lift),
            "baseline_auc": _r(self.baseline_auc),
            "n_observations": self.n_observations,
            "horizon_days": self.horizon_days,
            "red_green_ratio": _r(self.red_green_ratio),
            "counts_by_color": self.counts_by_color,
            "base_rate": _r(self.base_rate),
            "model_version": self.model_version,
            "dates": self.dates,
            "by_segment": self.by_segment,
            "by_date": self.by_date,
            "calibration": [
                {k: (_r(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.calibration
            ],
        }


def _r(x: float | None) -> float | None:
    return None if x is None or x != x else round(float(x), 4)


def _summary(frame: pd.DataFrame) -> dict[str, Any]:
    colors = rate_by_color(frame)
    return {
        "n_observations": int(len(frame)),
        "churn_rate": _r(float(frame["churned"].mean())) if len(frame) else None,
        "auc": _r(auc(frame["churned"].to_numpy(), -frame["score"].to_numpy())),
        "baseline_auc": _r(auc(frame["churned"].to_numpy(), frame["baseline"].to_numpy())),
        "churn_rate_by_color": {c: _r(v["rate"]) for c, v in colors.items()},
        "top_decile_lift": _r(top_decile_lift(frame)),
    }


def backtest(
    labelled: pd.DataFrame,
    model: HealthModel,
    *,
    horizon_days: int,
    segments: pd.DataFrame | None = None,
) -> Backtest:
    """Backtest ``model`` on labelled signal rows (``churned`` per account and date)."""
    scored = score_frame(labelled, model)
    frame = pd.DataFrame({
        "account_id": labelled["account_id"].to_numpy(),
        "score_date": labelled["score_date"].to_numpy(),
        "score": scored["score"].to_numpy(),
        "color": scored["color"].to_numpy(),
        "churned": labelled["churned"].to_numpy(),
        "baseline": baseline_risk(labelled),
    })
    colors = rate_by_color(frame)
    by_segment: dict[str, dict[str, Any]] = {}
    if segments is not None and not segments.empty:
        seg = frame.merge(segments[["account_id", "segment"]], on="account_id", how="left")
        for name, part in seg.groupby(seg["segment"].fillna("(none)")):
            by_segment[str(name)] = _summary(part)
    by_date = []
    for d, part in frame.groupby("score_date"):
        by_date.append({
            "score_date": d.isoformat(),
            "n": int(len(part)),
            "churn_rate": _r(float(part["churned"].mean())),
            "auc": _r(auc(part["churned"].to_numpy(), -part["score"].to_numpy())),
        })
    return Backtest(
        auc=auc(frame["churned"].to_numpy(), -frame["score"].to_numpy()),
        baseline_auc=auc(frame["churned"].to_numpy(), frame["baseline"].to_numpy()),
        churn_rate_by_color={c: v["rate"] for c, v in colors.items()},
        counts_by_color={c: int(v["n"]) for c, v in colors.items()},
        top_decile_lift=top_decile_lift(frame),
        n_observations=int(len(frame)),
        horizon_days=horizon_days,
        model_version=model.version_id,
        dates=[d.isoformat() for d in sorted(set(frame["score_date"]))],
        base_rate=float(frame["churned"].mean()) if len(frame) else float("nan"),
        by_segment=by_segment,
        by_date=by_date,
        calibration=calibration(frame),
    )
