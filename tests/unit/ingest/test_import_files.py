"""File-level failures, atomicity, idempotency, Parquet, mapping and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from helix.cli.main import app
from helix.errors import ContractError
from helix.ingest import import_files, load_mapping
from helix.ingest import loader as loader_module
from helix.warehouse import CONTRACT_TABLES, Warehouse

from .conftest import SUBS_HEADER, write_csv


def _snapshot(wh: Warehouse) -> dict[str, list[dict[str, object]]]:
    out = {}
    for name in CONTRACT_TABLES:
        rows = wh.table(name).to_pyarrow().to_pylist()
        out[name] = sorted(rows, key=lambda r: json.dumps(r, default=str, sort_keys=True))
    return out


def _import(wh: Warehouse, path: Path, tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    return import_files(wh, path, imports_dir=tmp_path / "reports", **kw)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda d: (d / "customers.csv").write_text("a,b\n1,2\n"), "not a table of the data contract"),
        (lambda d: (d / "events.csv").write_bytes(b"account_id,event_time,event_type\nA1,2024-01-01,l\xe9\n"), "UTF-8"),
        (lambda d: (d / "tickets.csv").write_text("ticket_id,account_id\nT1,A1\n"), "lacks the required column created_at"),
        (lambda d: (d / "payments.parquet").write_text("not parquet"), "cannot be read as Parquet"),
        (lambda d: (d / "contacts.csv").write_text(""), "header row is required"),
        (lambda d: (d / "activities.csv").write_text("activity_id,activity_id\n"), "twice"),
        (lambda d: (d / "accounts.parquet").write_bytes(b""), "holds the table 'accounts'"),
    ],
)
def test_unreadable_file_fails_whole_import_and_changes_nothing(
    wh: Warehouse, company: Path, tmp_path: Path, make, fragment: str  # type: ignore[no-untyped-def]
) -> None:
    _import(wh, company, tmp_path)
    before = _snapshot(wh)
    versions = wh.table_versions()
    write_csv(company / "subscriptions.csv", SUBS_HEADER, [["S7", "A1", "x", "", "2024-01-01", None, 5, 1]])
    make(company)
    with pytest.raises(ContractError) as info:
        _import(wh, company, tmp_path)
    assert fragment in info.value.for_people()
    assert _snapshot(wh) == before
    assert wh.table_versions() == versions
    assert not [t for t in wh.list_tables() if t.startswith("_helix_scratch_")]


def test_crash_during_merge_leaves_warehouse_as_it_was(
    wh: Warehouse, company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(wh, company, tmp_path)
    before = _snapshot(wh)
    write_csv(company / "accounts.csv", ["account_id", "name"], [["A1", "Renamed"], ["A4", "New"]])
    real = loader_module.merge_dedupe

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr("helix.ingest.importer.merge", lambda wh_, spec, inc, **kw: (boom if spec.name == "events" else loader_module.merge)(wh_, spec, inc, **kw))
    with pytest.raises(RuntimeError):
        _import(wh, company, tmp_path)
    assert _snapshot(wh) == before  # accounts were merged before the crash, and rolled back
    assert real is loader_module.merge_dedupe
    assert not list((tmp_path / "reports").glob(".*"))  # no half-written report directory


def test_reimport_changes_nothing(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    first = _import(wh, company, tmp_path)
    before, versions = _snapshot(wh), wh.table_versions()
    second = _import(wh, company, tmp_path)
    assert _snapshot(wh) == before
    assert wh.table_versions() == versions
    assert second.tables["accounts"].unchanged == 3 and second.tables["accounts"].new == 0
    ev = second.tables["events"]
    assert (ev.loaded, ev.duplicates) == (0, first.tables["events"].loaded)
    assert second.changed_tables == []


def test_upsert_replaces_by_key(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    _import(wh, company, tmp_path)
    write_csv(company / "accounts.csv", ["account_id", "name"], [["A1", "Acme Corp"], ["A4", "Delta"]])
    report = _import(wh, company, tmp_path)
    acc = report.tables["accounts"]
    assert (acc.new, acc.updated, acc.unchanged) == (1, 1, 0)
    names = dict(wh.table("accounts").select("account_id", "name").to_pyarrow().to_pylist() and
                 [(r["account_id"], r["name"]) for r in wh.table("accounts").to_pyarrow().to_pylist()])
    assert names == {"A1": "Acme Corp", "A2": "Beta, Inc.", "A3": "Gamma", "A4": "Delta"}


def test_events_deduplicated_within_and_across_files(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    header = ["account_id", "event_time", "event_type", "user_id", "event_id"]
    rows = [
        ["A1", "2024-06-01T10:00:00Z", "login", "u1", ""],
        ["A1", "2024-06-01T10:00:00Z", "login", "u1", ""],  # same identity
        ["A1", "2024-06-01T10:00:00Z", "login", "", ""],  # no user: a different identity
        ["A1", "2024-06-01T10:00:00Z", "login", "", ""],
        ["A1", "2024-06-02T10:00:00Z", "export", "u1", "e-1"],
        ["A1", "2024-06-03T10:00:00Z", "export", "u1", "e-1"],  # same event_id: one event
    ]
    write_csv(company / "events.csv", header, rows)
    first = _import(wh, company, tmp_path)
    assert (first.tables["events"].loaded, first.tables["events"].duplicates) == (3, 3)
    rows.append(["A2", "2024-06-04T10:00:00Z", "login", "u9", ""])
    write_csv(company / "events.csv", header, rows)
    second = _import(wh, company, tmp_path)
    assert (second.tables["events"].loaded, second.tables["events"].duplicates) == (1, 6)
    assert wh.count("events") == 4


def test_parquet_input_and_single_file(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    _import(wh, company / "accounts.csv", tmp_path)
    subs = pa.table(
        {
            "subscription_id": ["S1", "S2"],
            "account_id": ["A1", "A2"],
            "product": ["core", "core"],
            "start_date": pa.array([pa.scalar(19723, pa.date32()).as_py()] * 2, pa.date32()),
            "mrr": pa.array([100.25, 5.0]),
            "quantity": pa.array([3, 1], pa.int64()),
        }
    )
    path = tmp_path / "billing_export.parquet"
    pq.write_table(subs, path)
    report = _import(wh, path, tmp_path, table="subscriptions")
    assert report.tables["subscriptions"].loaded == 2
    got = {r["subscription_id"]: r for r in wh.table("subscriptions").to_pyarrow().to_pylist()}
    assert str(got["S1"]["mrr"]) == "100.250000" and str(got["S1"]["start_date"]) == "2024-01-01"


def test_mapping_renames_columns_and_reports_source_names(
    wh: Warehouse, tmp_path: Path
) -> None:
    d = tmp_path / "crm"
    write_csv(d / "crm_accounts.csv", ["Account ID", "Account Name", "CSM"], [["A1", "Acme", "j@x.io"], ["A2", "", ""]])
    write_csv(
        d / "subscriptions.csv", SUBS_HEADER, [["S1", "A1", "core", "", "2024-01-01", None, 10, 1]]
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "tables:\n  accounts:\n    file: crm_accounts.csv\n    columns:\n"
        "      account_id: Account ID\n      name: Account Name\n      owner_email: CSM\n"
    )
    report = _import(wh, d, tmp_path, mapping=load_mapping(mapping))
    assert report.tables["accounts"].loaded == 1
    assert [(e.row, e.column) for e in report.errors] == [(2, "Account Name")]
    row = wh.table("accounts").to_pyarrow().to_pylist()[0]
    assert (row["account_id"], row["name"], row["owner_email"]) == ("A1", "Acme", "j@x.io")


def test_required_tables_on_first_import(wh: Warehouse, company: Path, tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no accounts yet"):
        _import(wh, company / "events.csv", tmp_path)


def test_cli_import_json_shape_and_exit_codes(company: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    write_csv(company / "subscriptions.csv", SUBS_HEADER, [["S1", "A1", "core", "", "2024-01-01", None, "x", 1]])
    result = runner.invoke(app, ["--home", str(home), "import", str(company), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["tables"]["accounts"]) >= {"read", "loaded", "rejected", "quarantine"}
    assert doc["tables"]["subscriptions"]["rejected"] == 1
    assert set(doc["errors"][0]) == {"file", "row", "column", "reason"}
    (company / "junk.csv").write_text("x\n1\n")
    bad = runner.invoke(app, ["--home", str(home), "import", str(company), "--json"])
    assert bad.exit_code == 1
    assert bad.stdout == ""


def _events_parquet(path: Path) -> Path:
    """Events with a zone-aware clock, a missing and an unknown account, duplicates, extras."""
    from datetime import datetime, timedelta, timezone

    two = timezone(timedelta(hours=2))
    t = [datetime(2024, 5, 1, 12, 0, tzinfo=two) + timedelta(minutes=i % 4) for i in range(12)]
    pq.write_table(
        pa.table(
            {
                "account_id": ["A1", "A2", None, "ZZ", "A1", "A1", "A3", "A3", "A1", "A2", "A2", "A1"],
                "event_time": pa.array(t, pa.timestamp("us", tz="+02:00")),
                "event_type": ["login"] * 6 + ["export"] * 6,
                "user_id": ["u1", "u2", "u3", "u4", "u1", "u5", None, None, "u1", "u2", "u9", "u1"],
                "value": [1.0, 2.0, None, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 2.0, 4.0, 1.0],
                "browser": ["ff", "ch", "ff", "ff", "ff", "sa", "ch", "ch", "ff", "ch", "ff", "ff"],
            }
        ),
        path,
    )
    return path


def test_native_parquet_scan_matches_the_arrow_stream(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's own Parquet scan and the Arrow stream give the same rows, errors and counts."""
    from contextlib import contextmanager

    from helix.warehouse import open_warehouse
    from helix.warehouse.connection import Warehouse as WarehouseClass

    (tmp_path / "ev").mkdir()
    events = _events_parquet(tmp_path / "ev" / "events.parquet")

    def run(label: str) -> tuple[dict, list, dict]:  # type: ignore[type-arg]
        wh = open_warehouse(f"duckdb://{tmp_path / f'{label}.duckdb'}")
        try:
            import_files(wh, company, imports_dir=tmp_path / f"r-{label}")
            report = import_files(wh, events, imports_dir=tmp_path / f"r-{label}", table="events")
            rows = _snapshot(wh)["events"]
            ev = report.tables["events"]
            counts = {k: getattr(ev, k) for k in ("read", "loaded", "rejected", "duplicates")}
            errors = [(e.row, e.column, e.reason) for e in report.errors]
            return counts, errors, {"rows": rows}
        finally:
            wh.close()

    native = run("native")

    @contextmanager
    def no_scan(self, path, row_column):  # type: ignore[no-untyped-def]
        yield None

    monkeypatch.setattr(WarehouseClass, "scan_parquet", no_scan)
    streamed = run("stream")
    assert native == streamed
    counts, errors, data = native
    # rows 3 (no account) and 4 (unknown account: events came alone, so it is checked against
    # the warehouse) are rejected; row 5 repeats row 1, and row 1 (12:00+02:00 = 10:00Z) is
    # the fixture's first event, already stored
    assert counts == {"read": 12, "loaded": 8, "rejected": 2, "duplicates": 2}
    assert [(r, c) for r, c, _ in errors] == [(3, "account_id"), (4, "account_id")]
    first = min(data["rows"], key=lambda r: (r["event_time"], r["account_id"]))
    assert str(first["event_time"]) == "2024-05-01 10:00:00"  # +02:00 stored as UTC
    assert json.loads(first["attributes"]) == {"browser": "ff"}
