"""The event summary (whole-history aggregates kept per events part) gives the signals
the events give, through appends, merges, replacements and a change of value event.

Each check computes the signals twice on the same DuckDB file warehouse, once through
the summary and once from the events (``Sources(use_event_summary=False)``), and
asserts identical rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helix.metrics.loading import arrow_rows, load_rows
from helix.signals import SignalConfig
from helix.signals import event_summary as es
from helix.signals.compute import compute_signals
from helix.signals.sources import Sources
from helix.warehouse import Warehouse, open_warehouse
from helix.warehouse import parts as parts_module

from ...helpers import same_value

START = date(2024, 1, 1)
CFG = SignalConfig(core_event_types=("report",), login_event_type="login", value_event_type="report",
                   value_min_users=2)  # fmt: skip


def _ev(account: int, day: int, kind: str | None, user: str | None, hour: int = 9) -> dict[str, Any]:
    return {"account_id": f"A{account}", "event_time": datetime(2024, 1, 1, hour) + timedelta(days=day),
            "event_type": kind, "user_id": user}  # fmt: skip


def _open(path: Path) -> Warehouse:
    """A DuckDB file warehouse (events in parts) with four accounts active from START."""
    w = open_warehouse(f"duckdb://{path / 'wh.duckdb'}")
    load_rows(w, "accounts", [{"account_id": f"A{i}", "name": f"Co {i}", "created_at": None} for i in range(4)])
    load_rows(w, "subscriptions", [
        {"subscription_id": f"s{i}", "account_id": f"A{i}", "product": "core", "plan": "p",
         "start_date": START, "end_date": None, "mrr": Decimal("100"), "quantity": Decimal("5"),
         "contract_end_date": None}
        for i in range(4)
    ])  # fmt: skip
    return w


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    w = _open(tmp_path)
    yield w
    w.close()


def _add(wh: Warehouse, rows: list[dict[str, Any]]) -> None:
    """One append: one new events part."""
    wh.append("events", arrow_rows("events", rows))


def _signals(wh: Warehouse, days: list[date], *, summary: bool) -> list[dict[str, Any]]:
    src = Sources(wh, use_event_summary=summary)
    if summary:
        assert src.event_summary(CFG) is not None, "the summary should be current here"
    rows = compute_signals(src, days, CFG).to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: (r["account_id"], r["score_date"]))


def _assert_same(wh: Warehouse, days: list[date]) -> list[dict[str, Any]]:
    """Signals through the summary == signals from the events, for ``days`` together
    (a backfill batch) and for each of them alone (an incremental day)."""
    for batch in [days] + [[d] for d in days]:
        new, old = _signals(wh, batch, summary=True), _signals(wh, batch, summary=False)
        assert len(new) == len(old)
        for a, b in zip(new, old, strict=True):
            diff = {k for k in b if not same_value(a[k], b[k])}
            assert not diff, f"{b['account_id']} {b['score_date']}: " + ", ".join(
                f"{k} {a[k]} != {b[k]}" for k in sorted(diff)
            )
    return _signals(wh, days, summary=True)


def _row(rows: list[dict[str, Any]], account: str, day: date) -> dict[str, Any]:
    return next(r for r in rows if r["account_id"] == account and r["score_date"] == day)


def test_summary_matches_the_events_across_parts(wh: Warehouse) -> None:
    """Parts that each change an aggregate: a later part with an earlier (backdated)
    first use, the second value user arriving in another part, and an account quiet for
    the whole look-back whose next events come after the scoring date."""
    _add(wh, [_ev(0, 10, "login", "u1"), _ev(0, 200, "report", "u1"), _ev(1, 5, "export", "u9"),
              _ev(2, 3, "login", "u5"), _ev(2, 11, "report", None), _ev(3, 0, "login", "u4")])  # fmt: skip
    _add(wh, [_ev(0, 2, "export", "u2"), _ev(0, 150, "report", "u2"), _ev(1, 300, "login", "u9"),
              _ev(2, 12, "login", "u5", hour=23), _ev(3, 170, "report", "u4")])  # fmt: skip
    assert es.event_summary(wh, CFG) is None  # never refreshed: signals read the events
    assert es.refresh_event_summary(wh, CFG) == {"parts_added": 2, "parts_dropped": 0}
    assert es.refresh_event_summary(wh, CFG) == {"parts_added": 0, "parts_dropped": 0}
    d = START + timedelta(days=220)
    rows = _assert_same(wh, [d - timedelta(days=1), d, d + timedelta(days=70), START + timedelta(days=135)])
    a0 = _row(rows, "A0", d)
    assert a0["value_reached"] == 1  # u2 (day 150, second part) then u1 (day 200)
    assert a0["time_to_value_days"] == 200
    # A1: last seen on day 5; its day-300 event is after d and must not count
    assert _row(rows, "A1", d)["days_since_last_activity"] == 215
    # A2: last seen on day 12 at 23:00 (second part), found from the weeks before the window
    assert _row(rows, "A2", d)["days_since_last_activity"] == 208


def test_stale_summary_is_not_used_until_refreshed(wh: Warehouse) -> None:
    _add(wh, [_ev(0, 10, "login", "u1")])
    es.refresh_event_summary(wh, CFG)
    assert es.event_summary(wh, CFG) is not None
    _add(wh, [_ev(0, 1, "report", "u3")])  # a new part, not summarised
    assert es.event_summary(wh, CFG) is None
    assert es.refresh_event_summary(wh, CFG) == {"parts_added": 1, "parts_dropped": 0}
    _assert_same(wh, [START + timedelta(days=40)])


def test_merged_and_replaced_parts(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        _add(wh, [_ev(i % 4, 20 * i, "login", f"u{i}"), _ev(0, 5 + i, "report", f"u{i}")])
    es.refresh_event_summary(wh, CFG)
    monkeypatch.setattr(parts_module, "MAX_PARTS", 3)
    _add(wh, [_ev(1, 90, "report", "u7")])  # four parts: the small ones merge into one
    assert wh.parts is not None and len(wh.parts.files("events")) == 1
    assert es.refresh_event_summary(wh, CFG) == {"parts_added": 1, "parts_dropped": 3}
    _assert_same(wh, [START + timedelta(days=100), START + timedelta(days=130)])
    # the whole table replaced (a re-import): every summarised part is gone
    wh.write_table("events", arrow_rows("events", [_ev(2, 28, "report", "u1"), _ev(2, 29, "report", "u2")]))
    assert es.refresh_event_summary(wh, CFG) == {"parts_added": 1, "parts_dropped": 1}
    rows = _assert_same(wh, [START + timedelta(days=100)])
    assert _row(rows, "A2", START + timedelta(days=100))["value_reached"] == 1
    assert _row(rows, "A0", START + timedelta(days=100))["value_reached"] == 0
    counts = {n: wh.count(n) for n in es.SUMMARY_TABLES}
    assert counts == {"event_type_firsts": 1, "event_week_lasts": 1, "event_value_firsts": 2}


def test_a_new_value_event_summarises_every_part_again(wh: Warehouse) -> None:
    _add(wh, [_ev(0, 10, "login", "u1"), _ev(0, 11, "login", "u2"), _ev(0, 12, "report", "u1")])
    _add(wh, [_ev(0, 13, "report", "u2")])
    es.refresh_event_summary(wh, CFG)
    other = SignalConfig(**{**CFG.__dict__, "value_event_type": "login"})
    assert es.event_summary(wh, other) is None
    assert es.refresh_event_summary(wh, other) == {"parts_added": 2, "parts_dropped": 2}
    assert es.event_summary(wh, other) is not None and es.event_summary(wh, CFG) is None
    firsts = wh.table("event_value_firsts").to_pyarrow().to_pylist()
    assert sorted((r["user_id"], r["first_day"]) for r in firsts) == [
        ("u1", START + timedelta(days=10)), ("u2", START + timedelta(days=11))
    ]  # fmt: skip


def test_a_failed_refresh_leaves_the_summary_as_it_was(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    _add(wh, [_ev(0, 10, "login", "u1")])
    es.refresh_event_summary(wh, CFG)
    before = {n: wh.count(n) for n in (*es.SUMMARY_TABLES, "event_summary_parts")}
    _add(wh, [_ev(0, 20, "report", "u1")])
    _add(wh, [_ev(1, 20, "report", "u1")])
    calls = []
    real = es.value_firsts

    def boom(events: Any, cfg: SignalConfig) -> Any:
        calls.append(1)
        if len(calls) == 2:  # the second new part: the first one's rows are written
            raise RuntimeError("disk full")
        return real(events, cfg)

    monkeypatch.setattr(es, "value_firsts", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        es.refresh_event_summary(wh, CFG)
    assert {n: wh.count(n) for n in before} == before
    assert es.event_summary(wh, CFG) is None
    monkeypatch.undo()
    assert es.refresh_event_summary(wh, CFG) == {"parts_added": 2, "parts_dropped": 0}


def test_no_summary_off_parts() -> None:
    """A warehouse without Parquet parts (in memory here; PostgreSQL in production)
    computes the aggregates from the events."""
    w = open_warehouse("duckdb://")
    try:
        assert es.refresh_event_summary(w, CFG) is None
        assert es.event_summary(w, CFG) is None
    finally:
        w.close()


def test_week_start() -> None:
    assert es.week_start(date(1970, 1, 1)) == date(1970, 1, 1)
    assert es.week_start(date(1970, 1, 7)) == date(1970, 1, 1)
    assert es.week_start(date(1970, 1, 8)) == date(1970, 1, 8)
    d = date(2025, 3, 5)
    assert es.week_start(d) <= d < es.week_start(d) + timedelta(days=7)
    assert es.week_start(es.week_start(d)) == es.week_start(d)


event = st.fixed_dictionaries({
    "account": st.integers(0, 3),
    "day": st.integers(0, 260),
    "hour": st.sampled_from([0, 12, 23]),
    "type": st.sampled_from(["login", "report", "export"]),
    "user": st.sampled_from(["u1", "u2", "u3", None]),
    "part": st.integers(0, 2),
})  # fmt: skip


def _summary_equals_the_events(
    tmp_path_factory: pytest.TempPathFactory, events: list[dict[str, Any]], offsets: list[int]
) -> None:
    w = _open(tmp_path_factory.mktemp("wh"))
    try:
        for p in range(3):
            rows = [_ev(e["account"], e["day"], e["type"], e["user"], e["hour"]) for e in events if e["part"] == p]
            if rows:
                _add(w, rows)
        es.refresh_event_summary(w, CFG)
        _assert_same(w, sorted(START + timedelta(days=o) for o in offsets))
    finally:
        w.close()


_histories = given(
    events=st.lists(event, min_size=1, max_size=30),
    offsets=st.lists(st.integers(100, 280), min_size=1, max_size=3, unique=True),
)
# about 5 s an example: `make test` runs a few, the slow suite more
test_summary_equals_the_events_on_random_histories = settings(max_examples=3, deadline=None)(
    _histories(_summary_equals_the_events)
)
test_summary_equals_the_events_on_random_histories_thoroughly = pytest.mark.slow(
    settings(max_examples=25, deadline=None)(_histories(_summary_equals_the_events))
)
