"""Expansion leads on a hand-built company: which appear, which must not, history and reruns."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from helix.errors import ConfigError
from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.predict.expansion import detect_leads, list_leads, update_leads
from helix.predict.expansion_config import ExpansionConfig
from helix.warehouse import Warehouse, open_warehouse
from helix.warehouse.schema import EXPANSION_LEADS

from .expansion_company import (
    CSM,
    DAY,
    EXPECTED,
    EXPECTED_WITH_LIMITS,
    LIMITS,
    add_predictions,
    write_company,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The company imported and run once; each test works on a copy."""
    base = tmp_path_factory.mktemp("expansion")
    (base / "wh").mkdir()
    with open_warehouse(f"duckdb://{base / 'wh' / 'wh.duckdb'}") as w:
        import_files(w, write_company(base / "co"), imports_dir=base / "reports")
        run_pipeline(w, as_of=DAY)
        add_predictions(w)
    return base / "wh"


@pytest.fixture
def wh(built: Path, tmp_path: Path) -> Iterator[Warehouse]:
    shutil.copytree(built, tmp_path / "wh")
    w = open_warehouse(f"duckdb://{tmp_path / 'wh' / 'wh.duckdb'}")
    yield w
    w.close()


def _stored(wh: Warehouse, day=DAY) -> dict[tuple[str, str], dict]:
    t = wh.table(EXPANSION_LEADS.name)
    rows = t.filter(t.detected_on == day).to_pyarrow().to_pylist()
    return {(r["account_id"], r["signal"]): r for r in rows}


def test_the_known_leads_appear_and_no_others(wh: Warehouse) -> None:
    table, notes = detect_leads(wh, DAY, LIMITS)
    got = {(r["account_id"], r["signal"]): r["suggested_motion"] for r in table.to_pylist()}
    assert got == EXPECTED_WITH_LIMITS
    assert table.schema.equals(EXPANSION_LEADS.ibis_schema().to_pyarrow())
    assert notes == []
    # without configured limits the usage signal is skipped, and says so
    table, notes = detect_leads(wh, DAY)
    assert {(r["account_id"], r["signal"]) for r in table.to_pylist()} == set(EXPECTED)
    assert any(n.startswith("usage_near_limit skipped") for n in notes)


def test_evidence_carries_the_numbers(wh: Warehouse) -> None:
    table, _ = detect_leads(wh, DAY, LIMITS)
    rows = {(r["account_id"], r["signal"]): r for r in table.to_pylist()}
    seat = rows["SEAT92", "seats_near_limit"]
    assert seat["evidence"].startswith("46 of 50 licensed seats active in the last 30 days (92%")
    assert (seat["value"], seat["used"], seat["licensed"], seat["threshold"]) == (0.92, 46, 50, 0.8)
    assert seat["strength"] == pytest.approx(0.92 / 0.8)
    assert float(seat["arr"]) == 6000 and seat["owner_email"] == CSM
    assert rows["SEAT80", "seats_near_limit"]["value"] == 0.8  # at the threshold counts
    use = rows["USE85", "usage_near_limit"]
    assert (use["used"], use["licensed"]) == (pytest.approx(1700), 2000)
    assert "1,700 sync.run units" in use["evidence"] and "2 Zeta Credits (85%" in use["evidence"]
    up = rows["ADOPT_UP", "adoption_spreading"]
    detail = json.loads(up["detail"])
    assert detail["new_event_types"] == ["Ω export", "kpi/Build"]  # in order of first use
    assert detail["higher_plan"] == {"product": "Core Thing", "from": "p-one", "to": "p-two"}
    assert up["evidence"].startswith(
        "2 event types used in the last 30 days and not in the 365 days before (Ω export, kpi/Build"
    )
    assert up["evidence"].endswith("1 other type used then") and up["value"] == 2
    assert "p-two" in up["motion_reason"]
    cross = rows["ADOPT_X", "adoption_spreading"]
    assert json.loads(cross["detail"])["products_lacking"] == ["Zeta Credits"]
    assert "Zeta Credits" in cross["motion_reason"]
    pred = rows["PRED", "predicted_expansion"]
    assert pred["value"] == 0.7 and pred["threshold"] == 0.5
    assert pred["evidence"].startswith("70% probability of expanding within 90 days")
    assert "smb accounts expanded most often by seats" in pred["motion_reason"]
    assert "1 of 1 expansions" in pred["motion_reason"]


def test_thresholds_are_configurable(wh: Warehouse) -> None:
    strict = replace(LIMITS, seat_threshold=0.9, usage_threshold=0.7, min_new_event_types=3,
                     prediction_threshold=0.25)  # fmt: skip
    table, _ = detect_leads(wh, DAY, strict)
    got = {(r["account_id"], r["signal"]) for r in table.to_pylist()}
    assert ("SEAT92", "seats_near_limit") in got and ("SEAT80", "seats_near_limit") not in got
    assert ("USE75", "usage_near_limit") in got
    assert {a for a, s in got if s == "adoption_spreading"} == {"ADOPT_X"}
    assert {a for a, s in got if s == "predicted_expansion"} == {"PRED", "PRED_LOW"}
    # with a 150-day look-back, ADOPT_ONE's use of share-it 200 days ago is forgotten
    short = replace(ExpansionConfig(), adoption_lookback_days=150)
    adopted = {r["account_id"] for r in detect_leads(wh, DAY, short)[0].to_pylist()
               if r["signal"] == "adoption_spreading"}  # fmt: skip
    assert adopted == {"ADOPT_UP", "ADOPT_X", "ADOPT_ALL", "ADOPT_ONE"}
    young = replace(ExpansionConfig(), adoption_min_tenure_days=30)
    adopted = {r["account_id"] for r in detect_leads(wh, DAY, young)[0].to_pylist()
               if r["signal"] == "adoption_spreading"}  # fmt: skip
    assert "ADOPT_YOUNG" in adopted


