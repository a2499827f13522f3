"""The issue's targets for health on a demo company, judged on later dates than the
weights were fitted on: the fitted score ranks later churners clearly better than a
naive usage score, and its red accounts churn at three times the rate of its green ones
or more. The default (unfitted) model must already beat the baseline over the whole
history; on this small company (1,200 accounts, 18 months) its red band is thin, so
its colours are only held to red >= 2x green (the default 3,000-account demo gives
about 6x: docs/health.md)."""

from __future__ import annotations

from typing import Any

import pytest

from ...helpers import cli_json
from ..demo_year import demo_year

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_year")]

CLEARLY = 0.03  # an AUC margin a CS leader would notice, not a rounding difference


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return demo_year()


def test_the_default_score_predicts_churn_better_than_usage_alone(built: dict[str, Any]) -> None:
    doc = cli_json(built["home"], "health", "backtest", "--horizon-days", "90")
    assert doc["horizon_days"] == 90 and doc["n_observations"] > 5000
    assert doc["auc"] >= doc["baseline_auc"] + CLEARLY, doc
    rates = doc["churn_rate_by_color"]
    assert rates["red"] >= 2 * rates["green"] > 0, rates
    assert doc["red_green_ratio"] == pytest.approx(rates["red"] / rates["green"], rel=1e-3)
    assert doc["top_decile_lift"] > 1.5


def test_fitted_weights_beat_the_baseline_on_later_dates(built: dict[str, Any]) -> None:
    doc = cli_json(built["home"], "health", "fit", "--horizon-days", "90")
    assert max(doc["fit_dates"]) < min(doc["validation_dates"])
    v = doc["validation_auc"]
    assert v["proposed"] >= v["baseline"] + CLEARLY, v
    assert v["proposed"] > v["current"]  # learning from churn improves on the default weights
    by = doc["validation_by_color"]
    assert by["red"]["n"] > 100 and by["green"]["n"] > 100
    assert by["red"]["rate"] >= 3 * by["green"]["rate"] > 0, by
    assert not doc["accepted"]
