"""Event-type features: any type names, strictly before the observation date."""

from __future__ import annotations

from datetime import date, datetime

from helix.metrics.loading import load_rows
from helix.predict.event_features import (
    describe,
    event_feature_names,
    event_features,
    top_event_types,
)
from helix.warehouse import open_warehouse

D = date(2025, 3, 1)


def test_counts_use_only_events_before_the_date_and_any_type_name() -> None:
    wh = open_warehouse("duckdb://")
    try:
        load_rows(wh, "accounts", [{"account_id": "A", "name": "Acme"}])
        events = [
            ("Weird Type/1", datetime(2025, 2, 28, 23, 59)),  # the day before: counts
            ("Weird Type/1", datetime(2025, 2, 20, 12, 0)),  # 9 days before: 28 and 90 only
            ("Weird Type/1", datetime(2025, 3, 1, 0, 0)),  # on D: the future, never counted
            ("Weird Type/1", datetime(2025, 4, 1, 0, 0)),
            ("ping", datetime(2025, 2, 27, 8, 0)),
        ]
        load_rows(wh, "events", [
            {"account_id": "A", "event_type": t, "event_time": ts, "user_id": "u"} for t, ts in events
        ])  # fmt: skip
        types = top_event_types(wh)
        assert types == ["Weird Type/1", "ping"]
        names = event_feature_names(types)
        assert "ev_t0_weird_type_1_7d" in names and "ev_t1_ping_pace" in names
        assert "Weird Type/1" in (describe("ev_t0_weird_type_1_28d", types) or "")
        expr = event_features(wh, [D], types)
        assert expr is not None
        row = expr.to_pyarrow().to_pylist()[0]
    finally:
        wh.close()
    assert row["ev_t0_weird_type_1_7d"] == 1
    assert row["ev_t0_weird_type_1_28d"] == 2 and row["ev_t0_weird_type_1_90d"] == 2
    assert row["ev_t0_weird_type_1_pace"] == 4 * 1 / 2
    assert row["ev_t1_ping_7d"] == 1


def test_no_events_no_features() -> None:
    wh = open_warehouse("duckdb://")
    try:
        assert top_event_types(wh) == [] and event_features(wh, [D], []) is None
    finally:
        wh.close()


def test_lifetime_counts_span_the_whole_relationship_before_the_date() -> None:
    wh = open_warehouse("duckdb://")
    try:
        load_rows(
            wh, "accounts", [{"account_id": "A", "name": "Acme"}, {"account_id": "B", "name": "B"}]
        )
        events = [
            ("A", datetime(2023, 1, 5, 10, 0)),  # years before: lifetime only
            ("A", datetime(2024, 11, 30, 23, 0)),  # 91 days before 2025-03-01: lifetime only
            ("A", datetime(2025, 2, 15, 9, 0)),  # in the last 90 days
            ("A", datetime(2025, 3, 10, 9, 0)),  # in D2's month, before D2
            ("A", datetime(2025, 3, 20, 9, 0)),  # after D2: never
            ("B", datetime(2024, 1, 1, 0, 0)),  # nothing in the last 90 days: still counted
        ]
        load_rows(wh, "events", [
            {"account_id": a, "event_type": "x", "event_time": ts, "user_id": "u"} for a, ts in events
        ])  # fmt: skip
        d2 = date(2025, 3, 15)
        rows = event_features(wh, [D, d2], ["x"]).to_pyarrow().to_pylist()  # type: ignore[union-attr]
    finally:
        wh.close()
    got = {(r["account_id"], r["score_date"]): r for r in rows}
    assert got[("A", D)]["ev_t0_x_all"] == 3 and got[("A", D)]["ev_t0_x_90d"] == 1
    assert got[("A", d2)]["ev_t0_x_all"] == 4 and got[("A", d2)]["ev_t0_x_7d"] == 1
    assert got[("B", D)]["ev_t0_x_all"] == 1 and got[("B", D)]["ev_t0_x_90d"] == 0
    assert len(rows) == 4
