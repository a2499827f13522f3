"""The renewal forecast on hand-built data: renewals, buckets, calibration, totals, accuracy."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from helix.metrics.loading import load_rows
from helix.predict.forecast import (
    ForecastRules,
    Override,
    accuracy,
    bucket_for,
    bucketed,
    calibrated_rates,
    past_outcomes,
    summarise,
    with_rates,
)
from helix.predict.renewals import outcomes, renewals
from helix.warehouse import Warehouse, open_warehouse

RULES = ForecastRules()
AS_OF = date(2025, 1, 1)


def _sub(
    i: int, account: str, start: date, end: date | None, mrr: str, ce: date | None
) -> dict[str, Any]:
    return {
        "subscription_id": f"s{i}",
        "account_id": account,
        "product": "core",
        "plan": "pro",
        "start_date": start,
        "end_date": end,
        "mrr": Decimal(mrr),
        "quantity": None,
        "contract_end_date": ce,
    }


SUBS = [
    # renews on its contract end, and did
    _sub(1, "a", date(2024, 2, 1), date(2025, 2, 1), "100", date(2025, 2, 1)),
    _sub(2, "a", date(2025, 2, 1), None, "120", date(2026, 2, 1)),
    # churns at its contract end
    _sub(3, "b", date(2024, 3, 15), date(2025, 3, 15), "50", date(2025, 3, 15)),
    # no contract date: renews on the anniversary of its first paid day
    _sub(4, "c", date(2023, 6, 10), None, "10.5", None),
    # a contract end long past on a row still in force: rolls forward by years
    _sub(5, "d", date(2021, 1, 1), None, "200", date(2022, 4, 1)),
    # two lines co-termed, one with a later end
    _sub(6, "e", date(2024, 5, 1), None, "30", date(2025, 5, 1)),
    _sub(7, "e", date(2024, 8, 1), None, "20", date(2025, 8, 1)),
    # already gone on the forecast date
    _sub(8, "f", date(2023, 1, 1), date(2024, 6, 1), "70", date(2024, 6, 1)),
]


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    w = open_warehouse("duckdb://")
    load_rows(w, "subscriptions", SUBS)
    yield w
    w.close()


def test_renewals_from_contracts_anniversaries_and_evergreen_rows(wh: Warehouse) -> None:
    f = renewals(wh, [AS_OF])
    got = {r.account_id: (r.renewal_date, r.source, r.arr) for r in f.itertuples()}
    assert got == {
        "a": (date(2025, 2, 1), "contract", 1200.0),
        "b": (date(2025, 3, 15), "contract", 600.0),
        "c": (date(2025, 6, 10), "inferred", 126.0),
        "d": (date(2025, 4, 1), "contract", 2400.0),
        "e": (date(2025, 5, 1), "contract", 600.0),
    }


def test_renewals_in_a_fixed_window_and_a_short_horizon(wh: Warehouse) -> None:
    f = renewals(wh, [AS_OF], start=date(2025, 3, 1), end=date(2025, 4, 30))
    assert sorted(f["account_id"]) == ["b", "d"]
    g = renewals(wh, [AS_OF, date(2024, 1, 1)], horizon_days=60)
    # nothing renews within 60 days of 2024-01-01 (d's rolled-forward end is 91 days away)
    by_date = g.groupby("forecast_date")["account_id"].apply(sorted).to_dict()
    assert by_date == {AS_OF: ["a"]}


def test_outcomes_use_the_grace_period(wh: Warehouse) -> None:
    due = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "renewal_date": [date(2025, 2, 1), date(2025, 3, 15), date(2025, 6, 10)],
        }
    )
    got = outcomes(wh, due).set_index("account_id")
    assert got.loc["a", "renewed"] == 1 and got.loc["a", "actual_arr"] == 1440.0
    assert got.loc["b", "renewed"] == 0 and got.loc["b", "actual_arr"] == 0.0
    assert got.loc["c", "renewed"] == 1


@pytest.mark.parametrize(
    ("model", "colour", "bucket"),
    [
        (0.95, "green", "committed"),
        (0.95, "yellow", "likely"),  # yellow: at best likely
        (0.95, "red", "at_risk"),  # red: never committed without an override
        (0.75, None, "likely"),
        (0.5, "green", "at_risk"),
        (0.1, "green", "critical"),
        (None, "green", "likely"),
        (None, "yellow", "at_risk"),
        (None, "red", "critical"),
        (None, None, "at_risk"),
    ],
)
def test_bucket_rules(model: float | None, colour: str | None, bucket: str) -> None:
    assert bucket_for(model, colour, RULES) == bucket


def test_calibration_blends_the_prior_with_observed_outcomes() -> None:
    history = pd.DataFrame(
        {"bucket": ["likely"] * 30 + ["critical"] * 5, "renewed": [1] * 27 + [0] * 3 + [0] * 5}
    )
    rates = calibrated_rates(history, RULES)
    assert rates["committed"]["probability"] == pytest.approx(0.95)  # no history: the prior
    assert rates["likely"]["probability"] == pytest.approx((27 + 20 * 0.8) / (30 + 20))
    assert rates["critical"]["probability"] == pytest.approx((0 + 20 * 0.2) / 25)
    assert rates["likely"]["observed_rate"] == pytest.approx(0.9)


def test_summary_expected_arr_and_interval() -> None:
    f = pd.DataFrame(
        {"bucket": ["likely", "critical"], "arr": [1000.0, 500.0], "probability": [0.8, 0.2]}
    )
    f["expected_arr"] = f["arr"] * f["probability"]
    s = summarise(f)
    assert s["expected_arr"] == 900.0 and s["arr"] == 1500.0
    sd = math.sqrt(1000**2 * 0.16 + 500**2 * 0.16)
    assert s["interval_90"][0] == pytest.approx(900 - 1.6448536 * sd, abs=0.01)
    assert s["interval_90"][1] == pytest.approx(min(1500, 900 + 1.6448536 * sd), abs=0.01)
    assert s["buckets"]["likely"]["renewals"] == 1 and s["buckets"]["committed"]["renewals"] == 0


def test_override_sets_the_bucket_from_the_day_it_was_recorded(wh: Warehouse) -> None:
    o = Override("b", date(2025, 3, 15), "committed", "PO signed", "cli:me", datetime(2024, 12, 15))
    f = bucketed(wh, [date(2024, 12, 1), AS_OF], rules=RULES, overrides=[o], horizon_days=120)
    b = f[f["account_id"] == "b"].set_index("forecast_date")
    assert b.loc[date(2024, 12, 1), "bucket"] == "at_risk"  # before the override: no evidence
    assert b.loc[AS_OF, "bucket"] == "committed"
    assert b.loc[AS_OF, "override_reason"] == "PO signed"
    late = Override("b", date(2025, 3, 15), "critical", "lost", "cli:me", datetime(2026, 1, 1))
    live = bucketed(wh, [AS_OF], rules=RULES, overrides=[o, late], live=AS_OF, horizon_days=120)
    assert live.set_index("account_id").loc["b", "bucket"] == "critical"  # the latest stands


def test_accuracy_judges_the_forecast_made_before_the_renewal(wh: Warehouse) -> None:
    snaps = pd.DataFrame(
        {
            "forecast_date": [
                date(2024, 12, 1),
                date(2025, 1, 1),
                date(2025, 2, 20),
                date(2024, 12, 1),
            ],
            "account_id": ["a", "a", "a", "b"],
            "renewal_date": [date(2025, 2, 1)] * 3 + [date(2025, 3, 15)],
            "arr": [1200.0, 1200.0, 1200.0, 600.0],
            "bucket": ["at_risk", "likely", "committed", "likely"],
            "probability": [0.5, 0.8, 0.95, 0.8],
        }
    )
    judged = past_outcomes(wh, snaps, date(2025, 6, 1), RULES)
    # a: the 2025-01-01 snapshot is the latest made 30+ days before 2025-02-01
    assert judged.set_index("account_id").loc["a", "bucket"] == "likely"
    assert judged.set_index("account_id").loc["b", "renewed"] == 0
    acc = accuracy(judged)
    assert acc["overall"]["renewals"] == 2
    assert acc["overall"]["forecast_arr"] == 1200 * 0.8 + 600 * 0.8
    assert acc["overall"]["renewed_arr"] == 1200.0
    assert acc["overall"]["error_pct"] == round((1440 - 1200) / 1200 * 100, 2)
    assert acc["buckets"]["likely"]["actual_rate"] == 0.5
    assert [q["quarter"] for q in acc["quarters"]] == ["2025-Q1"]
    # outcomes not yet known are not judged
    assert past_outcomes(wh, snaps, date(2025, 3, 1), RULES)["account_id"].tolist() == []
    rated = with_rates(judged, calibrated_rates(judged, RULES))
    assert rated["probability"].tolist() == pytest.approx([(1 + 20 * 0.8) / 22] * 2)
    assert rated["expected_arr"].tolist() == pytest.approx(
        [1200 * 17 / 22, 600 * 17 / 22], abs=0.01
    )
