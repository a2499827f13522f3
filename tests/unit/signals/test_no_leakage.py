"""Signals on day D are computed from facts strictly before D: adding the future changes nothing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from helix.metrics.loading import load_rows
from helix.signals import SignalConfig, compute_signals
from helix.signals.sources import Sources
from helix.warehouse import Warehouse, open_warehouse

D = date(2024, 6, 1)
DAYS = [date(2024, 4, 1), date(2024, 5, 15), D]


def _ts(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def _past() -> dict[str, list[dict[str, Any]]]:
    start = date(2024, 1, 1)
    events = [
        {"account_id": "A1", "event_time": _ts(start + timedelta(days=d)), "event_type": t,
         "user_id": f"u{d % 3}"}
        for d in range(0, D.toordinal() - start.toordinal(), 2)
        for t in ("login", "report_created")
    ]  # fmt: skip
    return {
        "accounts": [{"account_id": "A1", "name": "Acme", "created_at": _ts(start)}],
        "subscriptions": [
            {"subscription_id": "s1", "account_id": "A1", "product": "core", "plan": "growth",
             "start_date": start, "end_date": None, "mrr": Decimal("1000"), "quantity": Decimal("10"),
             "contract_end_date": date(2025, 1, 1)},
        ],  # fmt: skip
        "events": events,
        "contacts": [
            {"contact_id": "c1", "account_id": "A1", "name": "Jane Doe", "role": "champion",
             "started_at": start, "ended_at": None},
        ],  # fmt: skip
        "activities": [
            {"activity_id": "a1", "account_id": "A1", "occurred_at": _ts(date(2024, 5, 20)),
             "kind": "meeting", "contact_id": "c1", "summary": "Good progress on rollout"},
        ],  # fmt: skip
        "tickets": [
            {"ticket_id": "t1", "account_id": "A1", "created_at": _ts(date(2024, 5, 2)),
             "priority": "normal", "subject": "Export", "body": "Works well, thanks", "csat": 5},
        ],  # fmt: skip
        "survey_responses": [
            {"response_id": "r1", "account_id": "A1", "responded_at": _ts(date(2024, 4, 10)),
             "survey": "nps", "score": 9, "comment": "Great"},
        ],  # fmt: skip
        "payments": [{"account_id": "A1", "due_date": date(2024, 5, 1), "amount": Decimal("1000"),
                      "status": "paid"}],
    }


def _with_future(h: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Everything that happens on D or later: each would move a signal if it leaked."""
    f = {k: list(v) for k, v in h.items()}
    f["events"] += [
        {"account_id": "A1", "event_time": _ts(D + timedelta(days=d), 0), "event_type": t,
         "user_id": f"n{d}"}
        for d in range(0, 20)
        for t in ("login", "export", "workflow_run")
    ]  # fmt: skip
    f["contacts"] = [
        {**f["contacts"][0], "ended_at": D},
        {"contact_id": "c2", "account_id": "A1", "name": "Sam Lee", "role": "decision_maker",
         "started_at": D},
    ]  # fmt: skip
    f["activities"] += [
        {"activity_id": "a2", "account_id": "A1", "occurred_at": _ts(D, 0), "kind": "escalation",
         "contact_id": "c2", "summary": "Furious about the outage"},
    ]  # fmt: skip
    f["tickets"] += [
        {"ticket_id": "t2", "account_id": "A1", "created_at": _ts(D, 0), "priority": "urgent",
         "subject": "Down", "body": "This is terrible and broken", "csat": 1},
    ]  # fmt: skip
    f["survey_responses"] += [
        {"response_id": "r2", "account_id": "A1", "responded_at": _ts(D, 0), "survey": "nps",
         "score": 2, "comment": "Awful"},
    ]  # fmt: skip
    f["payments"] += [{"account_id": "A1", "due_date": D, "amount": Decimal("1000"), "status": "failed"}]
    f["subscriptions"] = [
        {**f["subscriptions"][0], "end_date": D + timedelta(days=10)},
        {**f["subscriptions"][0], "subscription_id": "s2", "start_date": D + timedelta(days=10),
         "mrr": Decimal("400"), "quantity": Decimal("4")},
    ]  # fmt: skip
    return f


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    w = open_warehouse("duckdb://")
    yield w
    w.close()


def _signals(wh: Warehouse, h: dict[str, list[dict[str, Any]]]) -> dict[date, dict[str, Any]]:
    for table, rows in h.items():
        load_rows(wh, table, rows)
    rows = compute_signals(Sources(wh), DAYS, SignalConfig()).to_pyarrow().to_pylist()
    return {r["score_date"]: r for r in rows}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)
    return bool(a == b)


def test_future_facts_do_not_change_past_signals(wh: Warehouse) -> None:
    before = _signals(wh, _past())
    after = _signals(wh, _with_future(_past()))
    assert set(before) == set(after) == set(DAYS)
    for day in DAYS:
        changed = {k for k in before[day] if not _same(before[day][k], after[day][k])}
        assert not changed, f"{day}: {sorted(changed)} saw the future"
    # and the facts of the past are really there, so the comparison means something
    on_d = before[D]
    assert on_d["nps_latest"] == 9 and on_d["champion_present"] == 1
    assert on_d["logins_30"] > 0 and on_d["failed_payments_90"] == 0


def test_the_future_shows_up_once_it_is_the_past(wh: Warehouse) -> None:
    """The same facts, seen from a later day, do move the signals (the test above can fail)."""
    later = D + timedelta(days=15)
    for table, rows in _with_future(_past()).items():
        load_rows(wh, table, rows)
    row = compute_signals(Sources(wh), [later], SignalConfig()).to_pyarrow().to_pylist()[0]
    assert row["nps_latest"] == 2 and row["nps_detractor"] == 1
    assert row["champion_present"] == 0 and row["champion_left_180"] == 1
    assert row["failed_payments_90"] == 1 and row["escalations_90"] == 1
    assert row["urgent_tickets_90"] == 1
    assert row["mrr"] == 400 and row["contraction_90"] == 1
