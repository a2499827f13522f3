"""The two risks to flag, chosen on a crafted case, and the plans attached to them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from helix.config import Settings
from helix.platform import Platform
from helix.reports.board import choose_risks
from helix.reports.plans import Plan, plans_for
from helix.store.models import Enrolment, Task, TaskStatus


def _renewal(account: str, arr: float, bucket: str, segment: str = "SMB") -> dict:
    return {
        "account_id": account,
        "name": account.upper(),
        "arr": arr,
        "bucket": bucket,
        "segment": segment,
        "renewal_date": "2025-11-01",
        "probability": 0.5,
        "health_score": 40.0,
        "color": "red",
        "owner_email": "csm@x.io",
    }


def _segment(name: str, nrr: float, prior: float, start_mrr: str) -> dict:
    return {
        "segment": name,
        "nrr": nrr,
        "prior_nrr": prior,
        "nrr_change": nrr - prior,
        "start_mrr": Decimal(start_mrr),
        "accounts_start": 3,
        "grr": nrr,
        "prior_grr": prior,
    }


RENEWALS = [
    _renewal("big-likely", 900_000, "likely"),  # not at risk: never a risk
    _renewal("a", 50_000, "at_risk"),
    _renewal("b", 120_000, "critical", "Enterprise"),
    _renewal("c", 10_000, "at_risk"),
]


def test_the_largest_at_risk_renewals_and_the_costliest_segment_fall() -> None:
    segments = [
        _segment("SMB", 0.90, 1.00, "10000.00"),  # -10 pts x 10k x 12 = 12,000 ARR
        _segment("Enterprise", 0.95, 1.00, "200000.00"),  # -5 pts x 200k x 12 = 120,000 ARR
        _segment("Mid", 1.05, 1.00, "50000.00"),  # rising: not a risk
    ]
    risks = choose_risks(RENEWALS, segments, {})
    # Enterprise's fall (120,000.00) ties with renewal b (120,000.00): the renewal comes first
    assert [r["kind"] for r in risks] == ["renewal", "segment"]
    assert risks[0]["account_id"] == "b" and risks[0]["arr_at_stake"] == Decimal("120000.00")
    assert risks[1]["segment"] == "Enterprise" and risks[1]["arr_at_stake"] == Decimal("120000.00")
    assert "NRR fell 5.0 pts to 95.0% (from 100.0%)" in risks[1]["title"]
    assert risks[1]["plan"]["at_risk_accounts"] == ["b"]


def test_two_renewals_when_no_segment_falls_far_enough() -> None:
    risks = choose_risks(RENEWALS, [_segment("SMB", 0.99, 1.00, "1000.00")], {})
    assert [r.get("account_id") for r in risks] == ["b", "a"]
    assert all(not r["plan"]["exists"] for r in risks)
    assert risks[0]["plan"]["summary"].startswith("No plan recorded")


def test_no_candidates_no_risks() -> None:
    assert (
        choose_risks([_renewal("x", 1000, "likely")], [_segment("S", 1.1, 1.0, "10.00")], {}) == []
    )


def test_plans_come_from_open_tasks_and_save_plays(home: Path) -> None:
    as_of = date(2025, 10, 1)
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        s.add(
            Task(
                account_id="a",
                title="Save plan for A",
                owner_email="csm@x.io",
                due_date=date(2025, 10, 3),
                status=TaskStatus.OPEN,
                created_by="test",
            )
        )
        s.add(
            Task(
                account_id="c",
                title="Done already",
                owner_email="csm@x.io",
                due_date=date(2025, 9, 3),
                status=TaskStatus.DONE,
                created_by="test",
            )
        )
        for account, playbook, day in [
            ("b", "health-red", as_of - timedelta(days=10)),
            ("c", "welcome", as_of - timedelta(days=5)),  # not a save play
            ("c", "renewal-30", as_of - timedelta(days=400)),
        ]:  # too old
            s.add(
                Enrolment(
                    playbook=playbook,
                    playbook_version=1,
                    account_id=account,
                    occurrence_key=f"{account}-{playbook}",
                    occurred_on=day,
                )
            )
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        plans = plans_for(s, ["a", "b", "c"], as_of)
    assert plans["a"].summary() == "Plan: Save plan for A, csm@x.io, due 2025-10-03"
    assert plans["b"].summary() == "Plan: save play 'health-red' running since 2025-09-21"
    assert not plans["c"].exists
    risks = choose_risks(RENEWALS, [], plans)
    assert risks[0]["plan"]["summary"].startswith("Plan: save play 'health-red'")
    assert risks[1]["plan"]["tasks"][0]["title"] == "Save plan for A"
    seg = choose_risks(RENEWALS, [_segment("SMB", 0.5, 1.0, "100000.00")], plans)
    smb = next(r for r in seg if r["kind"] == "segment")
    assert smb["plan"]["summary"] == "Plans on 1 of the segment's 2 at-risk renewals next quarter"


def test_an_empty_plan_object() -> None:
    assert Plan("x", [], []).to_dict()["exists"] is False

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
