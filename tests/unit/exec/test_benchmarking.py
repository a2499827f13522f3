"""The gap to the next level, in dollars, on hand-made unit economics.

Window: starting MRR 100,000 (ARR 1.2M), churn 5,000, contraction 5,000, expansion 8,000,
new 32,000 -> GRR 0.90, NRR 0.98, expansion share 8 / 40 = 0.20.

* NRR 0.98 is average (95-105%): next 1.05, gap 0.07 x 1.2M = 84,000.
* GRR 0.90 is average (85-92%): next 0.92, gap 0.02 x 1.2M = 24,000.
* expansion share 0.20 is above average: 35% needs E* = 0.35 x 32,000 / 0.65 = 17,230.77,
  gap (17,230.77 - 8,000) x 12 = 110,769.23.
* cost-to-serve 0.12 is average: next 0.10, gap 0.02 x ARR 1.5M = 30,000.
* enterprise 50 accounts / 2 CSMs = 25 (average): 20 needs ceil(50/20) - 2 = 1 CSM = 150,000.
* mid-market 80 / 2 = 40: "< 40" is strict, so 40 is above average and needs 1 more CSM.
* time-to-value 100 days is average: 10 days to cut, no dollars.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from helix.exec.benchmarking import benchmark_gaps, next_level
from helix.metrics.retention import RetentionWindow
from helix.metrics.unit_economics import EconomicsInputs, UnitEconomics


def _econ() -> UnitEconomics:
    w = RetentionWindow(start=date(2023, 7, 1), end=date(2024, 7, 1), accounts_start=100,
                        accounts_churned=5, start_mrr=Decimal(100_000), churned_mrr=Decimal(5_000),
                        contraction_mrr=Decimal(5_000), expansion_mrr=Decimal(8_000),
                        end_mrr=Decimal(98_000), new_logo_mrr=Decimal(32_000),
                        reactivation_mrr=Decimal(0))
    tiers = {"enterprise": {"accounts": 50, "csms": 2, "accounts_per_csm": 25.0},
             "mid_market": {"accounts": 80, "csms": 2, "accounts_per_csm": 40.0},
             "smb": {"accounts": 900, "csms": 1, "accounts_per_csm": 900.0}}
    return UnitEconomics(
        as_of=date(2024, 7, 1), window_start=date(2023, 7, 1),
        inputs=EconomicsInputs(csm_cost=150_000, csm_headcount=6), accounts=1030,
        mrr=Decimal(125_000), arr=Decimal(1_500_000), arpa=None, churn_rate=None,
        lifespan_years=None, lifespan_source="input", cltv={}, ltv_cac={}, cost_to_serve=0.12,
        arr_by_segment={}, arr_by_tier={}, csm_ratios={"by_tier": tiers, "by_segment": {}},
        retention=w)


def _rows() -> dict[tuple[str, str], dict]:
    doc = benchmark_gaps(_econ(), ttv={"median_days": 100.0, "accounts": 12})
    return {(r["metric"], r["kind"]): r for r in doc["placements"]}


def test_retention_gaps_in_dollars() -> None:
    rows = _rows()
    nrr, grr = rows[("nrr", "quartile")], rows[("grr", "quartile")]
    assert (nrr["level"], nrr["next_level"], nrr["gap_dollars"]) == ("average", "above_average",
                                                                     84_000.0)
    assert (grr["level"], grr["next_level"], grr["gap_dollars"]) == ("average", "above_average",
                                                                     24_000.0)
    # GRR 0.90 is *strong* on the seed 002 bands (90-95%): the next band is best in class
    # (> 95%), reached at 95%: 0.05 x 1.2M = 60,000
    band = rows[("grr", "band")]
    assert (band["level"], band["next_level"], band["gap_dollars"]) == (
        "strong", "best_in_class", 60_000.0)


def test_expansion_cost_ratio_and_ttv_gaps() -> None:
    rows = _rows()
    exp = rows[("expansion_share", "quartile")]
    assert exp["level"] == "above_average"
    assert exp["gap_dollars"] == pytest.approx((0.35 * 32_000 / 0.65 - 8_000) * 12, abs=0.01)
    assert rows[("cost_to_serve", "quartile")]["gap_dollars"] == 30_000.0
    ent = rows[("accounts_per_csm_enterprise", "quartile")]
    assert (ent["level"], ent["gap_dollars"]) == ("average", 150_000.0)
    mid = rows[("accounts_per_csm_mid_market", "quartile")]
    assert (mid["level"], mid["next_level"], mid["gap_dollars"]) == (
        "above_average", "top_quartile", 150_000.0)
    ttv = rows[("time_to_value_days", "quartile")]
    assert (ttv["gap"], ttv["gap_dollars"]) == (10.0, None)


def test_top_quartile_has_no_next_level() -> None:
    assert next_level("nrr", "quartile", 1.2) is None
    assert next_level("nrr", "quartile", 1.10) == ("top_quartile", 1.15)
    assert next_level("cost_to_serve", "quartile", 0.2) == ("average", 0.15)
