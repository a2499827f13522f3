"""`helix run`: the account summary by hand, incrementality, and data checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helix.cli.main import app
from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.warehouse import Warehouse, open_warehouse

from ..ingest.conftest import SUBS_HEADER, write_csv


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    d = tmp_path / "in"
    write_csv(d / "accounts.csv", ["account_id", "name", "owner_email"], [
        ["E1", "Enterprise", "a@x.io"], ["M1", "Mid", "b@x.io"], ["S1", "Small", ""], ["Z1", "Gone", ""], ["N1", "NoSubs", ""],
    ])
    write_csv(d / "subscriptions.csv", SUBS_HEADER + ["contract_end_date", "currency"], [
        # E1: 9,000/month from 2024-01-01, plus an add-on that ends exactly on the as-of date
        ["e1", "E1", "core", "ent", "2024-01-01", None, "9000", 100, "2025-01-01", "USD"],
        ["e2", "E1", "addon", "", "2024-03-01", "2024-07-01", "500", 1, "", "USD"],
        # M1: 2,500/month, starting exactly on the as-of date (counts: periods are half-open)
        ["m1", "M1", "core", "growth", "2024-07-01", None, "2500", 20, "2025-07-01", "USD"],
        ["s1", "S1", "core", "starter", "2024-02-01", None, "100", 2, "2024-08-01", "USD"],
        ["z1", "Z1", "core", "starter", "2024-01-01", "2024-05-01", "100", 2, "", "USD"],
    ])
    write_csv(d / "events.csv", ["account_id", "event_time", "event_type"], [
        ["E1", "2024-06-30T23:59:59Z", "login"],
        ["E1", "2024-07-01T00:00:00Z", "login"],  # on the as-of date: not yet seen
    ])
    w = open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}")
    import_files(w, d, imports_dir=tmp_path / "r")
    return w


def test_account_summary_by_hand(wh: Warehouse) -> None:
    run_pipeline(wh, as_of=date(2024, 7, 1))
    rows = {r["account_id"]: r for r in wh.table("account_summary").to_pyarrow().to_pylist()}
    assert float(rows["E1"]["mrr"]) == 9000 and float(rows["E1"]["arr"]) == 108_000
    assert rows["E1"]["tier"] == "enterprise" and rows["E1"]["seats"] == 100
    assert rows["E1"]["last_event_at"].isoformat() == "2024-06-30T23:59:59"
    assert str(rows["E1"]["next_renewal"]) == "2025-01-01"
    assert float(rows["M1"]["mrr"]) == 2500 and rows["M1"]["tier"] == "mid_market"  # ARR 30,000
    assert rows["S1"]["tier"] == "smb" and rows["S1"]["active"] == 1
    assert rows["Z1"]["active"] == 0 and rows["Z1"]["tier"] is None and float(rows["Z1"]["mrr"]) == 0
    assert str(rows["Z1"]["customer_since"]) == "2024-01-01"
    assert rows["N1"]["customer_since"] is None


def test_stages_are_incremental(wh: Warehouse, tmp_path: Path) -> None:
    first = run_pipeline(wh, as_of=date(2024, 7, 1))
    assert [s.status for s in first.stages] == ["ran"] * len(first.stages)
    again = run_pipeline(wh, as_of=date(2024, 7, 1))
    assert {s.status for s in again.stages} == {"skipped"}
    moved = run_pipeline(wh, as_of=date(2024, 7, 2))
    assert {s.name for s in moved.stages if s.status == "ran"} >= {"checks", "account_summary"}
    forced = run_pipeline(wh, as_of=date(2024, 7, 2), full=True)
    assert {s.status for s in forced.stages} == {"ran"}
    write_csv(tmp_path / "more" / "events.csv", ["account_id", "event_time", "event_type"], [["S1", "2024-06-01", "login"]])
    import_files(wh, tmp_path / "more", imports_dir=tmp_path / "r")
    after_import = run_pipeline(wh, as_of=date(2024, 7, 2), only=["account_summary"])
    assert [s.status for s in after_import.stages] == ["ran"]


def test_checks_report_what_is_missing_or_odd(wh: Warehouse) -> None:
    run_pipeline(wh, as_of=date(2024, 9, 1))
    found = {r["check_name"]: r for r in wh.table("data_checks").to_pyarrow().to_pylist()}
    assert found["accounts_without_subscriptions"]["count"] == 1
    assert found["stale_events"]["severity"] == "warning"
    assert "no_contacts" in found and "no_subscriptions" not in found


def test_missing_subscriptions_is_an_error_finding(tmp_path: Path) -> None:
    d = tmp_path / "in"
    write_csv(d / "accounts.csv", ["account_id", "name"], [["A1", "Acme"]])
    w = open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}")
    import_files(w, d, imports_dir=tmp_path / "r")
    report = run_pipeline(w, as_of=date(2024, 1, 1))
    checks = next(s for s in report.stages if s.name == "checks")
    assert any("no subscriptions imported" in n for n in checks.notes)


def test_cli_run_json(tmp_path: Path) -> None:
    d = tmp_path / "in"
    write_csv(d / "accounts.csv", ["account_id", "name"], [["A1", "Acme"]])
    write_csv(d / "subscriptions.csv", SUBS_HEADER, [["s", "A1", "core", "", "2024-01-01", None, 10, 1]])
    runner = CliRunner()
    home = str(tmp_path / "home")
    assert runner.invoke(app, ["--home", home, "import", str(d)]).exit_code == 0
    result = runner.invoke(app, ["--home", home, "run", "--as-of", "2024-02-01", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2024-02-01"
    assert {s["name"] for s in doc["stages"]} >= {"checks", "account_summary"}
    bad = runner.invoke(app, ["--home", home, "run", "--stage", "nope"])
    assert bad.exit_code != 0
