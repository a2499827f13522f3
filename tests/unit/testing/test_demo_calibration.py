"""The demo company looks like a real B2B SaaS business, and its churn follows the signals.

Bands are loose on purpose: 600 accounts (about 40 of them enterprise) are few, and
the point is that the generator stays near the brief's calibration targets and that
the causal effects are visible in the files, not that it hits exact figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helix.testing.demo import DemoSummary
from helix.testing.demo.calibration import measure

from .conftest import END


@pytest.fixture(scope="module")
def figures(company: tuple[Path, DemoSummary]) -> dict[str, Any]:
    return measure(company[0], END)


def test_segments_many_small_accounts_most_arr_at_the_top(
    company: tuple[Path, DemoSummary],
) -> None:
    summary = company[1]
    seg, arr = summary.segments, summary.arr_by_segment
    assert seg["SMB"] > 3 * seg["Mid-Market"] > 3 * seg["Enterprise"]
    assert arr["Enterprise"] > arr["SMB"]
    assert arr["Enterprise"] / sum(arr.values()) > 0.35


@pytest.mark.parametrize(
    ("tier", "grr", "nrr"),
    [
        ("smb", (0.6, 0.9), (0.7, 1.1)),
        ("mid_market", (0.7, 0.95), (0.8, 1.25)),
        ("enterprise", (0.8, 1.0), (0.9, 1.45)),
        ("all", (0.8, 0.97), (0.9, 1.25)),
    ],
)
def test_retention_by_segment_near_the_bands(
    figures: dict[str, Any], tier: str, grr: tuple[float, float], nrr: tuple[float, float]
) -> None:
    r = figures["retention"][tier]
    assert grr[0] <= r["grr"] <= grr[1], r
    assert nrr[0] <= r["nrr"] <= nrr[1], r
    assert r["grr"] <= 1.0


def test_smb_churns_more_than_enterprise(figures: dict[str, Any]) -> None:
    r = figures["retention"]
    # about 40 enterprise and 90 mid-market accounts: only the SMB gap is large enough to test
    assert r["smb"]["logo_churn"] > max(
        r["mid_market"]["logo_churn"], r["enterprise"]["logo_churn"]
    )
    assert r["smb"]["grr"] < min(r["mid_market"]["grr"], r["enterprise"]["grr"])


def test_churn_and_expansion_composition(figures: dict[str, Any]) -> None:
    churn = figures["churn"]["by_type"]
    share = churn["involuntary"] / (churn["involuntary"] + churn["voluntary"])
    assert 0.1 <= share <= 0.5
    mix = figures["expansion_mix"]
    assert set(mix) == {"seats", "tier", "cross_sell", "usage"}
    assert mix["seats"] == max(mix.values())
    assert figures["retention"]["all"]["contraction_share_of_lost_mrr"] > 0.05


def test_nps_is_plausible_for_b2b_software(figures: dict[str, Any]) -> None:
    nps = figures["nps"]
    assert nps["responses"] > 200
    assert 15 <= nps["nps"] <= 55


def test_time_to_value_spread(figures: dict[str, Any]) -> None:
    ttv = figures["ttv"]
    assert ttv["activated_days_p25"] < 60
    assert ttv["all_days_p75"] is None or ttv["all_days_p75"] > 180  # None: never activated
    assert 0.4 < ttv["activation_within_180d"] < 0.9


def test_churned_accounts_used_less_before_churn(figures: dict[str, Any]) -> None:
    usage = figures["causality"]["usage_before_churn"]
    assert usage["churned"]["accounts"] >= 20
    assert usage["churned"]["active_per_seat"] < usage["retained"]["active_per_seat"] - 0.05


def test_champion_leaving_without_backup_predicts_churn(figures: dict[str, Any]) -> None:
    c = figures["causality"]
    left = c["champion_left"]
    assert left["no_backup"]["departures"] >= 10
    assert left["no_backup"]["churn_180d"] > left["with_backup"]["churn_180d"] + 0.1
    assert left["no_backup"]["churn_180d"] > 1.5 * c["baseline_churn_180d"]


def test_detractors_churn_more_than_promoters(figures: dict[str, Any]) -> None:
    nps = figures["causality"]["nps_then_churn"]
    assert nps["detractor"]["churn_180d"] > 2 * nps["promoter"]["churn_180d"]


def test_slow_time_to_value_churns_more(figures: dict[str, Any]) -> None:
    ttv = figures["causality"]["ttv_then_churn"]
    assert ttv["slow_or_never"]["churned_by_end"] > ttv["fast"]["churned_by_end"]


def test_accounts_near_their_seat_limit_expand_more(figures: dict[str, Any]) -> None:
    seats = figures["causality"]["seat_limit_then_expansion"]
    assert seats["near_limit"]["added_seats_12m"] > seats["below"]["added_seats_12m"] + 0.05