def test_the_stage_writes_leads_and_a_rerun_replaces_its_date(wh: Warehouse) -> None:
    report = run_pipeline(wh, as_of=DAY, only=["expansion"], full=True)
    (stage,) = report.stages
    assert stage.rows == {EXPANSION_LEADS.name: len(EXPECTED)}
    assert any("usage_near_limit skipped" in n for n in stage.notes)
    first = _stored(wh)
    assert {k: r["suggested_motion"] for k, r in first.items()} == EXPECTED
    again = update_leads(wh, DAY)
    second = _stored(wh)
    assert again.rows == len(second) == len(first) == wh.count(EXPANSION_LEADS.name)
    assert all(second[k]["computed_at"] >= first[k]["computed_at"] for k in first)
    # a rerun with other settings replaces that date's leads, not adds to them
    update_leads(wh, DAY, LIMITS)
    assert set(_stored(wh)) == set(EXPECTED_WITH_LIMITS)
    assert wh.count(EXPANSION_LEADS.name) == len(EXPECTED_WITH_LIMITS)


def test_earlier_dates_are_kept(wh: Warehouse) -> None:
    update_leads(wh, DAY, LIMITS)
    later = DAY + timedelta(days=7)
    run_pipeline(wh, as_of=later, only=["signals"])
    run = update_leads(wh, later, replace(LIMITS, seat_threshold=0.5))
    assert run.detected_on == later and 0 < run.new < run.rows
    runs = {k: r["first_detected_on"] for k, r in _stored(wh, later).items()}
    assert runs["SEAT92", "seats_near_limit"] == DAY  # still a lead: its run goes on
    assert {d for k, d in runs.items() if k not in EXPECTED_WITH_LIMITS} == {later}
    assert {r["first_detected_on"] for r in _stored(wh).values()} == {DAY}
    assert set(_stored(wh)) == set(EXPECTED_WITH_LIMITS)  # the history is untouched
    assert (
        _stored(wh, later)
        and wh.count(EXPANSION_LEADS.name) == len(EXPECTED_WITH_LIMITS) + run.rows
    )
    # reading: the latest date by default, one account's history newest first
    assert {r["detected_on"] for r in list_leads(wh, limit=1000)} == {later.isoformat()}
    history = list_leads(wh, account_id="SEAT92")
    assert [r["detected_on"] for r in history] == [later.isoformat(), DAY.isoformat()]
    assert all(r["name"] == "Seat92 Ltd" for r in history)


def test_reading_filters_and_order(wh: Warehouse) -> None:
    update_leads(wh, DAY, LIMITS)
    rows = list_leads(wh, on=DAY, limit=100)
    assert len(rows) == len(EXPECTED_WITH_LIMITS)
    assert [r["strength"] for r in rows] == sorted((r["strength"] for r in rows), reverse=True)
    assert {r["account_id"] for r in list_leads(wh, owner="CSM@x.io")} == {
        "SEAT92",
        "SEAT80",
        "ADOPT_UP",
    }
    assert {r["account_id"] for r in list_leads(wh, motion="tier")} == {"ADOPT_UP"}
    assert [r["account_id"] for r in list_leads(wh, signal="usage_near_limit")] == ["USE85"]
    assert len(list_leads(wh, limit=2)) == 2
    assert list_leads(wh, on=DAY - timedelta(days=1)) == []


def test_missing_tables_are_skipped_with_a_note(tmp_path: Path) -> None:
    from ..ingest.conftest import write_csv

    d = tmp_path / "only"
    write_csv(d / "accounts.csv", ["account_id", "name"], [["A", "A"]])
    write_csv(d / "subscriptions.csv",
              ["subscription_id", "account_id", "product", "start_date", "mrr", "quantity"],
              [["s", "A", "x", "2024-01-01", 100, 5]])  # fmt: skip
    with open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}") as w:
        import_files(w, d, imports_dir=tmp_path / "r")
        run_pipeline(w, as_of=DAY)
        run = update_leads(w, DAY, LIMITS)
    assert run.rows == 0 and run.detected_on == DAY
    assert any("usage_near_limit skipped: no events" in n for n in run.notes)
    assert any("adoption_spreading skipped: no events" in n for n in run.notes)
    assert any("seats_near_limit skipped: no events" in n for n in run.notes)
    assert any("predicted_expansion skipped" in n for n in run.notes)


def test_no_signals_yet_is_not_an_error(tmp_path: Path) -> None:
    with open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}") as w:
        run = update_leads(w, DAY)
    assert run.detected_on is None and run.rows == 0 and "helix run" in run.notes[0]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"seat_treshold": 0.8}, "unknown expansion settings"),
        ({"seat_threshold": "high"}, "must be a number"),
        ({"min_new_event_types": 1.5}, "whole number"),
        ({"prediction_threshold": 1.5}, "probability"),
        ({"usage_limits": [{"product": "x"}]}, "needs 'event_type'"),
        (
            {"usage_limits": [{"product": "x", "event_type": "y", "measure": "sum"}]},
            "count or value",
        ),
    ],
)
def test_bad_settings_are_refused(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExpansionConfig.from_dict(data)


def test_settings_round_trip() -> None:
    assert ExpansionConfig.from_dict(LIMITS.to_dict()) == LIMITS
    assert ExpansionConfig.from_dict(None) == ExpansionConfig()
