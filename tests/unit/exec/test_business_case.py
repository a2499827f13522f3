"""The business case against seed 001's worked example, computed by hand.

Seed 001, pillar 3: "$50M ARR: retention improvement 5 points (90% -> 95% GRR) = $2.5M
preserved ARR; expansion 10 points (10% -> 20% of growth) = $1M+; cost reduction 20%
through automation = $500K-$1M; three-year NPV $15M-$25M on $5M-$8M investment."

Hand computation with growth $10M/yr, CS cost $5M, 10% discount rate, $5M up front and
$1M a year (an $8M investment over three years):

    ARR at 90%: 50, 45, 40.5, 36.45        ARR at 95%: 50, 47.5, 45.125, 42.86875
    retention value:  2.5, 4.625, 6.41875  (M)
    expansion value:  1, 1*0.95 + 1 = 1.95, 1.95*0.95 + 1 = 2.8525
    efficiency:       1, 1, 1              (20% of 5M)
    benefits:         4.5, 7.575, 10.27125
    PV benefits = 4.5/1.1 + 7.575/1.21 + 10.27125/1.331 = 18,068,181.82
    PV costs    = 5 + 1/1.1 + 1/1.21 + 1/1.331          =  7,486,851.99
    NPV = 10,581,329.83; ROI = NPV / PV costs = 1.413322
    cumulative net: -5, -1.5, +5.075 -> payback 1 + 1.5 / 6.575 = 1.228137 years
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from helix.errors import UserError
from helix.exec.business_case import CaseInputs, business_case, inputs_from_data

SEED = dict(arr=50_000_000, grr_base=0.90, grr_target=0.95, growth_arr=10_000_000,
            expansion_share_base=0.10, expansion_share_target=0.20, cs_cost=5_000_000,
            efficiency_gain=0.20, discount_rate=0.10)


def test_five_points_of_grr_on_50m_keep_2_5m_in_year_one() -> None:
    case = business_case(CaseInputs(**SEED))
    assert case.first_year_arr_kept == Decimal("2500000")
    year1 = case.to_dict()["table"][1]
    assert (year1["retention"], year1["expansion"], year1["efficiency"]) == (
        2_500_000.0, 1_000_000.0, 1_000_000.0)
    low = business_case(CaseInputs(**{**SEED, "cs_cost": 2_500_000})).to_dict()["table"][1]
    assert low["efficiency"] == 500_000.0  # the seed's $500K-$1M range


def test_three_year_npv_roi_and_payback_by_hand() -> None:
    d = business_case(CaseInputs(**SEED, investment_upfront=5_000_000,
                                 investment_annual=1_000_000)).to_dict()
    assert [r["retention"] for r in d["table"][1:]] == [2_500_000.0, 4_625_000.0, 6_418_750.0]
    assert [r["expansion"] for r in d["table"][1:]] == [1_000_000.0, 1_950_000.0, 2_852_500.0]
    assert [r["benefit"] for r in d["table"][1:]] == [4_500_000.0, 7_575_000.0, 10_271_250.0]
    assert d["pv_benefits"] == 18_068_181.82
    assert d["pv_costs"] == 7_486_851.99
    assert d["npv"] == 10_581_329.83
    assert d["roi"] == pytest.approx(1.413322, abs=1e-6)
    assert d["payback_years"] == pytest.approx(1 + 1.5 / 6.575, abs=1e-4)
    # the seed's ranges: NPV of benefits $15M-$25M on $5M-$8M, ROI within 91-213%
    assert 15e6 <= d["pv_benefits"] <= 25e6 and 0.91 <= d["roi"] <= 2.13


def test_roi_needs_an_investment_and_may_not_pay_back() -> None:
    d = business_case(CaseInputs(**SEED)).to_dict()
    assert d["roi"] is None and d["payback_years"] is None and d["notes"]
    never = business_case(CaseInputs(**SEED, investment_upfront=100_000_000)).to_dict()
    assert never["payback_years"] is None
    assert "does not pay back" in never["notes"][0]


def test_inputs_from_data_defaults_and_what_ifs() -> None:
    i = inputs_from_data(arr=Decimal("50000000"), grr=0.90, expansion_mrr=Decimal("83333.33"),
                         new_mrr=Decimal("750000"), csm_cost=Decimal("150000"),
                         csm_headcount=20, discount_rate=None)
    assert i.grr_target == Decimal("0.95")  # +5 points by default
    assert i.cs_cost == Decimal("3000000") and i.sources["cs_cost"] == "settings"
    assert i.discount_rate == Decimal("0.10") and i.sources["discount_rate"] == "default"
    assert i.growth_arr == (Decimal("83333.33") + Decimal("750000")) * 12
    w = inputs_from_data(arr=None, grr=None, expansion_mrr=None, new_mrr=None, csm_cost=None,
                         csm_headcount=None, discount_rate=None,
                         what_if={"arr": 1_000_000, "grr_base": 0.99, "growth_arr": 0,
                                  "expansion_share_base": 0})
    assert w.grr_target == Decimal("0.99")  # capped
    assert w.sources["arr"] == "what-if" and w.sources["cs_cost"] == "missing"
    with pytest.raises(UserError, match="cannot measure arr"):
        inputs_from_data(arr=None, grr=0.9, expansion_mrr=None, new_mrr=None, csm_cost=None,
                         csm_headcount=None, discount_rate=None)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(UserError):
        CaseInputs(**{**SEED, "grr_target": 1.2})
    with pytest.raises(UserError):
        CaseInputs(**{**SEED, "arr": -1})
