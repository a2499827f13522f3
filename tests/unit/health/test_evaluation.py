"""AUC, rates by colour, lift and calibration against hand-computed values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from helix.health.evaluation import auc, calibration, rate_by_color, top_decile_lift


@given(
    y=st.lists(st.integers(0, 1), min_size=2, max_size=60),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=80, deadline=None)
def test_auc_equals_scikit_learn(y: list[int], seed: int) -> None:
    risk = np.random.default_rng(seed).integers(0, 5, len(y)).astype(float)  # with ties
    if len(set(y)) < 2:
        assert auc(np.array(y), risk) is None
    else:
        assert auc(np.array(y), risk) == pytest.approx(roc_auc_score(y, risk))


def test_auc_by_hand_and_nan_risks_dropped() -> None:
    # churned at risks 3 and 1; stayed at 2 and 0: 3 of the 4 (churned, stayed) pairs are ordered
    assert auc(np.array([1, 1, 0, 0]), np.array([3.0, 1.0, 2.0, 0.0])) == pytest.approx(0.75)
    assert auc(np.array([1, 0, 1]), np.array([1.0, 0.0, np.nan])) == pytest.approx(1.0)


FRAME = pd.DataFrame({
    "score_date": ["d"] * 10,
    "score": [5.0, 15, 25, 35, 45, 55, 65, 75, 85, 100],
    "color": ["red"] * 4 + ["yellow"] * 3 + ["green"] * 3,
    "churned": [1, 1, 0, 1, 0, 0, 1, 0, 0, 0],
})  # fmt: skip


def test_rates_lift_and_calibration_by_hand() -> None:
    rates = rate_by_color(FRAME)
    assert rates["red"] == {"n": 4, "rate": 0.75}
    assert rates["yellow"]["rate"] == pytest.approx(1 / 3) and rates["green"]["rate"] == 0.0
    # the lowest-scored 10% is the one account at 5, which churned; overall rate 0.4
    assert top_decile_lift(FRAME) == pytest.approx(1 / 0.4)
    cal = calibration(FRAME)
    # 5 .. 85 fall one in each band from 0-10 to 80-90; a perfect 100 belongs to 90-100
    assert [b["band"] for b in cal] == [f"{10 * i}-{10 * i + 10}" for i in range(10)]
    assert [b["n"] for b in cal] == [1] * 10
    assert [b["churn_rate"] for b in cal] == [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    assert cal[-1]["mean_score"] == 100


def test_calibration_leaves_out_empty_bands_and_unscored_rows() -> None:
    f = pd.DataFrame({"score": [12.0, 18.0, np.nan, 71.0], "churned": [1, 0, 1, 0]})
    cal = calibration(f)
    assert [(b["band"], b["n"], b["churn_rate"]) for b in cal] == [("10-20", 2, 0.5), ("70-80", 1, 0.0)]
