"""The windowed usage engine gives the same rows as the join-based oracle.

The oracle (:mod:`tests.unit.signals.reference_usage`) joins every event-day to
every scoring date it can inform and aggregates: obviously right, and quadratic
in the number of dates. The engine Helix runs uses range windows over day
numbers and running sums of change points. Random histories (Hypothesis) aim at
the edges: events exactly 30, 31, 60, 90 and 120 days before a date, several on
one day, users and types seen again inside and just outside the window, null
users, scoring dates with no events at all, and daily runs of dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helix.metrics.loading import load_rows
from helix.signals import SignalConfig
from helix.signals.compute import active_keys
from helix.signals.dates import dates_table
from helix.signals.sources import Sources
from helix.signals.usage import usage_signals
from helix.warehouse import Warehouse, open_warehouse

from ...helpers import same_value
from .reference_usage import usage_signals as oracle_usage_signals

START = date(2024, 1, 1)
CFG = SignalConfig(core_event_types=("report",), login_event_type="login")
TYPES = ("login", "report", "export", None)


def _rows(wh: Warehouse, days: list[date], engine: Any) -> list[dict[str, Any]]:
    src = Sources(wh)
    keys = active_keys(src, dates_table(days), CFG)
    out = engine(src.table("events"), keys, CFG).to_pyarrow().to_pylist()
    return sorted(out, key=lambda r: (r["account_id"], r["score_date"]))


def _assert_same(wh: Warehouse, days: list[date], *, one_day: bool = False) -> list[dict[str, Any]]:
    def engine(events: Any, keys: Any, cfg: Any) -> Any:
        return usage_signals(events, keys, cfg, one_day=days[0] if one_day else None)

    new, old = _rows(wh, days, engine), _rows(wh, days, oracle_usage_signals)
    assert len(new) == len(old)
    for a, b in zip(new, old, strict=True):
        diff = {k for k in b if not same_value(a[k], b[k])}
        assert not diff, f"{b['account_id']} {b['score_date']}: " + ", ".join(
            f"{k} {a[k]} != {b[k]}" for k in sorted(diff)
        )
    return new


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    w = open_warehouse("duckdb://")
    yield w
    w.close()


def _load(wh: Warehouse, accounts: int, events: list[dict[str, Any]]) -> None:
    load_rows(wh, "accounts", [{"account_id": f"A{i}", "name": f"Co {i}", "created_at": None}
                               for i in range(accounts)])  # fmt: skip
    load_rows(wh, "subscriptions", [
        {"subscription_id": f"s{i}", "account_id": f"A{i}", "product": "core", "plan": "p",
         "start_date": START, "end_date": None, "mrr": Decimal("100"), "quantity": Decimal("5"),
         "contract_end_date": None}
        for i in range(accounts)
    ])  # fmt: skip
    if events:
        load_rows(wh, "events", events)


event = st.fixed_dictionaries({
    "account": st.integers(0, 2),
    "day": st.integers(0, 200),
    "hour": st.sampled_from([0, 12, 23]),
    "type": st.sampled_from(TYPES[:3]),
    "user": st.sampled_from(["u1", "u2", "u3", None]),
})  # fmt: skip


def _engine_equals_the_join_oracle(
    events: list[dict[str, Any]], offsets: list[int], daily_from: int
) -> None:
    rows = [
        {"account_id": f"A{e['account']}", "event_time": datetime(2024, 1, 1, e["hour"]) + timedelta(days=e["day"]),
         "event_type": e["type"], "user_id": e["user"]}
        for e in events
    ]  # fmt: skip
    # sparse dates (a backfill cadence), a run of daily dates, and dates exactly one
    # window after an event
    days = {START + timedelta(days=o) for o in offsets}
    days |= {START + timedelta(days=daily_from + i) for i in range(10)}
    days |= {START + timedelta(days=e["day"] + w) for e in events[:3] for w in (30, 31, 60, 120, 121)}
    w = open_warehouse("duckdb://")
    try:
        _load(w, 3, rows)
        _assert_same(w, sorted(days))
        # one date alone (an incremental day) counts its distinct values directly
        for day in sorted(days)[:3]:
            _assert_same(w, [day], one_day=True)
    finally:
        w.close()


_histories = given(
    events=st.lists(event, min_size=1, max_size=40),
    offsets=st.lists(st.integers(0, 240), min_size=1, max_size=6, unique=True),
    daily_from=st.integers(100, 220),
)
# about 2 s an example: `make test` runs a few, the slow suite many more
test_windowed_engine_equals_the_join_oracle = settings(max_examples=12, deadline=None)(
    _histories(_engine_equals_the_join_oracle)
)
test_windowed_engine_equals_the_join_oracle_thoroughly = pytest.mark.slow(
    settings(max_examples=40, deadline=None)(_histories(_engine_equals_the_join_oracle))
)


def test_window_edges_by_hand(wh: Warehouse) -> None:
    """Events 30 and 31 days before the date; one user twice in the window; a type
    first seen 91 days before."""
    d = date(2024, 6, 1)
    ev = [
        ("login", "u1", 30), ("login", "u1", 31), ("report", "u1", 5), ("report", "u2", 5),
        ("export", "u3", 91), ("login", None, 1),
    ]  # fmt: skip
    _load(wh, 1, [{"account_id": "A0", "event_time": datetime(d.year, d.month, d.day, 9) - timedelta(days=n),
                   "event_type": t, "user_id": u} for t, u, n in ev])  # fmt: skip
    row = next(r for r in _assert_same(wh, [d, d + timedelta(days=1)]) if r["score_date"] == d)
    assert _assert_same(wh, [d], one_day=True) == [row]
    assert row["events_30"] == 4  # 30, 5, 5 and 1 days before; not 31 or 91
    assert row["logins_30"] == 2 and row["core_events_30"] == 2
    assert row["active_users_30"] == 2  # u1 (twice) and u2; the null user is not a user
    assert row["breadth_30"] == 2  # login, report
    assert row["new_features_90"] == 2  # login and report first seen within 90 days; export 91
    assert row["days_since_last_activity"] == 1
    assert row["seat_utilisation"] == pytest.approx(2 / 5)
