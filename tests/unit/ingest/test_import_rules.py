"""Every row rule of the data contract: bad rows are reported, quarantined, and the rest load."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from helix.ingest import import_files
from helix.warehouse import Warehouse

from .conftest import ACCOUNTS_HEADER, SUBS_HEADER, write_csv


def _import(wh: Warehouse, path: Path, tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    return import_files(wh, path, imports_dir=tmp_path / "reports", **kw)


def _errors(report) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    return [(Path(e.file).name, e.row, e.column) for e in report.errors]


def test_valid_company_loads_everything(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    report = _import(wh, company, tmp_path)
    assert report.error_count == 0
    assert {t: r.loaded for t, r in report.tables.items()} == {
        "accounts": 3, "subscriptions": 4, "events": 5,
    }
    for r in report.tables.values():
        assert r.quarantine is None
        assert r.read == r.loaded + r.rejected + r.duplicates


def test_values_are_typed_and_times_are_utc(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    _import(wh, company, tmp_path)
    subs = {r["subscription_id"]: r for r in wh.table("subscriptions").to_pyarrow().to_pylist()}
    assert str(subs["S1"]["mrr"]) == "1000.500000"
    assert subs["S2"]["end_date"] is None
    ev = wh.table("events").order_by(["account_id", "event_time"]).to_pyarrow().to_pylist()
    times = [(e["account_id"], e["event_time"].isoformat()) for e in ev]
    # +02:00 is converted to UTC; zone-less times are taken as UTC; a date is midnight UTC
    assert ("A1", "2024-05-01T10:00:00") in times
    assert times.count(("A1", "2024-05-01T10:00:00")) == 2
    assert ("A2", "2024-05-03T00:00:00") in times


def test_extra_columns_become_attributes(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    import json

    _import(wh, company, tmp_path)
    rows = wh.table("accounts").to_pyarrow().to_pylist()
    attrs = {r["account_id"]: json.loads(r["attributes"]) for r in rows}
    assert attrs["A1"] == {"employees": "500"}
    assert {r["name"] for r in rows} >= {"Beta, Inc."}


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (["S9", "A1", "core", "g", "", None, "10", 1], "start_date", "missing required value"),
        (["S9", "A1", "core", "g", "2024-02-30", None, "10", 1], "start_date", "is not a date"),
        (["S9", "A1", "core", "g", "01/02/2024", None, "10", 1], "start_date", "is not a date"),
        (["S9", "A1", "core", "g", "2024-02-01", "2024-02-01", "10", 1], "end_date", "must be after"),
        (["S9", "A1", "core", "g", "2024-02-01", "2024-01-01", "10", 1], "end_date", "must be after"),
        (["S9", "A1", "core", "g", "2024-02-01", None, "-1", 1], "mrr", "below the minimum"),
        (["S9", "A1", "core", "g", "2024-02-01", None, "ten", 1], "mrr", "is not an amount"),
        (["S9", "A1", "core", "g", "2024-02-01", None, "10", "-3"], "quantity", "below the minimum"),
        (["S9", "NOPE", "core", "g", "2024-02-01", None, "10", 1], "account_id", "unknown account_id"),
        (["", "A1", "core", "g", "2024-02-01", None, "10", 1], "subscription_id", "missing required"),
        (["S9", "A1", "", "g", "2024-02-01", None, "10", 1], "product", "missing required"),
    ],
)
def test_subscription_rule(
    wh: Warehouse, company: Path, tmp_path: Path, row: list[object], column: str, fragment: str
) -> None:
    rows = [["S1", "A1", "core", "growth", "2024-01-01", None, "100", 1], row]
    write_csv(company / "subscriptions.csv", SUBS_HEADER, rows)
    report = _import(wh, company, tmp_path)
    subs = report.tables["subscriptions"]
    assert (subs.loaded, subs.rejected) == (1, 1)
    assert _errors(report) == [("subscriptions.csv", 2, column)]
    assert fragment in report.errors[0].reason
    assert wh.count("subscriptions") == 1


def test_rejected_rows_are_quarantined_untouched(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    bad = ["S9", "A1", "core", "g", "2024-02-30", None, " 10 ", 1]
    write_csv(
        company / "subscriptions.csv",
        SUBS_HEADER,
        [["S1", "A1", "core", "growth", "2024-01-01", None, "100", 1], bad],
    )
    report = _import(wh, company, tmp_path)
    qfile = Path(report.tables["subscriptions"].quarantine or "")
    assert qfile.exists() and qfile.parent == Path(report.report_dir or "")
    with open(qfile, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == SUBS_HEADER
    assert rows[1] == ["S9", "A1", "core", "g", "2024-02-30", "", " 10 ", "1"]
    with open(qfile.parent / "subscriptions.errors.csv", newline="") as fh:
        errs = list(csv.DictReader(fh))
    assert errs[0]["row"] == "2" and errs[0]["column"] == "start_date"
    assert (qfile.parent / "report.json").exists()


def test_fixed_quarantine_file_reimports(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    write_csv(
        company / "subscriptions.csv",
        SUBS_HEADER,
        [["S9", "A1", "core", "g", "2024-02-30", None, "10", 1]],
    )
    report = _import(wh, company, tmp_path)
    qfile = Path(report.tables["subscriptions"].quarantine or "")
    fixed = qfile.read_text().replace("2024-02-30", "2024-02-28")
    fixed_path = tmp_path / "fix" / "subscriptions.csv"
    fixed_path.parent.mkdir()
    fixed_path.write_text(fixed)
    again = _import(wh, fixed_path, tmp_path)
    assert again.tables["subscriptions"].loaded == 1 and again.error_count == 0


def test_account_rules(wh: Warehouse, tmp_path: Path) -> None:
    d = tmp_path / "acc"
    write_csv(
        d / "accounts.csv",
        ACCOUNTS_HEADER + ["parent_account_id"],
        [
            ["A1", "Acme", "ent", "", ""],
            ["A2", "", "smb", "", ""],  # missing name
            ["A3", "Child", "smb", "", "A1"],  # parent in the same file
            ["A4", "Orphan", "smb", "", "ZZ"],  # unknown parent
            ["A5", "Five", "smb", "", ""],
            ["A5", "Five", "smb", "", ""],  # identical duplicate: one record
            ["A6", "Six", "smb", "", ""],
            ["A6", "Six bis", "smb", "", ""],  # conflicting duplicate: both rejected
        ],
    )
    write_csv(d / "subscriptions.csv", SUBS_HEADER, [["S1", "A1", "core", "", "2024-01-01", None, 1, 1]])
    report = _import(wh, d, tmp_path)
    acc = report.tables["accounts"]
    assert (acc.read, acc.loaded, acc.rejected, acc.duplicates) == (8, 3, 4, 1)
    assert _errors(report) == [
        ("accounts.csv", 2, "name"),
        ("accounts.csv", 4, "parent_account_id"),
        ("accounts.csv", 7, "account_id"),
        ("accounts.csv", 8, "account_id"),
    ]
    assert "different values" in report.errors[2].reason


def test_choices_integers_and_scores(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    write_csv(
        company / "survey_responses.csv",
        ["response_id", "account_id", "responded_at", "survey", "score", "comment"],
        [
            ["R1", "A1", "2024-05-01", "nps", "9", "great"],
            ["R2", "A1", "2024-05-01", "nps", "11", ""],
            ["R3", "A1", "2024-05-01", "csat", "0", ""],
            ["R4", "A1", "2024-05-01", "nps", "7.5", ""],
            ["R5", "A1", "2024-05-01", "custom", "42", ""],
        ],
    )
    write_csv(
        company / "contacts.csv",
        ["contact_id", "account_id", "name", "role", "started_at", "ended_at"],
        [
            ["C1", "A1", "Jane", "champion", "2024-01-01", ""],
            ["C2", "A1", "Joe", "boss", "", ""],
            ["C3", "A1", "Ann", "user", "2024-05-01", "2024-04-01"],
        ],
    )
    report = _import(wh, company, tmp_path)
    assert _errors(report) == [
        ("contacts.csv", 2, "role"),
        ("contacts.csv", 3, "ended_at"),
        ("survey_responses.csv", 2, "score"),
        ("survey_responses.csv", 3, "score"),
        ("survey_responses.csv", 4, "score"),
    ]
    assert report.tables["survey_responses"].loaded == 2
    assert "one of: champion" in report.errors[0].reason


def test_contact_references_checked_when_contacts_exist(
    wh: Warehouse, company: Path, tmp_path: Path
) -> None:
    write_csv(company / "contacts.csv", ["contact_id", "account_id", "name"], [["C1", "A1", "Jane"]])
    write_csv(
        company / "activities.csv",
        ["activity_id", "account_id", "occurred_at", "kind", "contact_id"],
        [["X1", "A1", "2024-05-01", "call", "C1"], ["X2", "A1", "2024-05-01", "call", "C9"]],
    )
    report = _import(wh, company, tmp_path)
    assert _errors(report) == [("activities.csv", 2, "contact_id")]
