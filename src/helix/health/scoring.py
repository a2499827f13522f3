"""Scoring: signal values to points, points to group scores, groups to the overall score.

Vectorised over a frame of signal rows (many accounts and dates at once).
Missing values follow each measure's rule: ``redistribute`` drops the measure
and shares its weight among the group's other measures (a group without any
data shares its weight among the other groups), a number is used as points.
Every score is the sum of its measures' contributions, which is what makes
each one explainable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helix.health.model import HealthModel, Scoring

__all__ = ["points", "score_frame", "POINTS_PREFIX", "CONTRIB_PREFIX"]

POINTS_PREFIX = "p__"
CONTRIB_PREFIX = "c__"


def points(scoring: Scoring, values: np.ndarray, dates: np.ndarray | None = None) -> np.ndarray:
    """Points 0-100 for ``values`` (NaN stays NaN). ``dates`` groups percentile ranks."""
    x = np.asarray(values, dtype="float64")
    if scoring.type == "linear":
        assert scoring.zero is not None and scoring.full is not None
        # a line only a few ulps wide overflows to +-inf, which clips to 0 or 100
        with np.errstate(over="ignore"):
            out = (x - scoring.zero) / (scoring.full - scoring.zero)
        return np.clip(out, 0.0, 1.0) * 100.0
    if scoring.type == "thresholds":
        bounds = np.array([s[0] for s in scoring.steps])
        pts = np.array([s[1] for s in scoring.steps])
        idx = np.searchsorted(bounds, np.nan_to_num(x, nan=-np.inf), side="right") - 1
        out = pts[np.clip(idx, 0, len(pts) - 1)]
        return np.where(np.isnan(x), np.nan, out)
    # percentile within each scoring date
    frame = pd.DataFrame({"x": x, "d": dates if dates is not None else 0})
    grouped = frame.groupby("d")["x"]
    rank = grouped.rank(method="average", ascending=scoring.higher_is_better)
    n = grouped.transform("count")
    pct = np.where(n > 1, (rank - 1) / (n - 1).where(n > 1, 1), 0.5)
    return np.where(np.isnan(x), np.nan, pct * 100.0)


def score_frame(signals: pd.DataFrame, model: HealthModel) -> pd.DataFrame:
    """Score signal rows with ``model``.

    Returns ``account_id``, ``score_date``, ``score``, ``color``, ``<group>_score``,
    ``missing`` (list of measures without data whose weight was redistributed),
    and for each measure its points (``p__<signal>``) and its contribution to the
    overall score (``c__<signal>``; contributions sum to the score).
    """
    n = len(signals)
    dates = signals["score_date"].to_numpy() if "score_date" in signals else None
    out = pd.DataFrame({"account_id": signals["account_id"].to_numpy(), "score_date": dates})
    group_scores: dict[str, np.ndarray] = {}
    shares: dict[str, dict[str, np.ndarray]] = {}
    missing_flags: list[tuple[str, np.ndarray]] = []
    for group in model.groups:
        num = np.zeros(n)
        den = np.zeros(n)
        pts_by: dict[str, np.ndarray] = {}
        w_by: dict[str, np.ndarray] = {}
        for m in group.measures:
            raw = signals[m.signal].to_numpy(dtype="float64", na_value=np.nan) if m.signal in signals else np.full(n, np.nan)
            p = points(m.scoring, raw, dates)
            if m.missing != "redistribute":
                p = np.where(np.isnan(p), float(m.missing), p)
            else:
                missing_flags.append((m.signal, np.isnan(p)))
            present = ~np.isnan(p)
            w = np.where(present, m.weight, 0.0)
            num += np.where(present, p, 0.0) * w
            den += w
            out[POINTS_PREFIX + m.signal] = p
            pts_by[m.signal], w_by[m.signal] = p, w
        with np.errstate(invalid="ignore", divide="ignore"):
            g = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
            shares[group.name] = {s: np.where(den > 0, w_by[s] / np.where(den > 0, den, 1), 0.0) for s in w_by}
        group_scores[group.name] = g
        out[f"{group.name}_score"] = g
        shares[group.name]["__points__"] = pts_by  # type: ignore[assignment]
    gnum = np.zeros(n)
    gden = np.zeros(n)
    for group in model.groups:
        g = group_scores[group.name]
        w = np.where(np.isnan(g), 0.0, group.weight)
        gnum += np.nan_to_num(g) * w
        gden += w
    score = np.where(gden > 0, gnum / np.where(gden > 0, gden, 1), np.nan)
    for group in model.groups:
        g = group_scores[group.name]
        gshare = np.where(np.isnan(g) | (gden == 0), 0.0, group.weight / np.where(gden > 0, gden, 1))
        pts_by = shares[group.name].pop("__points__")  # type: ignore[assignment]
        for sig, share in shares[group.name].items():
            out[CONTRIB_PREFIX + sig] = gshare * share * np.nan_to_num(pts_by[sig])
    out["score"] = score
    colors = np.where(score >= model.green_from, "green", np.where(score < model.red_below, "red", "yellow"))
    out["color"] = np.where(np.isnan(score), None, colors)
    names = [s for s, _ in missing_flags]
    flags = np.column_stack([f for _, f in missing_flags]) if missing_flags else np.zeros((n, 0), bool)
    # one list per distinct combination, shared by the rows that have it: rows
    # number in the millions on a daily backfill, combinations in the dozens
    combos, inverse = np.unique(flags, axis=0, return_inverse=True)
    lists = [[names[j] for j in np.flatnonzero(c)] for c in combos]
    out["missing"] = [lists[i] for i in np.asarray(inverse).reshape(-1)] if n else []
    return out
