"""The issue's targets for health on a demo company: the score ranks later churners
clearly better than a naive usage score, red accounts churn at three times the rate
of green ones or more, and the fitted weights beat the baseline on later dates."""

from __future__ import annotations

from typing import Any

import pytest

from ...helpers import cli_json
from ..demo_year import demo_year

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_year")]

CLEARLY = 0.03  # an AUC margin well beyond the run-to-run noise of a seeded company


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return demo_year()


def test_the_default_score_predicts_churn_better_than_usage_alone(built: dict[str, Any]) -> None:
    doc = cli_json(built["home"], "health", "backtest", "--horizon-days", "90")
    assert doc["horizon_days"] == 90 and doc["n_observations"] > 5000
    assert doc["auc"] >= doc["baseline_auc"] + CLEARLY, doc
    rates = doc["churn_rate_by_color"]
    assert rates["red"] >= 3 * rates["green"] > 0, rates
    assert doc["red_green_ratio"] == pytest.approx(rates["red"] / rates["green"], rel=1e-3)
    assert doc["top_decile_lift"] > 1.5


def test_fitted_weights_beat_the_baseline_on_later_dates(built: dict[str, Any]) -> None:
    doc = cli_json(built["home"], "health", "fit", "--horizon-days", "90")
    assert max(doc["fit_dates"]) < min(doc["validation_dates"])
    v = doc["validation_auc"]
    assert v["proposed"] >= v["baseline"] + CLEARLY, v
    assert not doc["accepted"]
