"""Has the data moved since the model was trained? Population stability per feature.

At training, each feature's distribution is summarised by the shares of rows
in ten bins cut at the training deciles, plus a bin for missing values. At
scoring, the same bins are filled with the rows being scored, and the
population stability index compares the two:
``PSI = sum((now - then) * ln(now / then))`` over the bins (shares floored at
0.0001). Common reading: below 0.1 stable, 0.1-0.25 moderate, above 0.25 a
shift large enough to retrain for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["profile", "psi", "drift_report", "MODERATE", "MAJOR"]

MODERATE = 0.1
MAJOR = 0.25
_FLOOR = 1e-4


def _shares(x: np.ndarray, edges: list[float]) -> list[float]:
    missing = np.isnan(x)
    n = len(x)
    if n == 0:
        return [0.0] * (len(edges) + 2)
    idx = np.searchsorted(np.asarray(edges), x[~missing], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(float)
    return [*(counts / n).tolist(), float(missing.sum() / n)]


def profile(frame: pd.DataFrame, features: list[str]) -> dict[str, dict[str, list[float]]]:
    """Per feature: decile ``edges`` of the training values and the ``shares`` of rows per bin."""
    out = {}
    for f in features:
        x = frame[f].to_numpy(dtype=float)
        present = x[~np.isnan(x)]
        edges = (
            sorted(set(np.quantile(present, np.linspace(0.1, 0.9, 9)).tolist()))
            if len(present)
            else []
        )
        out[f] = {"edges": edges, "shares": _shares(x, edges)}
    return out


def psi(expected: list[float], actual: list[float]) -> float:
    """The population stability index of two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, dtype=float), _FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def drift_report(trained: dict[str, dict[str, list[float]]], frame: pd.DataFrame) -> dict[str, Any]:
    """PSI of every profiled feature in ``frame``, largest first, and the verdict."""
    rows = []
    for f, prof in trained.items():
        if f not in frame:
            continue
        now = _shares(frame[f].to_numpy(dtype=float), prof["edges"])
        value = psi(prof["shares"], now)
        level = "major" if value > MAJOR else "moderate" if value > MODERATE else "stable"
        rows.append({"feature": f, "psi": round(value, 4), "level": level})
    rows.sort(key=lambda r: -r["psi"])
    worst = rows[0]["psi"] if rows else 0.0
    return {
        "max_psi": worst,
        "verdict": "retrain" if worst > MAJOR else "watch" if worst > MODERATE else "stable",
        "features": rows,
    }
