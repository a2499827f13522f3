"""Benchmark placements: the seeds' bands and quartiles, boundaries included.

Seed 002, chapter 4, "What Good Looks Like":
    TIER          Gross Retention  Net Retention
    BEST IN CLASS > 95%            > 120%
    STRONG        90-95%           110-120%
    ACCEPTABLE    85-90%           100-110%
    WARNING ZONE  < 85%            < 100%
Seed 003, "Industry Performance Benchmarks" (bottom / average / above average / top):
    NRR <95% / 95-105% / 105-115% / >115%;  GRR <85% / 85-92% / 92-95% / >95%;
    expansion as % of growth <10% / 10-20% / 20-35% / >35%;
    CSM:customer enterprise >1:30 / 1:20-30 / 1:15-20 / <1:15;
    mid-market >1:70 / 1:50-70 / 1:40-50 / <1:40;
    cost-to-serve >15% / 10-15% / 7-10% / <7%; time-to-value >180 / 90-180 / 60-90 / <60 days.
"""

from __future__ import annotations

from datetime import date

import pytest

from helix.metrics import EconomicsInputs, benchmark, place
from helix.warehouse import Warehouse

from .helpers import load, sub


@pytest.mark.parametrize(
    "metric, kind, value, level",
    [
        ("grr", "band", 0.96, "best_in_class"),
        ("grr", "band", 0.95, "strong"),
        ("grr", "band", 0.90, "strong"),
        ("grr", "band", 0.8999, "acceptable"),
        ("grr", "band", 0.85, "acceptable"),
        ("grr", "band", 0.84, "warning_zone"),
        ("nrr", "band", 1.21, "best_in_class"),
        ("nrr", "band", 1.20, "strong"),
        ("nrr", "band", 1.00, "acceptable"),
        ("nrr", "band", 0.99, "warning_zone"),
        ("nrr", "quartile", 1.16, "top_quartile"),
        ("nrr", "quartile", 1.05, "above_average"),
        ("nrr", "quartile", 0.95, "average"),
        ("nrr", "quartile", 0.94, "bottom_quartile"),
        ("grr", "quartile", 0.93, "above_average"),
        ("grr", "quartile", 0.90, "average"),
        ("expansion_share", "quartile", 0.40, "top_quartile"),
        ("expansion_share", "quartile", 0.05, "bottom_quartile"),
        ("accounts_per_csm_enterprise", "quartile", 12, "top_quartile"),
        ("accounts_per_csm_enterprise", "quartile", 15, "above_average"),
        ("accounts_per_csm_enterprise", "quartile", 25, "average"),
        ("accounts_per_csm_enterprise", "quartile", 31, "bottom_quartile"),
        ("accounts_per_csm_mid_market", "quartile", 45, "above_average"),
        ("accounts_per_csm_mid_market", "quartile", 71, "bottom_quartile"),
        ("cost_to_serve", "quartile", 0.065, "top_quartile"),
        ("cost_to_serve", "quartile", 0.07, "above_average"),
        ("cost_to_serve", "quartile", 0.12, "average"),
        ("cost_to_serve", "quartile", 0.151, "bottom_quartile"),
        ("time_to_value_days", "quartile", 59, "top_quartile"),
        ("time_to_value_days", "quartile", 200, "bottom_quartile"),
    ],
)
def test_placement(metric: str, kind: str, value: float, level: str) -> None:
    p = place(metric, kind, value)
    assert p.level == level
    assert p.range == p.levels[level]
    assert p.source.startswith("seed 00")


def test_unmeasured_values_are_placed_nowhere() -> None:
    p = place("cost_to_serve", "quartile", None, "needs settings")
    assert (p.level, p.range, p.note) == (None, None, "needs settings")


def test_benchmark_document(wh: Warehouse) -> None:
    old = date(2023, 1, 1)
    load(
        wh,
        [
            sub("a", old, None, 1000),
            sub("b", old, date(2024, 6, 1), 100),
            sub("a", date(2024, 4, 1), None, 200, product="addon"),
            sub("n", date(2024, 5, 1), None, 300),
        ],
        accounts={"a": {"owner_email": "x@v.io"}},
    )
    doc = benchmark(wh, date(2025, 1, 1), EconomicsInputs(csm_cost=50000, csm_headcount=1))
    by = {(p["metric"], p["kind"]): p for p in doc["placements"]}
    # 2024: start 1,100; churn 100; expansion 200; new 300
    assert by[("grr", "band")]["value"] == pytest.approx(1000 / 1100)
    assert by[("grr", "band")]["level"] == "strong"
    assert by[("nrr", "band")]["level"] == "acceptable"  # 1200 / 1100 = 109%
    assert by[("expansion_share", "quartile")]["value"] == pytest.approx(200 / 500)
    assert by[("cost_to_serve", "quartile")]["value"] == pytest.approx(50000 / 18000)
    assert by[("accounts_per_csm_enterprise", "quartile")]["level"] is None
    assert (
        by[("time_to_value_days", "quartile")]["note"] == "time-to-value is measured by onboarding"
    )
