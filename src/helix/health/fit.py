"""Learn measure and group weights from churn: `helix health fit`.

The model is a regularised (L2) logistic regression of the outcome (churn, or
churn or contraction, within the horizon) on the measures' points (0-100,
missing points imputed with the training median), fitted on earlier scoring
dates and validated on later ones: a training date's horizon ends before the
first validation date, so no outcome seen in training overlaps validation.

A measure's proposed weight is its protective effect, ``max(0, -coef)``:
the points of a measure whose higher values go with less churn. A group's
weight is the sum of its measures'. The resulting score is then a monotone
transform of the regression's linear predictor, so it ranks accounts as the
regression does while staying a readable weighted average of points.
Colour cut-offs are proposed at fixed shares of the fitted scores
(red = the lowest ``red_share``, green = the top ``green_share``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from helix.errors import UserError
from helix.health.backtest import baseline_risk
from helix.health.evaluation import auc, rate_by_color
from helix.health.model import Group, HealthModel, Measure
from helix.health.scoring import POINTS_PREFIX, score_frame

__all__ = ["ChurnWeightFitter", "FitReport", "fit_weights", "Target"]

Target = Literal["churn", "churn_or_contraction"]


class ChurnWeightFitter:
    """Logistic regression of an outcome on measure points (scikit-learn estimator contract)."""

    def __init__(self, C: float = 0.5, random_state: int = 0) -> None:
        self.C = C
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> ChurnWeightFitter:
        """Fit on points (columns = signals); learn ``coef_``, ``medians_``, ``columns_``."""
        from sklearn.linear_model import LogisticRegression

        self.columns_ = list(X.columns)
        self.medians_ = X.median().fillna(50.0)
        Z = self._design(X)
        reg = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
        reg.fit(Z, y)
        self.estimator_ = reg
        self.coef_ = pd.Series(reg.coef_[0], index=self.columns_)
        return self

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        return (X[self.columns_].fillna(self.medians_) / 100.0).to_numpy()

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of the outcome for each row."""
        return np.asarray(self.estimator_.predict_proba(self._design(X))[:, 1])


