"""Metrics shared by fit and backtest: AUC, churn rate by colour, lift of the reddest decile."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["auc", "calibration", "rate_by_color", "top_decile_lift"]


def auc(churned: np.ndarray, risk: np.ndarray) -> float | None:
    """Area under the ROC curve of ``risk`` (higher = riskier) for the 0/1 outcome.

    Computed from ranks (Mann-Whitney U) with ties averaged; None when only one
    class is present. Rows with a NaN risk are dropped.
    """
    y = np.asarray(churned, dtype=float)
    r = np.asarray(risk, dtype=float)
    ok = ~np.isnan(r)
    y, r = y[ok], r[ok]
    pos = y.sum()
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return None
    ranks = pd.Series(r).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def rate_by_color(frame: pd.DataFrame, outcome: str = "churned") -> dict[str, dict[str, float]]:
    """Per colour: observations and the share with the outcome."""
    out: dict[str, dict[str, float]] = {}
    for color in ("green", "yellow", "red"):
        sub = frame[frame["color"] == color]
        out[color] = {
            "n": int(len(sub)),
            "rate": float(sub[outcome].mean()) if len(sub) else float("nan"),
        }
    return out


def top_decile_lift(frame: pd.DataFrame, outcome: str = "churned") -> float | None:
    """Outcome rate among the lowest-scored 10% of each date / the overall rate."""
    overall = frame[outcome].mean()
    if not overall:
        return None
    ranked = frame.groupby("score_date")["score"].rank(method="first", pct=True)
    worst = frame[ranked <= 0.1]
    if worst.empty:
        return None
    return float(worst[outcome].mean() / overall)


def calibration(frame: pd.DataFrame, outcome: str = "churned", width: int = 10) -> list[dict[str, float]]:
    """Outcome rate by score band (``0-10``, ``10-20`` ... ``90-100``; 100 falls in the last).

    A score that means something shows rates falling band after band; the
    bands that hold no observation are left out.
    """
    scored = frame[frame["score"].notna()]
    edges = np.arange(0, 100 + width, width)
    band = np.clip(np.floor(scored["score"].to_numpy() / width).astype(int), 0, len(edges) - 2)
    out = []
    for i in sorted(set(band.tolist())):
        part = scored[band == i]
        out.append({
            "band": f"{edges[i]}-{edges[i + 1]}",
            "low": float(edges[i]),
            "high": float(edges[i + 1]),
            "n": int(len(part)),
            "mean_score": float(part["score"].mean()),
            "churn_rate": float(part[outcome].mean()),
        })
    return out
