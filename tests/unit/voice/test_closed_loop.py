"""Closed loop: each detractor's follow-up against the SLA, by hand and over a warehouse."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from helix.voice.closed_loop import FollowUp, compliance, follow_up_status

from ...helpers import once
from ..exec.home import build

T0 = datetime(2024, 5, 1, 9, 0)


def f(hours: float, kind: str = "activity") -> FollowUp:
    return FollowUp(T0 + timedelta(hours=hours), kind, "x")


def test_status_rules() -> None:
    now = T0 + timedelta(days=60)
    assert follow_up_status(T0, [f(47)], 2, now)[0] == "on_time"
    assert follow_up_status(T0, [f(48)], 2, now)[0] == "on_time"  # the deadline itself
    assert follow_up_status(T0, [f(49)], 2, now)[0] == "late"
    assert follow_up_status(T0, [f(-1)], 2, now)[0] == "missed"  # before the answer
    assert follow_up_status(T0, [f(24 * 31)], 2, now)[0] == "missed"  # too late to count
    assert follow_up_status(T0, [], 2, T0 + timedelta(days=1))[0] == "open"
    status, first = follow_up_status(T0, [f(60), f(10)], 2, now)
    assert status == "on_time" and first is not None and first.at == T0 + timedelta(hours=10)


def test_compliance_leaves_open_ones_out() -> None:
    c = compliance(["on_time", "late", "missed", "open", "on_time"])
    assert (c["due"], c["compliance"]) == (4, 0.5)
    assert compliance([])["compliance"] is None


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once("voice_home", lambda: build(tmp_path_factory.mktemp("voice")))


def test_closed_loop_over_the_company(home: Path) -> None:
    from helix.config import Settings
    from helix.platform import Platform
    from helix.store.models import Task, TaskStatus
    from helix.voice.closed_loop import closed_loop

    with Platform(Settings.load(home)) as p, p.store.session() as s:
        doc = closed_loop(p.warehouse, s, date(2024, 7, 1))
        # r2: outbound call a day later; r5: inbound email (no), meeting 5 days later (late);
        # r6 (June 28 08:00): due June 30 08:00, nothing by July 1: missed
        statuses = {m["response_id"]: m["status"] for m in doc["misses"] + doc["open_items"]}
        assert doc["on_time"] == 1 and statuses == {"r5": "late", "r6": "missed"}
        assert doc["compliance"] == round(1 / 3, 6)
        # measured on June 28, r6 is still open (not due yet) and not counted
        early = closed_loop(p.warehouse, s, date(2024, 6, 28))
        assert [m["response_id"] for m in early["open_items"]] == ["r6"]
        assert early["due"] == 2
        # a completed detractor task on A2 one hour after r6 closes its loop
        s.add(Task(account_id="A2", title="close the loop", owner_email="other@x.io",
                   due_date=date(2024, 6, 30), status=TaskStatus.DONE, playbook="nps-detractor",
                   created_at=datetime(2024, 6, 28, 8, 30), closed_at=datetime(2024, 6, 28, 9),
                   created_by="test"))
        s.flush()
        again = closed_loop(p.warehouse, s, date(2024, 7, 1))
        assert again["on_time"] == 2 and again["compliance"] == round(2 / 3, 6)
        s.rollback()
