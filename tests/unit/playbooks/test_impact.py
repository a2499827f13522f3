"""Treated against held out: the interval arithmetic against published examples, and the
goal read from the warehouse on crafted histories."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helix.playbooks.impact import goal_outcomes, impact, newcombe_difference, wilson
from helix.playbooks.service import run_playbooks
from helix.store.models import Enrolment, PlaybookStep, Task

from .conftest import AS_OF, Home, account, turned
from .test_engine import RED, only


def test_wilson_and_newcombe_match_newcombe_1998() -> None:
    # Newcombe (1998), Statistics in Medicine 17, 857-872: 81/263 -> 0.2553 .. 0.3662
    lo, hi = wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    # and the difference 56/70 - 48/80 = 0.2000 with method 10: 0.0524 .. 0.3339
    d, lo, hi = newcombe_difference(56, 70, 48, 80)
    assert (round(d, 4), round(lo, 4), round(hi, 4)) == (0.2, 0.0524, 0.3339)
    assert all(math.isnan(x) for x in newcombe_difference(1, 2, 0, 0))


@given(s1=st.integers(0, 60), extra1=st.integers(0, 60), s2=st.integers(0, 60),
       extra2=st.integers(0, 60))
@settings(max_examples=200, deadline=None)
def test_the_interval_holds_the_difference_and_stays_in_bounds(
    s1: int, extra1: int, s2: int, extra2: int
) -> None:
    n1, n2 = s1 + extra1, s2 + extra2
    if n1 == 0 or n2 == 0:
        return
    d, lo, hi = newcombe_difference(s1, n1, s2, n2)
    assert -1 - 1e-12 <= lo <= d <= hi <= 1 + 1e-12
    assert d == pytest.approx(s1 / n1 - s2 / n2)


def _signals(home: Home, rows: list[tuple[str, int, float | None, float | None]]) -> None:
    """(account, day offset from AS_OF, mrr, value_reached) rows of account_signals."""
    home.put("account_signals", [
        {"account_id": a, "score_date": AS_OF + timedelta(days=d), "mrr": m, "value_reached": v}
        for a, d, m, v in rows
    ])


def test_goals_read_on_the_last_day_of_the_window(home: Home) -> None:
    rows = [{"id": i, "account_id": f"A{i}", "occurred_on": AS_OF} for i in range(1, 5)]
    _signals(home, [
        ("A1", 0, 100.0, 0.0), ("A1", 30, 150.0, 1.0),  # expanded and activated
        ("A2", 0, 100.0, 0.0), ("A2", 30, 100.0, 0.0),  # retained, flat
        ("A3", 0, 100.0, 1.0),  # no row on day 30: churned
        ("A4", 0, 100.0, 0.0), ("A4", 29, 500.0, 1.0),  # the day before does not count
    ])
    wh = home.platform.warehouse
    assert goal_outcomes(wh, "retention", rows, 30) == {1: True, 2: True, 3: False, 4: False}
    assert goal_outcomes(wh, "expansion", rows, 30) == {1: True, 2: False, 3: False, 4: False}
    assert goal_outcomes(wh, "activation", rows, 30) == {1: True, 2: False, 3: False, 4: False}
    home.put("health_scores", [
        {"account_id": "A1", "score_date": AS_OF, "color": "red"},
        {"account_id": "A1", "score_date": AS_OF + timedelta(days=30), "color": "yellow"},
        {"account_id": "A2", "score_date": AS_OF, "color": "yellow"},
        {"account_id": "A2", "score_date": AS_OF + timedelta(days=30), "color": "yellow"},
        {"account_id": "A3", "score_date": AS_OF, "color": "red"},
    ])
    assert goal_outcomes(wh, "health_recovery", rows, 30) == {
        1: True, 2: False, 3: False, 4: False}


def test_impact_compares_treated_and_held_out_with_counts_and_funnel(home: Home) -> None:
    n = 400
    home.accounts([account(i) for i in range(n)])
    home.put("health_events", [turned(f"A{i}", AS_OF) for i in range(n)])
    only(home, RED | {"holdout": 0.5, "goal": {"metric": "retention", "window_days": 30},
                      "actions": RED["actions"][:1]})
    run_playbooks(home.platform, AS_OF)
    with home.platform.store.session() as s:
        held = {a for a, h in s.execute(select(Enrolment.account_id, Enrolment.held_out)) if h}
        first_task = s.scalars(select(Task)).first()
        from helix.playbooks.tasks import close_task

        close_task(s, first_task.id, "done", "called", actor="t")
    # everyone treated is retained; of the held out, those with an even number churn
    churned = {a for a in held if int(a[1:]) % 2 == 0}
    _signals(home, [(f"A{i}", 30, 100.0, None) for i in range(n) if f"A{i}" not in churned])
    with home.platform.store.session() as s:
        early = impact(home.platform.warehouse, s, "red", AS_OF + timedelta(days=29))
        assert early["mature_enrolments"] == 0 and early["uplift"] is None and early["note"]
        r = impact(home.platform.warehouse, s, "red", AS_OF + timedelta(days=30))
        steps = s.scalars(select(PlaybookStep)).all()
    treated_n = n - len(held)
    assert r["treated"] == {"n": treated_n, "met": treated_n, "rate": 1.0}
    ho = r["held_out_group"]
    assert ho["n"] == len(held) and ho["met"] == len(held) - len(churned)
    d, lo, hi = newcombe_difference(treated_n, treated_n, ho["met"], ho["n"])
    assert (r["uplift"], r["ci_low"], r["ci_high"]) == (round(d, 6), round(lo, 6), round(hi, 6))
    assert r["significant"] is True and r["goal"] == "retention" and r["window_days"] == 30
    f = r["funnel"]
    assert (f["triggered"], f["held_out"], f["treated"]) == (n, len(held), treated_n)
    assert f["actioned"] == f["completed"] == len(steps) == treated_n
    assert (f["tasks_done"], f["tasks_open"]) == (1, treated_n - 1)
