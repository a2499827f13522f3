"""The engine on crafted histories: tasks and notifications exactly once, filters,
cooldown, holdout, waits with ``unless``, and runs that repeat or overlap."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from helix.errors import UserError
from helix.playbooks.catalog import install_library, library, save_playbook
from helix.playbooks.definition import parse_playbook
from helix.playbooks.engine import LIBRARY_KEY, SALT_KEY, holdout_draw
from helix.playbooks.service import run_playbooks
from helix.playbooks.tasks import close_task, list_tasks, reassign_task
from helix.store.models import Enrolment, Notification, PlaybookStep, Task
from helix.store.settings import set_setting

from .conftest import AS_OF, Home, account, turned

RED = {
    "name": "red", "title": "Red", "trigger": {"type": "health_turned", "params": {"color": "red"}},
    "cooldown_days": 30,
    "actions": [
        {"type": "task", "title": "Save {account_name}", "message": "{evidence}",
         "priority": "urgent", "due_days": 2},
        {"type": "notify", "to": "leader", "message": "{account_name} is red"},
    ],
}


def only(home: Home, *definitions: dict[str, Any]) -> None:
    """Store exactly these playbooks (the shipped library is not installed)."""
    with home.platform.store.session() as s:
        set_setting(s, LIBRARY_KEY, True, "test")
        for d in definitions:
            save_playbook(s, parse_playbook(d), actor="test")


def count(home: Home, model: Any) -> int:
    with home.platform.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_health_red_creates_one_task_and_one_leader_notification(home: Home) -> None:
    home.accounts([account(1), account(2)])
    home.put("health_events", [turned("A1", AS_OF - timedelta(days=1), score=31.5)])
    only(home, RED)
    report = run_playbooks(home.platform, AS_OF)
    assert report["enrolled"] == 1 and report["steps"] == {"done": 2}
    with home.platform.store.session() as s:
        task = s.scalars(select(Task)).one()
        assert (task.account_id, task.owner_email, task.priority) == ("A1", "csm@x.io", "urgent")
        assert task.title == "Save Account 1"
        assert task.due_date == AS_OF + timedelta(days=2)
        assert "score 31.5" in task.reason
        note = s.scalars(select(Notification)).one()
        assert note.user_email == "lead@x.io" and note.message == "Account 1 is red"
    # the same day again, the next day, and a forced re-evaluation of the same window
    again = run_playbooks(home.platform, AS_OF)
    assert again["enrolled"] == 0 and again["steps"] == {}
    run_playbooks(home.platform, AS_OF + timedelta(days=1))
    with home.platform.store.session() as s:
        s.scalars(select(Enrolment)).one()  # still one
        from helix.store.models import PlaybookRecord

        s.get(PlaybookRecord, "red").evaluated_through = None
    redo = run_playbooks(home.platform, AS_OF)
    assert redo["playbooks"][0]["already_decided"] == 1 and redo["enrolled"] == 0
    assert count(home, Task) == 1 and count(home, Notification) == 1


def test_filter_and_cooldown(home: Home) -> None:
    home.accounts([account(1, arr=10_000.0), account(2), account(3, segment="smb")])
    home.put("health_events", [
        turned("A1", AS_OF - timedelta(days=3)),  # tech touch: filtered out
        turned("A2", AS_OF - timedelta(days=10)),
        turned("A2", AS_OF - timedelta(days=2)),  # 8 days later: in the 30-day cooldown
        turned("A3", AS_OF - timedelta(days=2)),  # segment smb: filtered out
    ])
    only(home, RED | {"filter": {"touch": ["high", "low"], "segments": ["mid"]}})
    d = run_playbooks(home.platform, AS_OF)["playbooks"][0]
    assert (d["occurrences"], d["filtered_out"], d["in_cooldown"], d["enrolled"]) == (4, 2, 1, 1)
    # 35 days after the enrolment (a skipped occurrence does not restart the cooldown)
    home.put("health_events", [turned("A2", AS_OF + timedelta(days=25))])
    d2 = run_playbooks(home.platform, AS_OF + timedelta(days=25))["playbooks"][0]
    assert (d2["occurrences"], d2["enrolled"]) == (1, 1)
    home.put("health_events", [turned("A2", AS_OF + timedelta(days=40))])  # 15 days later
    d3 = run_playbooks(home.platform, AS_OF + timedelta(days=40))["playbooks"][0]
    assert (d3["in_cooldown"], d3["enrolled"]) == (1, 0)


def test_holdout_is_stable_and_random(home: Home) -> None:
    n = 2000
    home.accounts([account(i) for i in range(n)])
    home.put("health_events", [turned(f"A{i}", AS_OF - timedelta(days=1)) for i in range(n)])
    only(home, RED | {"holdout": 0.1, "actions": RED["actions"][:1]})
    report = run_playbooks(home.platform, AS_OF)
    held = report["held_out"]
    # binomial(2000, 0.1): mean 200, sd 13.4; 4.5 sd either side fails one run in ~150,000
    assert 140 <= held <= 260
    with home.platform.store.session() as s:
        rows = s.execute(select(Enrolment.account_id, Enrolment.held_out,
                                Enrolment.holdout_draw)).all()
        salt = s.scalar(select(func.min(Enrolment.playbook)))  # any row: just to touch it
        assert salt == "red"
        from helix.store.settings import get_setting

        org_salt = get_setting(s, SALT_KEY)
        held_tasks = s.scalar(select(func.count()).select_from(Task).where(
            Task.account_id.in_([a for a, h, _ in rows if h])))
    assert held_tasks == 0 and count(home, Task) == n - held
    # the draw is a pure function of (organisation, playbook, account): stable on every run
    assert all(holdout_draw(org_salt, "red", a) == draw for a, _, draw in rows)
    assert all(h == (draw < 0.1) for _, h, draw in rows)
    # and another playbook draws independently
    other = [holdout_draw(org_salt, "other", a) < 0.1 for a, _, _ in rows]
    both = sum(o and h for o, (_, h, _) in zip(other, rows, strict=True))
    assert both < 60  # independent: about 2000 x 0.1 x 0.1 = 20


def test_wait_then_task_unless_the_customer_replied(home: Home) -> None:
    home.accounts([account(1), account(2)])
    home.put("health_events", [turned("A1", AS_OF - timedelta(days=1)),
                               turned("A2", AS_OF - timedelta(days=1))])
    follow = RED | {"actions": [
        {"type": "notify", "message": "check {account_name}"},
        {"type": "task", "wait_days": 3, "unless": "replied", "title": "Chase {account_name}"},
    ]}
    only(home, follow)
    first = run_playbooks(home.platform, AS_OF)
    assert first["steps"] == {"done": 2}  # the two notifications; the tasks wait 3 days
    assert count(home, Task) == 0
    home.put("activities", [{"activity_id": "x1", "account_id": "A2", "kind": "email",
                             "direction": "inbound",
                             "occurred_at": datetime.combine(AS_OF, time(9))}])
    run_playbooks(home.platform, AS_OF + timedelta(days=2))
    assert count(home, Task) == 0  # not due yet
    later = run_playbooks(home.platform, AS_OF + timedelta(days=3))
    assert later["steps"] == {"done": 1, "skipped": 1}
    with home.platform.store.session() as s:
        assert [t.account_id for t in s.scalars(select(Task))] == ["A1"]
        skipped = s.scalars(select(PlaybookStep).where(PlaybookStep.status == "skipped")).one()
        assert "replied" in skipped.result["reason"]


def test_an_account_without_owner_goes_to_the_leader(home: Home) -> None:
    home.accounts([account(1, owner_email=None)])
    home.put("health_events", [turned("A1", AS_OF)])
    only(home, RED)
    run_playbooks(home.platform, AS_OF)
    with home.platform.store.session() as s:
        assert s.scalars(select(Task.owner_email)).one() == "lead@x.io"


def test_dry_run_writes_nothing(home: Home) -> None:
    home.accounts([account(1)])
    home.put("health_events", [turned("A1", AS_OF)])
    only(home, RED)
    report = run_playbooks(home.platform, AS_OF, dry_run=True)
    assert report["enrolled"] == 1 and report["dry_run"] and report["steps"] == {}
    assert count(home, Enrolment) == 0 and count(home, Task) == 0
    assert run_playbooks(home.platform, AS_OF)["enrolled"] == 1


def test_tasks_inbox_order_close_and_reassign(home: Home) -> None:
    home.accounts([account(1), account(2)])
    home.put("health_events", [turned("A1", AS_OF)])
    only(home, RED, RED | {"name": "yellow", "trigger": {"type": "health_turned",
                                                        "params": {"color": "yellow"}},
                           "actions": [{"type": "task", "title": "Look at {account_name}",
                                        "priority": "low", "due_days": 0}]})
    home.put("health_events", [turned("A1", AS_OF), turned("A2", AS_OF, color="yellow")])
    run_playbooks(home.platform, AS_OF)
    with home.platform.store.session() as s:
        today = list_tasks(s, owner="CSM@x.io", due="today", today=AS_OF)
        assert [t.title for t in today] == ["Look at Account 2"]  # due today; the red is in 2 days
        week = list_tasks(s, owner="csm@x.io", due="week", today=AS_OF)
        assert [t.priority for t in week] == ["low", "urgent"]  # today's first, then by priority
        with pytest.raises(UserError, match="outcome"):
            close_task(s, week[1].id, "done", "  ", actor="t")
        close_task(s, week[1].id, "done", "called, save plan agreed", actor="csm@x.io")
        with pytest.raises(UserError, match="already done"):
            close_task(s, week[1].id, "dismissed", "again", actor="t")
        reassign_task(s, week[0].id, "other@x.io", actor="lead@x.io")
        assert list_tasks(s, owner="other@x.io", today=AS_OF)[0].id == week[0].id
        assert list_tasks(s, owner="csm@x.io", status="done", today=AS_OF)[0].outcome.startswith(
            "called")


def test_the_shipped_library_is_valid_and_installed_once(home: Home) -> None:
    shipped = library()
    assert len(shipped) >= 17 and len({p.name for p in shipped}) == len(shipped)
    triggers = {p.trigger.type for p in shipped}
    assert triggers >= {"health_turned", "usage_plateau", "single_threaded", "champion_left",
                        "new_decision_maker", "onboarding_stalled", "first_value_reached",
                        "nps_response", "renewal_approaching", "expansion_lead",
                        "payment_failed", "new_account", "schedule"}
    with home.platform.store.session() as s:
        assert len(install_library(s, actor="t")) == len(shipped)
        assert install_library(s, actor="t") == []  # an organisation's edits are never replaced


@pytest.mark.parametrize("bad, message", [
    ({"trigger": {"type": "nope"}}, "nope"),
    ({"trigger": {"type": "health_turned", "params": {"colour": "red"}}}, "colour"),
    ({"actions": []}, "actions"),
    ({"actions": [{"type": "task"}]}, "title"),
    ({"holdout": 0.9}, "holdout"),
    ({"owner": "somebody"}, "owner"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_definitions_name_the_field(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_playbook(RED | bad, source="red.yaml")


def test_versions_are_kept(home: Home) -> None:
    only(home, RED)
    with home.platform.store.session() as s:
        rec, changed = save_playbook(s, parse_playbook(RED), actor="t")
        assert (rec.version, changed) == (1, False)
        rec, changed = save_playbook(s, parse_playbook(RED | {"cooldown_days": 7}), actor="t")
        assert (rec.version, changed) == (2, True)
    home.accounts([account(1)])
    home.put("health_events", [turned("A1", AS_OF)])
    run_playbooks(home.platform, AS_OF)
    with home.platform.store.session() as s:
        assert s.scalars(select(Enrolment.playbook_version)).one() == 2


def test_due_dates_follow_the_decision_date(home: Home) -> None:
    """An occurrence found late (the first run looks back 14 days) is due from the run."""
    home.accounts([account(1)])
    home.put("health_events", [turned("A1", AS_OF - timedelta(days=12))])
    only(home, RED)
    run_playbooks(home.platform, AS_OF)
    with home.platform.store.session() as s:
        assert s.scalars(select(Task.due_date)).one() == AS_OF + timedelta(days=2)
    assert date(2026, 3, 10) == AS_OF


def test_update_account_sets_a_field_that_later_filters_use(home: Home) -> None:
    home.accounts([account(1), account(2)])
    home.put("health_events", [turned("A1", AS_OF)])
    move = RED | {"name": "move", "actions": [
        {"type": "update_account", "field": "segment", "value": "at-risk"}]}
    watch = RED | {"name": "watch", "filter": {"segments": ["at-risk"]},
                   "trigger": {"type": "health_turned", "params": {"color": "yellow"}},
                   "actions": [{"type": "task", "title": "Watch {account_name}"}]}
    only(home, move, watch)
    assert run_playbooks(home.platform, AS_OF)["steps"] == {"done": 1}
    with home.platform.store.session() as s:
        from helix.store.models import AccountField

        f = s.get(AccountField, ("A1", "segment"))
        assert (f.value, f.set_by) == ("at-risk", "system")
    # the next yellow of A1 and A2: only A1 is now in the "at-risk" segment
    home.put("health_events", [turned("A1", AS_OF + timedelta(days=1), color="yellow"),
                               turned("A2", AS_OF + timedelta(days=1), color="yellow")])
    d = {x["playbook"]: x for x in run_playbooks(home.platform, AS_OF + timedelta(days=1))[
        "playbooks"]}
    assert (d["watch"]["occurrences"], d["watch"]["filtered_out"], d["watch"]["enrolled"]) == (
        2, 1, 1)
