"""The shipped library on a generated company: every CSM gets an explainable task list,
and each play fired on accounts whose own history shows the trigger (checked against
the warehouse independently of the trigger code)."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helix.config import Settings
from helix.platform import Platform
from helix.playbooks.service import run_playbooks
from helix.store.models import Enrolment, PlaybookRecord, Task

from ...helpers import demo_home, once

# the same company as the health flow, built once per worker
pytestmark = pytest.mark.xdist_group("health_flow")

END = date(2025, 6, 1)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    built = once("health_flow", lambda: demo_home(
        tmp_path_factory.mktemp("health"), accounts=400, months=18, seed=5, end=END))
    home = tmp_path_factory.mktemp("playbooks") / "home"
    shutil.copytree(built, home)
    with Platform(Settings.load(home)) as p:
        report = run_playbooks(p, END, lookback_days=60)
    return home, report


def _signals(home: Path, columns: list[str]) -> dict[tuple[str, date], dict]:
    with Platform(Settings.load(home)) as p:
        t = p.warehouse.table("account_signals")
        rows = t.select("account_id", "score_date", *columns).filter(
            t.score_date >= END - timedelta(days=70)).to_pyarrow().to_pylist()
    return {(r["account_id"], r["score_date"]): r for r in rows}


def _enrolments(home: Path, playbook: str) -> list[Enrolment]:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        return list(s.scalars(select(Enrolment).where(Enrolment.playbook == playbook)))


def test_every_csm_has_an_explainable_task_list(ran: tuple[Path, dict]) -> None:
    home, report = ran
    with Platform(Settings.load(home)) as p:
        owners = set(p.warehouse.table("account_summary").filter(
            lambda t: t.active == 1).owner_email.to_pyarrow().to_pylist())
        with p.store.session() as s:
            tasks = list(s.scalars(select(Task)))
    by_owner = defaultdict(list)
    for t in tasks:
        by_owner[t.owner_email].append(t)
    assert owners and set(by_owner) >= {o.lower() for o in owners if o}
    for t in tasks:
        assert t.title and t.reason and any(ch.isdigit() for ch in t.reason), t.title
        assert t.due_date >= END and t.playbook
        assert t.evidence[0]["href"] == f"/accounts/{t.account_id}"
    fired = {d["playbook"] for d in report["playbooks"] if d["enrolled"]}
    assert fired >= {"health-yellow", "renewal-30", "renewal-60", "expansion-lead",
                     "usage-plateau", "tech-touch-monthly"}, fired


def test_renewal_plays_fired_when_the_renewal_crossed_their_horizon(ran) -> None:
    home, _ = ran
    sig = _signals(home, ["days_to_renewal"])
    for name, days in (("renewal-30", 30), ("renewal-60", 60), ("renewal-90", 90)):
        for e in _enrolments(home, name):
            today = sig[(e.account_id, e.occurred_on)]["days_to_renewal"]
            before = sig.get((e.account_id, e.occurred_on - timedelta(days=1)))
            assert 0 <= today <= days, (name, e.account_id)
            assert before is None or before["days_to_renewal"] > days
            renewal = e.occurred_on + timedelta(days=int(today))
            assert e.occurrence_key == f"{renewal.isoformat()}:{days}"


def test_risk_onboarding_and_expansion_plays_fired_on_the_right_accounts(ran) -> None:
    home, _ = ran
    with Platform(Settings.load(home)) as p:
        hs = p.warehouse.table("health_scores")
        colour = {(r["account_id"], r["score_date"]): r["color"] for r in hs.filter(
            hs.score_date >= END - timedelta(days=70)).select(
            "account_id", "score_date", "color").to_pyarrow().to_pylist()}
        leads = p.warehouse.table("expansion_leads").select(
            "account_id", "first_detected_on", "signal").to_pyarrow().to_pylist()
    for name, wanted in (("health-yellow", "yellow"), ("health-red", "red")):
        for e in _enrolments(home, name):
            assert colour[(e.account_id, e.occurred_on)] == wanted
            assert colour.get((e.account_id, e.occurred_on - timedelta(days=1))) != wanted
    sig = _signals(home, ["onboarding_stalled", "plateau"])
    for e in _enrolments(home, "onboarding-stall"):
        assert sig[(e.account_id, e.occurred_on)]["onboarding_stalled"] == 1
    for e in _enrolments(home, "usage-plateau"):
        assert sig[(e.account_id, e.occurred_on)]["plateau"] == 1
    lead_keys = {(r["account_id"], f"{r['signal']}:{r['first_detected_on']}") for r in leads}
    expansion = _enrolments(home, "expansion-lead")
    assert expansion and all((e.account_id, e.occurrence_key) in lead_keys for e in expansion)


def test_cooldowns_hold_and_a_rerun_changes_nothing(ran) -> None:
    home, _ = ran
    with Platform(Settings.load(home)) as p:
        again = run_playbooks(p, END)
        with p.store.session() as s:
            rows = s.execute(select(Enrolment.playbook, Enrolment.account_id,
                                    Enrolment.occurred_on)).all()
            cooldown = {r.name: r.definition["cooldown_days"]
                        for r in s.scalars(select(PlaybookRecord))}
    assert again["enrolled"] == again["held_out"] == 0
    seen: dict[tuple[str, str], list[date]] = defaultdict(list)
    for playbook, account_id, on in rows:
        seen[(playbook, account_id)].append(on)
    for (playbook, _), dates in seen.items():
        dates.sort()
        gaps = [(b - a).days for a, b in zip(dates, dates[1:], strict=False)]
        assert all(g >= cooldown[playbook] for g in gaps), playbook
