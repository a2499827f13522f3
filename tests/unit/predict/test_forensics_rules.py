"""Churn forensics on a hand-built company: lead times, patterns, periods, books, missing data."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from helix.errors import NotFoundError, UserError
from helix.metrics.loading import load_rows
from helix.pipeline import run_pipeline
from helix.predict.forensics import account_forensics, forensics_summary, painful_churns
from helix.predict.forensics_timeline import SOURCE_TABLES, thin
from helix.predict.forensics_warnings import WARNINGS
from helix.warehouse import Warehouse, open_warehouse

from . import forensics_world as w


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = tmp_path_factory.mktemp("forensics") / "wh.duckdb"
    warehouse = open_warehouse(f"duckdb://{path}")
    w.build_world(warehouse)
    yield warehouse
    warehouse.close()


@pytest.mark.parametrize("account", sorted(w.EXPECTED_PATTERN))
def test_each_churn_gets_its_pattern_and_lead_times(wh: Warehouse, account: str) -> None:
    doc = account_forensics(wh, account)
    assert doc["churn"]["churn_date"] == w.CHURN[account].isoformat()
    assert doc["pattern"]["name"] == w.EXPECTED_PATTERN[account]
    expected = w.EXPECTED_WARNINGS[account]
    for item in doc["warnings"]:
        visible, first = expected.get(item["warning"], (None, None))
        assert item["visible_from"] == (visible.isoformat() if visible else None), item
        assert item["first_seen"] == (first.isoformat() if first else None), item
        assert item["lead_days"] == w.lead(account, visible)
        assert item["first_lead_days"] == w.lead(account, first)
    leads = {k: w.lead(account, v) for k, (v, _) in expected.items() if v is not None}
    if leads:
        best = max(leads, key=lambda k: leads[k])
        assert doc["earliest_warning"]["warning"] == best
        assert doc["earliest_warning"]["lead_days"] == leads[best]
    else:
        assert doc["earliest_warning"] is None
    assert doc["warnings_visible"] == len(leads)
    assert doc["notes"] == []


def test_lost_champion_names_who_left_and_the_timeline_shows_the_year(wh: Warehouse) -> None:
    doc = account_forensics(wh, "LC")
    why = doc["pattern"]["why"]
    assert any("Ann Lee left on 2025-01-11, 141 days before" in line for line in why)
    assert [c["name"] for c in doc["contacts"]["left"]] == ["Ann Lee"]  # not the 2024 one
    assert [c["name"] for c in doc["contacts"]["joined"]] == ["Bob Day"]
    assert doc["churn"]["reason"] == "Our champion left"
    assert doc["window"] == {"from": "2024-06-01", "to": "2025-06-01"}
    changes = [(c["date"], c["to"]) for c in doc["health_changes"]]
    assert changes == [("2024-07-01", "green"), ("2025-02-01", "red"), ("2025-03-01", "green"),
                       ("2025-04-01", "red")]  # fmt: skip
    events = doc["events"]
    assert events == sorted(events, key=lambda e: e["date"])
    assert events[-1]["source"] == "churn" and events[-1]["date"] == "2025-06-01"
    left = {"date": "2025-01-11", "source": "contacts", "what": "Ann Lee (champion, VP Ops) left"}
    assert left in events
    assert [r["score_date"] for r in doc["signals"]["rows"]][0] == "2024-07-01"
    assert doc["missing_sources"] == ["predictions", "activities", "survey_responses"]


def test_routine_tickets_stay_out_of_the_event_stream(wh: Warehouse) -> None:
    doc = account_forensics(wh, "OUT")
    subjects = [t["subject"] for t in doc["tickets"]]
    assert subjects == ["Routine question", "Export broken"]  # window: [2024-07-15, 2025-07-15)
    stream = [e["what"] for e in doc["events"] if e["source"] == "tickets"]
    assert stream == ["[urgent] Export broken"]


def test_an_account_that_came_back_has_one_forensics_per_churn(wh: Warehouse) -> None:
    latest = account_forensics(wh, "RE")
    assert latest["churn"]["churn_date"] == "2025-03-01"
    assert latest["other_churns"] == ["2024-03-01"]
    first = account_forensics(wh, "RE", churn_date=date(2024, 3, 1))
    assert first["churn"]["churn_date"] == "2024-03-01" and first["other_churns"] == ["2025-03-01"]
    with pytest.raises(NotFoundError, match="did not churn on 2024-05-05"):
        account_forensics(wh, "RE", churn_date=date(2024, 5, 5))


def test_live_unknown_and_other_peoples_accounts_are_not_found(wh: Warehouse) -> None:
    with pytest.raises(NotFoundError, match="has not churned"):
        account_forensics(wh, "LIVE")
    with pytest.raises(NotFoundError, match="no account 'nope'"):
        account_forensics(wh, "nope")
    with pytest.raises(NotFoundError, match="in your book"):
        account_forensics(wh, "INV", owner=w.CSM)
    assert account_forensics(wh, "LC", owner="CSM@X.IO")["account"]["account_id"] == "LC"


def test_summary_counts_patterns_money_and_lead_times(wh: Warehouse) -> None:
    s = forensics_summary(wh, start=w.PERIOD[0], end=w.PERIOD[1])
    in_period = [a for a, d in w.CHURN.items() if w.PERIOD[0] <= d < w.PERIOD[1]]
    assert s["churns"] == len(in_period) == 7
    mrr = {a: float(w.ACCOUNTS[a][2][-1][2]) for a in in_period}
    assert s["churned_mrr"] == sum(mrr.values()) == 5700.0
    by = {p["pattern"]: p for p in s["patterns"]}
    for name in by:
        mine = [a for a in in_period if w.EXPECTED_PATTERN[a] == name]
        assert by[name]["churns"] == len(mine), name
        assert by[name]["churned_mrr"] == sum(mrr[a] for a in mine)
    earliest = {
        a: max(w.lead(a, v) for v, _ in w.EXPECTED_WARNINGS[a].values() if v is not None)
        for a in in_period
        if w.EXPECTED_WARNINGS[a]
    }
    e = s["earliest_warning"]
    assert e["median_lead_days"] == statistics.median(earliest.values())
    assert e["warned_share"] == round(len(earliest) / 7, 4)
    assert e["warned_early_share"] == round(sum(v >= 90 for v in earliest.values()) / 7, 4)
    warned = {x["warning"]: x for x in s["warnings"]}
    for spec in WARNINGS:
        hits = [a for a in in_period if spec.name in w.EXPECTED_WARNINGS[a]]
        assert warned[spec.name]["churns_warned"] == len(hits), spec.name
    assert s["churn_types"] == {"voluntary": 5, "involuntary": 1, "unknown": 1}
    assert by["involuntary"]["median_lead_days"] == 30.0


def test_base_rates_come_from_every_account(wh: Warehouse) -> None:
    s = forensics_summary(wh, start=w.PERIOD[0], end=w.PERIOD[1])
    rates = {x["warning"]: x["base_rate"] for x in s["warnings"]}
    rows = w.signal_rows()
    expected = w.base_rate(rows, lambda r: r.get("usage_trend_90", 1) < 0.7, *w.PERIOD)
    assert rates["usage_down"] == round(expected, 4) > 0
    assert rates["churn_risk_high"] is None  # no predictions
    assert rates["escalation"] is None  # no activities


def test_period_and_book_narrow_the_summary_and_the_painful_list(wh: Warehouse) -> None:
    mine = forensics_summary(wh, start=w.PERIOD[0], end=w.PERIOD[1], owner=w.CSM)
    assert mine["churns"] == 2 and mine["churned_mrr"] == 1500.0
    early = forensics_summary(wh, start=date(2024, 1, 1), end=date(2024, 6, 1))
    assert early["churns"] == 1  # RE's first churn
    top = painful_churns(wh, start=w.PERIOD[0], end=w.PERIOD[1], limit=3)
    assert [c["account_id"] for c in top["churns"]] == ["CON", "LC", "OUT"]
    assert top["churns_in_period"] == 7 and top["churned_mrr_in_period"] == 5700.0
    assert top["churns"][0]["forensics"]["pattern"]["name"] == "consolidated"
    brief = painful_churns(wh, start=w.PERIOD[0], end=w.PERIOD[1], limit=10, detail=False)
    assert len(brief["churns"]) == 7 and "forensics" not in brief["churns"][0]
    assert [c["churned_mrr"] for c in brief["churns"]] == sorted(
        (c["churned_mrr"] for c in brief["churns"]), reverse=True
    )
    default = painful_churns(wh, detail=False)  # the 91 days before the ledger's as-of
    assert default["period"] == {"from": "2025-06-03", "to": "2025-09-02"}
    assert {c["account_id"] for c in default["churns"]} == {"NA", "CON", "OUT", "UNK"}
    with pytest.raises(UserError, match="the period is empty"):
        forensics_summary(wh, start=date(2025, 1, 1), end=date(2025, 1, 1))


def test_without_optional_sources_it_says_what_is_missing(tmp_path: Path) -> None:
    wh = open_warehouse(f"duckdb://{tmp_path / 'bare.duckdb'}")
    try:
        load_rows(wh, "accounts", [{"account_id": "A", "name": "Bare"}])
        load_rows(wh, "subscriptions", [
            {"subscription_id": "s", "account_id": "A", "product": "p",
             "start_date": date(2024, 1, 1), "end_date": date(2025, 2, 1), "mrr": 100},
        ])  # fmt: skip
        with pytest.raises(UserError, match="no MRR ledger yet"):
            account_forensics(wh, "A")
        run_pipeline(wh, as_of=date(2025, 6, 1), only=["mrr_movements"])
        doc = account_forensics(wh, "A")
        assert doc["missing_sources"] == list(SOURCE_TABLES)
        assert not any(x["available"] for x in doc["warnings"])
        assert doc["pattern"]["name"] == "unknown"
        assert "no signals were stored" in doc["pattern"]["why"][0]
        assert [e["source"] for e in doc["events"]] == ["churn"]
        s = forensics_summary(wh)
        assert s["churns"] == 1 and s["earliest_warning"]["warned_share"] == 0.0
        assert all(x["base_rate"] is None for x in s["warnings"])
        # a later import makes the ledger stale: still answered, with a note
        load_rows(wh, "accounts", [{"account_id": "A", "name": "Bare, renamed"}])
        wh.record_change("accounts")
        notes = account_forensics(wh, "A")["notes"]
        assert notes and "older than the latest import" in notes[0]
    finally:
        wh.close()


def test_thinning_keeps_a_row_a_week_and_every_change() -> None:
    start = date(2025, 1, 1)
    rows = [{"d": start + timedelta(days=i), "flag": 1 if i in (3, 4) else 0} for i in range(20)]
    kept = [r["d"].day for r in thin(rows, "d", lambda a, b: a["flag"] != b["flag"])]
    assert kept == [1, 4, 6, 13, 20]  # weekly from day 1, the flag's on (4) and off (6), last
