"""Import runs: start, finish, list, audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from helix.errors import NotFoundError, RowError, UserError
from helix.store import (
    AppStore,
    ImportStatus,
    finish_import,
    get_import,
    list_imports,
    recent,
    start_import,
)


def _start(store: AppStore, source: str | Path = "/data/export") -> int:
    with store.session() as s:
        run = start_import(s, source, actor="cli:ana")
        assert run.status is ImportStatus.RUNNING
        assert run.finished_at is None
        return run.id


def test_start_and_finish(store: AppStore, tmp_path: Path) -> None:
    run_id = _start(store, tmp_path / "export")
    report = {
        "rows": {"accounts": 10},
        "errors": [RowError(file="accounts.csv", row=3, column="mrr", reason="not a number")],
        "as_of": date(2024, 6, 30),
    }
    with store.session() as s:
        run = finish_import(s, run_id, "succeeded", report, tmp_path / "quarantine")
    assert run.status is ImportStatus.SUCCEEDED
    with store.session() as s:
        run = get_import(s, run_id)
        assert run.source == str(tmp_path / "export")
        assert run.started_by == "cli:ana"
        assert run.finished_at is not None and run.finished_at >= run.started_at
        assert run.quarantine_dir == str(tmp_path / "quarantine")
        assert run.report == {
            "rows": {"accounts": 10},
            "errors": [
                {"file": "accounts.csv", "row": 3, "column": "mrr", "reason": "not a number"}
            ],
            "as_of": "2024-06-30",
        }
    assert run.to_dict()["status"] == "succeeded"


def test_failed_import_without_quarantine(store: AppStore) -> None:
    run_id = _start(store)
    with store.session() as s:
        run = finish_import(s, run_id, ImportStatus.FAILED, {"error": "no accounts.csv"}, None)
    assert run.status is ImportStatus.FAILED
    assert run.quarantine_dir is None


def test_finish_errors(store: AppStore) -> None:
    run_id = _start(store)
    with store.session() as s, pytest.raises(NotFoundError):
        finish_import(s, 999, "succeeded", {}, None)
    with store.session() as s, pytest.raises(UserError, match="unknown import status"):
        finish_import(s, run_id, "done", {}, None)
    with store.session() as s, pytest.raises(UserError, match="not 'running'"):
        finish_import(s, run_id, "running", {}, None)
    with store.session() as s:
        finish_import(s, run_id, "succeeded", {}, None)
    with store.session() as s, pytest.raises(UserError, match="already finished"):
        finish_import(s, run_id, "failed", {}, None)


def test_start_needs_a_source(store: AppStore) -> None:
    with store.session() as s, pytest.raises(UserError, match="needs a source"):
        start_import(s, "  ", actor="test")


def test_list_imports_newest_first(store: AppStore) -> None:
    ids = [_start(store, f"/data/{i}") for i in range(3)]
    with store.session() as s:
        assert [r.id for r in list_imports(s)] == ids[::-1]
        assert [r.id for r in list_imports(s, limit=2)] == ids[:0:-1]


def test_import_writes_are_audited(store: AppStore) -> None:
    run_id = _start(store)
    with store.session() as s:
        finish_import(s, run_id, "succeeded", {"rows": 1}, "/q")
    second = _start(store)
    with store.session() as s:
        finish_import(s, second, "failed", {}, None, actor="system")
    with store.session() as s:
        rows = recent(s, target_type="import_run")
    assert [(r.action, r.actor, r.target_id) for r in rows] == [
        ("import.finish", "system", str(second)),
        ("import.start", "cli:ana", str(second)),
        ("import.finish", "cli:ana", str(run_id)),
        ("import.start", "cli:ana", str(run_id)),
    ]
    assert rows[2].detail == {"status": "succeeded", "quarantine_dir": "/q"}
