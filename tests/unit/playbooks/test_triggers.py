"""Playbook triggers on a crafted history: dates, keys, evidence, stable windows, errors.

One small history (three accounts over a month) feeds every trigger; each test
names the facts it relies on. The same history on PostgreSQL must give the same
rows as on DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import pytest

from helix.metrics.loading import load_rows
from helix.playbooks.engine import past_arr
from helix.playbooks.triggers import (
    OCCURRENCE_COLUMNS,
    OCCURRENCE_SCHEMA,
    TRIGGERS,
    occurrences,
    period_starts,
    trigger,
    validate_params,
)
from helix.warehouse import Warehouse, open_warehouse

D = date
FIRST, LAST = D(2026, 2, 20), D(2026, 3, 20)  # the signal history
W1 = (D(2026, 3, 1), D(2026, 3, 10))
W2 = (D(2026, 3, 5), D(2026, 3, 20))  # overlaps W1 on 03-05 .. 03-10
ALL = (FIRST, LAST)
WINDOWS = [W1, W2, ALL, (D(2026, 3, 10), D(2026, 3, 10)), (D(2026, 3, 3), D(2026, 3, 16))]
GAP = {D(2026, 3, 14), D(2026, 3, 15)}  # a2 has no signal rows on these days (inactive)
DRIVERS = (
    '[{"signal": "usage_trend_30", "group": "usage", "delta": -8.1, "points_from": 12.0, '
    '"points_to": 3.9}, {"signal": "nps_latest", "group": "sentiment", "delta": -4.0, '
    '"points_from": 8.0, "points_to": 4.0}]'
)
LONG_COMMENT = "slow " * 60  # 300 characters


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _a1(d: date) -> dict[str, Any]:
    """a1: plateau from 03-05, single-threaded from 03-10, value reached on 03-08 (stalled
    before), renewal on 06-01 (within 90 days from 03-03), champion Dana Lee left 03-11."""
    reached = d >= D(2026, 3, 8)
    return {
        "plateau": float(d >= D(2026, 3, 5)),
        "events_30": 1234.0,
        "usage_trend_30": 0.98,
        "multi_threaded": float(d < D(2026, 3, 10)),
        "engaged_contacts_90": 3.0 if d < D(2026, 3, 10) else 1.0,
        "onboarding_stalled": float(not reached),
        "value_reached": float(reached),
        "time_to_value_days": 66.0 if reached else None,
        "tenure_days": float((d - D(2026, 1, 1)).days),
        "days_to_renewal": float((D(2026, 6, 1) - d).days),
        "mrr": 4000.0,
        "champion_left_on": D(2026, 3, 11) if d >= D(2026, 3, 12) else None,
        "champion_left_name": "Dana Lee" if d >= D(2026, 3, 12) else None,
    }


def _a2(d: date) -> dict[str, Any]:
    """a2: plateau and value reached all along, no renewal date, a champion gone on 02-10."""
    return {
        "plateau": 1.0,
        "value_reached": 1.0,
        "time_to_value_days": 10.0,
        "onboarding_stalled": 0.0,
        "champion_left_on": D(2026, 2, 10),
        "champion_left_name": "Old Champ",
    }


def _a3(d: date) -> dict[str, Any]:
    """a3: first row 03-02, already 60 days from its renewal on 05-01; onboarding unknown."""
    return {
        "plateau": 0.0,
        "multi_threaded": 1.0,
        "engaged_contacts_90": 4.0,
        "days_to_renewal": float((D(2026, 5, 1) - d).days),
        "mrr": 1000.0425,  # ARR 12,000.51
    }


def _a5(d: date) -> dict[str, Any]:
    """a5: monthly terms ending on the 15th (days_to_renewal never above 31)."""
    renewal = D(2026, 3, 15) if d < D(2026, 3, 15) else D(2026, 4, 15)
    return {"days_to_renewal": float((renewal - d).days), "mrr": 100.0}


def _signal_rows() -> list[dict[str, Any]]:
    rows = []
    for d in _days(FIRST, LAST):
        rows.append({"account_id": "a5", "score_date": d, **_a5(d)})
        rows.append({"account_id": "a1", "score_date": d, **_a1(d)})
        if d not in GAP:
            rows.append({"account_id": "a2", "score_date": d, **_a2(d)})
        if d >= D(2026, 3, 2):
            rows.append({"account_id": "a3", "score_date": d, **_a3(d)})
    return rows


def _leads(account: str, signal: str, first: date, last: date, evidence: str | None) -> list:
    return [
        {"account_id": account, "detected_on": d, "first_detected_on": first, "signal": signal,
         "evidence": evidence}
        for d in _days(first, last)
    ]  # fmt: skip


HISTORY: dict[str, list[dict[str, Any]]] = {
    "account_signals": _signal_rows(),
    "health_events": [
        {"account_id": "a1", "event_date": D(2026, 3, 2), "event": "turned_yellow",
         "from_color": "green", "to_color": "yellow", "score": 61.5, "drivers": "[]"},
        {"account_id": "a1", "event_date": D(2026, 3, 6), "event": "turned_red",
         "from_color": "yellow", "to_color": "red", "score": 38.2, "drivers": DRIVERS},
        {"account_id": "a2", "event_date": D(2026, 2, 15), "event": "turned_red",
         "from_color": "yellow", "to_color": "red", "score": 30.0, "drivers": "[]"},
        {"account_id": "a3", "event_date": D(2026, 3, 8), "event": "turned_red",
         "to_color": "red"},
    ],
    "contacts": [
        {"contact_id": "c1", "account_id": "a1", "name": "Dana Lee", "role": "champion",
         "started_at": D(2025, 1, 1), "ended_at": D(2026, 3, 11)},
        {"contact_id": "c2", "account_id": "a2", "name": "Sam Ortiz", "title": "VP Operations",
         "role": "decision_maker", "started_at": D(2026, 3, 9)},
        {"contact_id": "c3", "account_id": "a1", "name": "Ann Old", "role": "decision_maker",
         "started_at": D(2025, 12, 1)},
        {"contact_id": "c4", "account_id": "a3", "name": "Uma User", "role": "user",
         "started_at": D(2026, 3, 9)},
        {"contact_id": "c5", "account_id": "a3", "name": "Nia Park", "role": "decision_maker",
         "started_at": D(2026, 3, 15)},
    ],
    "survey_responses": [
        {"response_id": "r1", "account_id": "a1", "contact_id": "c1", "survey": "nps",
         "responded_at": datetime(2026, 3, 4, 10), "score": 3, "comment": "too slow"},
        {"response_id": "r2", "account_id": "a2", "survey": "nps",
         "responded_at": datetime(2026, 3, 7, 23, 59, 59), "score": 10},
        {"response_id": "r3", "account_id": "a3", "contact_id": "c4", "survey": "nps",
         "responded_at": datetime(2026, 3, 9, 8), "score": 7, "comment": ""},
        {"response_id": "r4", "account_id": "a1", "contact_id": "c1", "survey": "csat",
         "responded_at": datetime(2026, 3, 4, 11), "score": 2},
        {"response_id": "r5", "account_id": "a1", "contact_id": "c3", "survey": "NPS",
         "responded_at": datetime(2026, 2, 25, 9), "score": 5, "comment": "meh"},
        {"response_id": "r6", "account_id": "a1", "contact_id": "c1", "survey": "nps",
         "responded_at": datetime(2026, 3, 11), "score": 0, "comment": LONG_COMMENT},
    ],
    "expansion_leads": [
        *_leads("a1", "seats_near_limit", D(2026, 3, 4), D(2026, 3, 8),
                "45 of 50 licensed seats active in the last 30 days"),
        *_leads("a1", "adoption_spreading", D(2026, 3, 5), D(2026, 3, 5), "3 new event types"),
        *_leads("a2", "usage_near_limit", D(2026, 2, 25), D(2026, 3, 6), "90% of allowance"),
        *_leads("a3", "usage_near_limit", D(2026, 3, 12), D(2026, 3, 13), None),
    ],
    "payments": [
        # a failed payment retried (two identical rows, then a third) is one occurrence
        {"account_id": "a1", "due_date": D(2026, 3, 3), "amount": 1200, "status": "failed"},
        {"account_id": "a1", "due_date": D(2026, 3, 3), "amount": 1200, "status": "failed"},
        {"account_id": "a1", "due_date": D(2026, 3, 3), "amount": 1200, "status": "failed",
         "paid_at": datetime(2026, 3, 5, 10)},
        {"account_id": "a2", "due_date": D(2026, 3, 3), "amount": 500, "status": "paid"},
        {"account_id": "a3", "due_date": D(2026, 3, 15), "amount": 99.5, "status": "failed"},
        {"account_id": "a3", "due_date": D(2026, 3, 15), "amount": Decimal("1234567.891"),
         "status": "failed"},
    ],
    "subscriptions": [
        {"subscription_id": "s1", "account_id": "a1", "start_date": D(2025, 6, 1),
         "contract_end_date": D(2026, 6, 1), "mrr": 4000},
        {"subscription_id": "s3", "account_id": "a3", "start_date": D(2025, 5, 1),
         "contract_end_date": D(2026, 5, 1), "mrr": 1000},
        {"subscription_id": "s5a", "account_id": "a5", "start_date": D(2026, 2, 15),
         "end_date": D(2026, 3, 15), "contract_end_date": D(2026, 3, 15), "mrr": 100},
        {"subscription_id": "s5b", "account_id": "a5", "start_date": D(2026, 3, 15),
         "contract_end_date": D(2026, 4, 15), "mrr": 100},
    ],
    "account_summary": [
        {"account_id": "a1", "customer_since": D(2024, 1, 15), "active": 1, "arr": 48000},
        {"account_id": "a2", "customer_since": D(2026, 3, 2), "active": 1, "arr": 6000},
        {"account_id": "a3", "customer_since": D(2026, 3, 2), "active": 0},
        {"account_id": "a4", "customer_since": D(2026, 3, 12), "active": 1, "arr": 1200.5},
    ],
}  # fmt: skip

# Every trigger with the parameter sets exercised across windows and backends.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("health_turned", {}),
    ("health_turned", {"color": "yellow"}),
    ("usage_plateau", {}),
    ("single_threaded", {}),
    ("champion_left", {}),
    ("new_decision_maker", {}),
    ("onboarding_stalled", {}),
    ("first_value_reached", {}),
    ("nps_response", {}),
    ("nps_response", {"kind": "passive"}),
    ("nps_response", {"kind": "promoter"}),
    ("renewal_approaching", {}),
    ("renewal_approaching", {"days": 60}),
    ("expansion_lead", {}),
    ("expansion_lead", {"signals": ["adoption_spreading", "usage_near_limit"]}),
    ("payment_failed", {}),
    ("new_account", {}),
    ("schedule", {}),
    ("schedule", {"every": "week"}),
]
Row = tuple[str, date, str, str]


def _load(wh: Warehouse) -> Warehouse:
    for table, rows in HISTORY.items():
        load_rows(wh, table, rows)
    return wh


@pytest.fixture(scope="module")
def wh() -> Iterator[Warehouse]:
    """An in-memory DuckDB warehouse holding :data:`HISTORY` (not modified by tests)."""
    w = _load(open_warehouse("duckdb://"))
    yield w
    w.close()


def rows(wh: Warehouse, name: str, window: tuple[date, date], **params: Any) -> list[Row]:
    """The occurrences as sorted (account_id, occurred_on, occurrence_key, evidence) tuples."""
    expr = occurrences(wh, name, window[0], window[1], params)
    assert tuple(expr.columns) == OCCURRENCE_COLUMNS
    assert expr.schema() == OCCURRENCE_SCHEMA
    data = wh.con.to_pyarrow(expr).to_pylist()
    return sorted(tuple(r[c] for c in OCCURRENCE_COLUMNS) for r in data)  # type: ignore[misc]


def keys(found: list[Row]) -> list[tuple[str, date, str]]:
    return [(a, d, k) for a, d, k, _ in found]


# --------------------------------------------------------------------------- registry


def test_registry_names_tables_and_defaults() -> None:
    assert list(TRIGGERS) == [
        "health_turned", "usage_plateau", "single_threaded", "champion_left",
        "new_decision_maker", "onboarding_stalled", "first_value_reached", "nps_response",
        "renewal_approaching", "expansion_lead", "payment_failed", "new_account", "schedule",
    ]  # fmt: skip
    assert trigger("renewal_approaching").params == {"days": 90, "min_term_days": 60}
    assert trigger("expansion_lead").tables == ("expansion_leads",)
    assert validate_params("expansion_lead") == {
        "signals": ("seats_near_limit", "usage_near_limit")
    }
    for spec in TRIGGERS.values():
        assert spec.description and spec.tables
        assert spec.to_dict()["name"] == spec.name


# --------------------------------------------------------------------------- edge triggers


def test_usage_plateau_fires_on_the_edge_only(wh: Warehouse) -> None:
    assert rows(wh, "usage_plateau", W1) == [
        ("a1", D(2026, 3, 5), "2026-03-05",
         "usage plateaued: no new feature used in 90 days, 1,234 events in the last 30 days "
         "(0.98x the 30 days before)"),
    ]  # fmt: skip
    # a2 was on a plateau before W1 (no new occurrence); it fires again after its gap
    assert keys(rows(wh, "usage_plateau", W2)) == [
        ("a1", D(2026, 3, 5), "2026-03-05"),
        ("a2", D(2026, 3, 16), "2026-03-16"),
    ]
    # the first row of the history counts as an edge (no previous row)
    assert ("a2", FIRST, "2026-02-20") in keys(rows(wh, "usage_plateau", ALL))


def test_single_threaded(wh: Warehouse) -> None:
    expected = [
        ("a1", D(2026, 3, 10), "2026-03-10",
         "single-threaded: 1 engaged contact in the last 90 days"),
    ]  # fmt: skip
    assert rows(wh, "single_threaded", W1) == expected
    assert rows(wh, "single_threaded", W2) == expected  # same edge, same key
    assert rows(wh, "single_threaded", (D(2026, 3, 11), LAST)) == []  # already true


def test_onboarding_stalled_true_before_the_window_does_not_fire(wh: Warehouse) -> None:
    assert rows(wh, "onboarding_stalled", W1) == []
    assert rows(wh, "onboarding_stalled", ALL) == [
        ("a1", FIRST, "2026-02-20",
         "onboarding stalled: first value moment not reached after 50 days as a customer"),
    ]  # fmt: skip


def test_first_value_reached(wh: Warehouse) -> None:
    expected = [("a1", D(2026, 3, 8), "2026-03-08", "first value moment reached after 66 days")]
    assert rows(wh, "first_value_reached", W1) == expected
    # same edge, same key in W2; a2 back from its gap counts as reaching value again
    assert rows(wh, "first_value_reached", W2) == [
        *expected,
        ("a2", D(2026, 3, 16), "2026-03-16", "first value moment reached after 10 days"),
    ]
    assert keys(rows(wh, "first_value_reached", ALL)) == [
        ("a1", D(2026, 3, 8), "2026-03-08"),
        ("a2", FIRST, "2026-02-20"),
        ("a2", D(2026, 3, 16), "2026-03-16"),
    ]


def test_renewal_approaching(wh: Warehouse) -> None:
    assert rows(wh, "renewal_approaching", W1) == [
        ("a1", D(2026, 3, 3), "2026-06-01:90", "renewal on 2026-06-01 in 90 days, ARR $48,000"),
        # a3's first row is already within 90 days: no previous row, so it fires
        ("a3", D(2026, 3, 2), "2026-05-01:90",
         "renewal on 2026-05-01 in 60 days, ARR $12,000.51"),
    ]  # fmt: skip
    assert rows(wh, "renewal_approaching", W2) == []  # both crossed before W2
    assert keys(rows(wh, "renewal_approaching", W1, days=60)) == [
        ("a3", D(2026, 3, 2), "2026-05-01:60")
    ]
    assert keys(rows(wh, "renewal_approaching", ALL, days=95)) == [
        ("a1", D(2026, 2, 26), "2026-06-01:95"),
        ("a3", D(2026, 3, 2), "2026-05-01:95"),
    ]


# --------------------------------------------------------------------------- event triggers


def test_health_turned(wh: Warehouse) -> None:
    assert rows(wh, "health_turned", W1) == [
        ("a1", D(2026, 3, 6), "2026-03-06",
         "health turned red (score 38.2, was yellow); top drivers: usage_trend_30, nps_latest"),
        ("a3", D(2026, 3, 8), "2026-03-08", "health turned red"),
    ]  # fmt: skip
    assert rows(wh, "health_turned", W1, color="yellow") == [
        ("a1", D(2026, 3, 2), "2026-03-02", "health turned yellow (score 61.5, was green)"),
    ]
    assert keys(rows(wh, "health_turned", (D(2026, 2, 1), D(2026, 2, 28)))) == [
        ("a2", D(2026, 2, 15), "2026-02-15")
    ]


def test_champion_left_once_per_departure(wh: Warehouse) -> None:
    assert rows(wh, "champion_left", W1) == []  # Dana left on 03-11
    expected = [
        ("a1", D(2026, 3, 11), "2026-03-11:Dana Lee", "champion Dana Lee left on 2026-03-11")
    ]
    assert rows(wh, "champion_left", W2) == expected
    assert rows(wh, "champion_left", (D(2026, 3, 11), D(2026, 3, 11))) == expected
    # a2's champion left before the signal history began: still found, once
    assert keys(rows(wh, "champion_left", (D(2026, 2, 1), D(2026, 2, 28)))) == [
        ("a2", D(2026, 2, 10), "2026-02-10:Old Champ")
    ]


def test_new_decision_maker(wh: Warehouse) -> None:
    assert rows(wh, "new_decision_maker", W1) == [
        ("a2", D(2026, 3, 9), "c2", "new decision maker Sam Ortiz (VP Operations) started on "
         "2026-03-09"),
    ]  # fmt: skip
    assert rows(wh, "new_decision_maker", W2) == [
        ("a2", D(2026, 3, 9), "c2", "new decision maker Sam Ortiz (VP Operations) started on "
         "2026-03-09"),
        ("a3", D(2026, 3, 15), "c5", "new decision maker Nia Park started on 2026-03-15"),
    ]  # fmt: skip


def test_nps_response_kinds(wh: Warehouse) -> None:
    assert rows(wh, "nps_response", W1) == [
        ("a1", D(2026, 3, 4), "r1", 'NPS 3 from Dana Lee: "too slow"')
    ]
    assert rows(wh, "nps_response", W1, kind="promoter") == [("a2", D(2026, 3, 7), "r2", "NPS 10")]
    assert rows(wh, "nps_response", W1, kind="passive") == [
        ("a3", D(2026, 3, 9), "r3", "NPS 7 from Uma User")
    ]
    everything = rows(wh, "nps_response", ALL)
    assert keys(everything) == [
        ("a1", D(2026, 2, 25), "r5"),  # survey "NPS" counts as nps; the csat answer does not
        ("a1", D(2026, 3, 4), "r1"),
        ("a1", D(2026, 3, 11), "r6"),  # answered at midnight: on the 11th, outside W1
    ]
    long = everything[2][3]
    assert long.startswith('NPS 0 from Dana Lee: "slow slow') and long.endswith('..."')
    assert len(long) == len('NPS 0 from Dana Lee: ""') + 200


def test_nps_response_without_a_contacts_table() -> None:
    w = open_warehouse("duckdb://", create=False)
    try:
        load_rows(w, "survey_responses", HISTORY["survey_responses"])
        assert rows(w, "nps_response", W1) == [("a1", D(2026, 3, 4), "r1", 'NPS 3: "too slow"')]
    finally:
        w.close()


def test_expansion_lead_at_the_start_of_a_run(wh: Warehouse) -> None:
    assert rows(wh, "expansion_lead", W1) == [
        ("a1", D(2026, 3, 4), "seats_near_limit:2026-03-04",
         "45 of 50 licensed seats active in the last 30 days"),
    ]  # fmt: skip
    assert rows(wh, "expansion_lead", W1, signals=["adoption_spreading"]) == [
        ("a1", D(2026, 3, 5), "adoption_spreading:2026-03-05", "3 new event types"),
    ]
    # a1's seats lead started before W2 and a2's run began on 02-25: only a3's new run
    assert rows(wh, "expansion_lead", W2) == [
        ("a3", D(2026, 3, 12), "usage_near_limit:2026-03-12",
         "expansion lead (usage near limit)"),
    ]  # fmt: skip


def test_payment_failed_retries_are_one_occurrence(wh: Warehouse) -> None:
    assert rows(wh, "payment_failed", W1) == [
        ("a1", D(2026, 3, 3), "2026-03-03:1200.00", "payment of $1,200 due on 2026-03-03 failed"),
    ]
    assert rows(wh, "payment_failed", W2) == [
        ("a3", D(2026, 3, 15), "2026-03-15:1234567.89",
         "payment of $1,234,567.89 due on 2026-03-15 failed"),
        ("a3", D(2026, 3, 15), "2026-03-15:99.50", "payment of $99.50 due on 2026-03-15 failed"),
    ]  # fmt: skip


def test_new_account(wh: Warehouse) -> None:
    assert rows(wh, "new_account", W1) == [
        ("a2", D(2026, 3, 2), "welcome", "new customer since 2026-03-02 (ARR $6,000)"),
        ("a3", D(2026, 3, 2), "welcome", "new customer since 2026-03-02"),
    ]
    assert rows(wh, "new_account", W2) == [
        ("a4", D(2026, 3, 12), "welcome", "new customer since 2026-03-12 (ARR $1,200.50)"),
    ]


def test_schedule_for_the_customers_of_each_period_day(wh: Warehouse) -> None:
    # a customer on a period's first day has a signal row with MRR that day: a2 has no MRR,
    # a3 signed up on 03-02 (after the 1st, before the Mondays), and no row reaches 04-01
    monthly = rows(wh, "schedule", (D(2026, 2, 15), D(2026, 4, 10)))
    assert keys(monthly) == [("a1", D(2026, 3, 1), "month:2026-03-01"),
                             ("a5", D(2026, 3, 1), "month:2026-03-01")]
    assert monthly[0][3] == "scheduled monthly touch for 2026-03-01 (ARR $48,000)"
    assert keys(rows(wh, "schedule", W1, every="week")) == sorted(
        (a, d, f"week:{d.isoformat()}")
        for a in ("a1", "a3", "a5")
        for d in (D(2026, 3, 2), D(2026, 3, 9))  # the Mondays
    )
    assert rows(wh, "schedule", (D(2026, 3, 2), D(2026, 3, 31))) == []  # no 1st inside


def test_period_starts() -> None:
    assert period_starts("month", D(2025, 12, 1), D(2026, 2, 1)) == [
        D(2025, 12, 1),
        D(2026, 1, 1),
        D(2026, 2, 1),
    ]
    assert period_starts("month", D(2026, 1, 2), D(2026, 1, 31)) == []
    assert period_starts("week", D(2026, 3, 2), D(2026, 3, 9)) == [D(2026, 3, 2), D(2026, 3, 9)]
    assert period_starts("week", D(2026, 3, 3), D(2026, 3, 8)) == []


# --------------------------------------------------------------------------- windows


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_occurrences_do_not_depend_on_the_window(
    wh: Warehouse, name: str, params: dict[str, Any]
) -> None:
    """Each window finds exactly the occurrences of the whole history that fall in it, with
    the same keys: overlapping windows re-find the same occurrence, never a new one."""
    whole = rows(wh, name, ALL, **params)
    for start, end in WINDOWS:
        assert rows(wh, name, (start, end), **params) == [
            r for r in whole if start <= r[1] <= end
        ], (start, end)
    assert len({(r[0], r[2]) for r in whole}) == len(whole)  # distinct (account, key)


def test_every_case_finds_something(wh: Warehouse) -> None:
    """Guards the window test against passing on empty results."""
    for name, params in CASES:
        assert rows(wh, name, (D(2026, 2, 1), D(2026, 4, 30)), **params), (name, params)


# --------------------------------------------------------------------------- absent tables, errors


def test_absent_tables_give_empty_occurrences() -> None:
    w = open_warehouse("duckdb://", create=False)
    try:
        for name, params in CASES:
            assert rows(w, name, W1, **params) == [], name
    finally:
        w.close()


def test_unknown_trigger_names_the_known_ones(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match=r"unknown trigger 'nope'.*health_turned.*schedule"):
        occurrences(wh, "nope", *W1)
    with pytest.raises(ValueError, match="unknown trigger 'nope'"):
        trigger("nope")


def test_unknown_parameter_names_it_and_the_known_ones(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match=r"'health_turned' has no parameter 'colour'.*: color"):
        occurrences(wh, "health_turned", *W1, {"colour": "red"})
    with pytest.raises(ValueError, match=r"'payment_failed' has no parameter 'days'.*none"):
        occurrences(wh, "payment_failed", *W1, {"days": 3})


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("health_turned", {"color": "blue"}, "color must be one of green, yellow, red"),
        ("renewal_approaching", {"days": 0}, "days must be a positive whole number"),
        ("renewal_approaching", {"days": "90"}, "days must be a positive whole number"),
        ("renewal_approaching", {"days": True}, "days must be a positive whole number"),
        ("renewal_approaching", {"days": 30.5}, "days must be a positive whole number"),
        ("nps_response", {"kind": "angry"}, "kind must be one of detractor, passive, promoter"),
        ("expansion_lead", {"signals": ["seats_near_limit", "x"]}, "unknown expansion signal.*'x'"),
        ("expansion_lead", {"signals": []}, "signals must be a non-empty list"),
        ("expansion_lead", {"signals": 3}, "signals must be a non-empty list"),
        ("schedule", {"every": "day"}, "every must be one of month, week"),
    ],
)
def test_bad_values_are_refused(
    wh: Warehouse, name: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"trigger '{name}': {message}"):
        occurrences(wh, name, *W1, params)


def test_values_are_normalised() -> None:
    assert validate_params("expansion_lead", {"signals": "usage_near_limit"}) == {
        "signals": ("usage_near_limit",)
    }
    assert validate_params("schedule", {"every": "week"}) == {"every": "week"}


def test_bad_windows_are_refused(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="starts after it ends"):
        occurrences(wh, "usage_plateau", D(2026, 3, 2), D(2026, 3, 1))
    with pytest.raises(ValueError, match="start must be a date"):
        occurrences(wh, "usage_plateau", datetime(2026, 3, 1), D(2026, 3, 2))


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgres_gives_the_same_rows(wh: Warehouse, postgres_url: str) -> None:
    pg = _load(open_warehouse(postgres_url))
    try:
        for name, params in CASES:
            for window in (W1, W2, ALL):
                assert rows(pg, name, window, **params) == rows(wh, name, window, **params), (
                    name, params, window,
                )  # fmt: skip
        # the ARR a decision dated in the past reads (a replay's filters)
        ids = ibis.memtable({"account_id": ["a1", "a2", "a3", "a5"]})
        for day in (D(2026, 3, 1), D(2026, 3, 14), D(2026, 4, 10)):
            assert past_arr(pg, ids, day) == past_arr(wh, ids, day) != {}
    finally:
        pg.close()


def test_renewals_of_monthly_terms_are_not_announced(wh: Warehouse) -> None:
    """a5 renews every month: its 31-day term crosses 30 days out each time (03-16), but a
    notice period longer than half the term is noise; with min_term_days=0 it fires."""
    found = rows(wh, "renewal_approaching", ALL, days=30)
    assert "a5" not in {a for a, *_ in found}
    unfiltered = rows(wh, "renewal_approaching", ALL, days=30, min_term_days=0)
    assert ("a5", D(2026, 3, 16), "2026-04-15:30") in keys(unfiltered)