@dataclass
class FitReport:
    """What `helix health fit` found and proposes."""

    target: str
    horizon_days: int
    fit_dates: tuple[date, date]
    validation_dates: tuple[date, date]
    n_fit: int
    n_validation: int
    outcome_rate_fit: float
    outcome_rate_validation: float
    validation_auc_current: float | None
    validation_auc_proposed: float | None
    validation_auc_regression: float | None
    validation_auc_baseline: float | None
    current: HealthModel
    proposed: HealthModel
    measures: list[dict[str, Any]] = field(default_factory=list)
    validation_by_color: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        cur = {g.name: g.weight for g in self.current.groups}
        prop = {g.name: g.weight for g in self.proposed.groups}
        return {
            "target": self.target,
            "horizon_days": self.horizon_days,
            "fit_dates": [d.isoformat() for d in self.fit_dates],
            "validation_dates": [d.isoformat() for d in self.validation_dates],
            "n_fit": self.n_fit,
            "n_validation": self.n_validation,
            "outcome_rate_fit": round(self.outcome_rate_fit, 4),
            "outcome_rate_validation": round(self.outcome_rate_validation, 4),
            "validation_auc": {
                "current": _r(self.validation_auc_current),
                "proposed": _r(self.validation_auc_proposed),
                "regression": _r(self.validation_auc_regression),
                "baseline": _r(self.validation_auc_baseline),
            },
            "groups": [
                {"group": g, "current_weight": cur.get(g), "proposed_weight": prop.get(g)}
                for g in dict.fromkeys([*cur, *prop])
            ],
            "measures": self.measures,
            "colors": {
                "current": {"green_from": self.current.green_from, "red_below": self.current.red_below},
                "proposed": {"green_from": self.proposed.green_from, "red_below": self.proposed.red_below},
            },
            "validation_by_color": self.validation_by_color,
            "current_version": self.current.version_id,
            "proposed_version": self.proposed.version_id,
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _split(days: list[date], horizon_days: int, fit_share: float) -> tuple[list[date], list[date]]:
    cut = days[min(len(days) - 1, max(1, int(len(days) * fit_share)))]
    fit = [d for d in days if d + timedelta(days=horizon_days) <= cut]
    val = [d for d in days if d >= cut]
    if not fit or not val:
        raise UserError(
            "not enough scoring dates to fit on earlier dates and validate on later ones",
            hint="import more history or use a shorter --horizon-days",
        )
    return fit, val


def _propose(model: HealthModel, coef: pd.Series) -> HealthModel:
    groups = []
    for g in model.groups:
        measures = []
        for m in g.measures:
            w = max(0.0, -float(coef.get(m.signal, 0.0)))
            measures.append(replace(m, weight=round(w, 4)))
        total = sum(m.weight for m in measures)
        groups.append(Group(g.name, total, tuple(measures)))
    grand = sum(g.weight for g in groups)
    if grand <= 0:
        raise UserError("no measure was found to protect against churn in this history; weights unchanged")
    groups = [
        Group(g.name, round(100 * g.weight / grand, 2), tuple(
            replace(m, weight=round(10 * m.weight / g.weight, 3) if g.weight else 0.0) for m in g.measures
        ))
        for g in groups
    ]
    return replace(model, groups=tuple(groups), version=model.version + 1)


def fit_weights(
    labelled: pd.DataFrame,
    model: HealthModel,
    *,
    horizon_days: int,
    target: Target = "churn",
    fit_share: float = 0.7,
    red_share: float = 0.1,
    green_share: float = 0.5,
    C: float = 0.5,
) -> FitReport:
    """Fit weights on ``labelled`` signal rows (with ``churned``/``contracted``) and validate."""
    if target not in ("churn", "churn_or_contraction"):
        raise UserError(f"unknown target {target!r}", hint="churn or churn_or_contraction")
    df = labelled.copy()
    y_all = df["churned"].to_numpy() if target == "churn" else (
        (df["churned"] + df["contracted"]) > 0
    ).astype(int).to_numpy()
    days = sorted(set(df["score_date"]))
    fit_days, val_days = _split(days, horizon_days, fit_share)
    scored = score_frame(df, model)
    cols = [POINTS_PREFIX + m.signal for _, m in model.measures()]
    X = scored[cols].rename(columns=lambda c: c.removeprefix(POINTS_PREFIX))
    fit_mask = df["score_date"].isin(fit_days).to_numpy()
    val_mask = df["score_date"].isin(val_days).to_numpy()
    if len(set(y_all[fit_mask])) < 2:
        raise UserError("the fitting period has no churn (or no retention) to learn from")
    usable = [c for c in X.columns if X.loc[fit_mask, c].notna().any()]
    fitter = ChurnWeightFitter(C=C).fit(X.loc[fit_mask, usable], y_all[fit_mask])
    proposed = _propose(model, fitter.coef_)
    fit_scores = score_frame(df.loc[fit_mask], proposed)["score"].to_numpy()
    red = float(np.round(np.nanquantile(fit_scores, red_share), 1))
    green = float(np.round(np.nanquantile(fit_scores, 1 - green_share), 1))
    proposed = replace(proposed, red_below=red, green_from=max(green, red))
    val = df.loc[val_mask]
    y_val = y_all[val_mask]
    cur_val = score_frame(val, model)
    prop_val = score_frame(val, proposed)
    reg_val = fitter.predict_proba(X.loc[val_mask, usable])
    frame = pd.DataFrame({"color": prop_val["color"].to_numpy(), "churned": y_val})
    measures = []
    for group, m in model.measures():
        pts = X.loc[fit_mask, m.signal]
        ok = pts.notna().to_numpy()
        uni = auc(y_all[fit_mask][ok], -pts.to_numpy()[ok]) if ok.any() else None
        new_w = next(pm.weight for pg, pm in proposed.measures() if pm.signal == m.signal)
        measures.append({
            "group": group.name,
            "signal": m.signal,
            "current_weight": m.weight,
            "proposed_weight": new_w,
            "coefficient": _r(float(fitter.coef_.get(m.signal, 0.0))),
            "univariate_auc": _r(uni),
            "coverage": round(float(ok.mean()), 3),
        })
    measures.sort(key=lambda r: r["coefficient"] if r["coefficient"] is not None else 0.0)
    return FitReport(
        target=target,
        horizon_days=horizon_days,
        fit_dates=(fit_days[0], fit_days[-1]),
        validation_dates=(val_days[0], val_days[-1]),
        n_fit=int(fit_mask.sum()),
        n_validation=int(val_mask.sum()),
        outcome_rate_fit=float(y_all[fit_mask].mean()),
        outcome_rate_validation=float(y_val.mean()),
        validation_auc_current=auc(y_val, -cur_val["score"].to_numpy()),
        validation_auc_proposed=auc(y_val, -prop_val["score"].to_numpy()),
        validation_auc_regression=auc(y_val, reg_val),
        validation_auc_baseline=auc(y_val, baseline_risk(val)),
        current=model,
        proposed=proposed,
        measures=measures,
        validation_by_color=rate_by_color(frame),
    )
