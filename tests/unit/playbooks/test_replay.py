"""Replaying the engine over past dates on a crafted history: the same enrolments as runs
made on those days, tasks closed as a team would have closed them, filters that read the
ARR of the replayed day, exactly once on a second replay, and each account counted once
by impact."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from helix.playbooks.engine import SALT_KEY, account_facts, trigger_occurrences
from helix.playbooks.impact import first_per_account, impact
from helix.playbooks.replay import (
    DONE_AFTER_DAYS,
    WindowCache,
    close_past_tasks,
    replay_dates,
    replay_history,
)
from helix.playbooks.service import run_playbooks
from helix.store import Role, create_user, get_user_by_email
from helix.store.models import Enrolment, Notification, Task, TaskStatus
from helix.store.settings import set_setting

from .conftest import AS_OF, Home, account, days, turned
from .test_engine import RED, only

START = AS_OF - timedelta(days=60)

MONTHLY = {
    "name": "monthly", "title": "Monthly", "trigger": {"type": "schedule"},
    "filter": {"touch": ["tech"]}, "cooldown_days": 25, "holdout": 0.5,
    "goal": {"metric": "retention", "window_days": 5},
    "actions": [{"type": "task", "title": "Tips for {account_name}", "message": "{evidence}",
                 "due_days": 3}],
}


def _signals(home: Home, rows: dict[str, list[tuple[date, float]]]) -> None:
    """Daily ``account_signals`` rows (account: [(day, mrr)])."""
    home.put("account_signals", [
        {"account_id": a, "score_date": d, "mrr": mrr} for a, seq in rows.items() for d, mrr in seq
    ])


def test_replay_dates() -> None:
    assert replay_dates(date(2026, 1, 1), date(2026, 1, 20), 7) == [
        date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 15), date(2026, 1, 20)]
    assert replay_dates(date(2026, 1, 1), date(2026, 1, 1), 7) == [date(2026, 1, 1)]


def test_a_past_decision_reads_that_days_arr(home: Home) -> None:
    # A1 is tech touch today ($12k) but was low touch ($60k) until 30 days ago
    home.accounts([account(1, arr=12_000.0)])
    _signals(home, {"A1": [(d, 5_000.0 if d < AS_OF - timedelta(days=30) else 1_000.0)
                           for d in days(START, 61)]})
    with home.platform.store.session() as s:
        now = account_facts(home.platform.warehouse, s, {"A1"}, AS_OF)["A1"]
        then = account_facts(home.platform.warehouse, s, {"A1"}, AS_OF - timedelta(days=40))["A1"]
        gone = account_facts(home.platform.warehouse, s, {"A1"}, START - timedelta(days=90))["A1"]
    assert (now["arr"], now["touch_model"]) == (12_000.0, "tech")  # the summary's own date
    assert (then["arr"], then["touch_model"]) == (60_000.0, "low")
    assert (gone["arr"], gone["touch_model"]) == (0.0, "tech")  # no row within 31 days


def test_the_window_cache_gives_what_each_window_would(home: Home) -> None:
    home.accounts([account(1, arr=12_000.0), account(2, arr=6_000.0)])
    _signals(home, {"A1": [(d, 1_000.0) for d in days(START, 61)],
                    "A2": [(d, 500.0) for d in days(START + timedelta(days=20), 41)]})
    home.put("health_events", [turned("A1", START + timedelta(days=d)) for d in (3, 17, 40)])
    wh = home.platform.warehouse
    from helix.playbooks.definition import parse_playbook

    cache = WindowCache(START, AS_OF)
    for d in (MONTHLY, RED):
        pb = parse_playbook(d)
        for first in days(START, 61)[::9]:
            last = min(first + timedelta(days=6), AS_OF)
            key = lambda r: (r["account_id"], r["occurrence_key"])  # noqa: E731
            assert sorted(cache(wh, pb, first, last), key=key) == sorted(
                trigger_occurrences(wh, pb, first, last), key=key)
    # outside the cached window it asks the warehouse
    pb = parse_playbook(RED)
    assert cache(wh, pb, START - timedelta(days=5), START) == trigger_occurrences(
        wh, pb, START - timedelta(days=5), START)


def test_replay_enrols_as_the_days_runs_would_and_closes_past_tasks(home: Home) -> None:
    home.accounts([account(1, arr=12_000.0), account(2, arr=6_000.0), account(3)])
    _signals(home, {"A1": [(d, 1_000.0) for d in days(START, 61)],
                    "A2": [(d, 500.0) for d in days(START + timedelta(days=25), 36)],
                    "A3": [(d, 5_000.0) for d in days(START, 61)]})
    home.put("health_events", [turned("A3", START + timedelta(days=d)) for d in (3, 40)])
    only(home, MONTHLY, RED)
    out = replay_history(home.platform, START, AS_OF, every_days=7, actor="replay")
    assert out["runs"] == len(replay_dates(START, AS_OF, 7))
    with home.platform.store.session() as s:
        enrolled = sorted((e.playbook, e.account_id, e.occurred_on) for e in s.scalars(
            select(Enrolment)))
        tasks = list(s.scalars(select(Task)))
        notes = list(s.scalars(select(Notification)))
    # the 1st of February and of March for A1, of March only for A2 (a customer from 02-03);
    # A3 is low touch; A3 turned red twice, 37 days apart (cooldown 30)
    assert enrolled == sorted([
        ("monthly", "A1", date(2026, 2, 1)), ("monthly", "A1", date(2026, 3, 1)),
        ("monthly", "A2", date(2026, 3, 1)),
        ("red", "A3", START + timedelta(days=3)), ("red", "A3", START + timedelta(days=40)),
    ])
    assert out["enrolled"] + out["held_out"] == len(enrolled)
    # tasks were due on (decision day + due days); those due more than a week before a
    # later replayed day are closed, the rest are open
    for t in tasks:
        if t.due_date < AS_OF - timedelta(days=DONE_AFTER_DAYS + 7):
            assert t.status in (TaskStatus.DONE, TaskStatus.DISMISSED), t.title
            assert "replayed history" in t.outcome and t.closed_at.date() <= AS_OF
        if t.due_date >= AS_OF - timedelta(days=DONE_AFTER_DAYS):
            assert t.status == TaskStatus.OPEN
    assert any(t.status != TaskStatus.OPEN for t in tasks)
    assert any(n.read_at is not None for n in notes)
    # a second replay of the same days decides nothing new
    again = replay_history(home.platform, START, AS_OF, every_days=7, actor="replay")
    assert (again["enrolled"], again["held_out"]) == (0, 0)
    assert close_past_tasks(home.platform, AS_OF, actor="replay") >= 0


def test_a_replay_decides_what_runs_on_those_days_decide(home: Home, tmp_path) -> None:
    def build(h: Home) -> None:
        with h.platform.store.session() as s:
            set_setting(s, SALT_KEY, "one-organisation", "test")
            if get_user_by_email(s, "lead@x.io") is None:
                create_user(s, email="lead@x.io", name="Lead", role=Role.LEADER,
                            password="pw-123456789", actor="test")
        h.accounts([account(1, arr=12_000.0), account(3)])
        _signals(h, {"A1": [(d, 1_000.0) for d in days(START, 61)],
                     "A3": [(d, 5_000.0) for d in days(START, 61)]})
        h.put("health_events", [turned("A3", START + timedelta(days=d)) for d in (3, 12, 40)])
        only(h, MONTHLY, RED)

    build(home)
    replay_history(home.platform, START, AS_OF, every_days=7, actor="replay")
    from helix.config import Settings
    from helix.platform import Platform

    other = Platform(Settings.load(tmp_path / "other"))
    other.init()
    try:
        daily = Home(other, tmp_path / "other")
        build(daily)
        for day in replay_dates(START, AS_OF, 7):  # the ordinary engine, week by week
            run_playbooks(other, day, lookback_days=7)

        def decided(p) -> list[tuple]:
            with p.store.session() as s:
                return sorted((e.playbook, e.account_id, e.occurrence_key, e.held_out)
                              for e in s.scalars(select(Enrolment)))

        assert decided(home.platform) == decided(other)
    finally:
        other.close()


def test_impact_counts_each_account_once_with_its_first_mature_enrolment(home: Home) -> None:
    rows = [
        {"id": 3, "account_id": "A1", "occurred_on": date(2026, 2, 1), "held_out": False},
        {"id": 1, "account_id": "A1", "occurred_on": date(2026, 1, 1), "held_out": False},
        {"id": 2, "account_id": "A2", "occurred_on": date(2026, 1, 1), "held_out": True},
        {"id": 4, "account_id": "A1", "occurred_on": date(2026, 1, 1), "held_out": False},
    ]
    assert [r["id"] for r in first_per_account(rows)] == [1, 2]
    # on the engine's own enrolments: A1 enrolled twice counts once
    home.accounts([account(1, arr=12_000.0)])
    _signals(home, {"A1": [(d, 1_000.0) for d in days(START, 61)]})
    only(home, MONTHLY)
    replay_history(home.platform, START, AS_OF, every_days=7)
    with home.platform.store.session() as s:
        assert len(list(s.scalars(select(Enrolment)))) == 2
        report = impact(home.platform.warehouse, s, "monthly", AS_OF)
    assert report["unit"] == "account" and report["mature_enrolments"] == 2
    assert report["treated"]["n"] + report["held_out_group"]["n"] == 1
