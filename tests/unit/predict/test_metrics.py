"""Prediction metrics against hand-computed cases, and the time-split rules."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helix.predict.metrics import expected_calibration_error, reliability, scores, top_decile_lift
from helix.predict.models import choose_calibration, validation_origins


def test_reliability_and_ece_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    rows = reliability(y, p)
    assert [(r["low"], r["n"]) for r in rows] == [(0.0, 1), (0.1, 2), (0.9, 2)]
    assert rows[1]["mean_predicted"] == pytest.approx(0.15) and rows[1]["observed_rate"] == 0.5
    # 1/5*|0.05-0| + 2/5*|0.15-0.5| + 2/5*|0.975-1|
    assert expected_calibration_error(y, p) == pytest.approx(0.01 + 0.14 + 0.01)


def test_top_decile_lift_is_per_date() -> None:
    days = np.array([1] * 10 + [2] * 10)
    y = np.zeros(20)
    y[[0, 10]] = 1  # the riskiest account of each date churns
    p = np.where(y == 1, 0.9, 0.1)
    assert top_decile_lift(y, p, days) == pytest.approx(1.0 / 0.1)


@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=2, max_size=60))
@settings(deadline=None)
def test_scores_are_bounded(rows: list[tuple[int, float]]) -> None:
    y = np.array([r[0] for r in rows], dtype=float)
    p = np.array([r[1] for r in rows])
    s = scores(y, p, np.zeros(len(y)))
    assert 0 <= s["brier"] <= 1 and 0 <= s["ece"] <= 1
    if s["auc"] is not None:
        assert 0 <= s["auc"] <= 1 and 0 <= s["pr_auc"] <= 1


def test_validation_dates_leave_the_horizon_between_train_and_validation() -> None:
    days = [date(2025, 1, 1) + timedelta(days=30 * i) for i in range(10)]
    origins = validation_origins(days, 90)
    assert origins == days[-3:]
    for o in origins:
        assert len([d for d in days if d + timedelta(days=90) <= o]) >= 2
    assert validation_origins(days[:3], 90) == []  # nothing would be left to train on


def test_calibration_is_chosen_on_later_predictions() -> None:
    rng = np.random.default_rng(0)
    raw = rng.random(2000)
    y = (rng.random(2000) < raw**2).astype(float)  # the raw scores overstate the risk
    days = np.repeat(np.arange(4), 500)
    kind, cal = choose_calibration(raw, y, days)
    assert kind in ("isotonic", "sigmoid") and cal is not None
    fixed = cal.predict(raw) if kind == "isotonic" else cal.predict_proba(raw.reshape(-1, 1))[:, 1]
    assert expected_calibration_error(y, fixed) < expected_calibration_error(y, raw)


def test_population_stability_by_hand_and_on_shifts() -> None:
    import math

    import pandas as pd

    from helix.predict.drift import drift_report, profile, psi

    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    )
    rng = np.random.default_rng(1)
    train = pd.DataFrame({"x": rng.normal(0, 1, 5000), "y": rng.normal(0, 1, 5000)})
    prof = profile(train, ["x", "y"])
    assert len(prof["x"]["shares"]) == 11 and sum(prof["x"]["shares"]) == pytest.approx(1)
    same = drift_report(
        prof, pd.DataFrame({"x": rng.normal(0, 1, 5000), "y": rng.normal(0, 1, 5000)})
    )
    assert same["verdict"] == "stable" and same["max_psi"] < 0.1
    moved = pd.DataFrame(
        {"x": rng.normal(1.5, 1, 5000), "y": np.where(rng.random(5000) < 0.5, np.nan, 0.0)}
    )
    report = drift_report(prof, moved)
    assert report["verdict"] == "retrain" and {
        f["feature"] for f in report["features"] if f["level"] == "major"
    } == {"x", "y"}
