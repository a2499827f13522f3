"""Events kept as Parquet parts beside a DuckDB warehouse file: atomic, tidy, movable."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from helix.warehouse import open_warehouse
from helix.warehouse import parts as parts_module
from helix.warehouse.parts import PARTS_TABLE


def _events(n: int, start: int = 0) -> pa.Table:
    return pa.table(
        {
            "account_id": [f"A{i % 3}" for i in range(start, start + n)],
            "event_time": pa.array(
                [datetime(2025, 1, 1, 0, 0, i % 60) for i in range(start, start + n)],
                pa.timestamp("us"),
            ),
            "event_type": ["login"] * n,
            "user_id": [f"u{i}" for i in range(start, start + n)],
        }
    )


def _files(wh_path: Path) -> list[str]:
    folder = Path(str(wh_path) + ".parts") / "events"
    return sorted(p.name for p in folder.glob("*.parquet")) if folder.exists() else []


def test_events_are_a_view_over_listed_parts(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with open_warehouse(f"duckdb://{path}") as wh:
        assert wh.count("events") == 0
        wh.append("events", _events(5))
        wh.append("events", _events(3, start=5))
        assert wh.count("events") == 8
        assert len(_files(path)) == 2
        # typed as the schema says, absent columns null
        schema = wh.table("events").schema()
        assert str(schema["event_time"]).startswith("timestamp")
        assert wh.table("events").value.isnull().all().execute()
        kinds = dict(
            wh.con.con.execute(
                "SELECT table_name, table_type FROM information_schema.tables"
            ).fetchall()
        )
        assert kinds["events"] == "VIEW"


def test_a_rolled_back_write_leaves_no_file_and_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with open_warehouse(f"duckdb://{path}") as wh:
        wh.append("events", _events(4))
        before = _files(path)
        with pytest.raises(RuntimeError):
            with wh.transaction():
                wh.append("events", _events(10, start=4))
                assert wh.count("events") == 14  # visible inside the transaction
                raise RuntimeError("boom")
        assert wh.count("events") == 4
        assert _files(path) == before


def test_a_file_no_commit_listed_is_removed_on_open(tmp_path: Path) -> None:
    """A process killed between writing its part and committing leaves an orphan file."""
    path = tmp_path / "w.duckdb"
    with open_warehouse(f"duckdb://{path}") as wh:
        wh.append("events", _events(4))
    orphan = Path(str(path) + ".parts") / "events" / "part-orphan.parquet"
    shutil.copy(next(orphan.parent.glob("*.parquet")), orphan)
    with open_warehouse(f"duckdb://{path}") as wh:
        assert not orphan.exists()
        assert wh.count("events") == 4


def test_a_moved_data_directory_still_reads(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    with open_warehouse(f"duckdb://{old / 'w.duckdb'}") as wh:
        wh.append("events", _events(6))
    new = tmp_path / "new"
    shutil.move(old, new)
    with open_warehouse(f"duckdb://{new / 'w.duckdb'}") as wh:
        assert wh.count("events") == 6


def test_replace_and_drop_delete_the_old_files_after_commit(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with open_warehouse(f"duckdb://{path}") as wh:
        wh.append("events", _events(4))
        first = _files(path)
        wh.write_table("events", _events(2, start=100))
        assert wh.count("events") == 2
        assert set(_files(path)).isdisjoint(first) and len(_files(path)) == 1
        wh.drop("events")
        assert wh.count("events") == 0 and _files(path) == []
        assert wh.has_table("events")


def test_many_small_parts_are_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts_module, "MAX_PARTS", 3)
    path = tmp_path / "w.duckdb"
    with open_warehouse(f"duckdb://{path}") as wh:
        for i in range(4):
            wh.append("events", _events(5, start=10 * i))
        listed = wh.con.con.execute(f"SELECT count(*) FROM {PARTS_TABLE}").fetchone()[0]
        assert listed == 1 and len(_files(path)) == 1
        assert wh.count("events") == 20
        users = set(wh.table("events").user_id.to_pyarrow().to_pylist())
        assert users == {f"u{10 * i + j}" for i in range(4) for j in range(5)}


def test_a_warehouse_with_an_ordinary_events_table_keeps_it(tmp_path: Path) -> None:
    """Warehouses made before parts existed are not converted behind the user's back."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events (account_id VARCHAR, event_time TIMESTAMP, event_type VARCHAR,"
        " user_id VARCHAR, value DOUBLE, event_id VARCHAR, attributes VARCHAR)"
    )
    con.close()
    with open_warehouse(f"duckdb://{path}") as wh:
        assert wh.parts is not None and not wh.parts.holds("events")
        assert wh.parts.holds("mrr_movements")  # a table it did not have yet is made as parts
        wh.append("events", _events(3))
        assert wh.count("events") == 3
    assert _files(path) == []


def test_in_memory_warehouses_use_ordinary_tables() -> None:
    with open_warehouse("duckdb://") as wh:
        assert wh.parts is None
        wh.append("events", _events(3))
        assert wh.count("events") == 3
