"""CLTV three ways, LTV:CAC, ARR by segment and tier, cost-to-serve, CSM ratios, by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import ibis
import pytest

from helix.errors import UserError
from helix.metrics import EconomicsInputs, churn_cltv, discounted_cltv, unit_economics
from helix.metrics.unit_economics import tier_of
from helix.pipeline import account_summary
from helix.warehouse import Warehouse

from .helpers import load, sub

D = date
AS_OF = D(2025, 1, 1)
INPUTS = EconomicsInputs(
    gross_margin=Decimal("0.8"),
    cac=Decimal("10000"),
    csm_cost=Decimal("150000"),
    csm_headcount=2,
    discount_rate=Decimal("0.1"),
)


@pytest.fixture
def company(wh: Warehouse) -> Warehouse:
    """a 1,000/mo, b 500/mo (churns 1 Jun 2024), c 2,500/mo, d 10,000/mo, e 250/mo from 1 Mar."""
    old = D(2023, 1, 1)
    load(
        wh,
        [
            sub("a", old, None, 1000),
            sub("b", old, D(2024, 6, 1), 500),
            sub("c", old, None, 2500),
            sub("d", old, None, 10000),
            sub("e", D(2024, 3, 1), None, 250),
        ],
        accounts={
            "a": {"segment": "ent", "owner_email": "x@v.io"},
            "b": {"segment": "smb"},
            "c": {"segment": "ent", "owner_email": "y@v.io"},
            "d": {"segment": "ent", "owner_email": "x@v.io"},
            "e": {"segment": "smb", "owner_email": "z@v.io"},
        },
    )
    return wh


def test_unit_economics_by_hand(company: Warehouse) -> None:
    ue = unit_economics(company, AS_OF, INPUTS)
    # active on 1 Jan 2025: a, c, d, e; MRR 13,750; ARR 165,000; per account 41,250
    assert (ue.accounts, ue.mrr, ue.arr, ue.arpa) == (
        4,
        Decimal("13750.00"),
        Decimal("165000.00"),
        Decimal("41250.00"),
    )
    # 2024 cohort a, b, c, d: one churned
    assert ue.churn_rate == 0.25
    # exposure: a, c, d 12 month-starts each, b 5 (Jan-May), e 10 (Mar-Dec) = 51; 1 churn
    assert ue.lifespan_years == pytest.approx(51 / 12)
    assert ue.lifespan_source == "measured"
    assert ue.cltv == {
        "simple": Decimal("140250.00"),  # 41,250 x 4.25 x 0.8
        "churn_based": Decimal("132000.00"),  # 41,250 x 0.8 / 0.25
        "discounted": Decimal("94285.71"),  # 41,250 x 0.8 / (0.1 + 0.25)
    }
    assert ue.ltv_cac == {
        "simple": pytest.approx(14.025),
        "churn_based": pytest.approx(13.2),
        "discounted": pytest.approx(9.428571),
    }
    assert ue.cost_to_serve == pytest.approx(300000 / 165000)
    assert ue.arr_by_segment == {"ent": Decimal("162000.00"), "smb": Decimal("3000.00")}
    assert ue.arr_by_tier == {
        "enterprise": Decimal("120000.00"),
        "mid_market": Decimal("30000.00"),
        "smb": Decimal("15000.00"),
    }
    ent = ue.csm_ratios["by_segment"]["ent"]
    assert (ent["accounts"], ent["csms"], ent["accounts_per_csm"], ent["arr_per_csm"]) == (
        3,
        2,
        1.5,
        Decimal("81000.00"),
    )
    assert ue.csm_ratios["overall"] == {
        "csm_headcount": 2,
        "accounts_per_csm": 2.0,
        "arr_per_csm": Decimal("82500.00"),
    }
    assert ue.retention.grr == pytest.approx(13500 / 14000)
    assert ue.notes == []
    doc = ue.to_dict()
    assert doc["cltv"]["churn_based"] == Decimal("132000.00") and doc["grr"] == ue.retention.grr


def test_missing_inputs_leave_figures_empty_with_notes(company: Warehouse) -> None:
    ue = unit_economics(company, AS_OF, EconomicsInputs())
    assert ue.cltv == {"simple": None, "churn_based": None, "discounted": None}
    assert ue.ltv_cac == {"simple": None, "churn_based": None, "discounted": None}
    assert ue.cost_to_serve is None
    assert any("economics.gross_margin" in n for n in ue.notes)
    assert any("economics.cac" in n for n in ue.notes)
    assert any("economics.csm_cost" in n for n in ue.notes)


def test_lifespan_override_and_short_window(company: Warehouse) -> None:
    ue = unit_economics(company, AS_OF, INPUTS.overridden(lifespan_years=3), months=6)
    assert ue.lifespan_source == "input" and ue.cltv["simple"] == Decimal("99000.00")
    assert ue.churn_rate == 0.0  # nobody in the July cohort left
    assert ue.cltv["churn_based"] is None
    assert any("unbounded" in n for n in ue.notes)
    # annualising a half-year churn: 1 - (1 - 0.25) ** 2
    half = unit_economics(company, D(2024, 7, 1), INPUTS, months=6)
    assert half.churn_rate == pytest.approx(1 - 0.75**2)


def test_formulas() -> None:
    arpa, m, c = Decimal("12000"), Decimal("0.75"), Decimal("0.1")
    assert discounted_cltv(arpa, m, c, Decimal(0)) == churn_cltv(arpa, m, c)
    d = Decimal("0.08")
    series = sum(arpa * m * (1 - c) ** (t - 1) / (1 + d) ** t for t in range(1, 1500))
    assert discounted_cltv(arpa, m, c, d) == series.quantize(Decimal("0.01"))
    assert churn_cltv(arpa, m, Decimal(0)) is None


def test_inputs_are_validated() -> None:
    with pytest.raises(UserError):
        EconomicsInputs(gross_margin=75)
    with pytest.raises(UserError):
        EconomicsInputs(discount_rate=-0.1)
    with pytest.raises(UserError):
        EconomicsInputs(csm_headcount=2.5)  # type: ignore[arg-type]
    with pytest.raises(UserError):
        EconomicsInputs(cac="lots")  # type: ignore[arg-type]
    stored = EconomicsInputs.from_settings({"economics.gross_margin": 0.7, "economics.cac": 900})
    assert (stored.gross_margin, stored.cac) == (Decimal("0.7"), Decimal("900"))
    assert stored.overridden(cac=1000, gross_margin=None).cac == Decimal("1000")


def test_tiers_agree_with_the_account_summary_stage() -> None:
    con = ibis.duckdb.connect()
    for arr in ("24999.99", "25000", "99999.99", "100000", "100000.01"):
        value = ibis.literal(Decimal(arr), type="decimal(20, 6)")
        assert con.execute(tier_of(value)) == con.execute(account_summary.tier_of(value)), arr
