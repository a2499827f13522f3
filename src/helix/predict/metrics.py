"""How good a probability is: ranking (AUC, PR-AUC, lift) and calibration (Brier, ECE)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["reliability", "expected_calibration_error", "top_decile_lift", "scores"]

BINS = 10


def reliability(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> list[dict[str, Any]]:
    """Rows of ``bins`` equal-width probability bins that hold predictions:
    ``low, high, n, mean_predicted, observed_rate`` (a probability of 1 falls in the last)."""
    idx = np.clip(np.floor(p * bins).astype(int), 0, bins - 1)
    out = []
    for i in sorted(set(idx.tolist())):
        m = idx == i
        out.append(
            {
                "low": i / bins,
                "high": (i + 1) / bins,
                "n": int(m.sum()),
                "mean_predicted": float(p[m].mean()),
                "observed_rate": float(y[m].mean()),
            }
        )
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> float:
    """Sum over bins of (share of predictions) x |mean predicted - observed rate|."""
    rows = reliability(y, p, bins)
    n = len(p)
    return float(sum(r["n"] / n * abs(r["mean_predicted"] - r["observed_rate"]) for r in rows))


def top_decile_lift(y: np.ndarray, p: np.ndarray, days: np.ndarray) -> float | None:
    """Outcome rate among the riskiest 10% of each date / the overall rate."""
    if not y.mean():
        return None
    frame = pd.DataFrame({"y": y, "p": p, "d": days})
    rank = frame.groupby("d")["p"].rank(method="first", ascending=False, pct=True)
    top = frame[rank <= 0.1]
    return float(top["y"].mean() / y.mean()) if len(top) else None


def scores(y: np.ndarray, p: np.ndarray, days: np.ndarray) -> dict[str, Any]:
    """AUC, PR-AUC, top-decile lift, Brier and ECE of probabilities ``p`` for 0/1 ``y``."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    both = 0 < y.sum() < len(y)
    return {
        "auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "top_decile_lift": top_decile_lift(y, p, days),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
    }
